"""Tests of regeval.stats.wls and regeval.stats.effects: WLS covariances and the effect functions.

Layers, cheapest first:
1. tiny hand-made data whose coefficients and SEs are written out here by hand or with
   explicit (X'WX)^-1 sandwich formulas, independent of the module;
2. agreement with statsmodels on random data where the definitions coincide;
3. parity with R (MatchIt 4.7.1 + sandwich 3.0-2 on LaLonde, tests/data/matchit_lalonde_effects);
4. the panel functions on simulated panels with a known effect.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from regeval.errors import EstimationError, RegevalWarning
from regeval.stats.effects import (
    EFFECT_COLUMNS,
    MEANS_COLUMNS,
    estimate_effect,
    estimate_effects,
    group_means,
    window_summary,
)
from regeval.stats.results import EffectEstimate, WLSFit, stars_for
from regeval.stats.wls import fit_wls

REF_DIR = Path(__file__).parent / "data" / "matchit_lalonde_effects"
LALONDE_COVARIATES = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]
Z975 = stats.norm.ppf(0.975)


# --------------------------------------------------------------------------------------
# independent reference formulas (plain numpy, written out)
# --------------------------------------------------------------------------------------


def ref_wls(y, X, w):
    """beta, residuals, (X'WX)^-1 by the normal equations."""
    W = np.diag(w)
    A_inv = np.linalg.inv(X.T @ W @ X)
    beta = A_inv @ X.T @ W @ y
    return beta, y - X @ beta, A_inv


def ref_vcov(y, X, w, kind, cluster=None):
    n, k = X.shape
    beta, e, A_inv = ref_wls(y, X, w)
    if kind == "iid":
        return beta, np.sum(w * e**2) / (n - k) * A_inv
    if kind == "HC0":
        meat = sum(np.outer(X[i], X[i]) * (w[i] * e[i]) ** 2 for i in range(n))
        return beta, A_inv @ meat @ A_inv
    if kind == "HC1":
        return beta, n / (n - k) * ref_vcov(y, X, w, "HC0")[1]
    if kind == "HC3":
        H = np.sqrt(w)[:, None] * X @ A_inv @ X.T * np.sqrt(w)[None, :]
        h = np.diag(H)
        meat = sum(np.outer(X[i], X[i]) * (w[i] * e[i] / (1 - h[i])) ** 2 for i in range(n))
        return beta, A_inv @ meat @ A_inv
    if kind == "CR1":
        groups = list(dict.fromkeys(cluster))
        G = len(groups)
        meat = np.zeros((k, k))
        for g in groups:
            idx = [i for i in range(n) if cluster[i] == g]
            u = sum(X[i] * w[i] * e[i] for i in idx)
            meat += np.outer(u, u)
        return beta, G / (G - 1) * (n - 1) / (n - k) * A_inv @ meat @ A_inv
    raise ValueError(kind)


# --------------------------------------------------------------------------------------
# 1. hand-made data
# --------------------------------------------------------------------------------------


def test_difference_in_means_with_four_rows_has_the_textbook_standard_errors():
    # y = 1, 2 (controls), 3, 5 (treated): effect 2.5, residuals -.5, .5, -1, 1.
    # iid: s2 = 2.5 / 2 = 1.25, var = s2 (1/2 + 1/2) = 1.25.
    # HC0: sum e2 / n2 per group = 2/4 + .5/4 = .625; HC1 = .625 * 4/2 = 1.25;
    # HC3: every leverage is 1/2, so each score doubles: 4 * .625 = 2.5.
    X = np.column_stack([np.ones(4), [0, 0, 1, 1]])
    y = np.array([1.0, 2.0, 3.0, 5.0])
    names = ["(Intercept)", "t"]
    expected_var = {"iid": 1.25, "HC1": 1.25, "HC3": 2.5}
    for kind, var in expected_var.items():
        fit = fit_wls(y, X, vcov=kind, names=names)
        assert fit.coef("t") == pytest.approx(2.5, rel=1e-14)
        assert fit.coef("(Intercept)") == pytest.approx(1.5, rel=1e-14)
        assert fit.se("t") == pytest.approx(np.sqrt(var), rel=1e-13), kind
    # CR1 without clusters = HC1 (sandwich's vcovCL default: every row its own cluster)
    assert fit_wls(y, X, vcov="CR1", names=names).se("t") == pytest.approx(np.sqrt(1.25), rel=1e-13)
    # two clusters {1, 3} and {2, 5}: cluster sums of x_i e_i:
    # g1: (-.5, 0) + (-1, -1) = (-1.5, -1); g2: (.5, 0) + (1, 1) = (1.5, 1)
    # (X'X)^-1 = [[.5, -.5], [-.5, 1]]; row t of (X'X)^-1 times u: g1 -> .75 - 1 = -.25; g2 -> .25
    # var = G/(G-1) (n-1)/(n-k) (.0625 + .0625) = 2 * 1.5 * .125 = .375
    fit = fit_wls(y, X, vcov="CR1", cluster=np.array(["a", "b", "a", "b"]), names=names)
    assert fit.se("t") == pytest.approx(np.sqrt(0.375), rel=1e-13)
    assert fit.n_clusters == 2


@pytest.fixture
def tiny():
    """Eight rows with weights, one covariate and four clusters."""
    y = np.array([2.0, 3.5, 1.0, 4.0, 6.5, 5.0, 7.5, 3.0])
    t = np.array([0, 0, 0, 0, 1, 1, 1, 1], dtype=float)
    x = np.array([1.0, 2.0, 0.5, 3.0, 2.5, 1.5, 4.0, 0.0])
    w = np.array([0.5, 1.0, 1.5, 1.0, 1.0, 1.0, 1.0, 2.0])
    g = np.array([1, 1, 2, 3, 2, 3, 4, 4])
    X = np.column_stack([np.ones(8), t, x])
    return y, X, w, g


@pytest.mark.parametrize("kind", ["iid", "HC1", "HC3", "CR1"])
def test_weighted_fit_on_eight_rows_matches_the_explicit_sandwich_formulas(tiny, kind):
    y, X, w, g = tiny
    beta, V = ref_vcov(y, X, w, kind, cluster=g)
    fit = fit_wls(y, X, w, vcov=kind, cluster=g if kind == "CR1" else None, names=["c", "t", "x"])
    np.testing.assert_allclose(fit.params, beta, rtol=1e-12)
    np.testing.assert_allclose(fit.vcov, V, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(fit.bse, np.sqrt(np.diag(V)), rtol=1e-11)
    assert fit.nobs == 8 and fit.df_resid == 5
    assert fit.n_clusters == (4 if kind == "CR1" else None)
    assert fit.vcov_type == kind


def test_zero_weight_rows_are_left_out_of_n_and_of_the_clusters(tiny):
    y, X, w, g = tiny
    y2 = np.r_[y, 100.0, -50.0]
    X2 = np.vstack([X, [[1, 0, 9.0], [1, 1, -3.0]]])
    w2 = np.r_[w, 0.0, 0.0]
    g2 = np.r_[g, 99, 98]  # two extra clusters that only have zero-weight rows
    full = fit_wls(y2, X2, w2, vcov="CR1", cluster=g2)
    sub = fit_wls(y, X, w, vcov="CR1", cluster=g)
    np.testing.assert_allclose(full.params, sub.params, rtol=1e-13)
    np.testing.assert_allclose(full.bse, sub.bse, rtol=1e-12)
    assert full.nobs == 8 and full.n_clusters == 4


def test_aliased_columns_are_dropped_with_a_warning_that_names_them(tiny):
    y, X, w, g = tiny
    X_dup = np.column_stack([X, 2 * X[:, 2] - 1, np.zeros(8)])
    with pytest.warns(RegevalWarning, match=r"x_twice.*zeros|zeros.*x_twice"):
        fit = fit_wls(y, X_dup, w, vcov="CR1", cluster=g, names=["c", "t", "x", "x_twice", "zeros"])
    assert fit.dropped == ("x_twice", "zeros")
    assert fit.names == ("c", "t", "x")
    ref = fit_wls(y, X, w, vcov="CR1", cluster=g, names=["c", "t", "x"])
    np.testing.assert_allclose(fit.params, ref.params, rtol=1e-12)
    np.testing.assert_allclose(fit.bse, ref.bse, rtol=1e-12)
    with pytest.raises(KeyError, match="dropped as aliased"):
        fit.coef("zeros")


def test_an_aliased_treatment_column_raises_instead_of_being_dropped(tiny):
    y, X, w, g = tiny
    X_bad = np.column_stack([X[:, [0, 2]], X[:, 2] * 3])
    with pytest.raises(EstimationError, match="'treat' is aliased"):
        fit_wls(y, X_bad, w, names=["c", "x", "treat"], protect=["treat"])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"vcov": "HC2"}, r"vcov='HC2' is not valid; use one of 'iid', 'HC1', 'HC3', 'CR1'"),
        ({"weights": np.array([1.0, -1, 1, 1, 1, 1, 1, 1])}, "finite and >= 0"),
        ({"weights": np.array([1.0, np.nan, 1, 1, 1, 1, 1, 1])}, "missing value"),
        ({"cluster2": np.arange(8)}, "cluster2 given without cluster"),
    ],
)
def test_fit_wls_rejects_bad_arguments_with_a_message_naming_them(tiny, kwargs, match):
    y, X, w, g = tiny
    with pytest.raises(EstimationError, match=match):
        fit_wls(y, X, **kwargs)


