"""Propensity model: glm-equal estimates, dummy coding, dropped terms, separation, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from sklearn.metrics import roc_auc_score

from regeval.errors import PropensityError, RegevalWarning
from regeval.stats.propensity import PropensityFit, fit_propensity


@pytest.fixture(scope="module")
def population() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 3000
    df = pd.DataFrame(
        {
            "age": rng.integers(18, 65, n),
            "income": rng.gamma(2.0, 100_000.0, n),
            "region": rng.choice(["north", "south", "east"], n),
            "male": rng.random(n) < 0.5,
            "cohort": rng.choice([2015, 2016, 2017], n),
        }
    )
    eta = (
        -1.0
        - 0.03 * (df["age"] - 40)
        + 0.4 * (df["region"] == "south")
        - 0.3 * (df["region"] == "north")
        + 0.5 * df["male"]
        + 0.2 * (df["cohort"] == 2017)
    )
    df["treat"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    return df


def statsmodels_design(df: pd.DataFrame) -> pd.DataFrame:
    X = pd.DataFrame({"(Intercept)": 1.0, "age": df["age"], "income": df["income"]}, index=df.index)
    for lv in ["north", "south"]:  # reference: east (alphabetical first)
        X[f"region{lv}"] = (df["region"] == lv).astype(float)
    X["maleTRUE"] = df["male"].astype(float)
    for c in [2016, 2017]:
        X[f"cohort{c}"] = (df["cohort"] == c).astype(float)
    return X


def test_estimates_and_standard_errors_equal_a_statsmodels_glm(population):
    fit = fit_propensity(population, "treat", ["age", "income", "region", "male", "cohort"], categorical=["cohort"])
    X = statsmodels_design(population)
    ref = sm.GLM(population["treat"], X, family=sm.families.Binomial()).fit(tol=1e-12)
    coef = fit.coefficients.set_index("term").loc[list(X.columns)]
    np.testing.assert_allclose(coef["estimate"], ref.params, rtol=1e-7)
    np.testing.assert_allclose(coef["std_error"], ref.bse, rtol=1e-5)
    np.testing.assert_allclose(coef["p_value"], ref.pvalues, rtol=1e-4)
    np.testing.assert_allclose(fit.score, ref.fittedvalues, atol=1e-9)
    assert fit.deviance == pytest.approx(ref.deviance, rel=1e-9)
    assert fit.null_deviance == pytest.approx(ref.null_deviance, rel=1e-9)
    assert fit.converged


def test_categorical_levels_are_sorted_and_the_first_is_the_reference(population):
    fit = fit_propensity(population, "treat", ["region"])
    assert fit.terms == ("(Intercept)", "regionnorth", "regionsouth")


def test_pandas_categorical_keeps_its_category_order(population):
    df = population.assign(region=pd.Categorical(population["region"], categories=["south", "north", "east"]))
    fit = fit_propensity(df, "treat", ["region"])
    assert fit.terms == ("(Intercept)", "regionnorth", "regioneast")


def test_numeric_column_named_categorical_becomes_dummies(population):
    fit = fit_propensity(population, "treat", ["cohort"], categorical=["cohort"])
    assert fit.terms == ("(Intercept)", "cohort2016", "cohort2017")
    fit_num = fit_propensity(population, "treat", ["cohort"])
    assert fit_num.terms == ("(Intercept)", "cohort")


def test_bool_column_becomes_one_dummy_named_like_r(population):
    fit = fit_propensity(population, "treat", ["male"])
    assert fit.terms == ("(Intercept)", "maleTRUE")


def test_collinear_dummies_are_dropped_with_a_warning(population):
    df = population.assign(south=(population["region"] == "south").astype(int))
    with pytest.warns(RegevalWarning, match=r"aliased design column\(s\) \['south'\]"):
        fit = fit_propensity(df, "treat", ["age", "region", "south"])
    assert fit.dropped_terms == ("south",)
    assert "south" not in fit.terms
    row = fit.coefficients.set_index("term").loc["south"]
    assert row.isna().all()
    assert any("aliased" in w for w in fit.warnings)
    ref = fit_propensity(population, "treat", ["age", "region"])
    np.testing.assert_allclose(fit.score, ref.score, atol=1e-12)


def test_a_sum_of_dummies_is_aliased_with_them(population):
    df = population.assign(
        a=(population["region"] == "north").astype(int),
        b=(population["region"] == "south").astype(int),
    )
    df["a_or_b"] = df["a"] + df["b"]
    with pytest.warns(RegevalWarning, match="a_or_b"):
        fit = fit_propensity(df, "treat", ["age", "a", "b", "a_or_b"])
    assert fit.dropped_terms == ("a_or_b",)


def test_a_constant_column_is_dropped_with_a_warning(population):
    df = population.assign(country="DK", one=1.0)
    with pytest.warns(RegevalWarning, match="constant"):
        fit = fit_propensity(df, "treat", ["age", "one", "country"])
    assert fit.dropped_terms == ("one",)
    assert fit.terms == ("(Intercept)", "age")
    assert any("single level" in w for w in fit.warnings)


def test_a_level_found_only_among_controls_is_reported_as_separation(population):
    df = population.copy()
    df.loc[(df["treat"] == 0) & (df.index < 40), "region"] = "island"
    with pytest.raises(PropensityError) as err:
        fit_propensity(df, "treat", ["age", "region"])
    msg = str(err.value)
    assert "level 'island' of 'region' occurs only among controls" in msg
    assert "0 treated" in msg and "controls" in msg
    assert "Merge" in msg and "drop the characteristic" in msg


def test_a_level_held_by_every_treated_unit_is_reported():
    df = pd.DataFrame({"treat": [1] * 5 + [0] * 10, "x": ["a"] * 5 + ["a", "b"] * 5})
    with pytest.raises(PropensityError, match="every treated unit has level 'b'|only among controls"):
        fit_propensity(df, "treat", ["x"])


def test_a_numeric_characteristic_that_splits_the_groups_is_reported():
    df = pd.DataFrame({"treat": [1] * 20 + [0] * 20, "x": list(range(100, 120)) + list(range(20))})
    with pytest.raises(PropensityError, match="'x' separates the groups completely"):
        fit_propensity(df, "treat", ["x"])


def test_separation_by_a_combination_of_terms_is_reported():
    rng = np.random.default_rng(0)
    x1, x2, x3 = rng.normal(size=(3, 400))
    df = pd.DataFrame({"t": (x1 + x2 > 0).astype(int), "x1": x1, "x2": x2, "x3": x3})
    with pytest.raises(PropensityError, match="separation") as err:
        fit_propensity(df, "t", ["x1", "x2", "x3"])
    assert "'x1'" in str(err.value) and "'x2'" in str(err.value)


def test_missing_values_are_refused_naming_the_column_and_count(population):
    df = population.astype({"income": float})
    df.loc[[3, 5, 8], "income"] = np.nan
    with pytest.raises(PropensityError, match=r"column 'income' has 3 missing value\(s\)"):
        fit_propensity(df, "treat", ["age", "income"])


def test_missing_categorical_values_are_refused(population):
    df = population.astype({"region": object})
    df.loc[0, "region"] = None
    with pytest.raises(PropensityError, match="'region' has 1 missing"):
        fit_propensity(df, "treat", ["region"])


@pytest.mark.parametrize("values", [[0, 1, 2], ["a", "b", "a"], [0.0, 0.5, 1.0]])
def test_treatment_must_be_zero_one_or_bool(values):
    df = pd.DataFrame({"treat": values, "x": [1.0, 2.0, 3.0]})
    with pytest.raises(PropensityError, match="treatment column 'treat'"):
        fit_propensity(df, "treat", ["x"])


def test_bool_treatment_is_accepted(population):
    fit = fit_propensity(population.assign(treat=population["treat"] == 1), "treat", ["age"])
    assert fit.n_treated == int(population["treat"].sum())


def test_unknown_columns_and_empty_groups_are_refused(population):
    with pytest.raises(PropensityError, match="covariate column"):
        fit_propensity(population, "treat", ["age", "nope"])
    with pytest.raises(PropensityError, match="both groups"):
        fit_propensity(population.assign(treat=0), "treat", ["age"])
    with pytest.raises(PropensityError, match="categorical="):
        fit_propensity(population, "treat", ["age"], categorical=["region"])


def test_predict_reproduces_the_fitted_score_and_rejects_unseen_levels(population):
    cov = ["age", "income", "region", "male", "cohort"]
    fit = fit_propensity(population, "treat", cov, categorical=["cohort"])
    np.testing.assert_allclose(fit.predict(population), fit.score, atol=1e-15)
    np.testing.assert_allclose(fit.predict(population.iloc[::-1]), fit.score[::-1], atol=1e-15)
    np.testing.assert_allclose(fit.predict(population, linear=True), fit.logit, atol=1e-12)
    with pytest.raises(PropensityError, match="not seen"):
        fit.predict(population.assign(region="west"))


def test_identical_rows_get_identical_scores(population):
    df = pd.concat([population.iloc[:50]] * 40, ignore_index=True)
    df["treat"] = np.resize(population["treat"].to_numpy()[:53], len(df))
    fit = fit_propensity(df, "treat", ["age", "income", "region"])
    groups = pd.Series(fit.score).groupby(np.tile(np.arange(50), 40)).nunique()
    assert (groups == 1).all()


def test_auc_equals_the_roc_auc(population):
    fit = fit_propensity(population, "treat", ["age", "region"])
    assert fit.auc == pytest.approx(roc_auc_score(population["treat"], fit.score), rel=1e-12)


def test_result_fields_and_series_are_aligned_with_the_input(population):
    df = population.set_index(pd.Index([f"p{i}" for i in range(len(population))]))
    fit = fit_propensity(df, "treat", ["age"])
    assert isinstance(fit, PropensityFit)
    s = fit.score_series()
    assert s.index.equals(df.index) and s.dtype == np.float64
    assert fit.logit_series().index.equals(df.index)
    assert fit.n_obs == len(df) == fit.n_treated + fit.n_control
    assert list(fit.coefficients.columns) == ["term", "estimate", "std_error", "z", "p_value"]
    assert fit.warnings == () and fit.dropped_terms == ()


def test_non_convergence_is_an_error_not_a_silent_score(population):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(PropensityError, match="did not converge"):
            fit_propensity(population, "treat", ["age", "region"], max_iter=1)


def test_warm_start_on_large_unbalanced_data_changes_the_path_not_the_estimate(monkeypatch):
    import regeval.stats._logit as logit

    rng = np.random.default_rng(11)
    n = 60_000
    df = pd.DataFrame({"x": rng.normal(size=n), "g": rng.choice(["a", "b", "c"], n)})
    eta = -5.0 + 0.8 * df["x"] + 0.5 * (df["g"] == "b")
    df["t"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    assert df["t"].sum() * 40 < n  # unbalanced enough for the warm start
    warm = fit_propensity(df, "t", ["x", "g"])
    monkeypatch.setattr(logit, "_WARM_MIN_ROWS", 10**12)
    cold = fit_propensity(df, "t", ["x", "g"])
    assert warm.iterations < cold.iterations
    np.testing.assert_allclose(
        warm.coefficients["estimate"], cold.coefficients["estimate"], rtol=1e-7, atol=1e-9
    )
    np.testing.assert_allclose(warm.coefficients["std_error"], cold.coefficients["std_error"], rtol=1e-4)
    np.testing.assert_allclose(warm.score, cold.score, atol=1e-10)
