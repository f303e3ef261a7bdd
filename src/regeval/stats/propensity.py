"""Propensity score: a maximum-likelihood logit of treatment on characteristics.

The model is the one R's ``glm(treat ~ ..., family = binomial(logit))`` fits and MatchIt
uses with ``distance = "glm"``: no penalty, numeric columns as they are, categorical
columns expanded to treatment-coded dummies with the first level as reference.
Aliased (collinear) design columns are dropped the way R reports them (coefficient
``NaN``), and a model whose maximum likelihood estimate does not exist (complete or
quasi-complete separation) is refused with an error naming the terms involved, because
its fitted scores are meaningless.

The fit is an iteratively reweighted least squares (Newton) loop written in numpy with
R's starting values and convergence rule; the cross-products are accumulated in row
blocks, so memory stays at one design matrix plus a block. See ``docs/matching.md`` for
the measured comparison with statsmodels and scikit-learn.

The coding of the characteristics is :mod:`regeval.stats.design`'s, the numerics live
in :mod:`regeval.stats._logit` and the separation checks in
:mod:`regeval.stats._separation`; this module assembles the model.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg, special
from threadpoolctl import threadpool_limits

from regeval.errors import PropensityError, RegevalWarning
from regeval.parallel import using_threads
from regeval.stats._logit import _aliased_columns, _auc, _gram, _irls, _linear_predictor, _warm_start
from regeval.stats._separation import check_fit, check_single_terms
from regeval.stats.design import (
    DesignColumn,
    build_design,
    design_matrix,
    require_columns,
    require_treatment_column,
    treatment_indicator,
)

__all__ = ["PropensityFit", "fit_propensity"]


@dataclass(frozen=True, eq=False)
class PropensityFit:
    """Result of :func:`fit_propensity`.

    Attributes
    ----------
    coefficients : pandas.DataFrame
        One row per design term (intercept first) with columns ``term``,
        ``estimate``, ``std_error``, ``z``, ``p_value``. Dropped terms (aliased or
        constant) have ``NaN`` in every numeric column, as R reports them.
    score : numpy.ndarray
        Fitted probability of treatment, float64, aligned with the input rows.
    logit : numpy.ndarray
        Linear predictor (log-odds), aligned with the input rows.
    auc : float
        Area under the ROC curve of the score (c statistic; ties count one half).
    n_obs, n_treated, n_control : int
        Numbers of rows used.
    converged : bool
        Whether the deviance criterion was met within ``max_iter`` iterations.
    iterations : int
        Number of IRLS iterations done.
    deviance, null_deviance : float
        Residual deviance and deviance of the intercept-only model.
    aic : float
        ``deviance + 2 * number of estimated coefficients``.
    terms : tuple of str
        Design columns that were estimated (intercept first).
    dropped_terms : tuple of str
        Design columns dropped as constant or aliased.
    warnings : tuple of str
        Every warning emitted during the fit.
    treatment : str
        Name of the treatment column.
    covariates : tuple of str
        Input columns of the model.
    design : tuple of DesignColumn
        Coding of each covariate, reused by :meth:`predict`.
    index : pandas.Index
        Index of the input rows (the score is aligned with it).
    """

    coefficients: pd.DataFrame
    score: np.ndarray
    logit: np.ndarray
    auc: float
    n_obs: int
    n_treated: int
    n_control: int
    converged: bool
    iterations: int
    deviance: float
    null_deviance: float
    aic: float
    terms: tuple[str, ...]
    dropped_terms: tuple[str, ...]
    warnings: tuple[str, ...]
    treatment: str = ""
    covariates: tuple[str, ...] = ()
    design: tuple[DesignColumn, ...] = ()
    index: pd.Index = field(default_factory=lambda: pd.RangeIndex(0))

    def score_series(self, name: str = "score") -> pd.Series:
        """Return the fitted score as a Series aligned with the input index."""
        return pd.Series(self.score, index=self.index, name=name)

    def logit_series(self, name: str = "logit") -> pd.Series:
        """Return the linear predictor as a Series aligned with the input index."""
        return pd.Series(self.logit, index=self.index, name=name)

    def predict(self, newdata: pd.DataFrame, *, linear: bool = False) -> np.ndarray:
        """Score new rows with the fitted coefficients and the same dummy coding.

        Parameters
        ----------
        newdata : pandas.DataFrame
            Must hold every covariate of the model; categorical values must be levels
            seen in the fit.
        linear : bool, default False
            Return the linear predictor (logit) instead of the probability.

        Returns
        -------
        numpy.ndarray
            Fitted probabilities (or logits), float64, one per row of ``newdata``.

        Raises
        ------
        PropensityError
            If a covariate is missing, has missing values, or holds an unseen level.
        """
        require_columns(newdata, list(self.covariates), what="covariate", error=PropensityError)
        _check_missing(newdata, list(self.covariates))
        X, names = design_matrix(newdata, self.design)
        est = self.coefficients.set_index("term")["estimate"]
        keep = [i for i, t in enumerate(names) if t in self.terms]
        beta = est.loc[[names[i] for i in keep]].to_numpy(dtype=float)
        eta = _linear_predictor(np.asfortranarray(X[:, keep]), beta)
        return eta if linear else special.expit(eta)


# --------------------------------------------------------------------------- checks


def _check_missing(data: pd.DataFrame, cols: Sequence[str]) -> None:
    for c in cols:
        n_na = int(data[c].isna().sum())
        if n_na:
            raise PropensityError(
                f"column {c!r} has {n_na} missing value(s) of {len(data)} rows; the "
                "propensity model needs complete data: impute, add a missing-indicator "
                "level, or drop those rows before fitting"
            )


def _check_inputs(
    data: pd.DataFrame, treatment: str, covariates: Sequence[str], max_iter: int, tol: float
) -> tuple[list[str], np.ndarray]:
    """Validate the arguments; return the covariates as a list and the 0/1 treatment."""
    if not isinstance(data, pd.DataFrame):
        raise PropensityError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    covariates = list(covariates)
    if not covariates:
        raise PropensityError("covariates is empty; name at least one characteristic")
    if treatment in covariates:
        raise PropensityError(f"treatment column {treatment!r} is also listed as a covariate")
    if max_iter < 1:
        raise PropensityError(f"max_iter must be a positive integer, got {max_iter!r}")
    if not (tol > 0):
        raise PropensityError(f"tol must be positive, got {tol!r}")
    require_treatment_column(data, treatment, error=PropensityError)
    require_columns(data, covariates, what="covariate", error=PropensityError)
    y = treatment_indicator(data, treatment, error=PropensityError, require_both=True)
    _check_missing(data, covariates)
    return covariates, y


# --------------------------------------------------------------------------- steps of the fit


@dataclass(frozen=True, eq=False)
class _Screen:
    """Column statistics of the full design and the columns kept for the fit."""

    col_min: np.ndarray
    col_max: np.ndarray
    sum_x: np.ndarray
    mean: np.ndarray
    C: np.ndarray  # centred cross-products of the non-intercept columns
    keep: list[int]
    drop: set[int]
    messages: list[str]


def _screen_columns(X: np.ndarray, names: list[str], design: Sequence[DesignColumn]) -> _Screen:
    """Find single-level factors, constant and aliased columns (to be dropped)."""
    n = X.shape[0]
    msgs: list[str] = []
    single_level = [d.column for d in design if d.kind == "categorical" and len(d.levels) < 2]
    if single_level:
        msgs.append(f"covariate(s) {single_level} have a single level and were dropped (constant)")

    col_min = X.min(axis=0)
    col_max = X.max(axis=0)
    constant_set = {j - 1 for j in range(1, X.shape[1]) if col_min[j] == col_max[j]}
    sum_x = X.sum(axis=0)
    mean = sum_x / n
    C = _gram(X[:, 1:], center=mean[1:])
    aliased_set = set(_aliased_columns(C, constant_set))
    constant = sorted(j + 1 for j in constant_set)
    aliased = sorted(j + 1 for j in aliased_set)
    if constant:
        msgs.append(
            f"constant design column(s) {[names[j] for j in constant]} dropped (no variation "
            "in the data)"
        )
    if aliased:
        msgs.append(
            f"aliased design column(s) {[names[j] for j in aliased]} dropped: each is a linear "
            "combination of the intercept and earlier columns (coefficient NA, as in R)"
        )
    drop = set(constant) | set(aliased)
    keep = [j for j in range(X.shape[1]) if j not in drop]
    return _Screen(col_min, col_max, sum_x, mean, C, keep, drop, msgs)


def _kept_crossproducts(s: _Screen, n: int) -> np.ndarray:
    """``X'X`` of the kept columns, rebuilt from the centred cross-products."""
    keep = s.keep
    ck = [j - 1 for j in keep[1:]]
    XtX = np.empty((len(keep), len(keep)))
    XtX[0, 0] = n
    XtX[0, 1:] = XtX[1:, 0] = s.sum_x[keep[1:]]
    XtX[1:, 1:] = s.C[np.ix_(ck, ck)] + n * np.outer(s.mean[keep[1:]], s.mean[keep[1:]])
    return XtX


