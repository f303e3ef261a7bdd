"""The register path of the DAG on national-scale extracts, as they arrive on a research machine.

Generates synthetic registers once per size (integer person ids), writes them as
extracts (``regeval.synthetic.extract.write_extract``) and runs the register path of
the workflow on each, with ``data.source: registers`` (no generator in the run):
register_cache (the extract converted into the columnar cache, person ids coded),
validate_registers, base_population (with the population means) and person_years. Per rule it records wall time,
CPU seconds and peak RSS (Snakemake's benchmark files, sampled), the exact CPU seconds
and peak RSS of the job's process (``cpu_exact_s``, ``peak_exact_mb``: logged by the job
when it finishes), and the machine's load.

Layouts (one run each, side by side):

* ``int-parquet``: one Parquet file per table, integer ids (the reference);
* ``str-parquet``: the same with string ids (ten-digit text: the cache's digit fast path);
* ``stralnum-parquet``: string ids that are not all digits (``P`` and ten digits: the
  cache's general text path);
* ``str-stata``: string ids, the population register as one Stata file per year
  (numbers as doubles, no year column), the rest Parquet. pyreadstat writes Stata
  and SAS transport files, not ``.sas7bdat``; the cache reads all three the same way.

    python benchmarks/bench_registers.py --persons 3600000 --layouts int-parquet str-parquet str-stata
    python benchmarks/bench_registers.py --persons 600000 1800000 --layouts str-parquet

Results are appended (one row per rule and run) to ``benchmarks/results_registers.csv``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RULES = ("register_cache", "validate_registers", "base_population", "person_years")
LAYOUTS = {
    "int-parquet": ({}, "as_generated"),
    "str-parquet": ({}, "string"),
    "stralnum-parquet": ({}, "alnum"),
    "str-stata": ({"bef": "stata_per_year"}, "string"),
}


def generate(n: int, folder: Path, workers: int) -> float:
    from regeval.synthetic import SyntheticConfig
    from regeval.synthetic import generate as gen

    if (folder / "generator.json").exists():
        return 0.0
    t0 = time.perf_counter()
    gen(SyntheticConfig(n_persons=n, workers=workers), folder)
    return time.perf_counter() - t0


def run_path(extract: dict, work: Path, cores: int) -> float:
    work.mkdir(parents=True, exist_ok=True)
    (work / "config.yaml").write_text(yaml.safe_dump({"data": {"source": "registers", "registers": extract},
                                                      "business_case": None}))
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(work),
           "--configfile", str(work / "config.yaml"), "--cores", str(cores), "person_years"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "MPLBACKEND": "Agg"})
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-4000:])
    return wall


FINISHED = re.compile(r"rule \w+ finished in [\d.]+ s \(([\d.]+) CPU s, peak RSS ([\d.]+) MiB\)")


def rule_rows(work: Path) -> list[dict]:
    """Per rule: Snakemake's benchmark file (sampled: every 0.5 s for the first 15 s of a
    job, then every 30 s, so a job's last seconds are missing) and the exact CPU seconds
    and peak RSS of the job's process that the job logs when it finishes (``getrusage``)."""
    rows = []
    for rule in RULES:
        t = pd.read_csv(work / "results" / "_shared" / "benchmarks" / f"{rule}.tsv", sep="\t")
        found = FINISHED.findall((work / "results" / "_shared" / "logs" / f"{rule}.log").read_text())
        rows.append({"rule": rule, "wall_s": float(t["s"].iloc[0]), "cpu_s": float(t["cpu_time"].iloc[0]),
                     "max_rss_mb": float(t["max_rss"].iloc[0]),
                     "cpu_exact_s": float(found[-1][0]) if found else None,
                     "peak_exact_mb": float(found[-1][1]) if found else None})
    return rows


def membership(sizes: list[int]) -> None:
    """CPU seconds of the person-id steps of the base population (hash membership, sorted
    unique) on integer and string ids: linear in the number of persons."""
    import numpy as np

    from regeval.population.base import _keep, _member

    rng = np.random.default_rng(1)
    print("persons  ids      member_cpu_s  keep_cpu_s")
    for n in sizes:
        ints = rng.permutation(n).astype(np.int64) + 1_000_000_001
        half = ints[: n // 2]
        for kind, values, allowed in (("integer", ints, half), ("string", ints.astype(str).astype(object),
                                                                 half.astype(str).astype(object))):
            t0 = time.process_time()
            _member(values, allowed)
            t1 = time.process_time()
            _keep(values, allowed)
            t2 = time.process_time()
            print(f"{n:>8} {kind:<8} {t1 - t0:>12.2f} {t2 - t1:>11.2f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, nargs="+", default=[3_600_000])
    ap.add_argument("--layouts", nargs="+", default=list(LAYOUTS), choices=list(LAYOUTS))
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--scratch", default=None, help="folder for the data (default: a temporary one, removed)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the scratch folder (generated registers and extracts are reused by the next run)")
    ap.add_argument("--out", default=str(HERE / "results_registers.csv"))
    ap.add_argument("--membership", action="store_true", help="only time the person-id steps (0.6, 1.8, 3.6 M)")
    args = ap.parse_args()
    if args.membership:
        membership([600_000, 1_800_000, 3_600_000])
        return
    from regeval.synthetic.extract import write_extract

    scratch = Path(args.scratch or tempfile.mkdtemp(prefix="regeval_bench_registers_"))
    stamp = datetime.datetime.now().isoformat(timespec="seconds")
    try:
        for n in args.persons:
            generated = scratch / f"generated_{n}"
            g = generate(n, generated, args.cores)
            print(f"{n} persons: generated in {g:.0f} s", flush=True)
            for layout in args.layouts:
                tables, ids = LAYOUTS[layout]
                folder = scratch / f"extract_{n}_{layout}"
                marker = folder / "extract.json"
                if args.keep and marker.exists():  # written by an earlier run with --keep
                    done = json.loads(marker.read_text())
                    extract, written = done["extract"], done["written_s"]
                else:
                    t0 = time.perf_counter()
                    extract = write_extract(generated, folder, tables, (2009, 2025), ids)
                    written = time.perf_counter() - t0
                    marker.write_text(json.dumps({"extract": extract, "written_s": written}))
                work = scratch / f"run_{n}_{layout}"
                shutil.rmtree(work, ignore_errors=True)
                load = os.getloadavg()[0]
                wall = run_path(extract, work, args.cores)
                rows = rule_rows(work)
                for r in rows:
                    r.update({"when": stamp, "persons": n, "layout": layout, "run_wall_s": round(wall, 1),
                              "load_before": round(load, 1), "load_after": round(os.getloadavg()[0], 1),
                              "extract_written_s": round(written, 1)})
                frame = pd.DataFrame(rows)
                print(frame.to_string(index=False), flush=True)
                out = Path(args.out)
                if out.exists():  # earlier rows kept (columns added later are empty there)
                    frame = pd.concat([pd.read_csv(out), frame], ignore_index=True)
                frame.to_csv(out, index=False)
                shutil.rmtree(work, ignore_errors=True)
                if not args.keep:
                    shutil.rmtree(folder, ignore_errors=True)
    finally:
        if not args.keep and args.scratch is None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
