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
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, special, stats
from threadpoolctl import threadpool_limits

from regeval.errors import PropensityError, RegevalWarning

__all__ = ["PropensityFit", "DesignColumn", "fit_propensity", "build_design"]

#: Rows per block when accumulating ``X' W X`` (bounded temporary memory).
_BLOCK_ROWS = 65_536
#: R's ``glm.fit`` calls a fitted probability "numerically 0 or 1" below ``10 * eps``.
_EPS_FITTED = 10 * np.finfo(float).eps
#: A design column is aliased when less than this share of its (centred) variance is
#: left after projecting it on the columns kept before it (R-squared > 1 - 1e-9).
_ALIAS_TOL = 1e-9
#: Warm start from a case-control subsample for large, unbalanced data (see
#: :func:`_warm_start`).
_WARM_MIN_ROWS = 50_000
_WARM_CONTROLS_PER_TREATED = 20
#: Threads over row blocks for the cross-products (each on a single BLAS thread):
#: on a shared machine multi-threaded BLAS on small blocks slows down badly.
_N_WORKERS = max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class DesignColumn:
    """How one input column enters the design matrix.

    Attributes
    ----------
    column : str
        Name of the column in the input DataFrame.
    kind : {"numeric", "categorical"}
        ``"numeric"`` enters as one column; ``"categorical"`` as one dummy per
        non-reference level.
    levels : tuple
        For categorical columns, all levels in order (the first is the reference).
    terms : tuple of str
        Names of the design columns this input column produces (R's naming:
        column name followed by the level, e.g. ``racehispan``).
    """

    column: str
    kind: str
    levels: tuple[Any, ...] = ()
    terms: tuple[str, ...] = ()


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
        _check_columns(newdata, list(self.covariates), what="covariate")
        _check_missing(newdata, list(self.covariates))
        X, names = _design_matrix(newdata, self.design)
        est = self.coefficients.set_index("term")["estimate"]
        keep = [i for i, t in enumerate(names) if t in self.terms]
        beta = est.loc[[names[i] for i in keep]].to_numpy(dtype=float)
        eta = _linear_predictor(np.asfortranarray(X[:, keep]), beta)
        return eta if linear else special.expit(eta)


# --------------------------------------------------------------------------- design


def _is_categorical_dtype(s: pd.Series) -> bool:
    dt = s.dtype
    return (
        isinstance(dt, pd.CategoricalDtype)
        or pd.api.types.is_bool_dtype(dt)
        or pd.api.types.is_object_dtype(dt)
        or pd.api.types.is_string_dtype(dt)
    )


def _level_label(level: Any) -> str:
    if isinstance(level, (bool, np.bool_)):
        return "TRUE" if level else "FALSE"
    if isinstance(level, (float, np.floating)) and float(level).is_integer():
        return str(int(level))
    return str(level)


def _levels_of(s: pd.Series) -> tuple[Any, ...]:
    if isinstance(s.dtype, pd.CategoricalDtype):
        used = set(pd.unique(s.dropna()))
        return tuple(c for c in s.cat.categories if c in used)
    values = pd.unique(s.dropna())
    try:
        return tuple(sorted(values))
    except TypeError:
        return tuple(sorted(values, key=str))