def _compact_columns(X: np.ndarray, keep: list[int]) -> np.ndarray:
    """Move the kept columns to the front in place (no second copy of the design)."""
    if len(keep) == X.shape[1]:
        return X
    for pos, j in enumerate(keep):
        if pos != j:
            X[:, pos] = X[:, j]
    return X[:, : len(keep)]


def _coefficient_table(names: list[str], keep: list[int], beta: np.ndarray, XtWX: np.ndarray) -> pd.DataFrame:
    """Estimates with model-based SEs (``summary.glm``); ``NaN`` rows for dropped terms."""
    cov = linalg.cho_solve(linalg.cho_factor(XtWX), np.eye(len(beta)))
    se = np.sqrt(np.diag(cov))
    z = beta / se
    pval = 2.0 * special.ndtr(-np.abs(z))
    coef = pd.DataFrame(
        {
            "term": pd.array(names, dtype="string"),
            "estimate": np.nan,
            "std_error": np.nan,
            "z": np.nan,
            "p_value": np.nan,
        }
    )
    coef.loc[keep, "estimate"] = beta
    coef.loc[keep, "std_error"] = se
    coef.loc[keep, "z"] = z
    coef.loc[keep, "p_value"] = pval
    return coef


# --------------------------------------------------------------------------- public API


