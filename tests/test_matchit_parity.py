"""Parity with R's MatchIt 4.7.1 on the LaLonde data.

Every expected value is read from the reference outputs in tests/data/matchit_lalonde/
(see its README), never from this package's own output.
Model: treat ~ age + educ + race + married + nodegree + re74 + re75, logit, ATT.

Each stage is compared on its own, from R's intermediate results:

* the fit (coefficients, SEs, scores) with tolerances;
* matching on R's own scores, exactly: every matched set (and, for configuration c,
  MatchIt's order), every count, weight, ESS;
* balance and effects on the matching weights (R's, and ours from R's scores).

Matching breaks exact ties between equally distant controls, so a difference of 1e-14
in the fitted scores (which depends on the CPU's floating-point kernels) can flip a
tie: treated unit 89 has two controls (ages 19 and 23, otherwise identical) at exactly
the same logit distance in R. The chained test (our fit, then our matching) therefore
allows exactly the differences that such near-ties explain, and says so.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from regeval.stats.balance import balance_table
from regeval.stats.effects import estimate_effect
from regeval.stats.matching import MatchResult, match_nearest
from regeval.stats.propensity import fit_propensity

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
TOL_WEIGHT = 1e-12  # absolute: the same matched sets, weights summed in another order than R's
TOL_BALANCE = 1e-6  # relative (absolute below 1), balance statistics
NEAR_TIE = 1e-12  # relative: distances this close count as tied (a few ulps of fit noise)


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
    """LaLonde with our fitted scores."""
    return lalonde.assign(ps=fit.score, logit=fit.logit)


@pytest.fixture(scope="module")
def ref_scored(lalonde, ref_scores) -> pd.DataFrame:
    """LaLonde with R's fitted scores (17 significant digits: R's doubles exactly)."""
    ref = ref_scores.reindex(lalonde.index)
    return lalonde.assign(ps=ref["ps"], logit=ref["logit_ps"])


def match_all(data: pd.DataFrame) -> dict[str, MatchResult]:
    out = {}
    for name, (scale, kwargs) in CONFIGS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[name] = match_nearest(data, "treat", scale, **kwargs)
    return out


@pytest.fixture(scope="module")
def matches(ref_scored) -> dict[str, MatchResult]:
    """Our matching on R's scores: must be MatchIt's exactly."""
    return match_all(ref_scored)


@pytest.fixture(scope="module")
def chained(scored) -> dict[str, MatchResult]:
    """Our fit, then our matching."""
    return match_all(scored)


def assert_same_matching(result: MatchResult, ref_n: dict, ref_w: pd.Series) -> None:
    """Counts and weights of a matching equal MatchIt's (one helper for all options).

    Counts are integers and must be equal; weights and ESS are sums over the same
    matched sets, added up in another order than R's, hence the 1e-12 tolerances.
    """
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


# --------------------------------------------------------------------------- matching (on R's scores)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_matching_counts_and_weights_equal_matchit(name, matches, results, ref_weights):
    assert_same_matching(matches[name], results["configs"][name]["n"], ref_weights[f"w_{name}"])


@pytest.mark.parametrize(("name", "scale"), [("d", "logit"), ("d_ps", "ps")])
def test_caliper_in_sd_units_equals_matchit_absolute_caliper(name, scale, matches, ref_scored, results):
    cal = results["configs"][name]["caliper_absolute"]
    assert matches[name].caliper == pytest.approx(cal, rel=1e-12)
    # no treated-control distance lies near the caliper, so its last bits cannot matter
    x = ref_scored[scale].to_numpy()
    t = ref_scored["treat"].to_numpy() == 1
    gap = np.abs(np.abs(x[t][:, None] - x[~t][None, :]) - cal) / cal
    assert gap.min() > 1e-6


def test_config_a_pairs_are_matchit_subclasses(matches, lalonde, ref_weights):
    md = matches["a"].matched_data(lalonde)
    ref = ref_weights.loc[md.index, "subclass_a"]
    assert len(md) == int(ref_weights["subclass_a"].notna().sum())
    np.testing.assert_array_equal(md["subclass"].to_numpy(dtype=float), ref.to_numpy(dtype=float))


def test_config_c_matched_sets_and_their_order_equal_matchit(matches):
    """Every treated unit's 10 controls in MatchIt's order, including the 7 whose 10th
    and 11th nearest controls tie exactly."""
    ref = pd.read_csv(REF / "lalonde_match10_long.csv").sort_values(["treated_id", "rank"])
    theirs = ref.groupby("treated_id")["control_id"].apply(list)
    mine = matches["c"].pairs.sort_values(["treated", "rank"]).groupby("treated")["control"].apply(list)
    assert mine.index.equals(theirs.index)
    differ = mine[mine != theirs]
    assert differ.empty, differ
    p = matches["c"].pairs.sort_values(["treated", "rank"])
    np.testing.assert_allclose(p["distance"].to_numpy(), ref["abs_ps_diff"].to_numpy(), rtol=1e-13, atol=1e-17)


def test_config_c_has_exact_ties_at_the_tenth_control(ref_scored):
    """The ties the test above must get right are there (R's scores, exactly)."""
    ps = ref_scored["ps"].to_numpy()
    t = ref_scored["treat"].to_numpy() == 1
    dd = np.sort(np.abs(ps[t][:, None] - ps[~t][None, :]), axis=1)
    assert int((dd[:, 9] == dd[:, 10]).sum()) == 7


def test_config_c_ranks_follow_distance(matches):
    p = matches["c"].pairs
    assert (p.groupby("treated")["distance"].apply(lambda s: s.is_monotonic_increasing)).all()
    assert (p.groupby("treated")["rank"].apply(list) == [list(range(1, 11))] * 185).all()


# --------------------------------------------------------------------------- our fit, then our matching


def _unexplained_with_replacement(ours: MatchResult, ref: MatchResult, dist_r: pd.Series, cal: float | None) -> list:
    """Treated units whose control set differs other than at a near-tie under R's scores.

    A difference is explained if every control in the symmetric difference lies, under
    R's distance, within NEAR_TIE (relative) of the treated unit's k-th distance or of
    the caliper.
    """
    mine = ours.pairs.groupby("treated")["control"].apply(set)
    theirs = ref.pairs.groupby("treated")["control"].apply(set)
    bad = []
    for tid in mine.index.union(theirs.index):
        a, b = mine.get(tid, set()), theirs.get(tid, set())
        swapped = a ^ b
        if not swapped:
            continue
        kth = max((abs(dist_r[c] - dist_r[tid]) for c in b), default=np.inf)
        for c in swapped:
            dc = abs(dist_r[c] - dist_r[tid])
            near = abs(dc - kth) <= NEAR_TIE * kth or (cal is not None and abs(dc - cal) <= NEAR_TIE * cal)
            if not near:
                bad.append((tid, c))
    return bad


@pytest.mark.parametrize("name", [n for n in CONFIGS if CONFIGS[n][1]["replace"]])
def test_fit_then_matching_differs_from_matchit_only_at_near_ties(name, chained, matches, ref_scored):
    """Our fit, then our matching (with replacement), against MatchIt's matching.

    Our scores differ from R's by ~1e-14 (floating-point kernels differ between CPUs and
    BLAS builds), so two controls at exactly the same distance in R can be a few ulps
    apart here (or the reverse) and the tie then goes the other way. Allowed: exactly
    such differences, i.e. controls swapped at a distance within 1e-12 (relative) of
    the treated unit's k-th distance or of the caliper under R's scores; anything else
    fails. Where no set differs, the counts and ESS must equal MatchIt's.
    """
    scale = CONFIGS[name][0]
    ref = matches[name]  # equal to MatchIt's (test_matching_counts_and_weights_equal_matchit)
    bad = _unexplained_with_replacement(chained[name], ref, ref_scored[scale], ref.caliper)
    assert bad == []
    if chained[name].pairs[["treated", "control"]].sort_values(["treated", "control"]).reset_index(drop=True).equals(
        ref.pairs[["treated", "control"]].sort_values(["treated", "control"]).reset_index(drop=True)
    ):
        assert chained[name].ess_control == pytest.approx(ref.ess_control, rel=1e-12)
        assert chained[name].n_controls_unique == ref.n_controls_unique


def test_fit_then_matching_without_replacement_first_differs_at_a_near_tie(chained, matches, ref_scored):
    """Configuration a (greedy, without replacement): one flipped near-tie changes what
    is left for every later treated unit, so only the first difference, in matching
    order, must be explained by a near-tie under R's scores (in the two controls'
    distances or in the order of two treated units); identical pairs pass."""
    ps = ref_scored["ps"]
    mine = chained["a"].pairs.set_index("treated")["control"]
    theirs = matches["a"].pairs.set_index("treated")["control"]
    treated = ps[ref_scored["treat"] == 1]
    order = treated.index[np.argsort(-treated.to_numpy(), kind="stable")]
    for i, tid in enumerate(order):
        a, b = mine.get(tid), theirs.get(tid)
        if a == b:
            continue
        gaps = []
        if a is not None and b is not None:
            da, db = abs(ps[a] - ps[tid]), abs(ps[b] - ps[tid])
            gaps.append(abs(da - db) / max(da, db, 1e-300))
        if i > 0:
            gaps.append(abs(ps[tid] - ps[order[i - 1]]) / abs(ps[tid]))
        assert gaps and min(gaps) <= NEAR_TIE, (tid, a, b)
        break


# --------------------------------------------------------------------------- balance


@pytest.mark.parametrize("name", list(CONFIGS))
def test_balance_before_and_after_equals_summary_matchit(name, ref_scored, results, ref_weights):
    scale = CONFIGS[name][0]
    data = ref_scored.assign(distance=ref_scored[scale])
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


@pytest.mark.parametrize("name", list(CONFIGS))
def test_balance_with_our_own_weights_equals_matchit(name, matches, ref_scored, results):
    scale = CONFIGS[name][0]
    data = ref_scored.assign(distance=ref_scored[scale])
    table = balance_table(data, "treat", ["distance", *COVARIATES], weights=matches[name].weights)
    table = table.set_index("term")
    for row in results["configs"][name]["balance"]:
        for stat in ("smd_after", "var_ratio_after", "ecdf_mean_after", "ecdf_max_after"):
            if row.get(stat) is None:
                continue
            got = table.loc[row["term"], stat]
            assert got == pytest.approx(row[stat], rel=TOL_BALANCE, abs=1e-9), (row["term"], stat)


def test_max_abs_smd_summaries_equal_matchit(ref_scored, results, ref_weights):
    for name, (scale, _) in CONFIGS.items():
        data = ref_scored.assign(distance=ref_scored[scale])
        table = balance_table(data, "treat", COVARIATES, weights=ref_weights[f"w_{name}"].reindex(data.index))
        ref = results["configs"][name]
        assert table["smd_before"].abs().max() == pytest.approx(ref["max_abs_smd_before_covariates"], rel=1e-9)
        assert table["smd_after"].abs().max() == pytest.approx(ref["max_abs_smd_after_covariates"], rel=1e-9)


# --------------------------------------------------------------------------- effects


@pytest.mark.parametrize("name", ["a", "b", "c", "d"])
@pytest.mark.parametrize("model", ["unadjusted", "adjusted"])
def test_effects_with_our_matching_equal_matchit(name, model, matches, lalonde, results):
    """ATT and its primary SE from our matching (on R's scores) equal MatchIt + sandwich
    (tests/test_effects.py checks the estimator itself on MatchIt's own weights)."""
    ref = results["configs"][name]["effects"][model]["primary"]
    md = matches[name].matched_data(lalonde)
    if name == "a":  # pairs: cluster-robust by subclass (MatchIt's vignette)
        assert "vcovCL" in ref["se_type"]
        kwargs = {"cluster": "subclass", "vcov": "CR1"}
    else:
        assert "HC3" in ref["se_type"]
        kwargs = {"cluster": None, "vcov": "HC3"}
    est = estimate_effect(
        md, "re78", "treat", covariates=COVARIATES if model == "adjusted" else (), weights="weights", **kwargs
    )
    assert est.estimate == pytest.approx(ref["est"], rel=1e-9)
    assert est.se == pytest.approx(ref["se"], rel=1e-9)
    assert est.n_obs == results["configs"][name]["n"]["match_data_rows"]