def build_design(
    data: pd.DataFrame,
    covariates: Sequence[str],
    *,
    categorical: Sequence[str] | None = None,
) -> tuple[DesignColumn, ...]:
    """Work out how each covariate enters the design matrix.

    Parameters
    ----------
    data : pandas.DataFrame
        Input rows.
    covariates : sequence of str
        Columns of the model.
    categorical : sequence of str, optional
        Columns to treat as categorical even if numeric (e.g. a cohort year).
        Object, string, category and bool columns are always categorical.

    Returns
    -------
    tuple of DesignColumn
        One entry per covariate, in the given order.

    Notes
    -----
    Levels are sorted like R sorts factor levels (numerically or alphabetically),
    except for ``pandas.Categorical`` columns, whose category order is kept; levels
    that do not occur are dropped (R's ``droplevels``). The first level is the
    reference. Dummies are named as R names them: column name followed by the level
    (``race`` + ``hispan`` -> ``racehispan``; booleans give ``...TRUE``).
    """
    forced = set(categorical or ())
    unknown = forced - set(covariates)
    if unknown:
        raise PropensityError(
            f"categorical={sorted(unknown)!r} names columns that are not covariates; "
            f"valid names are the covariates {list(covariates)!r}"
        )
    out = []
    for col in covariates:
        s = data[col]
        if col in forced or _is_categorical_dtype(s):
            levels = _levels_of(s)
            terms = tuple(f"{col}{_level_label(lv)}" for lv in levels[1:])
            out.append(DesignColumn(col, "categorical", levels, terms))
        else:
            if not pd.api.types.is_numeric_dtype(s.dtype):
                raise PropensityError(
                    f"covariate {col!r} has dtype {s.dtype} which is neither numeric nor "
                    "categorical; convert it or name it in categorical="
                )
            out.append(DesignColumn(col, "numeric", (), (col,)))
    return tuple(out)


def _design_matrix(
    data: pd.DataFrame, design: Sequence[DesignColumn]
) -> tuple[np.ndarray, list[str]]:
    """Build the float64 design matrix (intercept first) for ``design``."""
    n = len(data)
    p = 1 + sum(len(d.terms) for d in design)
    # column-major: every column is written (and later scanned) contiguously
    X = np.zeros((n, p), dtype=np.float64, order="F")
    X[:, 0] = 1.0
    names = ["(Intercept)"]
    j = 1
    for d in design:
        s = data[d.column]
        if d.kind == "numeric":
            X[:, j] = s.to_numpy(dtype=np.float64)
        else:
            # factorize once (fast on Arrow strings), then map the few uniques to levels
            ucodes, uniques = pd.factorize(s, use_na_sentinel=True)
            ulevel = pd.Index(list(d.levels), dtype=object).get_indexer(
                np.asarray(uniques, dtype=object)
            )
            codes = np.where(ucodes >= 0, np.append(ulevel, -1)[ucodes], -1)
            bad = (codes < 0) & s.notna().to_numpy()
            if bad.any():
                unseen = sorted({str(v) for v in s[bad].unique()})
                raise PropensityError(
                    f"covariate {d.column!r} holds level(s) {unseen[:10]} not seen when the "
                    f"model was fitted (known levels: {[str(v) for v in d.levels]})"
                )
            rows = np.flatnonzero(codes > 0)
            X[rows, j - 1 + codes[rows]] = 1.0
        names.extend(d.terms)
        j += len(d.terms)
    return X, names


# --------------------------------------------------------------------------- checks


def _check_columns(data: pd.DataFrame, cols: Sequence[str], *, what: str) -> None:
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise PropensityError(
            f"{what} column(s) {missing!r} not in data; available columns: "
            f"{list(map(str, data.columns))[:30]!r}"
        )


def _check_missing(data: pd.DataFrame, cols: Sequence[str]) -> None:
    for c in cols:
        n_na = int(data[c].isna().sum())
        if n_na:
            raise PropensityError(
                f"column {c!r} has {n_na} missing value(s) of {len(data)} rows; the "
                "propensity model needs complete data: impute, add a missing-indicator "
                "level, or drop those rows before fitting"
            )


def _treatment_vector(data: pd.DataFrame, treatment: str) -> np.ndarray:
    s = data[treatment]
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.to_numpy(dtype=np.float64)
    if not pd.api.types.is_numeric_dtype(s.dtype):
        raise PropensityError(
            f"treatment column {treatment!r} has dtype {s.dtype}; it must be 0/1 or bool"
        )
    y = s.to_numpy(dtype=np.float64)
    bad = ~np.isin(y, (0.0, 1.0))
    if bad.any():
        vals = sorted(set(np.unique(y[bad]).tolist()))[:5]
        raise PropensityError(
            f"treatment column {treatment!r} must hold only 0/1 (or bool); found "
            f"{int(bad.sum())} row(s) with other values, e.g. {vals}"
        )
    return y