def fit_propensity(
    data: pd.DataFrame,
    treatment: str,
    covariates: Sequence[str],
    *,
    categorical: Sequence[str] | None = None,
    max_iter: int = 50,
    tol: float = 1e-10,
    threads: int | None = None,
) -> PropensityFit:
    """Fit the propensity score as a maximum-likelihood logistic regression.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit (treated and potential controls).
    treatment : str
        Column holding 1/True for treated and 0/False for controls.
    covariates : sequence of str
        Characteristics entering the model. Numeric columns enter as they are;
        object, string, category and bool columns (and those named in
        ``categorical``) enter as dummies with the first level as reference.
    categorical : sequence of str, optional
        Numeric covariates to treat as categorical (e.g. cohort year).
    max_iter : int, default 50
        Maximum number of IRLS iterations.
    tol : float, default 1e-10
        Convergence tolerance on the relative change in deviance,
        ``|dev - dev_old| / (|dev| + 0.1) < tol`` (R's ``glm.control`` rule;
        R's default ``epsilon`` is 1e-8).
    threads : int, optional
        Threads for the block-wise cross-products of large data (at most 4 are used);
        default: the budget of the calling context (:func:`regeval.stats.using_threads`,
        1 unless set). The result does not depend on it.

    Returns
    -------
    PropensityFit
        Coefficients with model-based standard errors, fitted scores and logits,
        AUC, deviances and diagnostics.

    Raises
    ------
    PropensityError
        If a column is missing or has missing values, the treatment is not 0/1,
        one group is empty, the model separates the groups (completely or
        quasi-completely), or the fit does not converge.

    Warns
    -----
    RegevalWarning
        When constant or aliased design columns are dropped.

    Notes
    -----
    This is the model of R's ``glm(treat ~ ..., family = binomial("logit"))`` as used
    by MatchIt's ``distance = "glm"`` (Ho, Imai, King & Stuart 2011; Rosenbaum & Rubin
    1983). IRLS starts from ``mu = (y + 1/2) / 2`` and stops on the relative deviance
    change, as ``glm.fit`` does; standard errors come from the inverse of ``X' W X``
    of the last iteration, as ``summary.glm`` computes them. On large, unbalanced data
    (at least 50,000 rows, more than 40 controls per treated unit) IRLS instead starts
    from a fit on all treated and a systematic sample of about 20 controls per treated
    unit, intercept-corrected for the sampling rate (Prentice & Pyke 1979; King & Zeng
    2001); the stopping rule and hence the estimate are unchanged, only fewer
    full-data iterations are needed. Aliased columns are found
    by scanning the centred design left to right and dropping a column whose variance
    is explained to within 1e-9 by the intercept and the columns kept before it; their
    coefficients are reported as ``NaN`` (R's ``NA``). Separation is checked before
    the fit for each single dummy and numeric term, and after the fit by the presence
    of fitted probabilities within ``10 * eps`` of 0 or 1 (R's warning condition).
    """
    with threadpool_limits(limits=1, user_api="blas"), using_threads(threads):
        return _fit_propensity(
            data, treatment, covariates, categorical=categorical, max_iter=max_iter, tol=tol
        )