def test_fit_wls_needs_more_rows_than_coefficients():
    X = np.column_stack([np.ones(3), [0, 1, 1], [1.0, 2.0, 4.0]])
    with pytest.raises(EstimationError, match="need more rows than coefficients"):
        fit_wls(np.array([1.0, 2.0, 3.0]), X, vcov="iid")


def test_missing_values_among_used_rows_are_an_error(tiny):
    y, X, w, g = tiny
    y = y.copy()
    y[3] = np.nan
    with pytest.raises(EstimationError, match="y has 1 missing"):
        fit_wls(y, X, w)


# --------------------------------------------------------------------------------------
# 2. statsmodels
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def random_data():
    rng = np.random.default_rng(42)
    n = 400
    X = np.column_stack([np.ones(n), rng.integers(0, 2, n), rng.normal(size=(n, 3)), rng.integers(0, 3, n)])
    g = rng.integers(0, 60, n)
    g2 = rng.integers(0, 25, n)
    y = X @ np.array([1.0, 0.5, -1.0, 2.0, 0.0, 0.3]) + rng.normal(size=n) + rng.normal(size=60)[g]
    w = rng.uniform(0.1, 3.0, n)
    return y, X, w, g, g2


@pytest.mark.parametrize(
    ("ours", "sm_kwargs"),
    [
        ("iid", {}),
        ("HC1", {"cov_type": "HC1"}),
        ("HC3", {"cov_type": "HC3"}),
        ("CR1", {"cov_type": "cluster"}),
    ],
)
def test_agrees_with_statsmodels_wls_to_1e10(random_data, ours, sm_kwargs):
    # statsmodels' cluster correction (use_correction=True) is G/(G-1) (n-1)/(n-k), as
    # sandwich's vcovCL for lm; HC1 is n/(n-k); HC3 uses the same weighted leverages.
    y, X, w, g, _ = random_data
    if ours == "CR1":
        sm_kwargs = {**sm_kwargs, "cov_kwds": {"groups": g}}
    res = sm.WLS(y, X, weights=w).fit(**sm_kwargs)
    fit = fit_wls(y, X, w, vcov=ours, cluster=g if ours == "CR1" else None)
    np.testing.assert_allclose(fit.params, res.params, rtol=1e-10)
    np.testing.assert_allclose(fit.bse, res.bse, rtol=1e-10)


