"""Disclosure control: small cells are suppressed (primary and secondary), person
ids fail the run, and a deliberately tiny cohort goes through the real tables and export."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from regeval.disclosure.aggregates import AggregateMeta, read_aggregate, write_aggregate
from regeval.disclosure.check import check_table, export_tables
from regeval.errors import DisclosureError
from regeval.pipeline.config import load_yaml, resolve_spec

from .conftest import REPO

SHARES = AggregateMeta(
    name="shares",
    title="t",
    kind="descriptive",
    counts={"share": ["n", "k", "nk"]},
    count_columns=("n", "k", "nk"),
    cell_sets=(("share", "k", "nk"),),
    secondary=({"by": ["variable"], "cells": ["k"]},),
)


def test_a_share_resting_on_three_persons_is_suppressed_with_its_counts():
    t = pd.DataFrame(
        {"variable": ["sex", "sex"], "level": ["man", "woman"], "share": [0.5, 0.5], "n": [200, 200], "k": [100, 100], "nk": [100, 100]}
    )
    t = pd.concat([t, pd.DataFrame({"variable": ["adhd"], "level": [""], "share": [3 / 200], "n": [200], "k": [3], "nk": [197]})])
    res = check_table(t, SHARES, 5).table
    row = res[res["variable"] == "adhd"].iloc[0]
    assert pd.isna(row["share"]) and pd.isna(row["k"]) and pd.isna(row["nk"])
    assert "share" in row["suppressed"]
    assert res[res["variable"] == "sex"]["share"].notna().all()


def test_a_suppressed_level_cannot_be_recovered_from_the_others():
    """Shares of the levels of a variable add up to 1: suppressing one level alone
    would let a reader compute it; the smallest other level is suppressed too."""
    t = pd.DataFrame(
        {
            "variable": ["edu"] * 3,
            "level": ["a", "b", "c"],
            "share": [0.80, 0.185, 0.015],
            "n": [200] * 3,
            "k": [160, 37, 3],
            "nk": [40, 163, 197],
        }
    )
    res = check_table(t, SHARES, 5)
    out = res.table.set_index("level")
    assert pd.isna(out.loc["c", "share"])  # primary: 3 persons
    assert pd.isna(out.loc["b", "share"])  # secondary: the smallest other level
    assert out.loc["a", "share"] == 0.80
    assert res.log["secondary"] > 0


def test_the_complement_of_a_near_universal_level_is_a_small_cell():
    t = pd.DataFrame({"variable": ["x"], "level": [""], "share": [198 / 200], "n": [200], "k": [198], "nk": [2]})
    assert check_table(t, SHARES, 5).table["share"].isna().all()


def test_a_small_difference_between_flow_counts_suppresses_the_later_count():
    meta = AggregateMeta(
        name="flow", title="t", kind="flow",
        count_columns=("participants", "with_id", "resident"),
        differences=(("participants", "with_id", "resident"),),
    )
    t = pd.DataFrame({"participants": [100, 100], "with_id": [97, 80], "resident": [90, 79]})
    out = check_table(t, meta, 5).table
    assert pd.isna(out.loc[0, "with_id"])  # 3 persons without an id would be revealed
    assert out.loc[0, "resident"] == 90  # 100 − 90 = 10 is safe
    assert out.loc[1, "with_id"] == 80 and pd.isna(out.loc[1, "resident"])  # 80 − 79 = 1


def test_zero_is_not_a_small_cell():
    t = pd.DataFrame({"variable": ["x"], "level": [""], "share": [0.0], "n": [200], "k": [0], "nk": [200]})
    assert check_table(t, SHARES, 5).table["share"].iloc[0] == 0.0


def test_a_person_id_in_any_cell_fails_naming_file_table_and_column(tmp_path):
    t = pd.DataFrame({"item": ["x"], "value": [1000000123.0], "n": [50]})
    path = tmp_path / "agg.parquet"
    write_aggregate(t, path, AggregateMeta(name="oops", title="t", kind="descriptive", counts={"value": ["n"]}, count_columns=("n",)))
    with pytest.raises(DisclosureError, match=r"agg\.parquet.*'oops'.*'value'"):
        export_tables([path], tmp_path / "export", 5, person_ids=np.array([1000000123, 1000000124]))
    assert not (tmp_path / "export" / "oops.csv").exists()


def test_an_id_column_fails_whatever_its_values():
    t = pd.DataFrame({"pnr": [1, 2], "n": [10, 10]})
    with pytest.raises(DisclosureError, match="pnr"):
        check_table(t, AggregateMeta(name="x", title="t", kind="descriptive", count_columns=("n",)), 5)


def test_a_descriptive_table_without_counts_is_refused():
    t = pd.DataFrame({"variable": ["a"], "share": [0.5]})
    with pytest.raises(DisclosureError, match="must declare"):
        check_table(t, AggregateMeta(name="x", title="t", kind="descriptive"), 5)


@pytest.fixture(scope="module")
def tiny_cohort(tmp_path_factory, small_registers):
    """The real balance and descriptive tables and their export on a cohort with only 4 treated."""
    from regeval.pipeline.evaluate import control_group
    from regeval.population.base import PopulationSpec, build_base_population
    from regeval.registers.read import resolve_sources

    cfg = load_yaml(REPO / "config" / "config.yaml")
    spec = resolve_spec(cfg, "default")
    pop = PopulationSpec.from_config(cfg["population"])
    bp = build_base_population(resolve_sources(small_registers), pop)
    units = bp.units[bp.units["cohort"] == 2016].copy()
    keep_treated = units[units["treated"] == 1].head(4)
    units = pd.concat([keep_treated, units[units["treated"] == 0]]).reset_index(drop=True)
    units["unit"] = np.arange(len(units))
    work = tmp_path_factory.mktemp("tiny")
    units.to_parquet(work / "units.parquet", index=False)
    cg = control_group(units, {**spec, "characteristics": ["age"]}, list(pop.diagnosis_groups))
    cg.matched.to_parquet(work / "matched.parquet", index=False)
    popm = work / "popm.parquet"
    write_aggregate(
        pd.DataFrame({"variable": ["sex"], "level": ["man"], "population": [0.5], "n_population": [1000], "k_population": [500.0], "nk_population": [500.0]}),
        popm,
        AggregateMeta(name="population_means", title="t", kind="descriptive", counts={"population": ["n_population"]}, count_columns=("n_population",)),
    )
    from regeval.pipeline.rules.control_group import DESCRIPTIVE_CHARACTERISTICS
    from regeval.population.characteristics import expand
    from regeval.stats.tables import balance_with_counts, descriptives_with_counts

    weights = units["unit"].map(cg.matched.set_index("unit")["weight"]).fillna(0.0).to_numpy()
    groups = list(pop.diagnosis_groups)
    write_aggregate(balance_with_counts(units, weights, *expand(["age"], groups)), work / "balance.parquet")
    population, _ = read_aggregate(popm)
    desc = descriptives_with_counts(units, weights, *expand(DESCRIPTIVE_CHARACTERISTICS, groups), population)
    write_aggregate(desc, work / "descriptives.parquet")
    log = export_tables(
        [work / "balance.parquet", work / "descriptives.parquet"], work / "export", 5,
        person_ids=units["pnr"].to_numpy(), spec="tiny",
    )
    return work, log


def test_tiny_cohort_is_suppressed_in_every_exported_cell(tiny_cohort):
    work, log = tiny_cohort
    desc = pd.read_csv(work / "export" / "descriptives.csv")
    n_row = desc[desc["term"] == "n"].iloc[0]
    assert pd.isna(n_row["participants"])  # 4 participants: the count itself is a small cell
    assert desc["participants"].isna().all()  # every share of 4 persons is suppressed
    assert desc["suppressed"].fillna("").str.contains("participants").all()
    bal = pd.read_csv(work / "export" / "balance.csv")
    assert bal["mean_treated_before"].isna().all() and bal["smd_after"].isna().all()
    assert json.loads((work / "export" / "disclosure_log.json").read_text())["tables"][0]["suppressed_cells"] > 0
    # nothing left in the export rests on 1-4 persons
    for name in ("descriptives", "balance"):
        t = pd.read_csv(work / "export" / f"{name}.csv")
        for c in [c for c in t.columns if c.startswith(("n_", "k_", "nk_"))]:
            v = t[c].dropna()
            assert not ((v > 0) & (v < 5)).any(), (name, c)


def test_tiny_cohort_export_holds_no_person_id(tiny_cohort):
    work, _ = tiny_cohort
    units = pd.read_parquet(work / "units.parquet")
    ids = set(units["pnr"].astype(str))
    for csv in (work / "export").glob("*.csv"):
        tokens = set(csv.read_text().replace(",", " ").split())
        assert not tokens & ids


def test_user_supplied_control_group_replaces_matching(small_registers):
    """control_ids: the listed potential controls, weighted to their cohort's treated."""
    from regeval.errors import MatchingError
    from regeval.pipeline.evaluate import user_controls
    from regeval.population.base import PopulationSpec, build_base_population
    from regeval.registers.read import resolve_sources

    cfg = load_yaml(REPO / "config" / "config.yaml")
    units = build_base_population(resolve_sources(small_registers), PopulationSpec.from_config(cfg["population"])).units
    pool = units[units["treated"] == 0]
    chosen = pd.concat([pool[pool["cohort"] == 2015].head(30), pool[pool["cohort"] == 2016].head(10)])
    m = user_controls(units, chosen[["pnr", "cohort"]])
    assert set(m.loc[m["treated"] == 0, "unit"]) == set(chosen["unit"])
    assert set(m.loc[m["treated"] == 1, "cohort"]) == {2015, 2016}  # cohorts without controls drop out
    c = m[m["treated"] == 0]
    assert c["weight"].sum() == pytest.approx(len(c))  # normalised like matching weights
    n_t = m[m["treated"] == 1].groupby("cohort").size()
    w = c.groupby("cohort")["weight"].first()
    assert w[2015] / w[2016] == pytest.approx((n_t[2015] / 30) / (n_t[2016] / 10))
    with pytest.raises(MatchingError, match="not potential controls"):
        user_controls(units, pd.DataFrame({"pnr": [1], "cohort": [2015]}))


