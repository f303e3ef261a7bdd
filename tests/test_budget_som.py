"""The whole valuation chain on a small made-up effect table, checked by hand.

Inputs (price year 2022, discount rate 5 %, horizon 0-2):
  svc      cost,    100,000 kr per user-year in 2021 prices (index 2021 = 100, 2022 = 110
           -> 110,000 in 2022), shares kommune 0.8 / stat 0.2      <- outcome out_svc
  tax      revenue, amounts kommune 0.25 / stat 0.10 per kr        <- outcome income
  benefit  cost,    50,000 kr per person-year, split by the refund staircase at week 53
           (20 % state) -> kommune 0.8 / stat 0.2                 <- outcome ben
  contact  cost,    1,000 kr per contact, kommune 0.1 / region 0.9 <- outcome contacts
  programme cost: 10,000 in year 0 borne by the programme, 2,000 in year 1 by the kommune.

Effects (significance rule, p < 0.05 counts):
  out_svc   y0 -0.1 (p .01, counts)  y1 -0.2 (p .2, 0)  y2 -0.3 (p .001, counts)  y3 beyond horizon
  income    y0 1000 (p .04)          y1 2000 (p .5, 0)  y2 2000 (p .01)
  ben       y0 missing (0)           y1 +0.1 (p .03)    y2 estimate NaN (0)
  contacts  y0 +1 (p = .05, not < .05: 0)               y2 -1 (p .049, counts)

Hand values (kr per participant, + = public budget gains):
  year 0: svc 0.1 × 110,000 = 11,000 (kommune 8,800, stat 2,200); tax 1,000 × (.25, .10)
          = 250 / 100; programme -10,000.                            total 1,350
  year 1: benefit -0.1 × 50,000 = -5,000 (kommune -4,000, stat -1,000); kommune cost -2,000.
                                                                     total -7,000
  year 2: svc 33,000 (26,400 / 6,600); tax 500 / 200; contacts 1,000 (100 / region 900).
                                                                     total 34,700
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from regeval.budget import BudgetAssumptions, compute_budget, make_budget_inputs
from regeval.errors import BudgetError, RegevalWarning

D1, D2 = 1 / 1.05, 1 / 1.05**2


def _prices():
    cols = ["consequence", "label", "consequence_group", "unit", "sign", "price", "price_year", "split",
            "kommune", "region", "stat", "illustrative", "source"]
    rows = [
        ["svc", "Service", "botilbud", "user-year", "cost", "100000", "2021", "shares", "0.8", "0", "0.2", "true", "test"],
        ["tax", "Tax", "tax_on_income", "kr", "revenue", "", "2022", "amounts", "0.25", "0", "0.10", "true", "test"],
        ["benefit", "Benefit", "income_transfers", "person-year", "cost", "50000", "2022", "benefit_refund", "", "", "", "true", "test"],
        ["contact", "Contact", "health", "contact", "cost", "1000", "2022", "shares", "0.1", "0.9", "0", "true", "test"],
    ]
    return pd.DataFrame(rows, columns=cols)


def _inputs():
    mapping = pd.DataFrame({
        "outcome": ["out_svc", "income", "ben", "contacts", "hours"],
        "consequence": ["svc", "tax", "benefit", "contact", ""],
        "factor": ["1", "1", "1", "1", ""],
        "note": ["", "", "", "", "not priced"],
    })
    index = pd.DataFrame({"year": [2021, 2022], "index": [100.0, 110.0]})
    cost = pd.DataFrame({"rel_year": [0, 1], "amount": [10_000, 2_000], "bearer": ["programme", "kommune"],
                         "price_year": [2022, 2022], "source": ["test", "test"]})
    rates = {"benefit_staircase": [{"from_week": 1, "to_week": 4, "rate": 0.8},
                                   {"from_week": 5, "to_week": 52, "rate": 0.4},
                                   {"from_week": 53, "to_week": None, "rate": 0.2}],
             "target_group": {"cumulative_weeks": 53}}
    return make_budget_inputs(_prices(), mapping, index, cost, rates)


def _effects(spec="s"):
    rows = [
        ("out_svc", 0, -0.1, 0.01), ("out_svc", 1, -0.2, 0.2), ("out_svc", 2, -0.3, 0.001), ("out_svc", 3, -0.5, 0.001),
        ("income", 0, 1000, 0.04), ("income", 1, 2000, 0.5), ("income", 2, 2000, 0.01),
        ("ben", 1, 0.1, 0.03), ("ben", 2, np.nan, np.nan),
        ("contacts", 0, 1.0, 0.05), ("contacts", 2, -1.0, 0.049),
        ("hours", 0, 2.0, 0.001),
    ]
    df = pd.DataFrame(rows, columns=["outcome", "rel_year", "estimate", "p"])
    df.insert(0, "spec", spec)
    df["se"] = 0.1
    df["ci_low"] = df["estimate"] - 1
    df["ci_high"] = df["estimate"] + 1
    return df


A = BudgetAssumptions(price_year=2022, discount_rate=0.05, horizon=2)


@pytest.fixture(scope="module")
def result():
    return compute_budget(_effects(), _inputs(), A)


def test_only_significant_effects_are_counted_and_the_reason_is_recorded(result):
    used = result.effects_used.set_index(["outcome", "rel_year"])
    counted = {k for k, v in used["counted"].items() if v}
    assert counted == {("out_svc", 0), ("out_svc", 2), ("income", 0), ("income", 2), ("ben", 1), ("contacts", 2)}
    assert used.loc[("out_svc", 1), "quantity"] == 0.0
    assert "counted as 0" in used.loc[("out_svc", 1), "reason"]
    assert used.loc[("contacts", 0), "reason"].startswith("p = 0.05 >= 0.05")
    assert "no estimate" in used.loc[("ben", 0), "reason"]
    assert "no estimate" in used.loc[("ben", 2), "reason"]
    assert 3 not in set(result.effects_used["rel_year"])  # beyond the horizon


def test_items_are_effect_times_actor_price_with_the_sign_of_the_consequence(result):
    it = result.by_item.set_index(["rel_year", "consequence", "actor"])
    assert it.loc[(0, "svc", "kommune"), "price"] == pytest.approx(88_000)  # 110,000 × 0.8 (price index)
    assert it.loc[(0, "svc", "kommune"), "value_undiscounted"] == pytest.approx(8_800)
    assert it.loc[(0, "svc", "stat"), "value_undiscounted"] == pytest.approx(2_200)
    assert it.loc[(0, "tax", "kommune"), "value_undiscounted"] == pytest.approx(250)
    assert it.loc[(0, "tax", "stat"), "value_undiscounted"] == pytest.approx(100)
    assert it.loc[(1, "benefit", "kommune"), "value_undiscounted"] == pytest.approx(-4_000)
    assert it.loc[(1, "benefit", "stat"), "value_undiscounted"] == pytest.approx(-1_000)
    assert it.loc[(2, "contact", "region"), "value_undiscounted"] == pytest.approx(900)
    assert it.loc[(2, "contact", "region"), "value_pv"] == pytest.approx(900 * D2)
    assert it.loc[(1, "svc", "kommune"), "value_undiscounted"] == 0.0
    assert not it.loc[(1, "svc", "kommune"), "counted"]


def test_net_per_actor_including_the_programme_cost_matches_the_hand_computation(result):
    net = result.net.set_index("actor")
    assert net.loc["kommune", "value_undiscounted"] == pytest.approx(8_800 + 250 - 4_000 - 2_000 + 26_400 + 500 + 100)
    assert net.loc["region", "value_undiscounted"] == pytest.approx(900)
    assert net.loc["stat", "value_undiscounted"] == pytest.approx(2_200 + 100 - 1_000 + 6_600 + 200)
    assert net.loc["programme", "value_undiscounted"] == pytest.approx(-10_000)
    assert net.loc["total", "value_undiscounted"] == pytest.approx(29_050)
    assert net.loc["kommune", "value_pv"] == pytest.approx(9_050 - 6_000 * D1 + 27_000 * D2)
    assert net.loc["total", "value_pv"] == pytest.approx(1_350 - 7_000 * D1 + 34_700 * D2)
    assert net.loc["total", "value_pv"] == pytest.approx(26_157.256, abs=1e-3)
    assert result.net_pv() == pytest.approx(net.loc["total", "value_pv"])


def test_by_actor_separates_consequences_from_the_programme_cost(result):
    ba = result.by_actor.set_index("actor")
    assert ba.loc["kommune", "programme_cost_undiscounted"] == pytest.approx(-2_000)
    assert ba.loc["kommune", "programme_cost_pv"] == pytest.approx(-2_000 * D1)
    assert ba.loc["programme", "programme_cost_pv"] == pytest.approx(-10_000)
    assert ba.loc["programme", "consequences_pv"] == 0.0
    np.testing.assert_allclose(ba["net_pv"], ba["consequences_pv"] + ba["programme_cost_pv"])


def test_years_and_groups_sum_to_the_total(result):
    by_year = result.by_year.groupby("rel_year")["value_undiscounted"].sum()
    assert by_year.tolist() == pytest.approx([1_350, -7_000, 34_700])
    g = result.by_group.set_index("consequence_group")
    assert g.loc["botilbud", "value_undiscounted"] == pytest.approx(44_000)
    assert g.loc["botilbud", "value_pv"] == pytest.approx(11_000 + 33_000 * D2)
    assert g.loc["tax_on_income", "value_undiscounted"] == pytest.approx(1_050)
    assert g.loc["income_transfers", "value_undiscounted"] == pytest.approx(-5_000)
    assert g.loc["health", "value_undiscounted"] == pytest.approx(1_000)
    assert g.loc["programme_cost", "value_undiscounted"] == pytest.approx(-12_000)
    assert g.loc["sel85", "value_undiscounted"] == 0.0  # every group is listed, in a fixed order
    total = result.net.set_index("actor").loc["total"]
    for col in ("value_undiscounted", "value_pv"):
        assert result.by_group[col].sum() == pytest.approx(total[col])
        assert result.by_year[col].sum() == pytest.approx(total[col])
        assert result.by_item[col].sum() == pytest.approx(total[col])


def test_rule_all_counts_every_point_estimate():
    r = compute_budget(_effects(), _inputs(), A.with_(effect_rule="all"))
    used = r.effects_used.set_index(["outcome", "rel_year"])
    assert used.loc[("out_svc", 1), "counted"] and used.loc[("out_svc", 1), "quantity"] == -0.2
    assert not used.loc[("ben", 2), "counted"]  # NaN estimate still counts 0
    g = r.by_group.set_index("consequence_group")
    assert g.loc["botilbud", "value_undiscounted"] == pytest.approx((0.1 + 0.2 + 0.3) * 110_000)


def test_rules_ci_low_and_ci_high_use_the_confidence_bounds():
    lo = compute_budget(_effects(), _inputs(), A.with_(effect_rule="ci_low")).effects_used
    hi = compute_budget(_effects(), _inputs(), A.with_(effect_rule="ci_high")).effects_used
    key = (lo["outcome"] == "out_svc") & (lo["rel_year"] == 0)
    assert lo.loc[key, "quantity"].item() == pytest.approx(-1.1)
    assert hi.loc[key, "quantity"].item() == pytest.approx(0.9)


def test_several_specs_are_computed_side_by_side_and_concatenate():
    both = pd.concat([_effects("a"), _effects("b")], ignore_index=True)
    r = compute_budget(both, _inputs(), A)
    assert r.specs == ("a", "b")
    a, b = r.net[r.net["spec"] == "a"], r.net[r.net["spec"] == "b"]
    np.testing.assert_allclose(a["value_pv"], b["value_pv"])
    with pytest.raises(BudgetError, match="several specs"):
        r.net_pv()


def test_the_programme_cost_factor_scales_only_the_cost():
    r = compute_budget(_effects(), _inputs(), A.with_(programme_cost_factor=1.5))
    net = r.net.set_index("actor")
    assert net.loc["programme", "value_pv"] == pytest.approx(-15_000)


def test_unlisted_outcomes_and_missing_mapped_outcomes_warn():
    eff = _effects()
    eff = pd.concat([eff[eff["outcome"] != "contacts"],
                     pd.DataFrame({"spec": ["s"], "outcome": ["mystery"], "rel_year": [0], "estimate": [1.0], "p": [0.01]})])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        compute_budget(eff, _inputs(), A)
    msgs = " | ".join(str(x.message) for x in w if issubclass(x.category, RegevalWarning))
    assert "mystery" in msgs and "not priced" in msgs
    assert "contacts" in msgs and "count 0" in msgs


def test_an_outcome_listed_without_consequence_is_silently_unpriced():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = compute_budget(_effects(), _inputs(), A)
    assert "hours" not in set(r.by_item["outcome"])


def test_effect_table_problems_are_named():
    eff = _effects().drop(columns="p")
    with pytest.raises(BudgetError, match="lacks column.*p.*significant"):
        compute_budget(eff, _inputs(), A)
    dup = pd.concat([_effects(), _effects().iloc[[0]]])
    with pytest.raises(BudgetError, match="repeating"):
        compute_budget(dup, _inputs(), A)
    bad = _effects()
    bad["rel_year"] = bad["rel_year"].astype(float) + 0.5
    with pytest.raises(BudgetError, match="whole numbers"):
        compute_budget(bad, _inputs(), A)


def test_a_price_year_outside_the_index_is_named():
    with pytest.raises(BudgetError, match="no value for 2030.*svc"):
        compute_budget(_effects(), _inputs(), A.with_(price_year=2030))


def test_output_frames_have_the_documented_columns(result):
    assert list(result.by_item.columns) == [
        "spec", "rel_year", "group", "consequence_group", "consequence", "outcome", "actor", "estimate", "p",
        "quantity", "counted", "reason", "factor", "unit", "price", "sign", "value_undiscounted",
        "discount_factor", "value_pv"]
    assert list(result.by_actor.columns) == [
        "spec", "actor", "consequences_undiscounted", "consequences_pv", "programme_cost_undiscounted",
        "programme_cost_pv", "net_undiscounted", "net_pv"]
    assert list(result.by_year.columns) == ["spec", "rel_year", "actor", "value_undiscounted", "value_pv"]
    assert list(result.by_group.columns) == ["spec", "group", "consequence_group", "value_undiscounted", "value_pv"]
    assert list(result.net.columns) == ["spec", "actor", "value_undiscounted", "value_pv"]
    assert list(result.net["actor"]) == ["kommune", "region", "stat", "programme", "total"]
    assert set(result.tables()) == {"by_item", "by_actor", "by_year", "by_group", "net", "effects_used", "prices"}


def test_a_withheld_star_is_not_significant_in_the_budget():
    """A cell whose star the effect table withholds (too few persons with the event)
    counts 0 under the significant rule, whatever its p-value; other rules are unchanged."""
    eff = _effects()
    eff["stars_withheld"] = (eff["outcome"] == "out_svc") & (eff["rel_year"] == 0)
    used = compute_budget(eff, _inputs(), A).effects_used.set_index(["outcome", "rel_year"])
    assert not used.loc[("out_svc", 0), "counted"] and used.loc[("out_svc", 0), "quantity"] == 0.0
    assert "too few persons with the event" in used.loc[("out_svc", 0), "reason"]
    assert used.loc[("out_svc", 2), "counted"]
    r_all = compute_budget(eff, _inputs(), A.with_(effect_rule="all")).effects_used.set_index(["outcome", "rel_year"])
    assert r_all.loc[("out_svc", 0), "counted"]
