"""Digest of every file a tiny pipeline run writes: a check that a refactoring changed
no result.

Runs the whole DAG (synthetic registers, several specs, a small sweep, the business
case) in a scratch folder and writes ``<sha256>  <path>`` for every file under
``results/`` except logs, benchmarks and Snakemake's own metadata. Run it before and
after a change on the same machine and compare the two files::

    python benchmarks/run_digest.py --out /tmp/before.txt
    # ... change the code ...
    python benchmarks/run_digest.py --out /tmp/after.txt
    diff /tmp/before.txt /tmp/after.txt && echo identical

Floating-point results depend on the machine's BLAS kernel, so compare digests made on
the same machine only.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]

TINY = {
    "synthetic": {"seed": 5, "n_persons": 30000, "n_participants": 600, "workers": 1},
    "spec_defaults": {
        "effects": {
            "outcomes": ["employed", "fulltime_days", "hours_per_week", "sel103_104", "botilbud", "sel85",
                         "gp_contacts", "taxable_income"],
            "windows": [{"outcome": "hours_per_week", "from": 0, "to": 7}],
        }
    },
    "specs": {
        "all_effects": {"budget": {"effects_rule": "all"}},
        "never": {"control_rule": "never_participated"},
        "k1": {"matching": {"k": 1, "replace": False, "caliper": 0.2}},
    },
    "run_specs": ["default", "all_effects", "never", "k1"],
    "sweep": {"name": "sweep", "grid": {"matching.k": [5, 10], "budget.effects_rule": ["significant", "pessimistic"]}},
}
SKIP_PARTS = {"logs", "benchmarks", ".snakemake"}


def digests(results: Path) -> list[str]:
    rows = []
    for p in sorted(results.rglob("*")):
        rel = p.relative_to(results)
        if p.is_file() and not (SKIP_PARTS & set(rel.parts)):
            rows.append(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {rel}")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="file to write the digests to")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--workdir", help="scratch folder (default: a temporary one)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.workdir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        cfg = work / "tiny.yaml"
        cfg.write_text(yaml.safe_dump(TINY))
        proc = subprocess.run(
            [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(work),
             "--configfile", str(cfg), "--cores", str(args.cores)],
            capture_output=True, text=True, env={**os.environ, "MPLBACKEND": "Agg"},
        )
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr[-6000:])
            raise SystemExit(proc.returncode)
        rows = digests(work / "results")
    Path(args.out).write_text("\n".join(rows) + "\n")
    print(f"{len(rows)} files digested -> {args.out}")


if __name__ == "__main__":
    main()