def test_two_way_clustering_agrees_with_statsmodels_two_group_clustering(random_data):
    # statsmodels' cov_cluster_2groups = V_a + V_b - V_ab, each with its own
    # G/(G-1) (n-1)/(n-k) factor: the same as vcovCL(~a + b).
    y, X, w, g, g2 = random_data
    res = sm.WLS(y, X, weights=w).fit(cov_type="cluster", cov_kwds={"groups": np.column_stack([g, g2])})
    fit = fit_wls(y, X, w, vcov="CR1", cluster=g, cluster2=g2)
    np.testing.assert_allclose(fit.bse, res.bse, rtol=1e-10)
    assert fit.n_clusters == 60 and fit.n_clusters2 == 25


# --------------------------------------------------------------------------------------
# 3. parity with R (MatchIt 4.7.1 + sandwich 3.0-2)
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lalonde():
    data = pd.read_csv(REF_DIR / "lalonde.csv")
    weights = pd.read_csv(REF_DIR / "lalonde_weights.csv").drop(columns=["rowname", "treat"])
    return data.merge(weights, on="id", validate="1:1")


@pytest.fixture(scope="module")
def reference():
    return json.loads((REF_DIR / "lalonde_results.json").read_text())["configs"]


def assert_matches_reference(est: EffectEstimate, ref: dict, rel: float = 1e-6) -> None:
    assert est.estimate == pytest.approx(ref["est"], rel=rel)
    assert est.se == pytest.approx(ref["se"], rel=rel)
    assert est.ci_low == pytest.approx(ref["ci_low"], rel=rel)
    assert est.ci_high == pytest.approx(ref["ci_high"], rel=rel)
    assert est.p_value == pytest.approx(ref["p_value"], rel=rel)


R_CASES = [
    (cfg, model, variant)
    for cfg in "abcd"
    for model in ("unadjusted", "adjusted")
    for variant in ("primary", "alt_HC3", "alt_model_based")
    if not (variant == "alt_HC3" and cfg != "a")  # for b-d the primary SE is HC3
]


@pytest.mark.parametrize(("cfg", "model", "variant"), R_CASES)
def test_weighted_att_on_lalonde_equals_matchit_and_sandwich(lalonde, reference, cfg, model, variant):
    ref = reference[cfg]["effects"][model][variant]
    if variant == "alt_model_based":
        vcov, cluster = "iid", None
    elif variant == "alt_HC3" or cfg != "a":
        vcov, cluster = "HC3", None
        assert "HC3" in ref["se_type"]
    else:
        vcov, cluster = "CR1", "subclass_a"
        assert "vcovCL" in ref["se_type"] and "subclass" in ref["se_type"]
    est = estimate_effect(
        lalonde, "re78", "treat",
        covariates=LALONDE_COVARIATES if model == "adjusted" else (),
        weights=f"w_{cfg}", cluster=cluster, vcov=vcov,
    )
    assert_matches_reference(est, ref)
    n = reference[cfg]["n"]
    assert est.n_obs == n["match_data_rows"]
    assert est.n_treated == n["treated_matched"]
    assert est.n_control == n["controls_matched_unique"]