def test_a_maximum_is_refused_unless_it_rests_on_persons_sharing_the_value():
    t = pd.DataFrame({"group": ["a"], "income_max": [912345.0], "n": [50]})
    meta = AggregateMeta(name="x", title="t", kind="descriptive", counts={}, count_columns=("n",))
    with pytest.raises(DisclosureError, match="income_max"):
        check_table(t, meta, 5)
    t["n_sharing_max"] = [2]
    # declared against any count it is still refused: only the persons sharing the value count
    with pytest.raises(DisclosureError, match="income_max"):
        check_table(t, AggregateMeta(name="x", title="t", kind="descriptive", counts={"income_max": ["n"]},
                                     count_columns=("n",)), 5)
    shared = AggregateMeta(name="x", title="t", kind="descriptive", order_stats={"income_max": "n_sharing_max"},
                           count_columns=("n",))
    assert pd.isna(check_table(t, shared, 5).table["income_max"].iloc[0])  # 2 persons share it: suppressed


# ----------------------------------------------------------------------------- output-checking rules
def _rules(**kw):
    from regeval.disclosure.rules import Rules

    return Rules(**kw)


def test_dominance_rules_by_hand():
    """p % rule: total − top1 − top2 < p/100 · top1; (2, 85 %) rule: top1 + top2 > 0.85 · total."""
    from regeval.disclosure.meta import dominance_columns

    t = pd.DataFrame({"cell": ["a", "b", "c"], "mean": [10.0, 10.0, 10.0], "n": [20, 20, 20]})
    top1, top2, total = dominance_columns("mean")
    # a: 1000 of 1060 from two persons (94 % > 85 %): (n, k) rule
    # b: top 100 + 50, the rest 9 < 10 % of 100: p % rule only (150 / 159 = 94 % also > 85 %) -> check c
    # c: top 100 + 20, rest 80: neither (120 / 200 = 60 %; 80 ≥ 10)
    t[top1], t[top2], t[total] = [600.0, 100.0, 100.0], [400.0, 50.0, 20.0], [1060.0, 159.0, 200.0]
    meta = AggregateMeta(name="x", title="t", kind="descriptive", counts={"mean": ["n"]}, count_columns=("n",),
                         dominance=("mean",))
    res = check_table(t, meta, _rules())
    out = res.table.set_index("cell")
    assert pd.isna(out.loc["a", "mean"]) and pd.isna(out.loc["b", "mean"]) and out.loc["c", "mean"] == 10.0
    assert not any(c.startswith("_sdc_") for c in res.table.columns)  # contributions never leave
    reasons = res.state.reason["mean"]
    assert "(2, 85%)" in reasons[0]
    # with a lax (n, k) rule only the p % rule remains: b (rest 9 < 10) stays dominated, a (rest 60 ≥ 60) not
    res = check_table(t, meta, _rules(nk_k=1.0)).table.set_index("cell")
    assert res.loc["a", "mean"] == 10.0 and pd.isna(res.loc["b", "mean"])