# --------------------------------------------------------------------------- numerics


def _gram(X: np.ndarray, w: np.ndarray | None = None, center: np.ndarray | None = None) -> np.ndarray:
    """Return ``(X - c)' diag(w) (X - c)`` accumulated over row blocks.

    Blocks are spread over a small thread pool, each product running on one BLAS
    thread (see :func:`_single_blas_thread`); partial sums are added in block order,
    so the result does not depend on the number of threads.
    """
    n, p = X.shape

    def block(start: int) -> np.ndarray:
        B = X[start : start + _BLOCK_ROWS]
        if center is not None:
            B = B - center
        if w is None:
            return B.T @ B
        return B.T @ (B * w[start : start + _BLOCK_ROWS, None])

    starts = range(0, n, _BLOCK_ROWS)
    if n >= 4 * _BLOCK_ROWS and _N_WORKERS > 1:
        with ThreadPoolExecutor(max_workers=_N_WORKERS) as ex:
            parts = list(ex.map(block, starts))
    else:
        parts = [block(s) for s in starts]
    G = np.zeros((p, p))
    for part in parts:
        G += part
    return G


def _column_summaries(
    X: np.ndarray, y: np.ndarray, col_min: np.ndarray, col_max: np.ndarray, columns: np.ndarray
) -> dict[str, np.ndarray]:
    """Minimum and maximum among treated and among controls of the given columns."""
    treated = y > 0
    Xt = X[treated]
    min_t, max_t = Xt.min(axis=0), Xt.max(axis=0)
    min_c, max_c = col_min.copy(), col_max.copy()
    # the overall extreme is the controls' unless a treated unit attains it
    for j in columns:
        if min_t[j] == col_min[j] or max_t[j] == col_max[j]:
            xc = X[~treated, j]
            min_c[j], max_c[j] = xc.min(), xc.max()
    return {"min_t": min_t, "max_t": max_t, "min_c": min_c, "max_c": max_c}


def _aliased_columns(C: np.ndarray, constant: set[int]) -> list[int]:
    """Indices (into ``C``) of columns that are linear combinations of earlier ones.

    ``C`` is the centred cross-product matrix of the non-intercept columns. A column
    is aliased when less than ``_ALIAS_TOL`` of its centred sum of squares is left
    after projecting it on the intercept and the columns kept before it (scanning
    left to right, as R's pivoting QR does).
    """
    var = np.diag(C)
    kept: list[int] = []
    aliased: list[int] = []
    for j in range(len(var)):
        if j in constant:
            continue
        if kept:
            ckj = C[kept, j]
            try:
                coef = linalg.solve(C[np.ix_(kept, kept)], ckj, assume_a="pos")
                resid = var[j] - ckj @ coef
            except (linalg.LinAlgError, ValueError):
                resid = 0.0
            if resid <= _ALIAS_TOL * var[j]:
                aliased.append(j)
                continue
        kept.append(j)
    return aliased


