"""Is the spec ``klapjob_2023`` the method of an earlier checkout, value for value?

Runs the tiny synthetic pipeline of ``run_digest.py`` (default spec only, 8 outcomes)
twice: with an earlier checkout (``--before``, e.g. the main branch before the robustness
checks, its default spec) and with this one (spec defaults = ``config/specs/klapjob_2023.yaml``),
then compares every shared result table: the columns of the earlier run must be
identical (``DataFrame.equals``) in this run, which may only add columns (and the
balance table rows)::

    python benchmarks/klapjob_identity.py --before /path/to/earlier/checkout
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
EFFECTS = {"outcomes": ["employed", "fulltime_days", "hours_per_week", "sel103_104", "botilbud", "sel85",
                        "gp_contacts", "taxable_income"],
           "windows": [{"outcome": "hours_per_week", "from": 0, "to": 7}]}
TABLES = [("propensity", "scores.parquet"), ("propensity", "propensity_model.parquet"),
          ("propensity", "propensity_overlap.parquet"), ("matching", "match_pairs.parquet"),
          ("matching", "matched_units.parquet"), ("matching", "matching_summary.parquet"),
          ("matching", "descriptives.parquet"), ("effects", "outcome_panel.parquet"),
          ("effects", "effects.parquet"), ("effects", "group_means.parquet"), ("effects", "effect_windows.parquet"),
          ("effects", "panel_counts.parquet")]


def run(repo: Path, work: Path, spec_defaults: dict) -> Path:
    cfg = {"synthetic": {"seed": 5, "n_persons": 30000, "n_participants": 600, "workers": 1},
           "spec_defaults": spec_defaults, "run_specs": ["default"], "specs": {"default": {}}}
    work.mkdir(parents=True, exist_ok=True)
    (work / "tiny.yaml").write_text(yaml.safe_dump(cfg))
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(repo / "src")}
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(repo / "Snakefile"), "--directory", str(work),
                           "--configfile", str(work / "tiny.yaml"), "--cores", "1"],
                          capture_output=True, text=True, env=env)
    if proc.returncode:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(proc.returncode)
    return work / "results" / "_shared" / "inside"


def one(base: Path, kind: str, name: str) -> pd.DataFrame:
    files = list((base / kind).glob(f"*/{name}")) + list((base / kind).glob(f"*/aggregates/{name}"))
    if len(files) != 1:
        raise SystemExit(f"expected one {kind}/*/{name} under {base}, found {len(files)}")
    return pd.read_parquet(files[0])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", required=True, help="the earlier checkout (with src/ and Snakefile)")
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    klap = yaml.safe_load((REPO / "config/specs/klapjob_2023.yaml").read_text())["specs"]["klapjob_2023"]
    klap.pop("label", None)
    klap["effects"] = {**klap.get("effects", {}), **EFFECTS}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.workdir or tmp)
        a = run(Path(args.before).resolve(), root / "before", {"effects": EFFECTS})
        b = run(REPO, root / "klapjob_2023", klap)
        ok = True
        for kind, name in TABLES:
            x, y = one(a, kind, name), one(b, kind, name)
            same = list(x.columns) == [c for c in y.columns if c in x.columns] and x.equals(y[list(x.columns)])
            ok &= same
            print(f"{kind}/{name}: {'identical' if same else 'DIFFERENT'}; new columns: "
                  f"{[c for c in y.columns if c not in x.columns]}")
        x, y = one(a, "matching", "balance.parquet"), one(b, "matching", "balance.parquet")
        same = x.equals(y[y["term"].isin(x["term"])].reset_index(drop=True)[list(x.columns)])
        ok &= same
        print(f"matching/balance.parquet: earlier rows {'identical' if same else 'DIFFERENT'}; "
              f"{len(y) - len(x)} distribution-term rows added")
    print("klapjob_2023 reproduces the earlier method" if ok else "klapjob_2023 DIFFERS from the earlier method")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
