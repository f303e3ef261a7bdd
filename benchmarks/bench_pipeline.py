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
        # shared jobs: results/_shared/benchmarks/<rule>_<key>.tsv; a spec's export:
        # results/<spec>/benchmarks/export.tsv (the rule export_<spec>)
        owner = tsv.parent.parent.name
        rule = tsv.stem if owner == "_shared" else f"{tsv.stem}_{owner}"
        rows.append({"rule": rule, "s": float(t["s"].iloc[0]), "max_rss_mb": float(t["max_rss"].iloc[0])})
    return pd.DataFrame(rows).sort_values("s", ascending=False)


def by_kind(times: pd.DataFrame) -> pd.DataFrame:
    """Job seconds summed per rule kind (the key suffix of shared rules dropped)."""
    kind = times["rule"].str.replace(r"_(ps|m|e)-[0-9a-f]{10}$", "", regex=True).str.replace(r"^export_.*$", "export", regex=True)
    g = times.assign(kind=kind).groupby("kind")["s"].agg(["count", "sum", "median"])
    return g.sort_values("sum", ascending=False).reset_index()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=1, help="runs of each (interleaved); medians reported")
    ap.add_argument("--out", default=str(HERE / "results_pipeline.md"))
    args = ap.parse_args()
    load = os.getloadavg()[0]
    ones, sweeps = [], []
    for i in range(args.repeats):
        one, work_one = run(None, args.cores)
        print(f"default run {i + 1}: {one:.1f} s", flush=True)
        sweep, work_sweep = run("config/specs/sweep.yaml", args.cores)
        print(f"sweep run {i + 1}: {sweep:.1f} s", flush=True)
        ones.append(one)
        sweeps.append(sweep)
        if i < args.repeats - 1:
            shutil.rmtree(work_one)
            shutil.rmtree(work_sweep)
    load_end = os.getloadavg()[0]
    one, sweep = float(pd.Series(ones).median()), float(pd.Series(sweeps).median())
    ratios = [s / o for s, o in zip(sweeps, ones, strict=False)]
    n_specs = len([p for p in (work_sweep / "results").iterdir() if (p / "export" / "report.html").exists()])
    times = rule_times(work_one)
    sweep_times = rule_times(work_sweep)
    kinds = by_kind(sweep_times)
    cpu = float(sweep_times["s"].sum())
    runs = f"median of {args.repeats}" if args.repeats > 1 else "1 run"
    lines = [
        "# End-to-end runs from a clean results/",
        "",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, {datetime.date.today().isoformat()}; "
        f"load average {load:.1f} at start, {load_end:.1f} at the end (1-minute; the runs themselves add up to "
        f"{args.cores}).",
        f"Command: `python benchmarks/bench_pipeline.py --cores {args.cores} --repeats {args.repeats}` "
        f"(snakemake --cores {args.cores}; each run in a fresh scratch directory).",
        "",
        f"| run | wall (s), {runs} | all runs (s) | target |",
        "| --- | ---: | --- | --- |",
        f"| default spec (generate → validate → … → report) | {one:.1f} | {', '.join(f'{x:.1f}' for x in ones)} | ≤ 120 s |",
        f"| shipped sweep, {n_specs} specs incl. the base (config/specs/sweep.yaml) | {sweep:.1f} | "
        f"{', '.join(f'{x:.1f}' for x in sweeps)} | ≤ 3 × default |",
        f"| ratio sweep / default | {float(pd.Series(ratios).median()):.2f} | {', '.join(f'{x:.2f}' for x in ratios)} | ≤ 3 |",
        "",
        "Rules with a `benchmark:` directive in the default run (seconds, peak RSS):",
        "",
        "| rule | s | max RSS (MB) |",
        "| --- | ---: | ---: |",
        *[f"| {r.rule} | {r.s:.1f} | {r.max_rss_mb:.0f} |" for r in times.itertuples()],
        "",
        f"The sweep's jobs with a `benchmark:` directive, per rule kind (last sweep run): {cpu:.0f} job-seconds "
        f"in all, i.e. {cpu / (args.cores * sweeps[-1]):.0%} of the {args.cores} cores × {sweeps[-1]:.0f} s wall "
        "(the rest: Snakemake's own work between jobs, job start-up outside the timed part, and cores idle "
        "on the serial start of the DAG).",
        "",
        "| rule | jobs | seconds, sum | seconds, median |",
        "| --- | ---: | ---: | ---: |",
        *[f"| {r.kind} | {r.count} | {r.sum:.1f} | {r.median:.1f} |" for r in kinds.itertuples()],
    ]
    Path(args.out).write_text("\n".join(lines) + "\n")
    shutil.rmtree(work_one)
    shutil.rmtree(work_sweep)


if __name__ == "__main__":
    main()