def test_race_is_expanded_with_black_as_the_reference_level(lalonde):
    est = estimate_effect(lalonde, "re78", "treat", covariates=LALONDE_COVARIATES, weights="w_c", vcov="HC3")
    assert "racehispan" in est.fit.names and "racewhite" in est.fit.names
    assert not any(name.startswith("raceblack") for name in est.fit.names)


@pytest.fixture(scope="module")
def get_matches_rows(lalonde):
    """get_matches() rows of configuration c: per treated unit a row with weight 1 and one
    row per matched control with weight 1/10; subclass = the treated unit."""
    matches = pd.read_csv(REF_DIR / "lalonde_match10_long.csv")
    treated = pd.DataFrame({"id": matches["treated_id"].unique()})
    treated["subclass"] = treated["id"]
    treated["w"] = 1.0
    controls = pd.DataFrame({"id": matches["control_id"], "subclass": matches["treated_id"], "w": 0.1})
    rows = pd.concat([treated, controls], ignore_index=True).merge(lalonde, on="id", how="left")
    # the match list reproduces MatchIt's match_data() weights of configuration c
    cw = controls.groupby("id")["w"].sum()
    cw = cw * len(cw) / cw.sum()
    np.testing.assert_allclose(cw.to_numpy(), lalonde.set_index("id").loc[cw.index, "w_c"].to_numpy(), rtol=1e-12)
    return rows


@pytest.mark.parametrize("model", ["unadjusted", "adjusted"])
@pytest.mark.parametrize("variant", ["alt_cluster_id_get_matches", "alt_twoway_subclass_id_get_matches"])
def test_unit_and_two_way_clustering_on_get_matches_rows_equal_sandwich(get_matches_rows, reference, model, variant):
    ref = reference["c"]["effects"][model][variant]
    assert len(get_matches_rows) == reference["c"]["effects"]["get_matches_rows"]
    two_way = variant.startswith("alt_twoway")
    est = estimate_effect(
        get_matches_rows, "re78", "treat",
        covariates=LALONDE_COVARIATES if model == "adjusted" else (),
        weights="w", cluster="subclass" if two_way else "id", cluster2="id" if two_way else None, vcov="CR1",
    )
    assert_matches_reference(est, ref)


# --------------------------------------------------------------------------------------
# estimate_effect on DataFrames
# --------------------------------------------------------------------------------------


@pytest.fixture
def small_frame():
    rng = np.random.default_rng(7)
    n = 120
    df = pd.DataFrame(
        {
            "pid": np.repeat(np.arange(60), 2),
            "treated": np.tile([1, 0], 60),
            "age": rng.integers(20, 60, n).astype(float),
            "female": rng.random(n) < 0.5,
            "educ": pd.Categorical(rng.choice(["low", "mid", "high"], n), categories=["mid", "low", "high"]),
            "cohort": rng.choice([2015, 2016, 2017], n),
            "w": np.tile([1.0, 0.5], 60),
        }
    )
    df["y"] = 1.0 + 2.0 * df["treated"] + 0.05 * df["age"] + rng.normal(size=n)
    return df


def test_categorical_covariates_use_the_first_level_as_reference(small_frame):
    est = estimate_effect(
        small_frame, "y", "treated", covariates=["age", "female", "educ", "cohort"],
        weights="w", cluster="pid", categorical=["cohort"],
    )
    names = est.fit.names
    assert names[:3] == ("(Intercept)", "treated", "age")
    assert "femaleTRUE" in names  # bool: False is the reference
    assert "educlow" in names and "educhigh" in names  # category order: 'mid' first
    assert "cohort2016" in names and "cohort2017" in names
    # the same regression with hand-made dummies
    d = small_frame
    X = np.column_stack(
        [np.ones(len(d)), d["treated"], d["age"], d["female"], d["educ"] == "low", d["educ"] == "high",
         d["cohort"] == 2016, d["cohort"] == 2017]
    ).astype(float)
    ref = fit_wls(d["y"].to_numpy(), X, d["w"].to_numpy(), vcov="CR1", cluster=d["pid"].to_numpy())
    assert est.estimate == pytest.approx(ref.params[1], rel=1e-12)
    assert est.se == pytest.approx(ref.bse[1], rel=1e-12)


