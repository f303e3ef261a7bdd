"""Named score models and the choice by balance."""

import numpy as np
import pandas as pd
import pytest

from regeval.pipeline.scoring import choose_score, matched_balance
from regeval.stats.propensity import fit_propensity
from regeval.stats.scores import fit_score


def _units(n: int = 6000, seed: int = 3) -> pd.DataFrame:
    """Selection U-shaped in age (the youngest and the oldest take part least)."""
    rng = np.random.default_rng(seed)
    age = rng.uniform(18, 64, n)
    sex = rng.choice(["k", "m"], n)
    emp = rng.uniform(0, 1, n)
    eta = -2.5 - 0.012 * (age - 41) ** 2 + 0.5 * (sex == "m") + emp
    t = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    return pd.DataFrame({"unit": np.arange(n), "pnr": np.arange(n), "cohort": 2016, "treated": t,
                         "age": age, "sex": sex, "employment_degree_1": emp})


def test_logit_is_the_reports_logit():
    u = _units()
    sf = fit_score(u, "logit", ["age", "sex", "employment_degree_1"], ["sex"])
    ref = fit_propensity(u, "treated", ["age", "sex", "employment_degree_1"], categorical=["sex"])
    assert np.array_equal(sf.score, ref.score)


def test_gbm_is_seeded_and_does_not_depend_on_threads():
    u = _units(1500)
    cols = ["age", "sex", "employment_degree_1"]
    a = fit_score(u, "gbm", cols, ["sex"], seed=1, threads=1)
    b = fit_score(u, "gbm", cols, ["sex"], seed=1, threads=2)
    assert np.array_equal(a.score, b.score)
    assert 0.5 < a.auc < 1.0


def test_auto_picks_a_flexible_model_when_the_logit_misses_the_age_shape():
    """Chosen by the balance of a reference matching; the spec's own matching (k = 5, no
    exact matching here) on the chosen score balances the spread of age too."""
    u = _units()
    cols = ["age", "sex", "employment_degree_1"]
    matching = {"k": 5, "replace": True, "exact": [], "caliper": None, "distance": "logit"}
    from regeval.population import characteristics as ch

    orig = ch.expand
    try:
        ch.expand = lambda names, groups: (list(names), ["sex"])  # the test's own columns
        sf, table = choose_score(u, cols, [], {"model": "auto", "seed": 1})
    finally:
        ch.expand = orig
    t = table.frame.set_index("model")
    assert list(t.index) == ["logit", "logit_flex", "gbm"]
    assert t["chosen"].sum() == 1 and sf.model != "logit"
    # the logit leaves the age distribution unbalanced (its tails), the chosen model less so
    assert t.loc["logit", "n_unbalanced"] > t.loc[sf.model, "n_unbalanced"]
    from regeval.pipeline.evaluate import match_units
    from regeval.pipeline.scoring import score_frame

    _, m = match_units(u, score_frame(u, sf), matching)
    w = u["unit"].map(m.set_index("unit")["weight"]).fillna(0.0).to_numpy()
    v = matched_balance(u, w, cols, ["sex"]).set_index("term")
    assert abs(v.loc["age_sq", "smd_after"]) < 0.1


def test_unknown_model_is_refused():
    from regeval.errors import PropensityError

    with pytest.raises(PropensityError, match="unknown score model"):
        fit_score(_units(500), "forest", ["age"], [])
