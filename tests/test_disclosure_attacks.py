"""Attacks on a release: a tiny run (small cells occur) through the whole DAG, then an
attacker that reads only the exported files (tests/attacker.py, written without
regeval.disclosure) tries every attack an output checker worries about:

* linear differencing across linked tables (flow, descriptives, matching summary,
  panel counts, effects, group means) and across specs (the same persons in several
  specs), by linear programming over everything published;
* means from an effect and the control mean;
* citizens × unit cost in the business case;
* histogram totals;
* published extremes.

None may recover a suppressed count (or a small difference in a flow or chain) to
within the threshold. The same attacks on the same aggregates exported with secondary
suppression switched off must succeed: the test can fail.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from regeval.budget.tables import BUSINESS_CASE_TABLES
from regeval.disclosure.aggregates import read_aggregate
from regeval.disclosure.check import export_tables
from regeval.disclosure.rules import Rules
from regeval.pipeline.config import deep_merge, load_config, load_yaml
from regeval.pipeline.files import EXPORT_AGGREGATES
from regeval.pipeline.plan import Plan

from . import attacker
from .conftest import ATTACK, ATTACK_SPECS, REPO

T = 5
SPECS = ATTACK_SPECS


@pytest.fixture(scope="module")
def release(attack_release):
    """The session's tiny release (tests/conftest.py) with its plan."""
    work = attack_release
    plan = Plan.from_config(load_config(deep_merge(load_yaml(REPO / "config" / "config.yaml"), ATTACK), REPO), REPO)
    return work, plan


def _inside(work: Path, plan: Plan) -> dict[str, dict[str, pd.DataFrame]]:
    return {s: {t: read_aggregate(work / p)[0] for t, p in plan.aggregates(s).items()} for s in SPECS}


def _bc_inside(work: Path) -> dict[str, pd.DataFrame]:
    folder = work / "results" / "business_case" / "inside" / "aggregates"
    return {t: read_aggregate(folder / f"{t}.parquet")[0] for t in BUSINESS_CASE_TABLES}


def _attack(spec_dirs: dict[str, Path], bc: Path, truth: dict[str, float], inside) -> list[str]:
    at = attacker.read_release(spec_dirs, bc)
    found = attacker.recovered(at, truth, T, attacker.chain_differences(spec_dirs))
    for hit in attacker.means_attack(spec_dirs):
        true_k = inside[hit["spec"]]["effects"].loc[hit["row"]]
        for k in ("k_treated", "nk_treated"):
            derived = hit["k_treated"] if k == "k_treated" else true_k["n_treated"] - hit["k_treated"]
            if 0 < true_k[k] < T and abs(derived - true_k[k]) <= 1:
                found.append(f"{hit['spec']} effects row {hit['row']}: {k} {true_k[k]} from estimate + control mean")
    found += attacker.published_extremes(spec_dirs, T)
    return found


def _small_published(spec_dirs: dict[str, Path], bc: Path) -> list[str]:
    """Count-like columns with a published value of 1 … T − 1."""
    bad = []
    folders = [*spec_dirs.values(), bc]
    for folder in folders:
        for csv in folder.glob("*.csv"):
            if csv.name.startswith("disclosure"):
                continue
            t = pd.read_csv(csv)
            flow = csv.stem == "population_flow"
            for c in t.columns:
                person_count = c in ("n", "citizens") or (c.startswith(("n_", "k_", "nk_")) and c != "n_years")
                if person_count or (flow and c not in ("spec", "cohort", "analysed", "suppressed")):
                    v = pd.to_numeric(t[c], errors="coerce")
                    if ((v > 0) & (v < T)).any():
                        bad.append(f"{csv.name}:{c}")
    return bad


def test_no_attack_recovers_a_suppressed_cell(release):
    work, plan = release
    dirs = {s: work / "results" / s / "export" / "tables" for s in SPECS}
    bc = work / "results" / "business_case" / "export"
    inside = _inside(work, plan)
    truth = attacker.truth_of(inside, _bc_inside(work))
    # the tiny run has small cells to protect: the attacks are not vacuous
    flows = pd.concat([pd.read_csv(d / "population_flow.csv") for d in dirs.values()])
    assert flows["suppressed"].fillna("").ne("").any()
    assert pd.read_csv(bc / "business_case_by_status.csv")["citizens"].isna().any()
    assert _attack(dirs, bc, truth, inside) == []
    assert _small_published(dirs, bc) == []


def test_the_release_report_covers_every_exported_table(release):
    work, _ = release
    out = work / "results" / "release" / "export"
    cells = pd.read_csv(out / "disclosure_report.csv")
    for s in SPECS:
        assert set(EXPORT_AGGREGATES) <= set(cells.loc[cells["spec"] == s, "table"])
    assert set(BUSINESS_CASE_TABLES) <= set(cells["table"])
    published = cells["min_persons_behind_published"].dropna()
    assert (published >= T).all()
    audit = pd.read_csv(out / "disclosure_audit.csv")
    assert len(audit) > 0 and audit["protected"].all()
    assert "persons" not in audit.columns  # the report never states a suppressed value
    assert "Rules applied" in (out / "disclosure_report.html").read_text()


def test_without_secondary_suppression_the_attacks_succeed(release, tmp_path):
    """The same aggregates exported with primary suppression only: the attacker must
    recover suppressed cells (else the attacks prove nothing)."""
    work, plan = release
    primary_only = Rules(min_persons=T, secondary=False)
    dirs = {}
    for s in SPECS:
        dirs[s] = tmp_path / s
        export_tables([work / plan.aggregates(s)[t] for t in EXPORT_AGGREGATES], dirs[s], primary_only, spec=s)
    bc = tmp_path / "business_case"
    folder = work / "results" / "business_case" / "inside" / "aggregates"
    export_tables([folder / f"{t}.parquet" for t in sorted(BUSINESS_CASE_TABLES)], bc, primary_only)
    inside = _inside(work, plan)
    found = _attack(dirs, bc, attacker.truth_of(inside, _bc_inside(work)), inside)
    # the classes secondary suppression closes: citizens × unit cost, the flow's steps,
    # the persons entering or leaving from one year to the next (linked to the effects)
    for kind in ("bc/", " flow ", " panel "):
        assert any(kind in f for f in found), kind
