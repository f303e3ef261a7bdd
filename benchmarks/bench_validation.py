"""Benchmark of register validation (the first job of the DAG) at the default synthetic size.

Generates the default-size synthetic extract once (600,000 persons, 2009–2025; about
10 million rows in each dense yearly table), then runs ``validate_registers`` on it in
a fresh subprocess ``--repeats`` times, with the default configuration's education
levels and diagnosis groups (so every check runs), and records wall time and peak
memory (resident set, sampled every 0.1 s).

    python benchmarks/bench_validation.py --repeats 3

To compare with another version of the package, run the same command with
``PYTHONPATH=<other checkout>/src`` and ``--registers <folder>`` to reuse the extract.
Prints a Markdown table row; the figures are quoted in docs/data_contract.md (Scale).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]

CODE = """
import warnings, yaml
from regeval.registers.read import resolve_sources
from regeval.registers.validate import validate_registers
cfg = yaml.safe_load(open({config!r}))
pop = cfg["population"]
kwargs = {{}}
import inspect
if "education_levels" in inspect.signature(validate_registers).parameters:
    kwargs = dict(education_levels=pop["education_levels"], diagnosis_groups=pop["diagnosis_groups"])
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    validate_registers(resolve_sources({registers!r}), tuple(cfg["data"]["years"]), **kwargs)
"""


def run_once(registers: Path) -> tuple[float, float]:
    code = CODE.format(config=str(REPO / "config" / "config.yaml"), registers=str(registers))
    start = time.perf_counter()
    proc = psutil.Popen([sys.executable, "-c", code])
    peak = 0
    while proc.poll() is None:
        try:
            peak = max(peak, proc.memory_info().rss)
        except psutil.Error:
            pass
        time.sleep(0.1)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit("validation failed")
    return wall, peak / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--registers", type=Path, help="an existing default-size extract (else generated)")
    args = parser.parse_args()
    registers = args.registers
    if registers is None:
        from regeval.synthetic import SyntheticConfig, generate

        registers = Path(tempfile.mkdtemp(prefix="regeval_val_"))
        generate(SyntheticConfig(workers=2), registers)
        print(f"extract written to {registers}", file=sys.stderr)
    runs = [run_once(registers) for _ in range(args.repeats)]
    walls = [w for w, _ in runs]
    import regeval

    print(
        f"| {Path(regeval.__file__).parents[1]} | {args.repeats} | {statistics.median(walls):.1f} | "
        f"{min(walls):.1f}–{max(walls):.1f} | {max(m for _, m in runs):.2f} | load {os.getloadavg()[0]:.1f} |"
    )


if __name__ == "__main__":
    main()
