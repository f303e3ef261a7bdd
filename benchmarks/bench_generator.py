"""Benchmark of the synthetic register generator (default size and national scale).

Measures wall time and peak memory (resident set of the process and its worker
processes, sampled every 0.2 s) of ``regeval.synthetic.generator.generate`` in a subprocess,
and the size of what it writes. Targets (issue "Foundation"): default size ≤ 30 s;
national scale (3.6 million persons, 2009–2025) ≤ 10 min with peak memory ≤ 8 GB
on a 2-core, 24 GB machine.

    python benchmarks/bench_generator.py --sizes 600000 3600000 --repeats 3 1

Writes benchmarks/results_generator.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent


def run_once(n_persons: int, workers: int) -> tuple[float, float, float]:
    out = Path(tempfile.mkdtemp(prefix="regeval_gen_"))
    code = (
        "from regeval.synthetic import SyntheticConfig, generate;"
        f"generate(SyntheticConfig(n_persons={n_persons}, workers={workers}), {str(out)!r})"
    )
    start = time.perf_counter()
    proc = psutil.Popen([sys.executable, "-c", code])
    peak = 0
    while proc.poll() is None:
        try:
            rss = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
        except psutil.Error:
            rss = 0
        peak = max(peak, rss)
        time.sleep(0.2)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"generator failed for n_persons={n_persons}")
    size = sum(p.stat().st_size for p in out.iterdir()) / 1e9
    shutil.rmtree(out)
    return wall, peak / 1e9, size


def machine() -> str:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), {psutil.virtual_memory().total / 2**30:.1f} GiB RAM, "
        f"Python {platform.python_version()}, {datetime.date.today().isoformat()}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[600_000, 3_600_000])
    ap.add_argument("--repeats", type=int, nargs="+", default=[3, 1])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default=str(HERE / "results_generator.md"))
    args = ap.parse_args()
    rows = []
    for n, reps in zip(args.sizes, args.repeats, strict=False):
        runs = [run_once(n, args.workers) for _ in range(reps)]
        walls = [r[0] for r in runs]
        rows.append((n, reps, statistics.median(walls), min(walls), max(walls), max(r[1] for r in runs), runs[0][2]))
        print(rows[-1], flush=True)
    lines = [
        "# Synthetic register generator",
        "",
        f"Machine: {machine()}; load average at start {os.getloadavg()[0]:.1f}.",
        f"Command: `python benchmarks/bench_generator.py --sizes {' '.join(map(str, args.sizes))} "
        f"--repeats {' '.join(map(str, args.repeats))} --workers {args.workers}`",
        "",
        "| persons | runs | median wall (s) | min–max (s) | peak memory (GB, all processes) | output (GB) | target |",
        "| ---: | ---: | ---: | --- | ---: | ---: | --- |",
    ]
    for n, reps, med, lo, hi, mem, size in rows:
        target = "≤ 30 s" if n <= 1_000_000 else "≤ 600 s, ≤ 8 GB"
        lines.append(f"| {n:,} | {reps} | {med:.1f} | {lo:.1f}–{hi:.1f} | {mem:.2f} | {size:.2f} | {target} |")
    Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
