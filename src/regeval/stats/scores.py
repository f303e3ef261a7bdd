"""Named propensity-score models beside the report's logit.

* ``logit`` -- the report's model (:func:`regeval.stats.propensity.fit_propensity`): every
  characteristic enters linearly, categorical ones as dummies.
* ``logit_flex`` -- the same logit with each continuous characteristic with more than
  20 distinct values (age, the employment degrees) entered as a cubic B-spline with
  knots at its quartiles instead of a straight line, and the interactions of
  standardised age with sex and with the employment degree of the year before: selection
  that rises and falls with age (pension age inside the follow-up), or whose age gradient
  differs by sex or employment, is representable.
* ``gbm`` -- gradient-boosted trees (scikit-learn's ``HistGradientBoostingClassifier``)
  on the same columns: non-linearities and interactions of any kind, learnt from the data,
  with shrinkage, a minimum leaf size and a fixed number of iterations (no early stopping,
  so no random validation split); the seed comes from the configuration.

:func:`fit_score` fits one model and returns a :class:`ScoreFit` (score and logit per
unit). Which model a spec uses, and the rule that picks one by balance, are in
``docs/matching.md`` ("Flexible propensity scores").
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special
from threadpoolctl import threadpool_limits

from regeval.errors import PropensityError, RegevalWarning
from regeval.stats.design import build_design, design_matrix
from regeval.stats.propensity import PropensityFit, fit_propensity

__all__ = ["SCORE_MODELS", "ScoreFit", "fit_score"]

SCORE_MODELS: tuple[str, ...] = ("logit", "logit_flex", "gbm")
"""The named score models, in the order the balance rule prefers them on a tie."""

_SPLINE_MIN_DISTINCT = 20
_CLIP = 1e-6


@dataclass(frozen=True, eq=False)
class ScoreFit:
    """A fitted score model: ``score`` (probability) and ``logit`` per input row,
    the model name, its AUC and, for the logit models, the :class:`PropensityFit`."""

    model: str
    score: np.ndarray
    logit: np.ndarray
    auc: float
    fit: PropensityFit | None
    terms: tuple[str, ...]


def _auc(score: np.ndarray, y: np.ndarray) -> float:
    from scipy.stats import rankdata

    r = rankdata(score)
    n1 = float(y.sum())
    n0 = float(len(y) - n1)
    return float((r[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def flexible_columns(
    units: pd.DataFrame, columns: Sequence[str], categorical: Sequence[str]
) -> tuple[pd.DataFrame, list[str]]:
    """``units`` with the spline and interaction columns of ``logit_flex`` added, and the
    model's column list (the splined continuous columns replaced by their basis)."""
    from sklearn.preprocessing import SplineTransformer

    cat = set(categorical)
    new: dict[str, np.ndarray] = {}
    out_cols: list[str] = []
    for c in columns:
        s = units[c]
        numeric = pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
        if c in cat or not numeric or s.nunique() <= _SPLINE_MIN_DISTINCT:
            out_cols.append(c)
            continue
        x = s.to_numpy(dtype=float).reshape(-1, 1)
        basis = SplineTransformer(n_knots=5, degree=3, knots="quantile", extrapolation="linear",
                                  include_bias=False).fit_transform(x)
        for j in range(basis.shape[1]):
            new[f"{c}_s{j + 1}"] = basis[:, j]
            out_cols.append(f"{c}_s{j + 1}")
    if "age" in columns:
        a = units["age"].to_numpy(dtype=float)
        za = (a - a.mean()) / (a.std() or 1.0)
        if "sex" in columns:
            male = pd.factorize(units["sex"], sort=True)[0].astype(float)
            new["age_x_sex"] = za * male
            out_cols.append("age_x_sex")
        if "employment_degree_1" in columns:
            new["age_x_employment_degree_1"] = za * units["employment_degree_1"].to_numpy(dtype=float)
            out_cols.append("age_x_employment_degree_1")
    return units.assign(**new), out_cols


def _fit_gbm(units: pd.DataFrame, treatment: str, columns: Sequence[str], categorical: Sequence[str],
             seed: int, threads: int) -> tuple[np.ndarray, tuple[str, ...]]:
    from sklearn.ensemble import HistGradientBoostingClassifier

    design = build_design(units, list(columns), categorical=list(categorical))
    X, names = design_matrix(units, design, intercept=False)
    y = units[treatment].to_numpy(dtype=float)
    n_t = float(y.sum())
    model = HistGradientBoostingClassifier(
        learning_rate=0.05, max_iter=300, max_leaf_nodes=15, min_samples_leaf=max(20, int(n_t // 20)),
        l2_regularization=1.0, early_stopping=False, random_state=seed,
    )
    with threadpool_limits(limits=int(threads), user_api="openmp"):
        model.fit(np.ascontiguousarray(X), y)
        p = model.predict_proba(np.ascontiguousarray(X))[:, 1]
    return p, tuple(names)


def fit_score(
    units: pd.DataFrame,
    model: str,
    columns: Sequence[str],
    categorical: Sequence[str],
    *,
    treatment: str = "treated",
    seed: int = 0,
    threads: int = 1,
) -> ScoreFit:
    """Fit the score model ``model`` (one of :data:`SCORE_MODELS`) of ``treatment`` on
    ``columns`` (``categorical``: those entering as dummies).

    ``seed`` seeds the random draws of ``gbm`` (the logits draw nothing); ``threads``
    sizes its thread pool (the result does not depend on it).
    """
    if model not in SCORE_MODELS:
        raise PropensityError(f"unknown score model {model!r}; valid: {', '.join(SCORE_MODELS)}")
    if model in ("logit", "logit_flex"):
        data, cols = (units, list(columns)) if model == "logit" else flexible_columns(units, columns, categorical)
        cat = [c for c in categorical if c in cols]
        if model == "logit_flex":
            with warnings.catch_warnings():  # spline bases can alias a constant column: dropped, as R does
                warnings.simplefilter("ignore", RegevalWarning)
                fit = fit_propensity(data, treatment, cols, categorical=cat)
        else:
            fit = fit_propensity(data, treatment, cols, categorical=cat)
        return ScoreFit(model, fit.score, fit.logit, fit.auc, fit, fit.terms)
    p, names = _fit_gbm(units, treatment, columns, categorical, seed, threads)
    p = np.clip(p, _CLIP, 1 - _CLIP)
    y = units[treatment].to_numpy(dtype=float)
    return ScoreFit(model, p, special.logit(p), _auc(p, y), None, names)
