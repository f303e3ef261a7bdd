"""Parity with R's MatchIt 4.7.1 on the LaLonde data.

Every expected value is read from the reference outputs in tests/data/matchit_lalonde/
(see its README), never from this package's own output.
Model: treat ~ age + educ + race + married + nodegree + re74 + re75, logit, ATT.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from regeval.balance import balance_table
from regeval.matching import MatchResult, match_nearest
from regeval.propensity import fit_propensity

DATA = Path(__file__).parent / "data"
REF = DATA / "matchit_lalonde"
COVARIATES = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]

# configuration -> (distance scale, match_nearest arguments)
CONFIGS = {
    "a": ("ps", {"k": 1, "replace": False, "m_order": "largest"}),
    "b": ("ps", {"k": 1, "replace": True}),
    "c": ("ps", {"k": 10, "replace": True}),
    "d": ("logit", {"k": 10, "replace": True, "caliper": 0.2, "caliper_scale": "sd"}),
    "c_logit": ("logit", {"k": 10, "replace": True}),
    "d_ps": ("ps", {"k": 10, "replace": True, "caliper": 0.2, "caliper_scale": "sd"}),
}

# tolerances per quantity
TOL_COEF = 1e-6  # relative, glm coefficients and standard errors
TOL_SCORE = 1e-6  # absolute, fitted probabilities and logits
TOL_WEIGHT = 1e-9  # absolute, matching weights
TOL_BALANCE = 1e-6  # relative (absolute below 1), balance statistics


@pytest.fixture(scope="module")
def lalonde() -> pd.DataFrame:
    return pd.read_csv(DATA / "lalonde.csv").set_index("id")


@pytest.fixture(scope="module")
def results() -> dict:
    with open(REF / "lalonde_results.json") as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def ref_scores() -> pd.DataFrame:
    return pd.read_csv(REF / "lalonde_pscores.csv").set_index("id")


@pytest.fixture(scope="module")
def ref_weights() -> pd.DataFrame:
    return pd.read_csv(REF / "lalonde_weights.csv").set_index("id")


@pytest.fixture(scope="module")
def fit(lalonde):
    # glm.control()'s default epsilon: R stops after the same iteration, so the
    # standard errors come from the same last IRLS step
    return fit_propensity(lalonde, "treat", COVARIATES, tol=1e-8)


@pytest.fixture(scope="module")
def scored(lalonde, fit) -> pd.DataFrame:
    out = lalonde.copy()
    out["ps"] = fit.score
    out["logit"] = fit.logit
    return out


@pytest.fixture(scope="module")
def matches(scored) -> dict[str, MatchResult]:
    out = {}
    for name, (scale, kwargs) in CONFIGS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[name] = match_nearest(scored, "treat", scale, **kwargs)
    return out


def assert_same_matching(result: MatchResult, ref_n: dict, ref_w: pd.Series) -> None:
    """Counts and weights of a matching equal MatchIt's (one helper for all options)."""
    assert result.n_treated == ref_n["treated_all"]
    assert result.n_control == ref_n["control_all"]
    assert result.n_treated_matched == ref_n["treated_matched"]
    assert result.n_controls_unique == ref_n["controls_matched_unique"]
    assert len(result.pairs) == ref_n["control_match_slots_filled"]
    assert result.n_treated_full == ref_n["treated_with_full_ratio"]
    assert result.n_treated - result.n_treated_matched == ref_n["treated_unmatched"]
    assert result.max_control_reuse == ref_n["max_times_control_reused"]
    assert result.ess_control == pytest.approx(ref_n["ess_control"], rel=1e-12)
    assert float(result.weights[result.weights.index.isin(ref_w.index)].sum()) == pytest.approx(
        ref_n["sum_control_weights"] + ref_n["treated_matched"], rel=1e-12
    )
    w = result.weights.reindex(ref_w.index)
    np.testing.assert_allclose(w.to_numpy(), ref_w.to_numpy(), rtol=0, atol=TOL_WEIGHT)


# --------------------------------------------------------------------------- propensity


def test_glm_coefficients_and_standard_errors_equal_r(fit, results):
    ref = results["meta"]["ps_model"]
    coef = fit.coefficients.set_index("term")
    assert list(coef.index) == list(ref["coefficients"])
    for term, est in ref["coefficients"].items():
        assert coef.loc[term, "estimate"] == pytest.approx(est, rel=TOL_COEF)
        assert coef.loc[term, "std_error"] == pytest.approx(ref["std_errors_model"][term], rel=TOL_COEF)


def test_glm_fit_statistics_equal_r(fit, results):
    ref = results["meta"]["ps_model"]
    assert fit.converged is True and ref["converged"] is True
    assert fit.iterations == ref["iterations"]
    assert fit.deviance == pytest.approx(ref["deviance"], rel=1e-10)
    assert fit.null_deviance == pytest.approx(ref["null_deviance"], rel=1e-10)
    assert fit.aic == pytest.approx(ref["aic"], rel=1e-10)
    assert fit.dropped_terms == ()
    assert fit.n_treated == 185 and fit.n_control == 429


def test_propensity_scores_and_logits_equal_r(fit, ref_scores, lalonde):
    ref = ref_scores.reindex(lalonde.index)
    np.testing.assert_allclose(fit.score, ref["ps"].to_numpy(), rtol=0, atol=TOL_SCORE)
    np.testing.assert_allclose(fit.logit, ref["logit_ps"].to_numpy(), rtol=0, atol=TOL_SCORE)