def test_all_or_nothing_share_and_degrees_of_freedom():
    t = pd.DataFrame({"variable": ["a", "b"], "share": [1.0, 0.5], "n": [40, 40], "k": [40, 20], "nk": [0, 20]})
    res = check_table(t, SHARES, _rules()).table
    assert res[["share", "k", "nk"]].iloc[0].isna().all() and res.loc[1, "share"] == 0.5
    assert check_table(t, SHARES, _rules(all_or_nothing=False)).table.loc[0, "share"] == 1.0
    m = pd.DataFrame({"term": ["x"], "estimate": [0.3], "n": [40], "_sdc_dof": [8]})
    meta = AggregateMeta(name="m", title="t", kind="model", count_columns=("n",), model_columns=("estimate",))
    assert pd.isna(check_table(m, meta, _rules()).table.loc[0, "estimate"])  # 8 < 10 residual df
    assert check_table(m, meta, _rules(min_dof=5)).table.loc[0, "estimate"] == 0.3


def test_suppressed_bins_that_total_fewer_than_the_threshold_get_a_protecting_bin():
    """Bins 1, 2, 1 (4 persons together) of a known total: each could be pinned to 0–4,
    so the smallest other bin (10) is suppressed too; the audit then finds 0–14."""
    t = pd.DataFrame({"group": ["t"] * 5, "bin": range(5), "n": [10, 1, 2, 1, 20]})
    meta = AggregateMeta(name="h", title="t", kind="distribution", count_columns=("n",),
                         secondary=({"by": ["group"], "cells": ["n"]},))
    out = check_table(t, meta, _rules()).table
    assert out["n"].isna().tolist() == [True, True, True, True, False]
    off = check_table(t, meta, _rules(secondary=False)).table
    assert off["n"].isna().tolist() == [False, True, True, True, False]


