"""Honest uncertainty for rare outcomes and the doubly robust estimate, on simulated
panels with a known truth."""

import numpy as np
import pandas as pd
import pytest

from regeval.stats.effects import estimate_effects
from regeval.stats.robust_effects import doubly_robust_effects, honest_uncertainty
from regeval.stats.tables import effects_table, outcome_cell_counts


def _rare_panel(seed: int, p: float = 0.006, n_t: int = 300, n_c: int = 1500) -> pd.DataFrame:
    """A binary outcome with the same small share in both groups (true effect 0)."""
    rng = np.random.default_rng(seed)
    n = n_t + n_c
    return pd.DataFrame({
        "person_id": np.arange(n), "treated": np.r_[np.ones(n_t), np.zeros(n_c)].astype(int),
        "weight": 1.0, "rel_year": 2, "y": (rng.random(n) < p).astype(float),
        "x": rng.normal(size=n),
    })


def _table(panel, min_events):
    return effects_table(panel, ["y"], vcov="CR1", min_events=min_events, weights="weight", cluster="person_id",
                         covariates=["x"], baseline_suffix=None, alpha=0.05).frame


def test_no_treated_event_collapses_cr1_but_not_the_honest_se():
    # a seed where no participant has the event but some controls do
    seed = next(s for s in range(200) if (lambda d: d.loc[d.treated == 1, "y"].sum() == 0
                                           and d.loc[d.treated == 0, "y"].sum() >= 8)(_rare_panel(s)))
    d = _rare_panel(seed)
    published = _table(d, 0).iloc[0]
    honest = _table(d, 10).iloc[0]
    assert published["k_treated"] == 0
    assert published["stars"] != "" and published["p"] < 0.05  # the spurious star of the published rule
    assert honest["se"] > 2 * published["se"] and honest["se_rule"] == "max(CR1, CR1-SATT)"
    assert honest["stars"] == "" and bool(honest["stars_withheld"])
    assert honest["estimate"] == published["estimate"]


def test_false_star_rate_on_a_rare_null_outcome():
    pub, hon = [], []
    for s in range(80):
        d = _rare_panel(s)
        published = _table(d, 0)  # the rule applied to it gives the table with min_events = 10
        honest = honest_uncertainty(d, ["y"], published, min_events=10, vcov="CR1", alpha=0.05, weights="weight",
                                    cluster="person_id", covariates=["x"], baseline_suffix=None)
        pub.append(published["p"].iloc[0] < 0.05)
        hon.append(honest["stars"].iloc[0] != "")
    assert np.mean(pub) > 0.10  # CR1 alone: far too many stars on a true zero
    assert np.mean(hon) <= 0.05


def test_common_outcomes_are_untouched():
    d = _rare_panel(1, p=0.3)
    cells = outcome_cell_counts(d, ["y"])
    t = estimate_effects(d, ["y"], covariates=["x"], baseline_suffix=None)
    wide = cells.pivot(index=["outcome", "rel_year"], columns="group", values=["k", "nk"])
    wide.columns = [f"{a}_{b}" for a, b in wide.columns]
    t = t.merge(wide.reset_index(), on=["outcome", "rel_year"])
    h = honest_uncertainty(d, ["y"], t, min_events=10, vcov="CR1", alpha=0.05, covariates=["x"],
                           baseline_suffix=None)
    pd.testing.assert_series_equal(h["se"], t["se"])
    assert not h["stars_withheld"].any() and (h["se_rule"] == "CR1").all()


def test_doubly_robust_removes_the_bias_the_matching_leaves():
    """The 'matched' sample (weights 1) is unbalanced in an age group that drives both
    participation and the outcome: the plain regression is biased, the regression with the
    age group (the doubly robust estimate's outcome model) recovers the true effect 1."""
    rng = np.random.default_rng(5)
    n = 20000
    group = rng.choice(["18-29", "30-49", "50-64"], n)
    t = (rng.random(n) < np.where(group == "50-64", 0.5, 0.15)).astype(int)
    y = 1.0 * t + np.where(group == "50-64", -3.0, 0.0) + rng.normal(size=n)
    d = pd.DataFrame({"person_id": np.arange(n), "treated": t, "weight": 1.0, "rel_year": 0, "y": y,
                      "age_group": group})
    plain = estimate_effects(d, ["y"], baseline_suffix=None)["estimate"].iloc[0]
    dr = doubly_robust_effects(d, ["y"], ["age_group"], vcov="CR1", baseline_suffix=None).iloc[0]
    assert plain < 0  # badly biased
    assert dr["dr_estimate"] == pytest.approx(1.0, abs=4 * dr["dr_se"])
    assert dr["dr_ci_low"] < 1.0 < dr["dr_ci_high"]
