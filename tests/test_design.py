"""One coding of characteristics and one treatment check for the propensity model, the
balance tables and the effect regressions (regeval.stats.design).

The expected term names are written out by hand from R's rules (``model.matrix``:
column name followed by the level, a logical gives ``<name>TRUE``, the first level is
the reference; MatchIt's balance tables show every level of a factor and ``<name>TRUE``
of a logical); the parity tests check the same rules against R's own output on LaLonde.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from regeval.errors import EstimationError, MatchingError, PropensityError
from regeval.stats import design as design_mod
from regeval.stats._panel import _covariate_design
from regeval.stats.balance import balance_table, descriptive_table
from regeval.stats.design import build_design, design_matrix, expand_covariates, treatment_indicator
from regeval.stats.effects import estimate_effect
from regeval.stats.matching import match_nearest
from regeval.stats.propensity import fit_propensity

COVARIATES = ["age", "race", "married", "cohort", "educ", "score"]
CATEGORICAL = ["cohort"]

#: R's regression terms: race (black first), a logical, a numeric year named categorical
#: (stored as float), a factor whose category order puts "mid" first, a plain numeric.
DESIGN_TERMS = [
    "age", "racehispan", "racewhite", "marriedTRUE", "cohort2016", "cohort2017",
    "educlow", "educhigh", "score",
]
#: MatchIt's balance terms: every level of a factor, the TRUE row of a logical.
BALANCE_TERMS = [
    "age", "raceblack", "racehispan", "racewhite", "marriedTRUE", "cohort2015", "cohort2016",
    "cohort2017", "educmid", "educlow", "educhigh", "score",
]


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 400
    df = pd.DataFrame(
        {
            "age": rng.integers(18, 65, n).astype(float),
            "race": rng.choice(["white", "black", "hispan"], n),
            "married": rng.random(n) < 0.4,
            "cohort": rng.choice([2015.0, 2016.0, 2017.0], n),
            "educ": pd.Categorical(rng.choice(["low", "mid", "high"], n), categories=["mid", "low", "high"]),
            "score": rng.normal(size=n),
        }
    )
    eta = -0.5 + 0.02 * (df["age"] - 40) + 0.4 * df["married"] + 0.3 * (df["race"] == "black")
    df["treat"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    df["y"] = 1.0 + 2.0 * df["treat"] + 0.05 * df["age"] + rng.normal(size=n)
    df["w"] = np.where(df["treat"] == 1, 1.0, 0.5)
    return df


def test_the_design_names_terms_as_r_does(data):
    design = build_design(data, COVARIATES, categorical=CATEGORICAL)
    assert [t for d in design for t in d.terms] == DESIGN_TERMS
    by_col = {d.column: d for d in design}
    assert by_col["married"].kind == "categorical" and by_col["married"].boolean
    assert by_col["married"].levels == (False, True)  # FALSE is the reference
    assert by_col["educ"].levels == ("mid", "low", "high")  # category order
    assert by_col["cohort"].levels == (2015.0, 2016.0, 2017.0)


def test_propensity_effects_and_balance_use_the_same_terms(data):
    fit = fit_propensity(data, "treat", COVARIATES, categorical=CATEGORICAL)
    assert list(fit.terms) == ["(Intercept)", *DESIGN_TERMS]
    est = estimate_effect(
        data, "y", "treat", covariates=COVARIATES, categorical=CATEGORICAL, weights="w", vcov="HC1"
    )
    assert list(est.fit.names) == ["(Intercept)", "treat", *DESIGN_TERMS]
    bal = balance_table(data, "treat", COVARIATES, categorical=CATEGORICAL)
    assert bal["term"].tolist() == BALANCE_TERMS
    # the regression terms of every column are among its balance terms; the reference
    # level of a factor is the only addition
    assert set(DESIGN_TERMS) <= set(BALANCE_TERMS)
    assert set(BALANCE_TERMS) - set(DESIGN_TERMS) == {"raceblack", "cohort2015", "educmid"}
    desc = descriptive_table({"all": data}, COVARIATES, categorical=CATEGORICAL)
    assert desc["term"].tolist() == ["n", *BALANCE_TERMS]
    assert desc.set_index("term").loc["marriedTRUE", "level"] == "TRUE"


def test_the_three_consumers_build_the_same_columns(data):
    design = build_design(data, COVARIATES, categorical=CATEGORICAL)
    X, names = design_matrix(data, design)
    # effects: the covariate block of the regression
    rows = np.ones(len(data), dtype=bool)
    eff = _covariate_design(data, COVARIATES, CATEGORICAL, rows)
    assert list(eff.names) == names[1:]
    np.testing.assert_array_equal(eff.matrix, X[:, 1:])
    assert eff.dummy == tuple(n not in ("age", "score") for n in names[1:])
    # balance: the same 0/1 indicators (and the numeric columns as they are)
    terms = {t: v for t, _, _, v in expand_covariates(data, COVARIATES, categorical=CATEGORICAL)}
    for j, name in enumerate(names[1:], start=1):
        np.testing.assert_array_equal(terms[name], X[:, j])
    # by hand
    np.testing.assert_array_equal(X[:, names.index("marriedTRUE")], data["married"].to_numpy(dtype=float))
    np.testing.assert_array_equal(X[:, names.index("cohort2017")], (data["cohort"] == 2017).to_numpy(dtype=float))
    np.testing.assert_array_equal(X[:, names.index("educhigh")], (data["educ"] == "high").to_numpy(dtype=float))


def test_effect_levels_come_from_the_estimation_sample(data):
    # rows with weight 0 hold a level that the estimation sample lacks: no dummy for it
    df = data.copy()
    unused = df.index[df["treat"] == 0][:10]
    df.loc[unused, "race"] = "other"
    df.loc[unused, "w"] = 0.0
    est = estimate_effect(df, "y", "treat", covariates=["race"], weights="w", vcov="HC1")
    assert not any(n.startswith("raceother") for n in est.fit.names)
    design = build_design(df, ["race"], rows=(df["w"] > 0).to_numpy(), error=EstimationError)
    assert "other" not in design[0].levels


def test_a_bool_column_with_missing_values_is_a_factor_with_r_labels():
    s = pd.Series([True, False, None, True], dtype=object)
    df = pd.DataFrame({"b": s})
    design = build_design(df, ["b"])
    assert design[0].terms == ("bTRUE",) and not design[0].boolean
    terms = [t for t, *_ in expand_covariates(df, ["b"])]
    assert terms == ["bFALSE", "bTRUE"]


def test_term_names_that_collide_are_refused():
    df = pd.DataFrame({"a": ["1", "2", "2"], "a2": [0.5, 1.0, 2.0], "t": [0, 1, 1]})
    with pytest.raises(PropensityError, match=r"term name\(s\) \['a2'\] occur twice"):
        build_design(df, ["a", "a2"])
    with pytest.raises(MatchingError, match="occur twice"):
        balance_table(df, "t", ["a", "a2"])


def test_unknown_categorical_names_and_unusable_dtypes_are_refused_the_same_way(data):
    for error in (PropensityError, MatchingError, EstimationError):
        with pytest.raises(error, match=r"categorical=\['nope'\] names columns that are not covariates"):
            build_design(data, ["age"], categorical=["nope"], error=error)
    dates = data.assign(when=pd.Timestamp("2020-01-01"))
    with pytest.raises(PropensityError, match="'when' has dtype datetime64"):
        fit_propensity(dates, "treat", ["age", "when"])
    with pytest.raises(EstimationError, match="'when' has dtype datetime64"):
        estimate_effect(dates, "y", "treat", covariates=["when"], weights="w")
    with pytest.raises(MatchingError, match="'when' has dtype datetime64"):
        balance_table(dates, "treat", ["when"])


# --------------------------------------------------------------------------- treatment check


def _consumers(df: pd.DataFrame):
    """Each consumer of the treatment column, called on ``df``."""
    scored = df.assign(ps=np.linspace(0.1, 0.9, len(df)))
    return {
        PropensityError: lambda: fit_propensity(df, "treat", ["age"]),
        MatchingError: lambda: match_nearest(scored, "treat", "ps", k=1),
        EstimationError: lambda: estimate_effect(df, "y", "treat", weights="w"),
        "balance": lambda: balance_table(df, "treat", ["age"]),
    }


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([0, 1, 2, 1], r"treatment column 'treat' must hold only 0/1 \(or bool\); found 1 row\(s\) with other values, e\.g\. \[2\.0\]"),
        (["a", "b", "a", "b"], r"treatment column 'treat' has dtype (object|str)\S*; it must be 0/1 or bool"),
        ([0.0, 1.0, np.nan, 1.0], r"treatment column 'treat' has 1 missing value\(s\)"),
    ],
)
def test_every_consumer_refuses_a_bad_treatment_with_the_same_message(values, message):
    df = pd.DataFrame({"treat": values, "age": [20.0, 30.0, 40.0, 50.0], "y": [1.0, 2.0, 3.0, 4.0], "w": 1.0})
    for kind, call in _consumers(df).items():
        error = MatchingError if kind == "balance" else kind
        with pytest.raises(error, match=message):
            call()


def test_every_consumer_names_a_missing_treatment_column_the_same_way():
    df = pd.DataFrame({"d": [0, 1], "age": [20.0, 30.0], "y": [1.0, 2.0], "w": 1.0})
    for kind, call in _consumers(df).items():
        error = MatchingError if kind == "balance" else kind
        with pytest.raises(error, match=r"treatment column 'treat' not in data; available columns: \['d'"):
            call()


def test_bool_and_integer_treatments_give_the_same_results(data):
    as_bool = data.assign(treat=data["treat"] == 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = fit_propensity(data, "treat", ["age", "race"])
        b = fit_propensity(as_bool, "treat", ["age", "race"])
        np.testing.assert_array_equal(a.score, b.score)
        scored, scored_b = data.assign(ps=a.score), as_bool.assign(ps=a.score)
        pd.testing.assert_series_equal(
            match_nearest(scored, "treat", "ps", k=2).weights, match_nearest(scored_b, "treat", "ps", k=2).weights
        )
    pd.testing.assert_frame_equal(balance_table(data, "treat", ["age"]), balance_table(as_bool, "treat", ["age"]))
    e1 = estimate_effect(data, "y", "treat", weights="w", vcov="HC1")
    e2 = estimate_effect(as_bool, "y", "treat", weights="w", vcov="HC1")
    assert (e1.estimate, e1.se) == (e2.estimate, e2.se)


def test_the_treatment_may_be_missing_outside_the_rows_used():
    df = pd.DataFrame({"treat": [1.0, 0.0, np.nan, 0.0]})
    t = treatment_indicator(df, "treat", error=EstimationError, rows=np.array([True, True, False, True]))
    assert t[:2].tolist() == [1.0, 0.0] and np.isnan(t[2])
    with pytest.raises(EstimationError, match="1 missing value"):
        treatment_indicator(df, "treat", error=EstimationError)
    with pytest.raises(MatchingError, match="has 0 treated and 2 control rows; both groups are needed"):
        treatment_indicator(df.iloc[[1, 3]], "treat", error=MatchingError, require_both=True)


def test_design_module_is_the_only_builder():
    """The consumers hold no coding rules of their own any more."""
    import regeval.stats._panel as panel
    import regeval.stats.balance as balance
    import regeval.stats.matching as matching
    import regeval.stats.propensity as propensity

    for module in (propensity, balance, panel, matching):
        for old in ("_design_matrix", "_is_categorical", "_levels", "_levels_of", "_label", "_level_label",
                    "_treatment_vector", "_treatment_mask", "_treat_mask", "_treatment_array"):
            assert not hasattr(module, old), (module.__name__, old)
    assert design_mod.is_categorical(pd.Series([True, False]))


def test_stats_imports_only_errors_and_itself():
    """The layer rule of docs/architecture.md: stats imports regeval.errors, its own
    modules and the disclosure metadata of its tables only (no reporting, no pipeline,
    no plotting)."""
    import ast
    from pathlib import Path

    import regeval.stats

    root = Path(regeval.stats.__file__).parent
    for path in sorted(root.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                top = name.split(".")[0]
                assert top != "matplotlib", (path.name, name)
                if top == "regeval":
                    allowed = name in ("regeval.errors", "regeval.parallel", "regeval.disclosure.meta") or name.startswith("regeval.stats")
                    assert allowed, (path.name, name)