def test_citizens_times_unit_cost_cannot_be_solved():
    """Two suppressed statuses with different unit costs: the group's citizens and yearly
    cost give two equations, so a third status must be suppressed."""
    t = pd.DataFrame({"group": ["g"] * 4, "status": list("abcd"), "citizens": [3, 2, 9, 14],
                      "unit_cost_month": [100.0, 300.0, 200.0, 50.0]})
    t["yearly_cost"] = t["citizens"] * t["unit_cost_month"] * 12
    meta = AggregateMeta(name="bc", title="t", kind="descriptive", counts={"yearly_cost": ["citizens"]},
                         count_columns=("citizens",), cell_sets=(("citizens", "yearly_cost"),),
                         secondary=({"by": ["group"], "cells": ["citizens"], "weights": ["unit_cost_month"]},))
    out = check_table(t, meta, _rules()).table
    assert out["citizens"].isna().sum() >= 3 and out["yearly_cost"].isna().sum() == out["citizens"].isna().sum()
    # the three unknowns x_a + x_b + x_c = 14 and 100 x_a + 300 x_b + 200 x_c = 2100 leave x_a a range ≥ 5
    from scipy.optimize import linprog

    free = out["citizens"].isna().to_numpy()
    rest = t.loc[~free]
    a_eq = [np.ones(free.sum()), t.loc[free, "unit_cost_month"].to_numpy()]
    b_eq = [t["citizens"].sum() - rest["citizens"].sum(),
            (t["citizens"] * t["unit_cost_month"]).sum() - (rest["citizens"] * rest["unit_cost_month"]).sum()]
    for j in range(free.sum()):
        c = np.zeros(free.sum())
        c[j] = 1
        lo, hi = linprog(c, A_eq=a_eq, b_eq=b_eq).fun, -linprog(-c, A_eq=a_eq, b_eq=b_eq).fun
        assert hi - lo >= 5 - 1e-9