def test_rows_with_missing_outcome_are_excluded_and_counted(small_frame):
    df = small_frame.copy()
    df.loc[[0, 1, 5], "y"] = np.nan  # pid 0 loses both rows, pid 2 its control row
    est = estimate_effect(df, "y", "treated", covariates=["age"], weights="w", cluster="pid")
    ref = estimate_effect(df.dropna(subset=["y"]), "y", "treated", covariates=["age"], weights="w", cluster="pid")
    assert est.n_missing_outcome == 3
    assert est.n_obs == 117
    assert est.estimate == ref.estimate and est.se == ref.se
    assert (est.n_treated, est.n_control) == (59, 58)
    assert est.n_clusters == 59


def test_missing_covariates_are_an_error_naming_the_column_and_count(small_frame):
    df = small_frame.copy()
    df.loc[[3, 4, 9], "age"] = np.nan
    df.loc[[10], "y"] = np.nan
    df.loc[[10], "educ"] = np.nan  # missing where the outcome is missing too: not counted
    with pytest.raises(EstimationError, match=r"covariate 'age' is missing in 3 row\(s\)"):
        estimate_effect(df, "y", "treated", covariates=["age", "educ"], weights="w")
    estimate_effect(df, "y", "treated", covariates=["educ"], weights="w")  # no error


def test_weighted_means_and_counts_are_reported(small_frame):
    est = estimate_effect(small_frame, "y", "treated", weights="w", cluster="pid", vcov="CR1")
    d = small_frame
    t, c = d[d["treated"] == 1], d[d["treated"] == 0]
    assert est.mean_treated == pytest.approx(np.average(t["y"], weights=t["w"]), rel=1e-13)
    assert est.mean_control == pytest.approx(np.average(c["y"], weights=c["w"]), rel=1e-13)
    # unadjusted: the coefficient is the difference in weighted means
    assert est.estimate == pytest.approx(est.mean_treated - est.mean_control, rel=1e-12)
    assert (est.n_treated, est.n_control, est.n_obs) == (60, 60, 120)


def test_t_intervals_use_g_minus_1_degrees_of_freedom_when_clustered(small_frame):
    est = estimate_effect(small_frame, "y", "treated", weights="w", cluster="pid", ci_dist="t")
    q = stats.t.ppf(0.975, 59)
    assert est.ci_high - est.estimate == pytest.approx(q * est.se, rel=1e-12)
    assert est.p_value == pytest.approx(2 * stats.t.sf(abs(est.estimate / est.se), 59), rel=1e-12)
    est90 = estimate_effect(small_frame, "y", "treated", weights="w", cluster="pid", alpha=0.10)
    assert est90.ci_high - est90.estimate == pytest.approx(stats.norm.ppf(0.95) * est90.se, rel=1e-12)


def test_only_treated_rows_cannot_be_estimated(small_frame):
    df = small_frame[small_frame["treated"] == 1]
    with pytest.raises(EstimationError, match="both groups are needed"):
        estimate_effect(df, "y", "treated", weights="w")


@pytest.mark.parametrize(
    ("p", "stars"),
    [(0.0009999, "***"), (0.001, "**"), (0.0099, "**"), (0.01, "*"), (0.0499, "*"), (0.05, ""), (0.7, ""),
     (float("nan"), "")],
)
def test_star_thresholds_are_strict(p, stars):
    assert stars_for(p) == stars


# --------------------------------------------------------------------------------------
# 4. the panel
# --------------------------------------------------------------------------------------

TRUE_EFFECT = 2.0


def make_panel(seed: int = 1, n_treated: int = 150, ratio: int = 3, pool: int = 300, years=range(-3, 4)):
    """Long matched panel with a constant effect of TRUE_EFFECT from year 0 on, person
    effects (so rows of a person correlate across years) and controls used repeatedly."""
    rng = np.random.default_rng(seed)
    n_persons = n_treated + pool
    person_x = rng.normal(size=n_persons)
    person_u = rng.normal(size=n_persons)
    sex = rng.choice(["f", "m"], n_persons)
    controls = rng.integers(n_treated, n_persons, n_treated * ratio)
    units = pd.DataFrame(
        {
            "person_id": np.r_[np.arange(n_treated), controls],
            "treated": np.r_[np.ones(n_treated, int), np.zeros(n_treated * ratio, int)],
            "weight": np.r_[np.ones(n_treated), np.full(n_treated * ratio, 1 / ratio)],
        }
    )
    units["x"] = person_x[units["person_id"]]
    units["sex"] = sex[units["person_id"]]
    frames = []
    for r in years:
        f = units.copy()
        f["rel_year"] = r
        f["y"] = (
            1.0 + 0.8 * f["x"] + person_u[f["person_id"]]
            + TRUE_EFFECT * ((r >= 0) & (f["treated"] == 1)) + rng.normal(size=len(f))
        )
        f["z"] = rng.normal(size=len(f)) + 0.5 * person_u[f["person_id"]]
        frames.append(f)
    panel = pd.concat(frames, ignore_index=True)
    pre = panel.loc[panel["rel_year"] == -1, ["y", "z"]].to_numpy()
    n_units = len(units)
    panel["y_pre"] = np.tile(pre[:, 0], len(list(years)))
    panel["z_pre"] = np.tile(pre[:, 1], len(list(years)))
    assert len(panel) == n_units * len(list(years))
    return panel


