"""The Ishøj business case (method.md §3; seeds/003, tables 1 and 2), reproduced to the krone.

The tables print monthly unit costs rounded to the krone (12,031 ...) but computed their
yearly totals with unrounded ones. `implied_unit_costs` finds unit costs consistent with
every published figure; with them the calculation gives each published total exactly
(after rounding half up to the krone). With the printed, rounded unit costs the results
stay within the bound the rounding allows.
"""

from pathlib import Path

import pandas as pd
import pytest

from regeval.budget import (
    business_case,
    compare_with_published,
    implied_unit_costs,
    load_business_case,
    round_kr,
)
from regeval.errors import BudgetError

CONFIG = Path(__file__).resolve().parents[1] / "config" / "budget"


@pytest.fixture(scope="module")
def case():
    return load_business_case(CONFIG / "business_case_ishoej.csv")


@pytest.fixture(scope="module")
def implied(case):
    return implied_unit_costs(case.table, case.published, investment=case.investment,
                              start=case.start, end=case.end, printed_unit_costs=case.unit_costs_published)


@pytest.fixture(scope="module")
def result(case, implied):
    return business_case(case.table, implied.set_index("cost_category")["unit_cost_month"],
                         case.investment, start=case.start, end=case.end)


def test_the_shipped_table_holds_both_groups_all_statuses_and_three_time_points(case):
    t = case.table
    assert set(t["group"]) == {"intervention", "control"}
    assert list(dict.fromkeys(t["time_point"])) == ["start", "1y", "1.5y"]
    assert t["status"].nunique() == 14
    n = t.groupby(["group", "time_point"])["citizens"].sum()
    assert (n["intervention"] == 28).all() and (n["control"] == 26).all()
    # counts as printed: kontanthjælp 14 -> 4 -> 5, ressourceforløb 11 -> 2 -> 2 in the intervention group
    kh = t[(t["group"] == "intervention") & (t["status"] == "Kontanthjælp")]["citizens"].tolist()
    rf = t[(t["group"] == "intervention") & (t["status"] == "Ressourceforløb")]["citizens"].tolist()
    assert kh == [14, 4, 5] and rf == [11, 2, 2]


def test_intervention_group_gain_is_2976037_or_106287_per_citizen(result):
    assert round_kr(result.value("intervention", "cost_start")) == 6_295_010
    assert round_kr(result.value("intervention", "cost_end")) == 3_318_972
    assert round_kr(result.value("intervention", "gain")) == 2_976_037
    assert round_kr(result.value("intervention", "gain_per_citizen")) == 106_287


def test_after_the_23_million_investment_the_gain_is_676037_or_24144_per_citizen(result):
    assert result.value("intervention", "investment") == 2_300_000
    assert round_kr(result.value("intervention", "net_gain")) == 676_037
    assert round_kr(result.value("intervention", "net_gain_per_citizen")) == 24_144


def test_control_group_gain_is_585348_or_22513_per_citizen(result):
    assert round_kr(result.value("control", "cost_start")) == 4_777_589
    assert round_kr(result.value("control", "cost_end")) == 4_192_241
    assert round_kr(result.value("control", "gain")) == 585_348
    assert round_kr(result.value("control", "gain_per_citizen")) == 22_513


def test_the_intervention_beats_the_control_group_by_1631_per_citizen(result):
    diff = result.comparison.set_index("measure").loc["net_gain_per_citizen", "difference"]
    assert round_kr(diff) == 1_631


def test_every_published_figure_including_the_one_year_totals_is_exact(case, result):
    cmp = compare_with_published(result, case.published)
    assert len(cmp) == 13
    assert (cmp["difference_kr"] == 0).all(), cmp


def test_every_published_per_status_total_is_exact_with_the_implied_unit_costs(case, result):
    merged = case.table.merge(result.by_status, on=["group", "status", "time_point"])
    printed = merged.dropna(subset=["yearly_cost_published"])
    assert len(printed) == 81
    assert all(round_kr(x) == y for x, y in zip(printed["yearly_cost"], printed["yearly_cost_published"], strict=True))


