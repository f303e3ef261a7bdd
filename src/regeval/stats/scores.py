"""Named propensity-score models beside the report's logit.

* ``logit`` -- the report's model (:func:`regeval.stats.propensity.fit_propensity`): every
  characteristic enters linearly, categorical ones as dummies.
* ``logit_flex`` -- a logit with age and the employment degrees (the continuous
  characteristics) entered as cubic B-splines with knots at their quintiles instead of
  straight lines: selection that rises and falls with age (pension age inside the
  follow-up) is representable. No interaction terms: an earlier version added age × sex
  and age × employment degree, which are strong predictors of participation where the
  selection has such interactions but not of the outcomes; terms of that kind (near
  instruments) amplify the bias left by what the registers do not show (Pearl 2010;
  Myers et al. 2011), and in the simulation study's ``interactions`` world they moved
  the estimates by +0.08 ± 0.05 SE against the logit, the splines alone by −0.01 ± 0.04
  (``docs/matching.md``, 3b). With that many terms some cells of the data have no
  participant (the oldest, say), where the maximum-likelihood logit does not exist; the
  model is therefore fitted with a weak ridge penalty (scikit-learn's
  ``LogisticRegression``, ``C = 100`` on standardised terms; deterministic), which keeps
  those scores small but finite.
* ``gbm`` -- gradient-boosted trees (scikit-learn's ``HistGradientBoostingClassifier``)
  on the same columns: non-linearities and interactions of any kind, learnt from the data,
  with shrinkage, a minimum leaf size and a fixed number of iterations (no early stopping,
  so no random validation split); the seed comes from the configuration.

:func:`fit_score` fits one model and returns a :class:`ScoreFit` (score and logit per
unit). Which model a spec uses, and the rule that picks one by balance, are in
``docs/matching.md`` ("Flexible propensity scores").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special
from threadpoolctl import threadpool_limits

from regeval.errors import PropensityError
from regeval.stats.design import build_design, design_matrix
from regeval.stats.propensity import PropensityFit, fit_propensity

__all__ = ["SCORE_MODELS", "ScoreFit", "fit_score"]

SCORE_MODELS: tuple[str, ...] = ("logit", "logit_flex", "gbm")
"""The named score models, in the order the balance rule prefers them on a tie."""

SPLINE_COLUMNS = ("age", "employment_degree_1", "employment_degree_2_5")
"""The continuous characteristics ``logit_flex`` enters as splines."""
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
    """``units`` with the spline columns of ``logit_flex`` added, and the model's column
    list (the splined continuous columns replaced by their basis)."""
    from sklearn.preprocessing import SplineTransformer

    cat = set(categorical)
    new: dict[str, np.ndarray] = {}
    out_cols: list[str] = []
    for c in columns:
        s = units[c]
        numeric = pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
        if c in cat or not numeric or c not in SPLINE_COLUMNS or s.nunique() <= 10:
            out_cols.append(c)
            continue
        x = s.to_numpy(dtype=float).reshape(-1, 1)
        basis = SplineTransformer(n_knots=6, degree=3, knots="quantile", extrapolation="linear",
                                  include_bias=False).fit_transform(x)
        for j in range(basis.shape[1]):
            new[f"{c}_s{j + 1}"] = basis[:, j]
            out_cols.append(f"{c}_s{j + 1}")
    return units.assign(**new), out_cols


def _fit_flex(units: pd.DataFrame, treatment: str, columns: Sequence[str],
              categorical: Sequence[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    from sklearn.linear_model import LogisticRegression

    data, cols = flexible_columns(units, columns, categorical)
    design = build_design(data, cols, categorical=[c for c in categorical if c in cols])
    X, names = design_matrix(data, design, intercept=False)
    sd = X.std(axis=0)
    keep = sd > 0
    Z = (X[:, keep] - X[:, keep].mean(axis=0)) / sd[keep]
    y = units[treatment].to_numpy(dtype=float)
    with threadpool_limits(limits=1, user_api="blas"):
        model = LogisticRegression(C=100.0, max_iter=5000, tol=1e-8).fit(Z, y)
        p = model.predict_proba(Z)[:, 1]
    return p, tuple(n for n, k in zip(names, keep, strict=True) if k)


def _fit_gbm(units: pd.DataFrame, treatment: str, columns: Sequence[str], categorical: Sequence[str],
             seed: int, threads: int) -> tuple[np.ndarray, tuple[str, ...]]:
    from sklearn.ensemble import HistGradientBoostingClassifier

    design = build_design(units, list(columns), categorical=list(categorical))
    X, names = design_matrix(units, design, intercept=False)
    y = units[treatment].to_numpy(dtype=float)
    n_t = float(y.sum())
    model = HistGradientBoostingClassifier(
        learning_rate=0.1, max_iter=150, max_leaf_nodes=15, min_samples_leaf=max(20, int(n_t // 20)),
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
    if model == "logit":
        fit = fit_propensity(units, treatment, list(columns), categorical=list(categorical))
        return ScoreFit(model, fit.score, fit.logit, fit.auc, fit, fit.terms)
    if model == "logit_flex":
        p, names = _fit_flex(units, treatment, columns, categorical)
    else:
        p, names = _fit_gbm(units, treatment, columns, categorical, seed, threads)
    p = np.clip(p, _CLIP, 1 - _CLIP)
    y = units[treatment].to_numpy(dtype=float)
    return ScoreFit(model, p, special.logit(p), _auc(p, y), None, names)