@pytest.fixture(scope="module")
def panel():
    return make_panel()


def test_a_constant_effect_is_recovered_after_start_and_absent_before(panel):
    eff = estimate_effects(panel, ["y"], covariates=["x", "sex"])
    post = eff[eff["rel_year"] >= 0]
    pre = eff[eff["rel_year"] < -1]
    assert np.all(np.abs(post["estimate"] - TRUE_EFFECT) < 4 * post["se"])
    assert np.all(np.abs(pre["estimate"]) < 4 * pre["se"])
    assert (post["stars"] == "***").all()
    assert eff["se"].between(0.05, 0.5).all()
    # the CI contains the truth in (nearly) every post year
    assert ((post["ci_low"] < TRUE_EFFECT) & (TRUE_EFFECT < post["ci_high"])).sum() >= 3


def test_output_has_fixed_columns_dtypes_and_order(panel):
    eff = estimate_effects(panel, ["z", "y"], covariates=["x"])
    assert tuple(eff.columns) == EFFECT_COLUMNS
    assert list(eff["outcome"]) == ["z"] * 7 + ["y"] * 7  # outcomes in the given order
    assert list(eff["rel_year"]) == list(range(-3, 4)) * 2
    assert eff["rel_year"].dtype == np.int64 and eff["n_treated"].dtype == np.int64
    assert eff["adjusted_for_baseline"].dtype == bool
    assert set(eff["vcov"]) == {"CR1"}
    assert (eff["n_treated"] == 150).all()
    assert (eff["n_control"] == panel.loc[panel["treated"] == 0, "person_id"].nunique()).all()
    assert (eff["n_obs"] == 600).all()


def test_each_cell_equals_estimate_effect_on_that_year_with_the_baseline(panel):
    eff = estimate_effects(panel, ["y"], covariates=["x", "sex"]).set_index("rel_year")
    for r in (-3, 0, 2):
        one = estimate_effect(
            panel[panel["rel_year"] == r], "y", "treated", covariates=["x", "sex", "y_pre"],
            weights="weight", cluster="person_id",
        )
        assert eff.loc[r, "estimate"] == pytest.approx(one.estimate, rel=1e-10)
        assert eff.loc[r, "se"] == pytest.approx(one.se, rel=1e-10)
        assert eff.loc[r, "p"] == pytest.approx(one.p_value, rel=1e-9)
        assert eff.loc[r, "mean_treated"] == pytest.approx(one.mean_treated, rel=1e-12)
        assert eff.loc[r, "n_clusters"] == one.n_clusters
        assert bool(eff.loc[r, "adjusted_for_baseline"])


def test_year_minus_1_is_estimated_without_its_own_baseline(panel):
    eff = estimate_effects(panel, ["y"], covariates=["x"]).set_index("rel_year")
    assert not eff.loc[-1, "adjusted_for_baseline"]
    assert "own baseline" in eff.loc[-1, "baseline_note"]
    one = estimate_effect(panel[panel["rel_year"] == -1], "y", "treated", covariates=["x"],
                          weights="weight", cluster="person_id")
    assert eff.loc[-1, "estimate"] == pytest.approx(one.estimate, rel=1e-10)
    assert eff.loc[-1, "se"] > 0.01


def test_a_baseline_that_is_entirely_missing_or_constant_is_skipped_and_reported(panel):
    p = panel.copy()
    p["y_pre"] = np.nan
    p["z_pre"] = 3.0
    eff = estimate_effects(p, ["y", "z"], covariates=["x"])
    assert not eff["adjusted_for_baseline"].any()
    notes = eff[eff["rel_year"] == 0].set_index("outcome")["baseline_note"]
    assert notes["y"] == "baseline entirely missing" and notes["z"] == "baseline constant"
    one = estimate_effect(
        p[p["rel_year"] == 0], "y", "treated", covariates=["x"], weights="weight", cluster="person_id"
    )
    assert eff.set_index(["outcome", "rel_year"]).loc[("y", 0), "estimate"] == pytest.approx(one.estimate, rel=1e-10)


def test_a_partly_missing_baseline_is_an_error_naming_it(panel):
    p = panel.copy()
    p.loc[p["person_id"] == 3, "y_pre"] = np.nan
    with pytest.raises(EstimationError, match=r"baseline column 'y_pre' is missing in 1 row\(s\)"):
        estimate_effects(p, ["y"])


def test_a_missing_baseline_column_is_an_error(panel):
    with pytest.raises(EstimationError, match="x_pre"):
        estimate_effects(panel, ["x"])
    eff = estimate_effects(panel, ["x"], baseline_suffix=None)  # explicitly without baseline
    assert (eff["baseline_note"] == "no baseline").all()