def _linear_predictor(X: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """``X @ beta`` summed row by row in a fixed order.

    A BLAS matrix-vector product may add up different rows in different orders, so
    two rows with identical covariates could get scores differing in the last bit;
    matching ties and eCDF statistics need identical rows to get identical scores.
    """
    out = np.empty(X.shape[0])
    for start in range(0, X.shape[0], _BLOCK_ROWS):
        B = X[start : start + _BLOCK_ROWS]
        out[start : start + len(B)] = (B * beta).sum(axis=1)
    return out


def _deviance(y: np.ndarray, mu: np.ndarray, treated: np.ndarray | None = None) -> float:
    """Binomial deviance ``-2 * sum(y log mu + (1 - y) log(1 - mu))``."""
    if treated is None:
        treated = np.flatnonzero(y > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = np.log1p(-mu)
        ll[treated] = np.log(mu[treated])
        total = ll.sum()
    return float(-2.0 * total)


def _irls(
    X: np.ndarray,
    y: np.ndarray,
    max_iter: int,
    tol: float,
    XtX: np.ndarray | None = None,
    eta_start: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, bool, float]:
    """Fit a logit by IRLS with R's ``glm.fit`` starting values and stopping rule.

    ``eta_start`` replaces glm's start ``mu = (y + 1/2) / 2`` by a given linear
    predictor. Returns ``beta, eta, mu, XtWX_last, iterations, converged, deviance``.
    """
    treated = np.flatnonzero(y > 0)
    if eta_start is None:
        mu = (y + 0.5) / 2.0
        eta = np.log(mu / (1.0 - mu))
    else:
        eta = eta_start
        mu = special.expit(eta)
        XtX = None  # the first weights are not constant
    dev_old = _deviance(y, mu, treated)
    converged = False
    it = 0
    beta = np.zeros(X.shape[1])
    XtWX = np.eye(X.shape[1])
    dev = dev_old
    for it in range(1, max_iter + 1):
        w = mu * (1.0 - mu)
        if it > 1 and not np.all(w > 0):
            # fitted probabilities exactly 0 or 1: the estimates are running off to
            # infinity (separation); stop and let the caller report it
            it -= 1
            break
        z = eta + (y - mu) / w
        if it == 1 and XtX is not None:
            XtWX = XtX * w[0]  # every unit starts with the same weight 0.1875
        else:
            XtWX = _gram(X, w)
        rhs = X.T @ (w * z)
        try:
            cf = linalg.cho_factor(XtWX, lower=False, check_finite=False)
            beta = linalg.cho_solve(cf, rhs, check_finite=False)
        except linalg.LinAlgError:
            beta = linalg.lstsq(XtWX, rhs, check_finite=False)[0]
        eta = X @ beta
        mu = special.expit(eta)
        dev = _deviance(y, mu, treated)
        if not np.isfinite(dev):
            break
        if abs(dev - dev_old) / (abs(dev) + 0.1) < tol:
            converged = True
            break
        dev_old = dev
    return beta, eta, mu, XtWX, it, converged, dev


def _warm_start(X: np.ndarray, y: np.ndarray, tol: float) -> np.ndarray | None:
    """Starting linear predictor from a case-control subsample, or None.

    Used for large, unbalanced data only (at least ``_WARM_MIN_ROWS`` rows and more
    than ``2 * _WARM_CONTROLS_PER_TREATED`` controls per treated unit): the logit is
    first fitted on all treated units and every s-th control (about
    ``_WARM_CONTROLS_PER_TREATED`` per treated unit, in row order), and the intercept
    is corrected by the log of the control sampling rate, which makes the subsample
    slopes and intercept estimates of the full-data ones (Prentice & Pyke 1979; King &
    Zeng 2001). The full-data IRLS then starts there and stops by the same rule, so
    only the path changes, not the estimate. ``None`` (glm's default start) when the
    data are small or balanced, or the subsample fit is not clean.
    """
    n = len(y)
    treated = np.flatnonzero(y > 0)
    n_t = len(treated)
    n_c = n - n_t
    if n < _WARM_MIN_ROWS or n_t == 0 or n_c <= 2 * _WARM_CONTROLS_PER_TREATED * n_t:
        return None
    controls = np.flatnonzero(y == 0)
    step = n_c // (_WARM_CONTROLS_PER_TREATED * n_t)
    sampled = controls[::step]
    rows = np.sort(np.concatenate([treated, sampled]))
    Xs = np.asfortranarray(X[rows])
    with np.errstate(all="ignore"):
        beta, _, mu, _, _, converged, dev = _irls(Xs, y[rows], 50, max(tol, 1e-8))
    if (
        not converged
        or not np.all(np.isfinite(beta))
        or np.any((mu < 1e-8) | (mu > 1.0 - 1e-8))
    ):
        return None
    beta = beta.copy()
    beta[0] += math.log(len(sampled) / n_c)
    return X @ beta


def _auc(score: np.ndarray, y: np.ndarray) -> float:
    """Mann-Whitney AUC: P(score_treated > score_control) + P(equal) / 2.

    Sorts only the smaller group and locates the larger one in it by binary search
    (O(n log n_small) instead of ranking all n scores).
    """
    st = score[y > 0]
    sc = score[y == 0]
    small, large, flip = (st, sc, False) if len(st) <= len(sc) else (sc, st, True)
    small = np.sort(small)
    below = np.searchsorted(small, large, side="left")  # small values < each large value
    upto = np.searchsorted(small, large, side="right")  # small values <= each large value
    # pairs (large, small) with large > small count below; ties count one half
    wins_large = below.sum() + 0.5 * (upto - below).sum()
    total = float(len(st)) * float(len(sc))
    wins_treated = (total - wins_large) if not flip else wins_large
    return float(wins_treated / total)


# --------------------------------------------------------------------------- separation


def _single_term_separation(
    summ: dict[str, np.ndarray],
    sum_x: np.ndarray,
    sum_xy: np.ndarray,
    is_binary: np.ndarray,
    n1: int,
    n0: int,
    names: list[str],
    design: Sequence[DesignColumn],
    keep: list[int],
) -> list[str]:
    """Describe every kept design column that on its own separates treated and controls."""
    term_to_col = {t: (d.column, lv) for d in design for t, lv in zip(d.terms, d.levels[1:])}
    problems = []
    for j in keep:
        if j == 0:
            continue
        name = names[j]
        if is_binary[j]:
            t1 = int(round(sum_xy[j]))
            c1 = int(round(sum_x[j] - sum_xy[j]))
            t0 = n1 - t1
            c0 = n0 - c1
            if name in term_to_col:
                c, lv = term_to_col[name]
                label = f"level {_level_label(lv)!r} of {c!r}"
            else:
                label = f"{name!r} = 1"
            if t1 == 0 and c1 > 0:
                problems.append(f"{label} occurs only among controls ({c1} controls, 0 treated)")
            elif c1 == 0 and t1 > 0:
                problems.append(f"{label} occurs only among treated ({t1} treated, 0 controls)")
            elif t0 == 0:
                problems.append(f"every treated unit has {label} ({t1} treated; {c1} of {n0} controls)")
            elif c0 == 0:
                problems.append(f"every control has {label} ({c1} controls; {t1} of {n1} treated)")
        else:
            lo_t, hi_t, lo_c, hi_c = (summ[k][j] for k in ("min_t", "max_t", "min_c", "max_c"))
            if hi_t < lo_c or hi_c < lo_t:
                problems.append(
                    f"{name!r} separates the groups completely (treated range "
                    f"[{lo_t:g}, {hi_t:g}], controls [{lo_c:g}, {hi_c:g}])"
                )
            elif hi_t <= lo_c or hi_c <= lo_t:
                edge = hi_t if hi_t <= lo_c else lo_t
                problems.append(
                    f"{name!r} separates the groups except at the single value {edge:g} "
                    f"(treated range [{lo_t:g}, {hi_t:g}], controls [{lo_c:g}, {hi_c:g}])"
                )
    return problems


_FIX_HINT = (
    "The logit has no finite maximum likelihood estimate, so its scores would be "
    "meaningless. Merge the offending level(s) with a neighbouring level, coarsen or "
    "drop the characteristic, or restrict the population to where both groups occur."
)


# --------------------------------------------------------------------------- public API


def fit_propensity(
    data: pd.DataFrame,
    treatment: str,
    covariates: Sequence[str],
    *,
    categorical: Sequence[str] | None = None,
    max_iter: int = 50,
    tol: float = 1e-10,
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
    with threadpool_limits(limits=1, user_api="blas"):
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
    _check_columns(data, [treatment], what="treatment")
    _check_columns(data, covariates, what="covariate")
    _check_missing(data, [treatment, *covariates])
    y = _treatment_vector(data, treatment)
    n = len(y)
    n_t = int(y.sum())
    n_c = n - n_t
    if n_t == 0 or n_c == 0:
        raise PropensityError(
            f"treatment column {treatment!r} has {n_t} treated and {n_c} control rows; "
            "both groups are needed"
        )

    design = build_design(data, covariates, categorical=categorical)
    X, names = _design_matrix(data, design)
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
    for m in msgs:
        warnings.warn(m, RegevalWarning, stacklevel=3)

    sum_sq = np.concatenate([[float(n)], np.diag(C) + n * mean[1:] ** 2])
    is_binary = (
        np.isin(col_min, (0.0, 1.0))
        & np.isin(col_max, (0.0, 1.0))
        & np.isclose(sum_sq, sum_x, rtol=1e-9, atol=1e-9)
    )
    sum_xy = X.T @ y
    summ = _column_summaries(X, y, col_min, col_max, np.flatnonzero(~is_binary))
    problems = _single_term_separation(
        summ, sum_x, sum_xy, is_binary, n_t, n_c, names, design, keep
    )
    if problems:
        raise PropensityError(
            "propensity model: separation of treated and controls by "
            + "; ".join(problems)
            + ". "
            + _FIX_HINT
        )

    # X'X of the kept columns, rebuilt from the centred cross-products
    ck = [j - 1 for j in keep[1:]]
    XtX = np.empty((len(keep), len(keep)))
    XtX[0, 0] = n
    XtX[0, 1:] = XtX[1:, 0] = sum_x[keep[1:]]
    XtX[1:, 1:] = C[np.ix_(ck, ck)] + n * np.outer(mean[keep[1:]], mean[keep[1:]])
    if drop:  # compact the kept columns in place (no second copy of the design)
        for pos, j in enumerate(keep):
            if pos != j:
                X[:, pos] = X[:, j]
        X = X[:, : len(keep)]
    Xk = X
    eta_start = _warm_start(Xk, y, tol)
    beta, eta, mu, XtWX, iters, converged, dev = _irls(
        Xk, y, max_iter, tol, XtX=XtX, eta_start=eta_start
    )
    names_k = [names[j] for j in keep]
    if np.all(np.isfinite(beta)):
        eta = _linear_predictor(Xk, beta)
        mu = special.expit(eta)

    if not np.all(np.isfinite(beta)) or not np.isfinite(dev):
        raise PropensityError(
            f"propensity model: the fit diverged (non-finite coefficients) with terms "
            f"{names_k[1:]}; the characteristics probably separate treated and controls. "
            + _FIX_HINT
        )
    extreme = (mu < _EPS_FITTED) | (mu > 1.0 - _EPS_FITTED)
    if extreme.any() or not converged:
        std_coef = np.abs(beta) * np.array([Xk[:, j].std() for j in range(Xk.shape[1])])
        order = np.argsort(-std_coef[1:]) + 1
        top = std_coef[order[0]] if len(order) else 0.0
        big = [names_k[j] for j in order if std_coef[j] >= 0.25 * top][:8]
        n_ext_t = int((extreme & (y > 0)).sum())
        n_ext_c = int((extreme & (y == 0)).sum())
        if extreme.any():
            raise PropensityError(
                f"propensity model: fitted probabilities numerically 0 or 1 for {n_ext_t} "
                f"treated and {n_ext_c} controls (quasi-complete separation); the terms with "
                f"the largest standardised coefficients are {big}. " + _FIX_HINT
            )
        raise PropensityError(
            f"propensity model did not converge in {iters} iterations (max_iter={max_iter}); "
            f"largest standardised coefficients: {big}. Increase max_iter, rescale covariates, "
            "or check for near-separation."
        )

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

    p_bar = n_t / n
    null_dev = -2.0 * (n_t * math.log(p_bar) + n_c * math.log1p(-p_bar))
    return PropensityFit(
        coefficients=coef,
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
        dropped_terms=tuple(names[j] for j in sorted(drop)),
        warnings=tuple(msgs),
        treatment=treatment,
        covariates=tuple(covariates),
        design=design,
        index=data.index,
    )