def test_the_implied_unit_costs_round_to_the_printed_ones(case, implied):
    u = implied.set_index("cost_category")["unit_cost_month"]
    for cat, printed in case.unit_costs_published.items():
        assert round_kr(u[cat]) == printed, cat
    assert u["kontanthjaelp"] == pytest.approx(12_031.07, abs=0.005)
    assert u["foep"] == pytest.approx(7_610.83, abs=0.02)
    # the intervention group's resource-programme rows at follow-up: 13,652 per month
    assert u["ressourceforloeb_in_project"] == pytest.approx(13_652, abs=0.01)
    assert implied["margin"].iloc[0] > 0


def test_with_the_printed_rounded_unit_costs_the_results_are_within_the_rounding_bound(case):
    r = business_case(case.table, case.unit_costs_published, case.investment, start=case.start, end=case.end)
    cmp = compare_with_published(r, case.published).set_index(["group", "measure", "time_point"])
    costed = case.table[case.table["cost_category"].map(case.unit_costs_published) > 0]
    for group, _n in (("intervention", 28), ("control", 26)):
        g = costed[costed["group"] == group].groupby("time_point")["citizens"].sum()
        # each monthly unit cost is off by at most 0.5 kr -> at most 6 kr a year per citizen
        bound = 6.0 * (g[case.start] + g[case.end]) + 1.0  # + published rounding of the gain
        diff = abs(cmp.loc[(group, "gain", ""), "computed"] - cmp.loc[(group, "gain", ""), "published"])
        assert diff <= bound
        assert diff > 0  # the rounded unit costs do not reproduce the totals exactly
    assert cmp.loc[("intervention", "gain", ""), "computed_kr"] == 2_976_000
    assert cmp.loc[("control", "gain", ""), "computed_kr"] == 585_336


def test_from_the_per_status_totals_alone_the_group_figures_come_within_two_kroner(case):
    u = implied_unit_costs(case.table)
    r = business_case(case.table, u.set_index("cost_category")["unit_cost_month"], case.investment)
    cmp = compare_with_published(r, case.published)
    assert cmp["difference_kr"].abs().max() <= 2


def test_a_small_hand_made_case():
    table = pd.DataFrame({
        "group": ["a", "a", "a", "a", "b", "b", "b", "b"],
        "status": ["kh", "job", "kh", "job"] * 2,
        "cost_category": ["kh", "job"] * 4,
        "time_point": ["t0", "t0", "t1", "t1"] * 2,
        "months": [0, 0, 12, 12] * 2,
        "citizens": [10, 0, 6, 4, 10, 0, 9, 1],
    })
    r = business_case(table, {"kh": 1_000.0, "job": 0.0}, investment=30_000, intervention="a", control="b")
    s = r.summary.set_index("group")
    assert s.loc["a", "cost_start"] == 120_000 and s.loc["a", "cost_end"] == 72_000
    assert s.loc["a", "gain"] == 48_000 and s.loc["a", "net_gain"] == 18_000
    assert s.loc["a", "net_gain_per_citizen"] == 1_800 and s.loc["b", "net_gain_per_citizen"] == 1_200
    assert r.comparison.set_index("measure").loc["net_gain_per_citizen", "difference"] == 600


def test_an_inconsistent_table_cannot_be_given_unit_costs():
    table = pd.DataFrame({
        "group": ["a", "a"], "status": ["kh", "kh"], "cost_category": ["kh", "kh"],
        "time_point": ["t0", "t1"], "months": [0, 12], "citizens": [2, 1],
        "yearly_cost_published": [24_000, 13_000],  # 1,000 vs 1,083 kr a month
    })
    with pytest.raises(BudgetError, match="not consistent"):
        implied_unit_costs(table)


def test_a_missing_unit_cost_is_named():
    table = pd.DataFrame({"group": ["a", "b"], "status": ["kh", "kh"], "cost_category": ["kh", "rf"],
                          "time_point": ["t0", "t0"], "months": [0, 0], "citizens": [1, 1]})
    with pytest.raises(BudgetError, match="rf"):
        business_case(table, {"kh": 1.0}, intervention="a", control="b")