def test_missing_outcomes_are_excluded_and_counted_per_year(panel):
    p = panel.copy()
    year0 = p[(p["rel_year"] == 0) & (p["treated"] == 0)]
    repeated = year0["person_id"].value_counts()
    control = int(repeated[repeated == 3].index.min())  # a control matched three times
    dead = p["person_id"].isin([0, 1, 2, control]) & (p["rel_year"] >= 2)  # 3 treated, 1 control
    p.loc[dead, "y"] = np.nan
    eff = estimate_effects(p, ["y"], covariates=["x"]).set_index("rel_year")
    assert eff.loc[1, "n_missing_outcome"] == 0
    assert eff.loc[2, "n_missing_outcome"] == 3 + 3
    assert eff.loc[2, "n_treated"] == 147
    assert eff.loc[2, "n_control"] == eff.loc[1, "n_control"] - 1
    assert eff.loc[2, "n_obs"] == 600 - 6
    sub = p[(p["rel_year"] == 2)].dropna(subset=["y"])
    one = estimate_effect(sub, "y", "treated", covariates=["x", "y_pre"], weights="weight", cluster="person_id")
    assert eff.loc[2, "estimate"] == pytest.approx(one.estimate, rel=1e-10)
    assert eff.loc[2, "se"] == pytest.approx(one.se, rel=1e-10)


def test_years_without_data_give_no_row_unless_requested_then_a_nan_row(panel):
    p = panel.copy()
    p.loc[p["rel_year"] == 3, "y"] = np.nan  # beyond the data for y only
    eff = estimate_effects(p, ["y"], covariates=["x"], years=range(-5, 4)).set_index("rel_year")
    assert list(eff.index) == list(range(-5, 4))
    for r in (-5, -4):  # not in the panel at all
        assert np.isnan(eff.loc[r, "estimate"]) and eff.loc[r, "note"] == "no observations"
        assert eff.loc[r, "n_obs"] == 0 and eff.loc[r, "stars"] == ""
    assert np.isnan(eff.loc[3, "se"]) and eff.loc[3, "note"] == "no observations"
    assert eff.loc[3, "n_missing_outcome"] == 600
    default = estimate_effects(p, ["y"], covariates=["x"])
    assert list(default["rel_year"]) == list(range(-3, 4))  # years present in the panel


def test_a_year_with_only_treated_rows_gives_a_nan_row_with_the_reason(panel):
    p = panel.copy()
    p.loc[(p["rel_year"] == 1) & (p["treated"] == 0), "y"] = np.nan
    eff = estimate_effects(p, ["y"]).set_index("rel_year")
    assert np.isnan(eff.loc[1, "estimate"]) and eff.loc[1, "note"] == "no controls"
    assert eff.loc[0, "note"] == ""


def test_a_covariate_constant_in_one_year_is_dropped_there_with_one_warning(panel):
    p = panel.copy()
    p["c"] = p["x"]
    p.loc[p["rel_year"] == 2, "c"] = 1.0
    with pytest.warns(RegevalWarning, match=r"1 cell\(s\): y@2: c"):
        eff = estimate_effects(p, ["y"], covariates=["c"])
    assert eff.set_index("rel_year").loc[2, "dropped"] == "c"
    assert (eff.set_index("rel_year").drop(index=2)["dropped"] == "").all()


def test_other_covariance_types_are_passed_through(panel):
    eff = estimate_effects(panel, ["y"], covariates=["x"], vcov="HC3").set_index("rel_year")
    one = estimate_effect(panel[panel["rel_year"] == 1], "y", "treated", covariates=["x", "y_pre"],
                          weights="weight", vcov="HC3")
    assert eff.loc[1, "se"] == pytest.approx(one.se, rel=1e-10)
    assert eff.loc[1, "vcov"] == "HC3"
    assert pd.isna(eff.loc[1, "n_clusters"])
    assert eff.loc[1, "n_treated"] == 150  # persons still counted by the cluster column


def test_missing_covariates_in_the_panel_raise(panel):
    p = panel.copy()
    p.loc[[5, 6], "x"] = np.nan
    with pytest.raises(EstimationError, match=r"covariate 'x' is missing in 2 row\(s\)"):
        estimate_effects(p, ["y"], covariates=["x"])


# --------------------------------------------------------------------------------------
# group means and the window average
# --------------------------------------------------------------------------------------


