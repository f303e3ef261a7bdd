"""End-to-end benchmark: the default run and the shipped sweep, from a clean results/.

Runs ``snakemake`` as a user would, in a scratch working directory (so nothing in
the repository's results/ is reused), and records wall time and the per-rule
timings Snakemake writes. Targets: the default run ≤ 2 min on 2 cores (issue
"Foundation"); the 24-spec sweep ≤ 3 × one spec's run (issue "specs and sweeps").

    python benchmarks/bench_pipeline.py --cores 2

Writes benchmarks/results_pipeline.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def run(configfile: str | None, cores: int) -> tuple[float, Path]:
    work = Path(tempfile.mkdtemp(prefix="regeval_bench_"))
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(work), "--cores", str(cores)]
    if configfile:
        cmd += ["--configfile", str(REPO / configfile)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "MPLBACKEND": "Agg"})
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    return wall, work


def rule_times(work: Path) -> pd.DataFrame:
    rows = []
    for tsv in work.rglob("benchmarks/*.tsv"):
        t = pd.read_csv(tsv, sep="\t")
        rows.append({"rule": tsv.stem, "s": float(t["s"].iloc[0]), "max_rss_mb": float(t["max_rss"].iloc[0])})
    return pd.DataFrame(rows).sort_values("s", ascending=False)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--out", default=str(HERE / "results_pipeline.md"))
    args = ap.parse_args()
    load = os.getloadavg()[0]
    one, work_one = run(None, args.cores)
    print(f"default run: {one:.1f} s", flush=True)
    sweep, work_sweep = run("config/specs/sweep.yaml", args.cores)
    print(f"sweep run: {sweep:.1f} s", flush=True)
    n_specs = len([p for p in (work_sweep / "results").iterdir() if (p / "export" / "report.html").exists()])
    times = rule_times(work_one)
    lines = [
        "# End-to-end runs from a clean results/",
        "",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, {datetime.date.today().isoformat()}; "
        f"load average {load:.1f} at start (other work was running).",
        f"Command: `python benchmarks/bench_pipeline.py --cores {args.cores}` (snakemake --cores {args.cores}).",
        "",
        "| run | wall (s) | target |",
        "| --- | ---: | --- |",
        f"| default spec (generate → validate → … → report) | {one:.1f} | ≤ 120 s |",
        f"| shipped sweep, {n_specs} specs incl. the base (config/specs/sweep.yaml) | {sweep:.1f} | ≤ 3 × default = {3 * one:.0f} s |",
        f"| ratio sweep / default | {sweep / one:.2f} | ≤ 3 |",
        "",
        "Rules with a `benchmark:` directive in the default run (seconds, peak RSS):",
        "",
        "| rule | s | max RSS (MB) |",
        "| --- | ---: | ---: |",
        *[f"| {r.rule} | {r.s:.1f} | {r.max_rss_mb:.0f} |" for r in times.itertuples()],
    ]
    Path(args.out).write_text("\n".join(lines) + "\n")
    shutil.rmtree(work_one)
    shutil.rmtree(work_sweep)


if __name__ == "__main__":
    main()