def _fit_propensity(
    data: pd.DataFrame,
    treatment: str,
    covariates: Sequence[str],
    *,
    categorical: Sequence[str] | None,
    max_iter: int,
    tol: float,
) -> PropensityFit:
    covariates, y = _check_inputs(data, treatment, covariates, max_iter, tol)
    n = len(y)
    n_t = int(y.sum())
    n_c = n - n_t

    design = build_design(data, covariates, categorical=categorical)
    X, names = design_matrix(data, design)
    screen = _screen_columns(X, names, design)
    keep = screen.keep
    for m in screen.messages:
        warnings.warn(m, RegevalWarning, stacklevel=3)
    sum_sq = np.concatenate([[float(n)], np.diag(screen.C) + n * screen.mean[1:] ** 2])
    check_single_terms(X, y, screen.col_min, screen.col_max, screen.sum_x, sum_sq, names, design, keep)

    XtX = _kept_crossproducts(screen, n)
    Xk = _compact_columns(X, keep)
    eta_start = _warm_start(Xk, y, tol)
    beta, eta, mu, XtWX, iters, converged, dev = _irls(
        Xk, y, max_iter, tol, XtX=XtX, eta_start=eta_start
    )
    names_k = [names[j] for j in keep]
    if np.all(np.isfinite(beta)):
        eta = _linear_predictor(Xk, beta)
        mu = special.expit(eta)
    check_fit(Xk, y, beta, mu, dev, converged, iters, max_iter, names_k)

    p_bar = n_t / n
    null_dev = -2.0 * (n_t * math.log(p_bar) + n_c * math.log1p(-p_bar))
    return PropensityFit(
        coefficients=_coefficient_table(names, keep, beta, XtWX),
        score=np.ascontiguousarray(mu, dtype=np.float64),
        logit=np.ascontiguousarray(eta, dtype=np.float64),
        auc=_auc(mu, y),
        n_obs=n,
        n_treated=n_t,
        n_control=n_c,
        converged=converged,
        iterations=iters,
        deviance=dev,
        null_deviance=null_dev,
        aic=dev + 2.0 * len(keep),
        terms=tuple(names_k),
        dropped_terms=tuple(names[j] for j in sorted(screen.drop)),
        warnings=tuple(screen.messages),
        treatment=treatment,
        covariates=tuple(covariates),
        design=design,
        index=data.index,
    )