def test_group_means_are_weighted_means_with_a_person_clustered_se(panel):
    means = group_means(panel, ["y"])
    assert tuple(means.columns) == MEANS_COLUMNS
    assert len(means) == 7 * 2
    assert list(means["group"][:2]) == ["treated", "control"]
    row = means[(means["rel_year"] == 0) & (means["group"] == "control")].iloc[0]
    sub = panel[(panel["rel_year"] == 0) & (panel["treated"] == 0)]
    assert row["mean"] == pytest.approx(np.average(sub["y"], weights=sub["weight"]), rel=1e-13)
    fit = fit_wls(sub["y"].to_numpy(), np.ones((len(sub), 1)), sub["weight"].to_numpy(), vcov="CR1",
                  cluster=sub["person_id"].to_numpy())
    assert row["se"] == pytest.approx(fit.bse[0], rel=1e-12)
    assert row["ci_low"] == pytest.approx(row["mean"] - Z975 * row["se"], rel=1e-12)
    assert row["n"] == sub["person_id"].nunique() and row["n_obs"] == len(sub)


def test_group_means_of_an_empty_year_are_nan(panel):
    p = panel.copy()
    p.loc[p["rel_year"] == 3, "y"] = np.nan
    means = group_means(p, ["y"]).set_index(["rel_year", "group"])
    assert np.isnan(means.loc[(3, "treated"), "mean"]) and means.loc[(3, "treated"), "n"] == 0


def stacked_design(panel, outcome, years, covariates):
    """Stacked person-years with every coefficient year-specific (block design)."""
    blocks = []
    for r in years:
        sub = panel[panel["rel_year"] == r].dropna(subset=[outcome])
        cols = [np.ones(len(sub)), sub["treated"].to_numpy(float), *(sub[c].to_numpy(float) for c in covariates)]
        if r != -1:
            cols.append(sub[outcome + "_pre"].to_numpy(float))
        blocks.append((sub, np.column_stack(cols)))
    n = sum(len(s) for s, _ in blocks)
    k = sum(b.shape[1] for _, b in blocks)
    X = np.zeros((n, k))
    treat_pos = []
    i = c = 0
    for sub, b in blocks:
        X[i:i + len(sub), c:c + b.shape[1]] = b
        treat_pos.append(c + 1)
        i += len(sub)
        c += b.shape[1]
    stacked = pd.concat([s for s, _ in blocks], ignore_index=True)
    return stacked, X, treat_pos


def test_window_average_equals_the_stacked_year_interacted_regression_clustered_by_person(panel):
    years = [0, 1, 2, 3]
    out = window_summary(panel, "y", years=years, covariates=["x"])
    assert len(out) == 1
    row = out.iloc[0]
    stacked, X, treat_pos = stacked_design(panel, "y", years, ["x"])
    fit = fit_wls(stacked["y"].to_numpy(), X, stacked["weight"].to_numpy(), vcov="CR1",
                  cluster=stacked["person_id"].to_numpy())
    a = np.zeros(X.shape[1])
    a[treat_pos] = 1 / len(years)
    assert row["estimate"] == pytest.approx(a @ fit.params, rel=1e-10)
    assert row["se"] == pytest.approx(np.sqrt(a @ fit.vcov @ a), rel=1e-9)
    # the point estimate is the plain mean of the yearly estimates
    eff = estimate_effects(panel, ["y"], covariates=["x"])
    assert row["estimate"] == pytest.approx(eff[eff["rel_year"].isin(years)]["estimate"].mean(), rel=1e-10)
    assert abs(row["estimate"] - TRUE_EFFECT) < 4 * row["se"]
    assert (row["year_from"], row["year_to"], row["n_years"]) == (0, 3, 4)
    assert row["n_obs"] == 4 * 600 and row["n_treated"] == 150
    assert bool(row["adjusted_for_baseline"])


def test_window_se_accounts_for_correlation_across_years(panel):
    # person effects make a person's years positively correlated, so the average's SE
    # must exceed the SE that treats the years as independent
    years = [0, 1, 2, 3]
    out = window_summary(panel, "y", years=years, covariates=["x"], baseline_suffix=None).iloc[0]
    eff = estimate_effects(panel, ["y"], covariates=["x"], baseline_suffix=None)
    se_years = eff[eff["rel_year"].isin(years)]["se"].to_numpy()
    naive_independent = np.sqrt(np.sum(se_years**2)) / len(years)
    assert out["se"] > 1.3 * naive_independent


def test_window_with_a_year_without_data_is_an_error(panel):
    msg = r"rel_year 4 \(no observations\), 5 \(no observations\) cannot be estimated"
    with pytest.raises(EstimationError, match=msg):
        window_summary(panel, "y", years=range(0, 6))


def test_result_objects_are_frozen(tiny):
    y, X, w, g = tiny
    fit = fit_wls(y, X, w)
    assert isinstance(fit, WLSFit)
    with pytest.raises(AttributeError):
        fit.nobs = 3  # type: ignore[misc]


def test_no_warnings_on_a_clean_run(panel):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        estimate_effects(panel, ["y", "z"], covariates=["x", "sex"])
        group_means(panel, ["y"])
        window_summary(panel, "y", years=[0, 1], covariates=["x"])