def test_a_count_suppressed_in_one_table_is_suppressed_in_the_table_it_is_linked_to():
    """The treated of a cohort in a flow (suppressed: 2 fewer than the step before) are
    the participants of that cohort in a descriptive table: suppressed there too."""
    from regeval.disclosure.check import check_release

    flow = pd.DataFrame({"cohort": [2014, 2015], "resident": [60, 70], "treated": [58, 50]})
    fmeta = AggregateMeta(name="flow", title="t", kind="flow", count_columns=("resident", "treated"),
                          differences=(("resident", "treated"),),
                          links=({"column": "treated", "key": "treated units", "by": {"cohort": "cohort"}},))
    desc = pd.DataFrame({"variable": ["cohort", "cohort"], "level": ["2014", "2015"], "share": [58 / 108, 50 / 108],
                         "n": [108, 108], "k": [58, 50], "nk": [50, 58]})
    dmeta = AggregateMeta(name="desc", title="t", kind="descriptive", counts={"share": ["n", "k", "nk"]},
                          count_columns=("n", "k", "nk"), cell_sets=(("share", "k", "nk"),),
                          secondary=({"by": ["variable"], "cells": ["k"]},),
                          links=({"column": "k", "key": "treated units", "by": {"cohort": "level"},
                                  "where": {"variable": "cohort"}},))
    (f, d), _ = check_release([(flow, fmeta, "flow", None), (desc, dmeta, "desc", None)], 5)
    assert pd.isna(f.table.loc[0, "treated"]) and pd.isna(d.table.loc[0, "k"]) and pd.isna(d.table.loc[0, "share"])
    # the levels add up to n, so 2014's treated follow from 2015's: the difference of 2 is
    # protected by suppressing 2014's residents (the cheapest cell that leaves it open)
    assert pd.isna(f.table.loc[0, "resident"]) or pd.isna(d.table.loc[1, "k"])
    assert f.table.loc[1, "resident"] == 70


def test_a_suppressed_yearly_effect_is_suppressed_in_the_confounding_table_that_copies_it():
    """The unobserved-confounding table repeats each year's estimate and SE (and averages of
    them over windows): where the effect table suppresses a year (fewer than 5 treated with
    the event), the confounding rows built on that year are suppressed too, and the others
    stay published."""
    from regeval.disclosure.check import check_release
    from regeval.stats.tables import confounding_table

    effects = pd.DataFrame({
        "outcome": ["job"] * 3, "rel_year": [0, 1, 2], "estimate": [0.10, 0.20, 0.30], "se": [0.05, 0.05, 0.05],
        "n_treated": [200, 200, 200], "n_control": [2000, 2000, 2000], "n_clusters": [2200, 2200, 2200],
        "k_treated": [50, 3, 60], "nk_treated": [150, 197, 140],
    })
    emeta = AggregateMeta(name="effects", title="t", kind="regression",
                          counts={c: ["n_treated", "k_treated", "nk_treated"] for c in ("estimate", "se")},
                          count_columns=("n_treated", "n_control", "n_clusters", "k_treated", "nk_treated"))
    windows = pd.DataFrame({"outcome": ["job", "job"], "year_from": [0, 2], "year_to": [1, 2],
                            "estimate": [0.15, 0.30], "se": [0.04, 0.05], "n_treated": [200, 200],
                            "n_control": [2000, 2000], "n_clusters": [2200, 2200]})
    sens = confounding_table(effects, windows, ["job"], alpha=0.05)
    (eff, conf), _ = check_release([(effects, emeta, "effects", "s"), (sens.frame, sens.meta, "conf", "s")], 5)
    assert pd.isna(eff.table.loc[1, "estimate"]) and eff.table.loc[0, "estimate"] == 0.10
    table = conf.table
    hidden = (table["year_from"] <= 1) & (table["year_to"] >= 1)
    assert hidden.sum() == 2  # the window 0–1 and the year 1
    assert table.loc[hidden, ["estimate", "se", "rv"]].isna().all().all()
    assert table.loc[~hidden, ["estimate", "se", "rv"]].notna().all().all()
