"""Parity with MatchIt 4.7.1 where ties decide: an all-discrete cohort.

Every expected value is read from tests/data/matchit_ties/ (MatchIt's own outputs, see
its README). Matching is compared on R's own scores (``ref_pscores.csv.gz``), so that
which of several exactly equally distant controls is chosen is a property of the
matching rule alone: matched sets, their order (rank) and the counts must be identical.
The fit is compared separately, with a tolerance.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from regeval.stats.matching import MatchResult, match_nearest
from regeval.stats.propensity import fit_propensity

REF = Path(__file__).parent / "data" / "matchit_ties"
COVARIATES = ["sex", "age_grp", "educ", "dg1", "dg2", "dg3", "dg4", "inc_support", "emp_prev_bin", "start_year"]
CATEGORICAL = ["age_grp", "educ", "inc_support", "emp_prev_bin", "start_year"]
TOL_WEIGHT = 1e-12  # weights of identical matched sets, summed in another order than R's


@pytest.fixture(scope="module")
def results() -> dict:
    with open(REF / "ref_results.json") as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    d = pd.read_csv(REF / "ties_12000.csv.gz").set_index("id")
    ps = pd.read_csv(REF / "ref_pscores.csv.gz").set_index("id")
    assert ps.index.equals(d.index)
    return d.assign(ps=ps["ps"])


def _quiet(*args, **kwargs) -> MatchResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return match_nearest(*args, **kwargs)


def run1(data: pd.DataFrame, ties: str = "matchit") -> MatchResult:
    return _quiet(data, "treat", "ps", k=10, replace=True, exact=["start_year"], ties=ties)


def run2(data: pd.DataFrame, caliper_abs: float, ties: str = "matchit") -> MatchResult:
    # R's own caliper on the score scale: a control at the caliper's edge must not
    # depend on the last bit of the SD (the SD is compared separately below)
    return _quiet(
        data, "treat", "ps", k=1, replace=False, exact=["start_year"], caliper=caliper_abs,
        caliper_scale="absolute", m_order="largest", ties=ties,
    )


def ordered_sets(pairs: pd.DataFrame, treated: str, control: str, rank: str) -> pd.Series:
    return pairs.sort_values([treated, rank]).groupby(treated)[control].apply(tuple)


@pytest.fixture(scope="module")
def m1(data) -> MatchResult:
    return run1(data)


@pytest.fixture(scope="module")
def m2(data, results) -> MatchResult:
    return run2(data, results["cal1"]["caliper_abs"])


# --------------------------------------------------------------------------- the data


def test_the_reference_scores_keep_rs_ties(data, results):
    """The 15-digit scores have R's distinct values and R's tie counts (so R's ties are intact)."""
    ties = results["ties"]
    assert data["ps"].nunique() == ties["ps_distinct_values"] == 6649
    n_kk1 = n_12 = 0
    for _year, g in data.groupby("start_year"):
        c = np.sort(g.loc[g["treat"] == 0, "ps"].to_numpy())
        for pt in g.loc[g["treat"] == 1, "ps"].to_numpy():
            dd = np.sort(np.abs(c - pt))
            n_kk1 += len(dd) > 10 and dd[10] == dd[9]
            n_12 += len(dd) > 1 and dd[1] == dd[0]
    assert n_kk1 == ties["treated_tie_k10_k11_exact"] == 327
    assert n_12 == ties["treated_tie_k1_k2_exact"] == 440


# --------------------------------------------------------------------------- run 1


def test_run1_every_treated_unit_has_matchits_controls_in_matchits_order(m1):
    ref = pd.read_csv(REF / "ref_match10_long.csv.gz")
    mine = ordered_sets(m1.pairs, "treated", "control", "rank")
    theirs = ordered_sets(ref, "treated_id", "control_id", "rank")
    assert mine.index.equals(theirs.index)
    differ = mine[mine != theirs]
    assert differ.empty, f"{len(differ)} treated units differ, e.g. {differ.index[:5].tolist()}"
    # the distances too: R's were taken on its full-precision scores, ours on the
    # 15-digit copies (each off by up to 5e-16 for a score below 1)
    p = m1.pairs.sort_values(["treated", "rank"]).reset_index(drop=True)
    r = ref.sort_values(["treated_id", "rank"]).reset_index(drop=True)
    np.testing.assert_allclose(p["distance"], r["abs_ps_diff"], rtol=1e-12, atol=2e-15)


def test_run1_weights_and_counts_equal_matchit(m1, results):
    ref_w = pd.read_csv(REF / "ref_weights.csv.gz").set_index("id")["weight"]
    np.testing.assert_allclose(m1.weights.reindex(ref_w.index), ref_w, rtol=0, atol=TOL_WEIGHT)
    assert ((m1.weights > 0) == (ref_w.reindex(m1.weights.index) > 0)).all()
    assert m1.n_treated == results["n_treated"]
    assert m1.n_treated_matched == results["n_treated_matched"]
    assert m1.n_controls_unique == results["unique_controls"]
    assert len(m1.pairs) == results["n_pairs"]


def test_run1_unadjusted_att_equals_matchit(m1, data, results):
    w = m1.weights.to_numpy()
    y = data["y_emp_after"].to_numpy()
    t = data["treat"].to_numpy() == 1
    att = np.average(y[t], weights=w[t]) - np.average(y[~t], weights=w[~t])
    assert att == pytest.approx(results["att_unadjusted"], rel=1e-10)


def test_run1_the_scan_order_rule_gives_other_controls(data):
    """The alternative rule really differs here, so the parity above can fail."""
    ref = pd.read_csv(REF / "ref_match10_long.csv.gz")
    theirs = ordered_sets(ref, "treated_id", "control_id", "rank").apply(sorted)
    scan = ordered_sets(run1(data, ties="scan").pairs, "treated", "control", "rank").apply(sorted)
    n_differ = int((scan != theirs).sum())
    assert 10 <= n_differ <= 100  # 24 treated units, each at a tie of the 10th/11th control


# --------------------------------------------------------------------------- run 2


def test_run2_pairs_weights_and_subclasses_equal_matchit(m2, data, results):
    ref = pd.read_csv(REF / "ref_match1_cal_long.csv.gz")
    mine = ordered_sets(m2.pairs, "treated", "control", "rank")
    theirs = ordered_sets(ref, "treated_id", "control_id", "rank")
    assert mine.index.equals(theirs.index)
    assert (mine == theirs).all()
    ref_w = pd.read_csv(REF / "ref_weights_match1_cal.csv.gz").set_index("id")
    np.testing.assert_array_equal(m2.weights.reindex(ref_w.index).to_numpy(), ref_w["weight"].to_numpy())
    cal = results["cal1"]
    assert m2.n_treated_matched == cal["n_treated_matched"] == len(mine)
    assert m2.n_controls_unique == cal["unique_controls"]
    # MatchIt numbers subclasses in the order of the treated units in the data, like here
    md = m2.matched_data(data)
    sub = ref_w["subclass"].reindex(md.index)
    np.testing.assert_array_equal(md["subclass"].to_numpy(dtype=float), sub.to_numpy(dtype=float))


def test_run2_caliper_in_sd_units_equals_rs(data, results):
    cal = results["cal1"]
    assert np.std(data["ps"], ddof=1) == pytest.approx(cal["sd_ps_all"], rel=1e-12)
    m = _quiet(data, "treat", "ps", k=1, replace=False, exact=["start_year"], caliper=0.2)
    assert m.caliper == pytest.approx(cal["caliper_abs"], rel=1e-12)


def test_run2_is_the_same_under_both_rules(data, results, m2):
    """1:1 without replacement takes the first candidate the scan meets at a tie, which
    the scan-order rule reproduces (with one exact stratum's order; here the strata
    never interleave at a tie)."""
    scan = run2(data, results["cal1"]["caliper_abs"], ties="scan")
    pd.testing.assert_frame_equal(scan.pairs, m2.pairs)


# --------------------------------------------------------------------------- fit, and fit + matching


@pytest.fixture(scope="module")
def fit(data):
    return fit_propensity(data, "treat", COVARIATES, categorical=CATEGORICAL, tol=1e-8)


def test_fit_equals_rs_glm(fit, data, results):
    coef = fit.coefficients.set_index("term")["estimate"]
    ref = {k.replace("start_year_f", "start_year"): v for k, v in results["glm_coef"].items()}
    assert sorted(coef.index) == sorted(ref)
    for term, est in ref.items():
        assert coef[term] == pytest.approx(est, rel=1e-8, abs=1e-10), term
    assert fit.iterations == results["glm_iter"]
    # another implementation and order of floating-point operations than R's: agreement
    # is ~1e-15 here, the tolerances leave room for other CPUs and BLAS builds
    assert fit.deviance == pytest.approx(results["glm_deviance"], rel=1e-10)
    np.testing.assert_allclose(fit.score, data["ps"].to_numpy(), rtol=0, atol=1e-10)


def test_fit_gives_persons_with_the_same_codes_the_same_score(fit, data):
    per_cell = pd.Series(fit.score, index=data.index).groupby([data[c] for c in COVARIATES]).nunique()
    assert (per_cell == 1).all()
    assert len(per_cell) == 6649


def test_fit_then_matching_differs_from_matchit_only_at_near_ties(fit, data):
    """Our fit, then our matching, against MatchIt's run 1.

    The scores differ from R's by up to ~1e-14 (another order of floating-point
    operations), so two controls at exactly the same distance in R may be a few ulps
    apart here, or the reverse, and the tie is then broken differently. Allowed: a
    treated unit whose set differs only in controls whose distance under R's score is
    within 1e-12 (relative) of its 10th-nearest distance. Anything else fails.
    """
    ref = pd.read_csv(REF / "ref_match10_long.csv.gz")
    theirs = ref.groupby("treated_id")["control_id"].apply(set)
    kth = ref.groupby("treated_id")["abs_ps_diff"].max()
    m = run1(data.assign(ps=fit.score))
    mine = m.pairs.groupby("treated")["control"].apply(set)
    ps = data["ps"]
    for tid in theirs.index:
        swapped = mine[tid] ^ theirs[tid]
        if swapped:
            dist = np.abs(ps.loc[sorted(swapped)].to_numpy() - ps.loc[tid])
            np.testing.assert_allclose(dist, kth[tid], rtol=1e-12, err_msg=f"treated {tid}")