def test_default_tolerance_gives_the_same_scores_to_1e_6(lalonde, ref_scores):
    fit = fit_propensity(lalonde, "treat", COVARIATES)
    ref = ref_scores.reindex(lalonde.index)
    np.testing.assert_allclose(fit.score, ref["ps"].to_numpy(), rtol=0, atol=TOL_SCORE)


def test_score_summary_by_group_equals_r(fit, lalonde, results):
    ref = results["meta"]["ps_model"]
    t = lalonde["treat"].to_numpy() == 1
    assert fit.score[t].mean() == pytest.approx(ref["ps_summary_treated"]["Mean"], rel=1e-9)
    assert fit.score[~t].mean() == pytest.approx(ref["ps_summary_control"]["Mean"], rel=1e-9)
    assert np.std(fit.score, ddof=1) == pytest.approx(ref["sd_ps_all"], rel=1e-9)
    assert np.std(fit.logit, ddof=1) == pytest.approx(ref["sd_logit_ps_all"], rel=1e-9)


# --------------------------------------------------------------------------- matching


@pytest.mark.parametrize("name", list(CONFIGS))
def test_matching_counts_and_weights_equal_matchit(name, matches, results, ref_weights):
    assert_same_matching(matches[name], results["configs"][name]["n"], ref_weights[f"w_{name}"])


@pytest.mark.parametrize("name", ["d", "d_ps"])
def test_caliper_in_sd_units_equals_matchit_absolute_caliper(name, matches, results):
    assert matches[name].caliper == pytest.approx(results["configs"][name]["caliper_absolute"], rel=1e-10)


def test_config_a_pairs_are_matchit_subclasses(matches, lalonde, ref_weights):
    md = matches["a"].matched_data(lalonde)
    ref = ref_weights.loc[md.index, "subclass_a"]
    assert len(md) == int(ref_weights["subclass_a"].notna().sum())
    np.testing.assert_array_equal(md["subclass"].to_numpy(dtype=float), ref.to_numpy(dtype=float))


def test_config_c_matched_sets_equal_matchit_except_exact_ties(matches, scored):
    ref = pd.read_csv(REF / "lalonde_match10_long.csv")
    ours = matches["c"].pairs
    ps = scored["ps"]
    n_differ = 0
    for tid, grp in ref.groupby("treated_id"):
        mine = ours[ours["treated"] == tid]
        assert len(mine) == len(grp) == 10
        ref_d = np.sort(grp["abs_ps_diff"].to_numpy())
        my_d = np.sort(np.abs(ps.loc[mine["control"].to_numpy()].to_numpy() - ps.loc[tid]))
        np.testing.assert_allclose(my_d, ref_d, rtol=0, atol=1e-12)
        if set(mine["control"]) != set(grp["control_id"]):
            n_differ += 1
            # the differing controls must sit exactly at the (tied) largest distance
            extra = set(mine["control"]) ^ set(grp["control_id"])
            dists = np.abs(ps.loc[list(extra)].to_numpy() - ps.loc[tid])
            np.testing.assert_allclose(dists, ref_d[-1], rtol=0, atol=1e-12)
    # with MatchIt's scan-order tie rule no treated unit differs at all
    assert n_differ == 0


def test_config_c_ranks_follow_distance(matches):
    p = matches["c"].pairs
    assert (p.groupby("treated")["distance"].apply(lambda s: s.is_monotonic_increasing)).all()
    assert (p.groupby("treated")["rank"].apply(list) == [list(range(1, 11))] * 185).all()


# --------------------------------------------------------------------------- balance


@pytest.mark.parametrize("name", list(CONFIGS))
def test_balance_before_and_after_equals_summary_matchit(name, scored, results, ref_weights):
    scale = CONFIGS[name][0]
    data = scored.assign(distance=scored[scale])
    table = balance_table(
        data, "treat", ["distance", *COVARIATES], weights=ref_weights[f"w_{name}"].reindex(data.index)
    ).set_index("term")
    ref_rows = results["configs"][name]["balance"]
    assert list(table.index) == [r["term"] for r in ref_rows]
    for row in ref_rows:
        for stat, expected in row.items():
            if stat in ("term", "std_pair_dist_after"):
                continue
            got = table.loc[row["term"], stat]
            if expected is None:
                assert np.isnan(got), (name, row["term"], stat)
            else:
                assert got == pytest.approx(expected, rel=TOL_BALANCE, abs=TOL_BALANCE), (
                    name,
                    row["term"],
                    stat,
                )


def test_balance_with_our_own_weights_equals_matchit(matches, scored, results):
    name = "c"
    data = scored.assign(distance=scored["ps"])
    table = balance_table(data, "treat", ["distance", *COVARIATES], weights=matches[name].weights)
    table = table.set_index("term")
    for row in results["configs"][name]["balance"]:
        assert table.loc[row["term"], "smd_after"] == pytest.approx(row["smd_after"], rel=1e-6, abs=1e-9)


def test_max_abs_smd_summaries_equal_matchit(scored, results, ref_weights):
    for name, (scale, _) in CONFIGS.items():
        data = scored.assign(distance=scored[scale])
        table = balance_table(data, "treat", COVARIATES, weights=ref_weights[f"w_{name}"].reindex(data.index))
        ref = results["configs"][name]
        assert table["smd_before"].abs().max() == pytest.approx(ref["max_abs_smd_before_covariates"], rel=1e-9)
        assert table["smd_after"].abs().max() == pytest.approx(ref["max_abs_smd_after_covariates"], rel=1e-9)
