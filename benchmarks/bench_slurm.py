"""SLURM against local: the same configuration run locally (``--cores N``) and through
the shipped profile ``profiles/slurm`` on a SLURM cluster, one after the other, from
clean scratch folders; wall time, CPU seconds and peak memory per rule (Snakemake's
benchmark files), whether every exported file is byte-identical, the machine's load.

Needs a running SLURM (e.g. ``bash .ci/ci-slurm.sh up`` as root, partition ``debug``)::

    python benchmarks/bench_slurm.py --size tiny
    python benchmarks/bench_slurm.py --size default --repeat 1

Appends a section to benchmarks/results_slurm.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CONFIGS = {"tiny": REPO / ".ci" / "slurm" / "tiny.yaml", "default": None}


def _snakemake(work: Path, config: Path | None, extra: list[str]) -> float:
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(work), *extra]
    if config:
        cmd += ["--configfile", str(config)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"snakemake failed in {work}")
    return wall


def _rules(work: Path) -> pd.DataFrame:
    rows = []
    for f in sorted((work / "results").glob("**/benchmarks/*.tsv")):
        b = pd.read_csv(f, sep="\t").iloc[-1]
        rows.append({"job": f.stem if "_shared" in f.parts else f"export_{f.parts[-3]}",
                     "s": float(b["s"]), "cpu_s": float(b["cpu_time"]), "max_rss_mb": float(b["max_rss"])})
    return pd.DataFrame(rows)


def _exports(work: Path) -> dict[str, bytes]:
    return {str(p.relative_to(work)): p.read_bytes() for p in sorted((work / "results").glob("**/export/**/*")) if p.is_file()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", choices=sorted(CONFIGS), default="tiny")
    ap.add_argument("--cores", type=int, default=2, help="cores of the local run (the node's CPUs)")
    ap.add_argument("--partition", default="debug")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--out", type=Path, default=HERE / "results_slurm.md")
    args = ap.parse_args()
    config = CONFIGS[args.size]
    slurm = ["--profile", str(REPO / "profiles" / "slurm"), "--jobs", "4", "--latency-wait", "5",
             "--default-resources", f"slurm_partition={args.partition}", "mem_mb=2000", "runtime=30",
             "--slurm-init-seconds-before-status-checks", "2"]
    walls: dict[str, list[float]] = {"local": [], "slurm": []}
    load_before = os.getloadavg()
    last: dict[str, Path] = {}
    for _ in range(args.repeat):
        for mode, extra in (("local", ["--cores", str(args.cores)]), ("slurm", slurm)):
            work = Path(tempfile.mkdtemp(prefix=f"regeval_bench_{mode}_"))
            walls[mode].append(_snakemake(work, config, extra))
            if mode in last:
                shutil.rmtree(last[mode], ignore_errors=True)
            last[mode] = work
            print(f"{mode}: {walls[mode][-1]:.1f} s", flush=True)
    load_after = os.getloadavg()
    identical = _exports(last["local"]) == _exports(last["slurm"])
    n_files = len(_exports(last["local"]))
    local, remote = _rules(last["local"]), _rules(last["slurm"])
    per_rule = local.merge(remote, on="job", suffixes=("_local", "_slurm"))
    med = {m: statistics.median(w) for m, w in walls.items()}
    lines = [
        f"## {args.size} configuration, {datetime.date.today()}",
        "",
        f"Machine: {platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after; "
        f"local run with --cores {args.cores}; SLURM: one node, profiles/slurm; {args.repeat} run(s) each.",
        "",
        "| | local | SLURM | SLURM / local |",
        "| --- | --- | --- | --- |",
        f"| wall time (median, s) | {med['local']:.0f} | {med['slurm']:.0f} | {med['slurm'] / med['local']:.2f} |",
        f"| CPU seconds of the jobs | {local.cpu_s.sum():.0f} | {remote.cpu_s.sum():.0f} | {remote.cpu_s.sum() / local.cpu_s.sum():.2f} |",
        "",
        f"Exported files byte-identical: {'yes' if identical else 'NO'} ({n_files} files).",
        "",
        "| job | local s | local CPU s | local peak MB | SLURM s | SLURM peak MB |",
        "| --- | --- | --- | --- | --- | --- |",
        *(f"| {r.job} | {r.s_local:.1f} | {r.cpu_s_local:.1f} | {r.max_rss_mb_local:.0f} | {r.s_slurm:.1f} | {r.max_rss_mb_slurm:.0f} |"
          for r in per_rule.itertuples()),
        "",
    ]
    with open(args.out, "a") as fh:
        fh.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    for w in last.values():
        shutil.rmtree(w, ignore_errors=True)
    if not identical:
        raise SystemExit("exported files differ between SLURM and local")


if __name__ == "__main__":
    main()
