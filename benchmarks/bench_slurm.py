"""SLURM against local: the same configuration run locally (``--cores N``) and through
the shipped profile ``profiles/slurm`` on a SLURM cluster, one after the other, from
clean scratch folders (with ``--repeat N``: N pairs, each local run followed by its
SLURM run, so that a pair sees about the same load); wall time per run and the ratio
per pair, CPU seconds and peak memory per rule (Snakemake's benchmark files), the number
of SLURM jobs, whether every exported file is byte-identical, and the machine's load
average sampled during each run (on a shared machine the wall times move with it).

Needs a running SLURM (e.g. ``bash .ci/ci-slurm.sh up`` as root, partition ``debug``)::

    python benchmarks/bench_slurm.py --size tiny
    python benchmarks/bench_slurm.py --size default --repeat 3

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
import threading
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CONFIGS = {"tiny": REPO / ".ci" / "slurm" / "tiny.yaml", "default": None}


def _snakemake(work: Path, config: Path | None, extra: list[str]) -> tuple[float, float, str]:
    """Run Snakemake in ``work``: wall seconds, mean load average during the run, its log."""
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(work), *extra]
    if config:
        cmd += ["--configfile", str(config)]
    loads: list[float] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(2.0):
            loads.append(os.getloadavg()[0])

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"snakemake failed in {work}")
    return wall, statistics.mean(loads) if loads else os.getloadavg()[0], proc.stderr


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
    # the shipped profile, with what this cluster needs: its partition, the CPUs of its
    # node (--cores, as the local run), quick checks of the outputs on a local file system
    slurm = ["--profile", str(REPO / "profiles" / "slurm"), "--jobs", "4", "--latency-wait", "5",
             "--cores", str(args.cores),
             "--default-resources", f"slurm_partition={args.partition}", "mem_mb=2000", "runtime=30"]
    walls: dict[str, list[float]] = {"local": [], "slurm": []}
    loads: dict[str, list[float]] = {"local": [], "slurm": []}
    n_jobs: list[int] = []
    last: dict[str, Path] = {}
    for _ in range(args.repeat):
        for mode, extra in (("local", ["--cores", str(args.cores)]), ("slurm", slurm)):
            work = Path(tempfile.mkdtemp(prefix=f"regeval_bench_{mode}_"))
            wall, load, log = _snakemake(work, config, extra)
            walls[mode].append(wall)
            loads[mode].append(load)
            if mode == "slurm":
                n_jobs.append(log.count("has been submitted with SLURM jobid"))
            if mode in last:
                shutil.rmtree(last[mode], ignore_errors=True)
            last[mode] = work
            print(f"{mode}: {wall:.1f} s (load {load:.1f})", flush=True)
    identical = _exports(last["local"]) == _exports(last["slurm"])
    n_files = len(_exports(last["local"]))
    local, remote = _rules(last["local"]), _rules(last["slurm"])
    per_rule = local.merge(remote, on="job", suffixes=("_local", "_slurm"))
    med = {m: statistics.median(w) for m, w in walls.items()}
    ratios = [s_ / l_ for l_, s_ in zip(walls["local"], walls["slurm"], strict=True)]
    pairs = "; ".join(f"{l_:.0f} / {s_:.0f} s (load {a:.1f} / {b:.1f})"
                      for l_, s_, a, b in zip(walls["local"], walls["slurm"], loads["local"], loads["slurm"], strict=True))
    lines = [
        f"## {args.size} configuration, {datetime.date.today()}",
        "",
        f"Machine: {platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"local run with --cores {args.cores}; SLURM: one node, profiles/slurm with --cores {args.cores}; "
        f"{args.repeat} pair(s) of runs, local then SLURM; load average during each run (mean of samples every 2 s): "
        f"local {statistics.mean(loads['local']):.1f}, SLURM {statistics.mean(loads['slurm']):.1f}.",
        "",
        "| | local | SLURM | SLURM / local |",
        "| --- | --- | --- | --- |",
        f"| wall time (median, s) | {med['local']:.0f} | {med['slurm']:.0f} | {med['slurm'] / med['local']:.2f} |",
        f"| SLURM / local per pair (median) | | | {statistics.median(ratios):.2f} |",
        f"| CPU seconds of the jobs (last pair) | {local.cpu_s.sum():.0f} | {remote.cpu_s.sum():.0f} | {remote.cpu_s.sum() / local.cpu_s.sum():.2f} |",
        "",
        f"Pairs, local / SLURM: {pairs}. SLURM jobs per run: {', '.join(map(str, n_jobs))}.",
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
