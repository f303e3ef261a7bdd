"""Effect estimation on a matched sample: weighted least squares with robust variances.

The method (KLAPjob; see ``docs/effects.md``): for each outcome and each year relative
to start, regress the outcome on the treatment indicator, background characteristics
and the outcome in the year before start, weighting every matched unit by its matching
weight, and report the treatment coefficient with a 95 % confidence interval and stars.

Layers, from the bottom up:

* :func:`fit_wls` -- one weighted least-squares fit on arrays with an ``iid``, ``HC1``,
  ``HC3`` or cluster-robust ``CR1`` (one- or two-way) covariance, defined exactly as
  R's ``lm`` + ``sandwich::vcovHC`` / ``sandwich::vcovCL``, or ``CR1-SATT``: ``CR1``
  with the treated units' error variance taken from the controls, the variance of the
  estimate around the sample ATT (see ``docs/effects.md``).
* :func:`estimate_effect` -- the treatment coefficient from one DataFrame.
* :func:`estimate_effects` -- one tidy row per (outcome, relative year) from a long
  matched panel; :func:`group_means` -- the weighted levels per group;
  :func:`window_summary` -- the average effect over a window of years.
* :func:`effect_figure`, :func:`levels_figure` -- event-time figures (no file I/O).

The module is pure pandas/numpy; it knows nothing about registers or Snakemake.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np
import pandas as pd
from scipy import linalg as sla
from scipy import sparse
from scipy import stats

from regeval.errors import EstimationError, RegevalWarning

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure

__all__ = [
    "CiDist",
    "EffectEstimate",
    "VcovType",
    "WLSFit",
    "effect_figure",
    "estimate_effect",
    "estimate_effects",
    "fit_wls",
    "group_means",
    "levels_figure",
    "stars_for",
    "window_summary",
]

VcovType = Literal["iid", "HC1", "HC3", "CR1", "CR1-SATT"]
"""Allowed covariance types (see :func:`fit_wls`)."""

CiDist = Literal["normal", "t"]
"""Reference distribution of confidence intervals and p-values."""

VCOV_TYPES: tuple[str, ...] = get_args(VcovType)
#: Covariance types that cluster (on ``cluster``).
CLUSTERED_VCOVS: tuple[str, ...] = ("CR1", "CR1-SATT")
CI_DISTS: tuple[str, ...] = get_args(CiDist)

#: Relative tolerance of the aliasing check, as in R's ``lm.fit`` (``qr(tol = 1e-7)``).
ALIAS_TOL: float = 1e-7

#: Name of the intercept column in designs built by this module (R's spelling).
INTERCEPT: str = "(Intercept)"

#: Star thresholds: p below the first value gets the second (checked in order).
STAR_THRESHOLDS: tuple[tuple[float, str], ...] = ((0.001, "***"), (0.01, "**"), (0.05, "*"))


# --------------------------------------------------------------------------------------
# result objects
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class WLSFit:
    """Result of :func:`fit_wls`.

    Attributes
    ----------
    params : numpy.ndarray
        Coefficients of the kept (non-aliased) columns, in design order.
    bse : numpy.ndarray
        Standard errors (square roots of the diagonal of ``vcov``; ``nan`` where the
        variance is negative, which two-way clustering can produce).
    vcov : numpy.ndarray
        Covariance matrix of ``params`` of the requested type.
    vcov_type : str
        ``"iid"``, ``"HC1"``, ``"HC3"``, ``"CR1"`` or ``"CR1-SATT"``.
    nobs : int
        Number of rows used (positive weight), ``n``.
    df_resid : int
        ``n - k`` with ``k`` the number of kept columns.
    n_clusters : int or None
        Number of clusters of the (first) cluster variable (``None`` unless ``CR1`` or
        ``CR1-SATT``).
    n_clusters2 : int or None
        Number of clusters of the second cluster variable (two-way clustering only).
    names : tuple of str
        Names of the kept columns (same order as ``params``).
    dropped : tuple of str
        Names of the columns dropped because they were aliased (collinear).
    """

    params: np.ndarray
    bse: np.ndarray
    vcov: np.ndarray
    vcov_type: str
    nobs: int
    df_resid: int
    n_clusters: int | None
    n_clusters2: int | None
    names: tuple[str, ...]
    dropped: tuple[str, ...] = ()

    def index(self, name: str) -> int:
        """Position of the kept column ``name`` in ``params``."""
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(
                f"column {name!r} is not among the fitted columns {list(self.names)}"
                + (f" (dropped as aliased: {list(self.dropped)})" if self.dropped else "")
            ) from None

    def coef(self, name: str) -> float:
        """Coefficient of the column ``name``."""
        return float(self.params[self.index(name)])

    def se(self, name: str) -> float:
        """Standard error of the coefficient of ``name``."""
        return float(self.bse[self.index(name)])

    @property
    def df_inference(self) -> int:
        """Degrees of freedom for t-based inference: ``G - 1`` when clustered (the
        smaller dimension for two-way clustering), else ``df_resid``."""
        if self.vcov_type in CLUSTERED_VCOVS and self.n_clusters is not None:
            g = self.n_clusters if self.n_clusters2 is None else min(self.n_clusters, self.n_clusters2)
            return int(g) - 1
        return int(self.df_resid)


@dataclass(frozen=True, eq=False)
class EffectEstimate:
    """Treatment effect from one weighted regression (:func:`estimate_effect`).

    Attributes
    ----------
    outcome, treatment : str
        Column names.
    estimate, se, ci_low, ci_high, p_value : float
        Treatment coefficient, its standard error, the ``1 - alpha`` Wald interval and
        the two-sided p-value.
    stars : str
        ``""``, ``"*"``, ``"**"`` or ``"***"`` for p < .05 / .01 / .001.
    n_treated, n_control : int
        Persons (distinct cluster ids; rows when no cluster is given) with positive
        weight and a non-missing outcome, by group.
    n_obs : int
        Rows used in the regression.
    n_clusters : int or None
        Clusters used by ``CR1``.
    vcov : str
        Covariance type.
    alpha : float
        1 - confidence level.
    ci_dist : str
        ``"normal"`` or ``"t"``.
    mean_treated, mean_control : float
        Weighted means of the outcome by group in the estimation sample.
    n_missing_outcome : int
        Rows with positive weight dropped because the outcome is missing.
    fit : WLSFit
        The full fit (all coefficients and their covariance).
    """

    outcome: str
    treatment: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    stars: str
    n_treated: int
    n_control: int
    n_obs: int
    n_clusters: int | None
    vcov: str
    alpha: float
    ci_dist: str
    mean_treated: float
    mean_control: float
    n_missing_outcome: int
    fit: WLSFit = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The scalar fields as a dict (without ``fit``)."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "fit"}


# --------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------


def _check_choice(name: str, value: object, allowed: Iterable[object]) -> None:
    allowed = tuple(allowed)
    if value not in allowed:
        raise EstimationError(
            f"{name}={value!r} is not valid; use one of {', '.join(repr(a) for a in allowed)}"
        )


def _check_alpha(alpha: float) -> None:
    if not (isinstance(alpha, (int, float)) and 0.0 < float(alpha) < 1.0):
        raise EstimationError(f"alpha={alpha!r} must be a number strictly between 0 and 1 (e.g. 0.05)")


def stars_for(p: float) -> str:
    """Significance stars: ``"***"`` p < .001, ``"**"`` p < .01, ``"*"`` p < .05, else ``""``.

    A missing (``nan``) p-value gets no star. Thresholds are strict (p = 0.05 gets none).
    """
    if p is None or not np.isfinite(p):
        return ""
    for threshold, mark in STAR_THRESHOLDS:
        if p < threshold:
            return mark
    return ""


def _wald(
    est: float, se: float, alpha: float, ci_dist: str, df: int | None
) -> tuple[float, float, float]:
    """Wald interval and two-sided p-value; ``nan`` when ``se`` is not positive and finite."""
    if not (np.isfinite(est) and np.isfinite(se) and se > 0):
        return math.nan, math.nan, math.nan
    z = est / se
    if ci_dist == "t":
        if df is None or df < 1:
            return math.nan, math.nan, math.nan
        q = float(stats.t.ppf(1.0 - alpha / 2.0, df))
        p = float(2.0 * stats.t.sf(abs(z), df))
    else:
        q = float(stats.norm.ppf(1.0 - alpha / 2.0))
        p = float(2.0 * stats.norm.sf(abs(z)))
    return est - q * se, est + q * se, p


def _codes(values: np.ndarray | pd.Series) -> tuple[np.ndarray, int]:
    """Integer codes 0..G-1 of a cluster variable (raises on missing ids)."""
    codes, uniques = pd.factorize(pd.Series(values), sort=False, use_na_sentinel=True)
    if (codes < 0).any():
        raise EstimationError(
            f"cluster variable has {int((codes < 0).sum())} missing value(s) among the rows used; "
            "give every row a cluster id (e.g. the person id) or drop those rows"
        )
    return codes.astype(np.intp, copy=False), len(uniques)


def _intersect_codes(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes of the intersection a x b of two code vectors."""
    key = a.astype(np.int64) * (int(b.max()) + 1 if b.size else 1) + b.astype(np.int64)
    return _codes(key)


class _Grouping:
    """One cluster variable: a sparse G x n indicator whose non-zeros can be rescaled,
    so that ``sum_{i in g} v_i x_i`` for all clusters is one sparse-dense product
    (no n x k temporary)."""

    __slots__ = ("n_groups", "_order", "_mat")

    def __init__(self, codes: np.ndarray, n_groups: int) -> None:
        n = codes.shape[0]
        self.n_groups = int(n_groups)
        self._order = np.argsort(codes, kind="stable")
        indptr = np.zeros(self.n_groups + 1, dtype=np.int64)
        np.cumsum(np.bincount(codes, minlength=self.n_groups), out=indptr[1:])
        self._mat = sparse.csr_matrix((np.ones(n), self._order, indptr), shape=(self.n_groups, n))

    def wsum(self, X: np.ndarray, v: np.ndarray) -> np.ndarray:
        """``S[g] = sum_{i in g} v_i X[i]`` (shape (G, k), or (G,) for 1-d ``X``)."""
        self._mat.data = v[self._order]
        return np.asarray(self._mat @ X)


class _Clusters:
    """Cluster structure of one sample (one- or two-way), built once and reused."""

    __slots__ = ("n_groups", "n_groups2", "n_groups12", "terms")

    def __init__(self, codes: np.ndarray, n_groups: int, codes2: np.ndarray | None = None,
                 n_groups2: int | None = None) -> None:
        self.n_groups = int(n_groups)
        self.n_groups2 = None if codes2 is None else int(n_groups2 or 0)
        # (sign, grouping): vcovCL adds the meat of each variable and subtracts the
        # meat of their intersection, each with its own G/(G-1)
        self.terms: list[tuple[float, _Grouping]] = [(1.0, _Grouping(codes, n_groups))]
        self.n_groups12 = None
        if codes2 is not None:
            codes12, g12 = _intersect_codes(codes, codes2)
            self.n_groups12 = g12
            self.terms.append((1.0, _Grouping(codes2, self.n_groups2)))
            self.terms.append((-1.0, _Grouping(codes12, g12)))

    def meat(self, X: np.ndarray, v: np.ndarray, extra: np.ndarray | None = None) -> np.ndarray:
        """``sum_terms sign * G/(G-1) * S'S`` with ``S`` the cluster sums of ``v_i x_i``
        (``x_i`` = row of ``X``, followed by ``extra_i`` if given)."""
        k = X.shape[1] + (extra is not None)
        out = np.zeros((k, k))
        for sign, grouping in self.terms:
            S = grouping.wsum(X, v)
            if extra is not None:
                S = np.column_stack([S, grouping.wsum(extra, v)])
            g = grouping.n_groups
            out += sign * (g / (g - 1) if g > 1 else math.nan) * (S.T @ S)
        return out


# --------------------------------------------------------------------------------------
# the numerical core
# --------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Base:
    """QR of the weighted design ``sqrt(W) X`` after dropping aliased columns.

    Computed once per design and reused: by :func:`fit_wls` directly, and by the panel
    functions for every outcome that shares the estimation sample, where the outcome's
    baseline is appended as one extra column (a QR column update, see :func:`_solve`).
    """

    X: np.ndarray  # (n, k) kept columns, unscaled
    w: np.ndarray
    sw: np.ndarray
    Q: np.ndarray  # (n, k)
    R: np.ndarray  # (k, k) upper triangular
    names: list[str]
    dropped: list[str]
    clusters: _Clusters | None
    _h: np.ndarray | None = None

    @property
    def h(self) -> np.ndarray:
        """Leverages of the kept design (diagonal of the weighted hat matrix)."""
        if self._h is None:
            self._h = np.einsum("ij,ij->i", self.Q, self.Q)
        return self._h


@dataclass(frozen=True, eq=False)
class _Core:
    params: np.ndarray
    vcov: np.ndarray
    bread: np.ndarray  # (X'WX)^-1
    scores: np.ndarray | None  # x_i w_i e_i, rows in sample order (kept for joint covariances)
    nobs: int
    k: int
    names: list[str]
    dropped: list[str]


def _qr(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    Q, R = sla.qr(A, mode="economic", check_finite=False)
    return Q, R


def _make_base(
    X: np.ndarray,
    w: np.ndarray,
    names: Sequence[str],
    clusters: _Clusters | None,
    protect: Sequence[str] = (),
) -> _Base:
    """Householder QR of ``sqrt(W) X``, dropping aliased columns one at a time.

    R's rule (``lm``/``dqrdc2``): a column whose component orthogonal to the columns
    *before* it has norm below ``ALIAS_TOL`` times its own norm is aliased. The first
    such column is dropped and the QR repeated, so a column is never dropped because of
    an earlier aliased one. Columns in ``protect`` raise :class:`EstimationError`.
    """
    sw = np.sqrt(w)
    keep = list(range(X.shape[1]))
    dropped: list[str] = []
    while True:
        if not keep:
            raise EstimationError("the design has no columns left after dropping aliased ones")
        Xk = X[:, keep] if len(keep) != X.shape[1] else X
        Xs = Xk * sw[:, None]
        Q, R = _qr(Xs)
        diag = np.abs(np.diag(R))
        norms = np.sqrt(np.einsum("ij,ij->j", Xs, Xs))
        bad = np.flatnonzero(diag <= ALIAS_TOL * norms)
        if not bad.size:
            return _Base(Xk, w, sw, Q, R, [names[j] for j in keep], dropped, clusters)
        j = keep[int(bad[0])]
        if names[j] in protect:
            raise EstimationError(
                f"column {names[j]!r} is aliased (a linear combination of the columns before it, "
                "e.g. constant in the estimation sample: only treated or only controls); "
                "its coefficient cannot be estimated"
            )
        keep.remove(j)
        dropped.append(names[j])


def _solve(
    base: _Base,
    y: np.ndarray,
    vcov: str,
    *,
    extra: np.ndarray | None = None,
    extra_name: str = "",
    keep_scores: bool = False,
    treat_col: int | None = None,
) -> _Core:
    """WLS of ``y`` on the base design (plus an optional extra column appended last).

    ``treat_col`` is the position of the 0/1 treatment column among the base's kept
    columns; ``vcov="CR1-SATT"`` needs it (see :func:`_satt_correction`).

    The extra column is added by a QR column update: its weighted version is
    orthogonalised against the base ``Q`` (two classical Gram-Schmidt passes, which
    is numerically as good as Householder for one column), giving
    ``Q = [Q0, q]`` and ``R = [[R0, c], [0, rho]]``. It is dropped as aliased when
    ``rho`` is below ``ALIAS_TOL`` times its norm, exactly as it would be in a QR of the
    full design.
    """
    Q0, R0, sw, w = base.Q, base.R, base.sw, base.w
    names = list(base.names)
    dropped = list(base.dropped)
    ys = y * sw
    X = base.X
    q = None
    if extra is not None:
        es = extra * sw
        c = Q0.T @ es
        r = es - Q0 @ c
        c2 = Q0.T @ r
        r -= Q0 @ c2
        c += c2
        rho = float(np.sqrt(np.dot(r, r)))
        if rho <= ALIAS_TOL * float(np.sqrt(np.dot(es, es))):
            dropped.append(extra_name)
        else:
            q = r / rho
            k0 = R0.shape[0]
            R = np.zeros((k0 + 1, k0 + 1))
            R[:k0, :k0] = R0
            R[:k0, k0] = c
            R[k0, k0] = rho
            names.append(extra_name)
    if q is None:
        R = R0
        qty = Q0.T @ ys
    else:
        qty = np.r_[Q0.T @ ys, np.dot(q, ys)]
    n, k = X.shape[0], R.shape[0]
    beta = sla.solve_triangular(R, qty, lower=False, check_finite=False)
    if q is None:
        resid = y - X @ beta
    else:
        resid = y - X @ beta[:-1] - extra * beta[-1]
        if keep_scores or vcov in ("HC1", "HC3") or base.clusters is None:
            X = np.column_stack([X, extra])
    r_inv = sla.solve_triangular(R, np.eye(k), lower=False, check_finite=False)
    bread = r_inv @ r_inv.T
    df_resid = n - k
    v = w * resid
    scores = None
    if keep_scores or vcov in ("HC1", "HC3"):
        scores = X * v[:, None]
    if vcov == "iid":
        sigma2 = float(np.dot(v, resid)) / df_resid if df_resid > 0 else math.nan
        V = sigma2 * bread
    else:
        if vcov == "HC1":
            assert scores is not None
            meat = scores.T @ scores * (n / df_resid if df_resid > 0 else math.nan)
        elif vcov == "HC3":
            assert scores is not None
            h = base.h if q is None else base.h + q * q
            with np.errstate(divide="ignore", invalid="ignore"):
                s3 = scores / (1.0 - h)[:, None]
            meat = s3.T @ s3
        elif vcov in CLUSTERED_VCOVS:
            hc1 = (n - 1) / df_resid if df_resid > 0 else math.nan
            cl = base.clusters
            corr = None
            if vcov == "CR1-SATT":
                corr = _satt_correction(base, resid, treat_col, extra if q is not None else None)
            if cl is None:  # every row its own cluster: CR1 == HC1 (vcovCL's default)
                u = X * v[:, None] if scores is None else scores
                meat = u.T @ u
                if corr is not None:
                    meat = meat + corr
                meat = meat * (n / (n - 1) if n > 1 else math.nan) * hc1
            else:
                meat = cl.meat(base.X, v, extra if q is not None else None)
                if corr is not None:
                    g = cl.n_groups
                    meat = meat + (g / (g - 1) if g > 1 else math.nan) * corr
                meat = meat * hc1
        else:  # pragma: no cover - validated by callers
            raise EstimationError(f"vcov={vcov!r} is not valid; use one of {VCOV_TYPES}")
        V = bread @ meat @ bread
        V = (V + V.T) / 2.0
    return _Core(beta, V, bread, scores if keep_scores else None, n, k, names, dropped)


def _satt_correction(
    base: _Base, resid: np.ndarray, treat_col: int | None, extra: np.ndarray | None
) -> np.ndarray:
    """Meat correction of ``CR1-SATT``: the treated rows' ``w_i^2 e_i^2 x_i x_i'`` replaced
    by ``w_i^2 s0^2 x_i x_i'``.

    ``s0^2 = sum_c w_c e_c^2 / sum_c w_c`` over the control rows is the weighted mean
    squared residual of the controls: with matching weights the weighted controls have
    the treated units' covariate distribution, so ``s0^2`` estimates the treated units'
    average variance of the *untreated* outcome given the covariates. The error of the
    estimate around the sample ATT, ``mean_treated(Y1 - Y0)``, involves the treated
    units' ``Y0`` (never observed), not their observed ``Y1``: their residuals also carry
    the heterogeneity of the effects, which the sample ATT conditions on. Returns the
    ``k x k`` matrix to add to ``sum_g u_g u_g'`` (before the small-sample factors).
    """
    if treat_col is None:
        raise EstimationError("vcov='CR1-SATT' needs the treatment column (treatment=...)")
    t = base.X[:, treat_col]
    if not np.all((t == 0.0) | (t == 1.0)):
        raise EstimationError("vcov='CR1-SATT' needs a 0/1 treatment column")
    tr = t == 1.0
    co = ~tr
    w = base.w
    wc = w[co]
    if not tr.any() or wc.sum() <= 0:
        raise EstimationError("vcov='CR1-SATT' needs treated and control rows")
    s0 = float(np.dot(wc, resid[co] ** 2) / wc.sum())
    Xt = base.X[tr] if extra is None else np.column_stack([base.X[tr], extra[tr]])
    d = w[tr] ** 2 * (s0 - resid[tr] ** 2)
    return (Xt * d[:, None]).T @ Xt


def _finish(core: _Core, vcov: str, clusters: _Clusters | None) -> WLSFit:
    var = np.diag(core.vcov).copy()
    with np.errstate(invalid="ignore"):
        bse = np.where(var >= 0, np.sqrt(np.where(var >= 0, var, 0.0)), np.nan)
    n_cl = n_cl2 = None
    if vcov in CLUSTERED_VCOVS:
        n_cl = clusters.n_groups if clusters is not None else core.nobs
        n_cl2 = clusters.n_groups2 if clusters is not None else None
    return WLSFit(
        params=core.params,
        bse=bse,
        vcov=core.vcov,
        vcov_type=vcov,
        nobs=core.nobs,
        df_resid=core.nobs - core.k,
        n_clusters=n_cl,
        n_clusters2=n_cl2,
        names=tuple(core.names),
        dropped=tuple(core.dropped),
    )

# --------------------------------------------------------------------------------------
# fit_wls
# --------------------------------------------------------------------------------------


def fit_wls(
    y: np.ndarray,
    X: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    vcov: VcovType = "CR1",
    cluster: np.ndarray | None = None,
    cluster2: np.ndarray | None = None,
    names: Sequence[str] | None = None,
    protect: Sequence[str] = (),
    treatment: str | None = None,
) -> WLSFit:
    """Weighted least squares with an R-compatible robust covariance matrix.

    Parameters
    ----------
    y : numpy.ndarray
        Outcome, shape ``(n,)``; must be finite on rows with positive weight.
    X : numpy.ndarray
        Design matrix, shape ``(n, k)``, including the intercept column if wanted.
    weights : numpy.ndarray, optional
        Non-negative weights (matching weights). Rows with weight 0 are excluded
        entirely (they do not count in ``n`` nor in the number of clusters).
        ``None`` means all ones (OLS).
    vcov : {"iid", "HC1", "HC3", "CR1", "CR1-SATT"}, default "CR1"
        ``"iid"`` -- model-based ``sigma^2 (X'WX)^-1`` with
        ``sigma^2 = sum(w e^2) / (n - k)`` (R's ``vcov(lm)``);
        ``"HC1"`` -- ``n/(n-k)`` times the HC0 sandwich (``vcovHC(type = "HC1")``);
        ``"HC3"`` -- ``vcovHC(type = "HC3")``: scores divided by ``1 - h_i`` with
        ``h_i = w_i x_i'(X'WX)^-1 x_i``;
        ``"CR1"`` -- ``vcovCL(cluster = ~g)`` with its defaults for ``lm``
        (``type = "HC1"``, ``cadjust = TRUE``): ``G/(G-1) * (n-1)/(n-k)`` times the
        cluster sandwich. Without ``cluster`` each row is its own cluster, which
        equals ``HC1`` (as ``vcovCL`` without a cluster);
        ``"CR1-SATT"`` -- ``CR1`` in which each treated row's squared residual
        ``e_i^2`` is replaced by the controls' weighted mean squared residual
        ``s0^2 = sum_c w_c e_c^2 / sum_c w_c``: the variance of the treatment coefficient
        around the *sample* ATT ``mean_treated(Y1 - Y0)`` (needs ``treatment``; one-way
        clustering only; see ``docs/effects.md``).
    cluster, cluster2 : numpy.ndarray, optional
        Cluster ids (any hashable values) for ``CR1`` and ``CR1-SATT``. With both
        (``CR1`` only), two-way clustering as
        ``vcovCL(cluster = ~a + b)``: ``(n-1)/(n-k) * [G_a/(G_a-1) M_a + G_b/(G_b-1) M_b
        - G_ab/(G_ab-1) M_ab]`` (Cameron, Gelbach & Miller 2011).
    names : sequence of str, optional
        Column names (default ``x0, x1, ...``).
    protect : sequence of str
        Columns that must not be aliased: if one is, :class:`EstimationError` is raised
        instead of dropping it (used for the treatment indicator).
    treatment : str, optional
        Name of the 0/1 treatment column; required by ``vcov="CR1-SATT"`` (and then
        protected from being dropped as aliased), ignored otherwise.

    Returns
    -------
    WLSFit

    Raises
    ------
    EstimationError
        Bad shapes, negative or missing weights, missing values on used rows, fewer rows
        than kept columns, a protected column aliased, or a ``vcov`` value not allowed.

    Warns
    -----
    RegevalWarning
        When aliased columns are dropped (the warning names them).

    Notes
    -----
    The fit is a Householder QR of ``sqrt(W) X``. A column whose QR diagonal is below
    ``1e-7`` times its norm is aliased and dropped, as ``lm`` does (R sets its
    coefficient to ``NA``); the check is repeated after each drop so that the first
    column that is a combination of the *earlier* columns is the one removed.

    The scores are ``x_i w_i e_i``, as ``sandwich::estfun.lm``. Cluster-robust standard
    errors after matching: Abadie & Spiess (2022, JASA 117:983-995) show that standard
    errors clustered on the matched sets are valid after matching without replacement,
    whereas standard errors that ignore the matching are not in general (misspecified
    regression, matching with replacement); for matching with replacement the MatchIt
    estimating-effects vignette recommends ``HC3`` (Hill & Reiter 2006, Stat Med
    25:2230-2256) or clustering on the unit id (and the pair).
    Two-way covariance matrices can be non-positive definite; then the affected standard
    errors are ``nan`` (``sandwich``'s ``fix = FALSE``).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.column_stack([np.ones(4), [0, 0, 1, 1]])
    >>> fit = fit_wls(np.array([1.0, 2.0, 3.0, 5.0]), X, vcov="HC1", names=["(Intercept)", "t"])
    >>> round(fit.coef("t"), 6)
    2.5
    """
    _check_choice("vcov", vcov, VCOV_TYPES)
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if y.ndim != 1 or X.ndim != 2 or X.shape[0] != y.shape[0]:
        raise EstimationError(f"y must be 1-d and X 2-d with the same number of rows; got y {y.shape}, X {X.shape}")
    n_all, k_all = X.shape
    if names is None:
        names = [f"x{j}" for j in range(k_all)]
    names = list(names)
    if len(names) != k_all:
        raise EstimationError(f"names has {len(names)} entries but X has {k_all} columns")
    if len(set(names)) != len(names):
        raise EstimationError(f"column names must be unique; got {names}")
    if weights is None:
        w = np.ones(n_all)
    else:
        w = np.asarray(weights, dtype=float)
        if w.shape != (n_all,):
            raise EstimationError(f"weights must have shape ({n_all},); got {w.shape}")
        if np.isnan(w).any():
            raise EstimationError(f"weights have {int(np.isnan(w).sum())} missing value(s); use 0 to exclude a row")
        if (w < 0).any() or not np.isfinite(w).all():
            n_bad = int((~(w >= 0) | ~np.isfinite(w)).sum())
            raise EstimationError(f"weights must be finite and >= 0; {n_bad} are not")
    if vcov not in CLUSTERED_VCOVS and (cluster is not None or cluster2 is not None):
        warnings.warn(f"cluster is ignored with vcov={vcov!r} (only 'CR1' clusters)", RegevalWarning, stacklevel=2)
    if cluster is None and cluster2 is not None:
        raise EstimationError("cluster2 given without cluster; pass the first cluster variable as cluster")
    treat_name = None
    if vcov == "CR1-SATT":
        if cluster2 is not None:
            raise EstimationError("vcov='CR1-SATT' clusters one way only; drop cluster2 or use vcov='CR1'")
        if treatment is None or treatment not in names:
            raise EstimationError(
                f"vcov='CR1-SATT' needs treatment= naming the 0/1 treatment column among {names}; got {treatment!r}"
            )
        treat_name = treatment
        protect = tuple(dict.fromkeys([*protect, treatment]))
    use = w > 0
    y_u, X_u, w_u = y[use], X[use], w[use]
    if not np.isfinite(y_u).all():
        raise EstimationError(
            f"y has {int((~np.isfinite(y_u)).sum())} missing/non-finite value(s) among rows with positive weight"
        )
    bad_cols = [names[j] for j in range(k_all) if not np.isfinite(X_u[:, j]).all()]
    if bad_cols:
        raise EstimationError(
            f"X has missing/non-finite values among rows with positive weight in column(s) {bad_cols}"
        )
    clusters = None
    if vcov in CLUSTERED_VCOVS and cluster is not None:
        c1 = np.asarray(cluster)
        if c1.shape[0] != n_all:
            raise EstimationError(f"cluster has {c1.shape[0]} rows, X has {n_all}")
        codes, g = _codes(c1[use])
        codes2 = g2 = None
        if cluster2 is not None:
            c2 = np.asarray(cluster2)
            if c2.shape[0] != n_all:
                raise EstimationError(f"cluster2 has {c2.shape[0]} rows, X has {n_all}")
            codes2, g2 = _codes(c2[use])
        clusters = _Clusters(codes, g, codes2, g2)
    base = _make_base(X_u, w_u, names, clusters, protect=protect)
    core = _solve(base, y_u, vcov, treat_col=base.names.index(treat_name) if treat_name else None)
    dropped = core.dropped
    if core.nobs <= core.k:
        raise EstimationError(
            f"{core.nobs} row(s) with positive weight for {core.k} coefficient(s): "
            "need more rows than coefficients"
        )
    if dropped:
        warnings.warn(
            f"dropped aliased (collinear) column(s) {dropped}: each is a linear combination of earlier columns",
            RegevalWarning,
            stacklevel=2,
        )
    return _finish(core, vcov, clusters)


# --------------------------------------------------------------------------------------
# designs from DataFrames
# --------------------------------------------------------------------------------------


def _is_categorical(s: pd.Series) -> bool:
    dt = s.dtype
    return bool(
        isinstance(dt, pd.CategoricalDtype)
        or pd.api.types.is_bool_dtype(dt)
        or pd.api.types.is_object_dtype(dt)
        or pd.api.types.is_string_dtype(dt)
    )


def _levels(s: pd.Series) -> list[Any]:
    """Levels in reference order: category order for categoricals, else sorted values."""
    present = pd.unique(s.dropna())
    if isinstance(s.dtype, pd.CategoricalDtype):
        present_set = set(present)
        return [c for c in s.cat.categories if c in present_set]
    try:
        return sorted(present)
    except TypeError:
        return sorted(present, key=str)


@dataclass(frozen=True)
class _Design:
    matrix: np.ndarray  # (n, p) covariate columns, float
    names: tuple[str, ...]
    dummy: tuple[bool, ...]  # True for dummy columns of categorical covariates


def _check_missing_covariates(data: pd.DataFrame, covariates: Sequence[str], rows: np.ndarray) -> None:
    for c in covariates:
        n_missing = int(data[c].isna().to_numpy()[rows].sum())
        if n_missing:
            raise EstimationError(
                f"covariate {c!r} is missing in {n_missing} row(s) of the estimation sample "
                "(positive weight, non-missing outcome); impute it or drop those rows before estimating"
            )


def _covariate_design(
    data: pd.DataFrame,
    covariates: Sequence[str],
    categorical: Sequence[str] | None,
    rows: np.ndarray,
) -> _Design:
    """Numeric covariates as they are; categorical ones as 0/1 dummies for every level
    present in ``rows`` except the first (the reference)."""
    categorical = set(categorical or ())
    unknown = categorical - set(covariates)
    if unknown:
        raise EstimationError(
            f"categorical lists {sorted(unknown)}, which are not among the covariates {list(covariates)}"
        )
    cols: list[np.ndarray] = []
    names: list[str] = []
    dummy: list[bool] = []
    for c in covariates:
        s = data[c]
        if c in categorical or _is_categorical(s):
            levels = _levels(s[rows])
            values = s.to_numpy(dtype=object)
            for level in levels[1:]:
                cols.append((values == level).astype(float))
                names.append(f"{c}[{level}]")
                dummy.append(True)
        else:
            try:
                cols.append(s.to_numpy(dtype=float, na_value=np.nan))
            except (TypeError, ValueError) as exc:
                raise EstimationError(
                    f"covariate {c!r} has dtype {s.dtype} that cannot be used as a number; "
                    "list it in categorical= to expand it to dummies"
                ) from exc
            names.append(c)
            dummy.append(False)
    matrix = np.column_stack(cols) if cols else np.empty((len(data), 0))
    return _Design(matrix, tuple(names), tuple(dummy))


def _treatment_array(data: pd.DataFrame, treatment: str, rows: np.ndarray) -> np.ndarray:
    s = data[treatment]
    if s.isna().to_numpy()[rows].any():
        raise EstimationError(
            f"treatment {treatment!r} is missing in {int(s.isna().to_numpy()[rows].sum())} row(s) "
            "of the estimation sample"
        )
    try:
        t = s.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise EstimationError(f"treatment {treatment!r} must be 0/1 or boolean; got dtype {s.dtype}") from exc
    bad = rows & ~np.isin(t, (0.0, 1.0)) & ~np.isnan(t)
    if bad.any():
        raise EstimationError(
            f"treatment {treatment!r} must be 0/1 or boolean; {int(bad.sum())} row(s) have other values "
            f"(e.g. {t[bad][0]!r})"
        )
    return t


def _weights_array(data: pd.DataFrame, weights: str | None) -> np.ndarray:
    if weights is None:
        return np.ones(len(data))
    w = data[weights].to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(w).any():
        raise EstimationError(
            f"weights column {weights!r} has {int(np.isnan(w).sum())} missing value(s); use 0 to exclude a row"
        )
    if (w < 0).any() or not np.isfinite(w).all():
        raise EstimationError(f"weights column {weights!r} must be finite and >= 0")
    return w


def _require_columns(data: pd.DataFrame, columns: Iterable[str | None], what: str = "data") -> None:
    missing = [c for c in columns if c is not None and c not in data.columns]
    if missing:
        raise EstimationError(f"{what} lacks column(s) {missing}; available: {list(data.columns)}")


def _n_persons(cluster_values: np.ndarray | None, mask: np.ndarray) -> int:
    if cluster_values is None:
        return int(mask.sum())
    return int(pd.unique(cluster_values[mask]).size)


def _blas_single_thread() -> contextlib.AbstractContextManager[Any]:
    """Limit BLAS to one thread while fitting many small (k ~ 20) designs: threaded
    BLAS gains nothing there and loses a lot to thread synchronisation on a busy
    machine (see ``docs/effects.md``). ``threadpoolctl`` ships with scikit-learn; without
    it this is a no-op."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _wmean(y: np.ndarray, w: np.ndarray) -> float:
    sw = float(w.sum())
    return float(np.dot(w, y) / sw) if sw > 0 else math.nan


# --------------------------------------------------------------------------------------
# estimate_effect
# --------------------------------------------------------------------------------------


def estimate_effect(
    data: pd.DataFrame,
    outcome: str,
    treatment: str,
    *,
    covariates: Sequence[str] = (),
    weights: str | None = None,
    cluster: str | None = None,
    cluster2: str | None = None,
    vcov: VcovType = "CR1",
    alpha: float = 0.05,
    categorical: Sequence[str] | None = None,
    ci_dist: CiDist = "normal",
) -> EffectEstimate:
    """Weighted regression of ``outcome`` on ``treatment`` (+ covariates): the treatment coefficient.

    Fits ``outcome ~ 1 + treatment + covariates`` by weighted least squares (the matching
    weights) with the requested covariance, like ``lm(y ~ treat + ..., weights = w)`` on
    MatchIt's ``match_data()`` followed by ``sandwich``.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per matched unit.
    outcome, treatment : str
        Column names; treatment is 0/1 or boolean.
    covariates : sequence of str
        Adjustment variables. Columns with object/str/category/bool dtype, and any listed
        in ``categorical``, are expanded to 0/1 dummies for every level present in the
        estimation sample except the first (the reference: the first category of a
        ``category`` column, else the smallest value, ``False`` for booleans -- R's
        ``factor`` default).
    weights : str, optional
        Weight column (matching weights). Rows with weight 0 are not used.
    cluster, cluster2 : str, optional
        Cluster id column(s) for ``vcov="CR1"`` (e.g. the person id; with both, two-way)
        and ``"CR1-SATT"`` (one-way). Without ``cluster``, ``CR1`` treats every row as
        its own cluster (= ``HC1``).
    vcov : {"iid", "HC1", "HC3", "CR1", "CR1-SATT"}, default "CR1"
        See :func:`fit_wls`.
    alpha : float, default 0.05
        ``1 - confidence level`` of the interval.
    categorical : sequence of str, optional
        Covariates to treat as categorical whatever their dtype (e.g. a cohort year).
    ci_dist : {"normal", "t"}, default "normal"
        Reference distribution for the interval and p-value: the normal (as
        ``marginaleffects``/MatchIt's vignette) or t with ``G - 1`` (clustered) or
        ``n - k`` degrees of freedom.

    Returns
    -------
    EffectEstimate

    Raises
    ------
    EstimationError
        Unknown columns, missing covariates/treatment/cluster ids in the estimation
        sample (named, with the count), no treated or no controls, the treatment
        column aliased, too few rows.

    Notes
    -----
    Rows with a missing outcome are excluded (in the outcome panel a missing outcome
    means the year lies outside the data or after death or emigration); their number is
    returned in ``n_missing_outcome``. Missing covariates are an error rather than a
    silent complete-case drop, because dropping would change the matched comparison.

    The MatchIt estimating-effects vignette (Greifer) recommends exactly this model --
    the outcome regressed on the treatment (and covariates, for precision and double
    robustness) in the matched sample with the matching weights -- with cluster-robust
    standard errors on the matched pair/unit (Abadie & Spiess 2022) or ``HC3`` after
    matching with replacement (Hill & Reiter 2006).
    """
    _check_choice("vcov", vcov, VCOV_TYPES)
    _check_choice("ci_dist", ci_dist, CI_DISTS)
    _check_alpha(alpha)
    covariates = list(covariates)
    _require_columns(data, [outcome, treatment, weights, cluster, cluster2, *covariates])
    if treatment in covariates or outcome in covariates:
        raise EstimationError("covariates must not include the outcome or the treatment column")
    if cluster2 is not None and cluster is None:
        raise EstimationError("cluster2 given without cluster")
    if vcov not in CLUSTERED_VCOVS and (cluster is not None or cluster2 is not None):
        warnings.warn(
            f"cluster={cluster!r} is ignored with vcov={vcov!r} (only 'CR1' clusters)", RegevalWarning, stacklevel=2
        )
        cluster = cluster2 = None
    if vcov == "CR1-SATT" and cluster2 is not None:
        raise EstimationError("vcov='CR1-SATT' clusters one way only; drop cluster2 or use vcov='CR1'")

    w = _weights_array(data, weights)
    try:
        y_all = data[outcome].to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise EstimationError(f"outcome {outcome!r} must be numeric; got dtype {data[outcome].dtype}") from exc
    positive = w > 0
    rows = positive & ~np.isnan(y_all)
    n_missing_outcome = int((positive & np.isnan(y_all)).sum())
    t = _treatment_array(data, treatment, rows)
    _check_missing_covariates(data, covariates, rows)
    design = _covariate_design(data, covariates, categorical, rows)

    n_t_rows = int((rows & (t == 1)).sum())
    n_c_rows = int((rows & (t == 0)).sum())
    if n_t_rows == 0 or n_c_rows == 0:
        raise EstimationError(
            f"the estimation sample for {outcome!r} has {n_t_rows} treated and {n_c_rows} control row(s) "
            "with positive weight and non-missing outcome; both groups are needed"
        )
    names = [INTERCEPT, treatment, *design.names]
    X = np.column_stack([np.ones(int(rows.sum())), t[rows], design.matrix[rows]])
    yv = y_all[rows]
    wv = w[rows]
    clusters = None
    cl_values = None
    if cluster is not None:
        cl_values = data[cluster].to_numpy()
        if pd.isna(data[cluster]).to_numpy()[rows].any():
            raise EstimationError(
                f"cluster column {cluster!r} is missing in {int(pd.isna(data[cluster]).to_numpy()[rows].sum())} "
                "row(s) of the estimation sample"
            )
        codes, g = _codes(cl_values[rows])
        codes2 = g2 = None
        if cluster2 is not None:
            codes2, g2 = _codes(data[cluster2].to_numpy()[rows])
        clusters = _Clusters(codes, g, codes2, g2)
    base = _make_base(X, wv, names, clusters, protect=(treatment, INTERCEPT))
    core = _solve(base, yv, vcov, treat_col=base.names.index(treatment))
    dropped = core.dropped
    if core.nobs <= core.k:
        raise EstimationError(f"{core.nobs} row(s) for {core.k} coefficient(s) in the regression of {outcome!r}")
    if dropped:
        warnings.warn(
            f"regression of {outcome!r}: dropped aliased (collinear) term(s) {dropped}", RegevalWarning, stacklevel=2
        )
    fit = _finish(core, vcov, clusters)
    est, se = fit.coef(treatment), fit.se(treatment)
    lo, hi, p = _wald(est, se, alpha, ci_dist, fit.df_inference)
    tr, co = rows & (t == 1), rows & (t == 0)
    return EffectEstimate(
        outcome=outcome,
        treatment=treatment,
        estimate=est,
        se=se,
        ci_low=lo,
        ci_high=hi,
        p_value=p,
        stars=stars_for(p),
        n_treated=_n_persons(cl_values, tr),
        n_control=_n_persons(cl_values, co),
        n_obs=int(rows.sum()),
        n_clusters=fit.n_clusters,
        vcov=vcov,
        alpha=float(alpha),
        ci_dist=ci_dist,
        mean_treated=_wmean(y_all[tr], w[tr]),
        mean_control=_wmean(y_all[co], w[co]),
        n_missing_outcome=n_missing_outcome,
        fit=fit,
    )


# --------------------------------------------------------------------------------------
# the panel: estimate_effects, window_summary, group_means
# --------------------------------------------------------------------------------------

EFFECT_COLUMNS: tuple[str, ...] = (
    "outcome",
    "rel_year",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p",
    "stars",
    "n_treated",
    "n_control",
    "n_obs",
    "n_clusters",
    "n_missing_outcome",
    "mean_treated",
    "mean_control",
    "vcov",
    "adjusted_for_baseline",
    "baseline_note",
    "dropped",
    "note",
)
"""Columns of :func:`estimate_effects`, in order."""


@dataclass
class _Panel:
    """Arrays of a validated long panel, shared by the panel functions."""

    data: pd.DataFrame
    t: np.ndarray
    w: np.ndarray
    year: np.ndarray
    cl_values: np.ndarray | None
    cl_codes: np.ndarray | None  # global codes
    design: _Design
    years_present: list[int]


def _prepare_panel(
    panel: pd.DataFrame,
    outcomes: Sequence[str],
    *,
    treatment: str,
    rel_year: str,
    weights: str | None,
    cluster: str | None,
    covariates: Sequence[str],
    categorical: Sequence[str] | None,
    baseline_cols: Sequence[str] = (),
) -> _Panel:
    covariates = list(covariates)
    _require_columns(panel, [treatment, rel_year, weights, cluster, *outcomes, *covariates], "panel")
    for o in outcomes:
        if not (pd.api.types.is_numeric_dtype(panel[o].dtype) or pd.api.types.is_bool_dtype(panel[o].dtype)):
            raise EstimationError(f"outcome {o!r} must be numeric; got dtype {panel[o].dtype}")
    w = _weights_array(panel, weights)
    ry = panel[rel_year]
    if ry.isna().any():
        raise EstimationError(f"relative-year column {rel_year!r} has {int(ry.isna().sum())} missing value(s)")
    year = ry.to_numpy(dtype=float)
    if not np.all(year == np.round(year)):
        raise EstimationError(f"relative-year column {rel_year!r} must hold whole numbers")
    year = year.astype(np.int64)
    positive = w > 0
    t = _treatment_array(panel, treatment, positive)
    _check_missing_covariates(panel, covariates, positive)
    design = _covariate_design(panel, covariates, categorical, positive)
    cl_values = cl_codes = None
    if cluster is not None:
        cl = panel[cluster]
        n_missing = int(cl.isna().to_numpy()[positive].sum())
        if n_missing:
            raise EstimationError(f"cluster column {cluster!r} is missing in {n_missing} row(s) with positive weight")
        cl_values = cl.to_numpy()
        cl_codes = pd.factorize(cl, use_na_sentinel=True)[0].astype(np.intp)
    years_present = sorted(int(v) for v in np.unique(year[positive]))
    return _Panel(panel, t, w, year, cl_values, cl_codes, design, years_present)


class _CellCache:
    """QR bases of one year, keyed by estimation sample: outcomes that share their
    missingness pattern share the base (design, QR, cluster structure)."""

    def __init__(self, max_items: int = 16) -> None:
        self._store: dict[tuple[int, bytes], _Base | str] = {}
        self._max = max_items

    def get(self, key: tuple[int, bytes]) -> _Base | str | None:
        return self._store.get(key)

    def put(self, key: tuple[int, bytes], value: _Base | str) -> None:
        if len(self._store) >= self._max:
            self._store.pop(next(iter(self._store)))
        self._store[key] = value


def _cell_fit(
    P: _Panel,
    y_all: np.ndarray,
    base_all: np.ndarray | None,
    year_rows: np.ndarray,
    year_value: int,
    *,
    vcov: str,
    treatment: str,
    baseline_name: str,
    cache: _CellCache,
    keep_scores: bool = False,
) -> dict[str, Any]:
    """Fit one (outcome, year) cell. Never raises for estimability problems: they are
    reported in ``note`` with ``nan`` estimates. ``year_rows`` are row positions."""
    yy = y_all[year_rows]
    ww = P.w[year_rows]
    positive = ww > 0
    sample = positive & ~np.isnan(yy)
    out: dict[str, Any] = {
        "n_missing_outcome": int((positive & np.isnan(yy)).sum()),
        "dropped": "",
        "note": "",
        "baseline_note": "",
        "adjusted_for_baseline": False,
    }
    tt = P.t[year_rows]
    tr, co = sample & (tt == 1), sample & (tt == 0)
    clv = P.cl_values[year_rows] if P.cl_values is not None else None
    out["n_treated"] = _n_persons(clv, tr)
    out["n_control"] = _n_persons(clv, co)
    out["n_obs"] = int(sample.sum())
    out["mean_treated"] = _wmean(yy[tr], ww[tr])
    out["mean_control"] = _wmean(yy[co], ww[co])
    nan_fit = {"estimate": math.nan, "se": math.nan, "n_clusters": None, "df": None, "core": None}

    # baseline control
    use_base = False
    if base_all is None:
        out["baseline_note"] = "no baseline"
    else:
        bb = base_all[year_rows][sample]
        if year_value == -1:
            out["baseline_note"] = "baseline year: outcome is its own baseline"
        elif bb.size and np.isnan(bb).all():
            out["baseline_note"] = "baseline entirely missing"
        elif np.isnan(bb).any():
            raise EstimationError(
                f"baseline column {baseline_name!r} is missing in {int(np.isnan(bb).sum())} row(s) of the "
                f"estimation sample for rel_year {year_value} (positive weight, non-missing outcome); "
                "fill it, or set it entirely missing to estimate without the baseline control"
            )
        elif bb.size and np.all(bb == bb[0]):
            out["baseline_note"] = "baseline constant"
        elif np.array_equal(bb, yy[sample]):
            out["baseline_note"] = "outcome identical to baseline"
        else:
            use_base = True
    out["adjusted_for_baseline"] = use_base

    if out["n_obs"] == 0:
        out.update(nan_fit, note="no observations")
        return out
    if not tr.any() or not co.any():
        out.update(nan_fit, note="no treated" if not tr.any() else "no controls")
        return out

    key = (year_value, np.packbits(sample).tobytes())
    base = cache.get(key)
    if base is None:
        X0 = np.column_stack([np.ones(out["n_obs"]), tt[sample], P.design.matrix[year_rows[sample]]])
        # dummy levels absent from this cell carry no information: drop them silently
        names0 = [INTERCEPT, treatment, *P.design.names]
        dummy0 = [False, False, *P.design.dummy]
        keep0 = [j for j in range(X0.shape[1]) if not (dummy0[j] and not X0[:, j].any())]
        if len(keep0) < X0.shape[1]:
            X0 = X0[:, keep0]
        names0 = [names0[j] for j in keep0]
        clusters = None
        if vcov in CLUSTERED_VCOVS and P.cl_codes is not None:
            codes, g = _codes(P.cl_codes[year_rows[sample]])
            clusters = _Clusters(codes, g)
        try:
            base = _make_base(X0, ww[sample], names0, clusters, protect=(treatment, INTERCEPT))
        except EstimationError as exc:
            base = f"not estimable: {exc}"
        cache.put(key, base)
    if isinstance(base, str):
        out.update(nan_fit, note=base)
        return out
    core = _solve(
        base, yy[sample], vcov,
        extra=base_all[year_rows[sample]] if use_base else None,  # type: ignore[index]
        extra_name=baseline_name, keep_scores=keep_scores, treat_col=base.names.index(treatment),
    )
    if core.nobs <= core.k:
        out.update(nan_fit, note=f"too few observations ({core.nobs}) for {core.k} coefficients")
        return out
    fit = _finish(core, vcov, base.clusters)
    dropped = list(core.dropped)
    j = fit.index(treatment)
    out.update(
        estimate=float(fit.params[j]),
        se=float(fit.bse[j]),
        n_clusters=fit.n_clusters,
        df=fit.df_inference,
        dropped=", ".join(dropped),
        core=core,
        treat_pos=j,
        sample_rows=year_rows[sample],
    )
    if dropped and baseline_name in dropped:
        out["adjusted_for_baseline"] = False
        out["baseline_note"] = "baseline aliased"
    return out


def _year_index(year: np.ndarray) -> dict[int, np.ndarray]:
    order = np.argsort(year, kind="stable")
    ys = year[order]
    cuts = np.flatnonzero(np.diff(ys)) + 1
    bounds = zip(np.r_[0, cuts], np.r_[cuts, len(ys)])
    return {int(ys[s]): order[s:e] for s, e in bounds if e > s}


def estimate_effects(
    panel: pd.DataFrame,
    outcomes: Sequence[str],
    *,
    treatment: str = "treated",
    rel_year: str = "rel_year",
    weights: str | None = "weight",
    cluster: str | None = "person_id",
    covariates: Sequence[str] = (),
    baseline_suffix: str | None = "_pre",
    vcov: VcovType = "CR1",
    alpha: float = 0.05,
    categorical: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    ci_dist: CiDist = "normal",
) -> pd.DataFrame:
    """Effect of the treatment on each outcome in each year relative to start.

    For each outcome ``o`` and relative year ``r``: the weighted regression, on the rows
    of year ``r`` with positive weight and non-missing ``o``, of
    ``o ~ 1 + treatment + covariates + o<baseline_suffix>`` (the outcome in the year
    before start), with the matching weights and the requested covariance.

    Parameters
    ----------
    panel : pandas.DataFrame
        Long matched panel: one row per (matched unit, relative year). A control matched
        to several treated units (or cohorts) may appear several times; ``cluster``
        (the person id) ties its rows together.
    outcomes : sequence of str
        Outcome columns (numeric; ``nan`` = not observed).
    treatment, rel_year, weights, cluster : str
        Column names. ``weights=None``: unweighted; ``cluster=None``: no clustering
        (``CR1`` then equals ``HC1``).
    covariates : sequence of str
        Background characteristics (time-invariant per unit); categorical ones are
        expanded to dummies with the first level (over the whole panel) as reference.
    baseline_suffix : str or None, default "_pre"
        The baseline of outcome ``o`` is the column ``o + baseline_suffix``; it must
        exist (make it all-missing to estimate without it). ``None``: no baseline control.
    vcov : {"iid", "HC1", "HC3", "CR1", "CR1-SATT"}, default "CR1"
        Covariance type (see :func:`fit_wls`); ``CR1`` and ``CR1-SATT`` cluster on
        ``cluster``. ``CR1-SATT`` is the variance around the sample ATT of the treated
        in the cell (the treated units' error variance taken from the controls); the
        simulation study (``benchmarks/results_simulation.md``) compares the two.
    alpha : float, default 0.05
        ``1 - confidence level``.
    categorical : sequence of str, optional
        Covariates to expand to dummies whatever their dtype.
    years : sequence of int, optional
        Relative years to report. Default: every year present in the panel (rows with
        positive weight). A listed year without data gives a row of ``nan`` with a note.
    ci_dist : {"normal", "t"}, default "normal"
        Reference distribution of the interval and the p-value.

    Returns
    -------
    pandas.DataFrame
        One row per (outcome, rel_year), ordered by the position of the outcome in
        ``outcomes`` and then by ``rel_year``, with the columns :data:`EFFECT_COLUMNS`:
        ``outcome, rel_year, estimate, se, ci_low, ci_high, p, stars, n_treated,
        n_control`` (persons with positive weight and non-missing outcome)``, n_obs``
        (rows)``, n_clusters, n_missing_outcome, mean_treated, mean_control`` (weighted
        means of the outcome)``, vcov, adjusted_for_baseline, baseline_note, dropped``
        (aliased terms, comma-separated)``, note`` (why a cell is ``nan``).

    Raises
    ------
    EstimationError
        Missing columns; missing treatment, covariates, cluster ids or a partially
        missing baseline in an estimation sample (named, with counts).

    Warns
    -----
    RegevalWarning
        Once, listing the cells in which aliased terms were dropped.

    Notes
    -----
    *Baseline.* In year ``-1`` the outcome *is* its own baseline (the year before
    start), so controlling for it would fit perfectly (estimate 0, SE 0). There, and in
    any cell where the outcome equals the baseline on every row, the baseline is left out:
    the year ``-1`` row is the covariate-adjusted pre-start difference, a placebo check.
    The baseline is also left out where it is entirely missing or constant;
    ``adjusted_for_baseline`` and ``baseline_note`` say so.

    *Cells that cannot be estimated* (no data, no treated or no controls, the treatment
    aliased) give a row with ``nan`` estimates and the reason in ``note``; they never
    raise, so one empty year does not stop a pipeline.

    Each cell is an ``lm(y ~ treat + covariates + baseline, weights)`` with
    ``vcovCL(cluster = ~person)`` (Abadie & Spiess 2022; MatchIt estimating-effects
    vignette). The building blocks of a cell (design without the baseline, weights,
    cluster structure) are computed once per (year, estimation sample) and reused by the
    outcomes that share that sample.
    """
    _check_choice("vcov", vcov, VCOV_TYPES)
    _check_choice("ci_dist", ci_dist, CI_DISTS)
    _check_alpha(alpha)
    outcomes = list(outcomes)
    if len(set(outcomes)) != len(outcomes):
        raise EstimationError(f"outcomes must be unique; got {outcomes}")
    base_cols = {o: (o + baseline_suffix if baseline_suffix is not None else None) for o in outcomes}
    _require_columns(panel, [b for b in base_cols.values() if b is not None], "panel (baseline columns)")
    # with vcov other than CR1 the cluster column is still used to count persons
    P = _prepare_panel(
        panel, outcomes, treatment=treatment, rel_year=rel_year, weights=weights,
        cluster=cluster, covariates=covariates, categorical=categorical,
    )
    year_rows = _year_index(P.year)
    report_years = sorted(int(y) for y in years) if years is not None else P.years_present
    records: list[dict[str, Any]] = []
    warned: list[str] = []
    empty_rows = np.empty(0, dtype=np.intp)
    y_cols = {o: panel[o].to_numpy(dtype=float, na_value=np.nan) for o in outcomes}
    b_cols = {
        o: (panel[b].to_numpy(dtype=float, na_value=np.nan) if b is not None else None) for o, b in base_cols.items()
    }
    with _blas_single_thread():
        # year-major, so that only one year's designs are held in memory
        for r in report_years:
            rows = year_rows.get(r, empty_rows)
            cache = _CellCache()
            for pos, o in enumerate(outcomes):
                cell = _cell_fit(
                    P, y_cols[o], b_cols[o], rows, r, vcov=vcov, treatment=treatment,
                    baseline_name=base_cols[o] or "", cache=cache,
                )
                lo, hi, p = _wald(cell["estimate"], cell["se"], alpha, ci_dist, cell["df"])
                if cell["dropped"]:
                    warned.append(f"{o}@{r}: {cell['dropped']}")
                records.append(
                    {
                        "_pos": pos,
                        "outcome": o,
                        "rel_year": r,
                        "estimate": cell["estimate"],
                        "se": cell["se"],
                        "ci_low": lo,
                        "ci_high": hi,
                        "p": p,
                        "stars": stars_for(p),
                        "n_treated": cell["n_treated"],
                        "n_control": cell["n_control"],
                        "n_obs": cell["n_obs"],
                        "n_clusters": cell["n_clusters"],
                        "n_missing_outcome": cell["n_missing_outcome"],
                        "mean_treated": cell["mean_treated"],
                        "mean_control": cell["mean_control"],
                        "vcov": vcov,
                        "adjusted_for_baseline": bool(cell["adjusted_for_baseline"]),
                        "baseline_note": cell["baseline_note"],
                        "dropped": cell["dropped"],
                        "note": cell["note"],
                    }
                )
    records.sort(key=lambda rec: (rec["_pos"], rec["rel_year"]))
    if warned:
        shown = "; ".join(warned[:10]) + (f"; ... ({len(warned) - 10} more)" if len(warned) > 10 else "")
        warnings.warn(
            f"aliased (collinear) terms dropped in {len(warned)} cell(s): {shown}", RegevalWarning, stacklevel=2
        )
    return _effects_frame(records)


def _effects_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame.from_records(
        [{k: rec[k] for k in EFFECT_COLUMNS} for rec in records], columns=list(EFFECT_COLUMNS)
    )
    df["rel_year"] = df["rel_year"].astype("int64")
    for c in ("n_treated", "n_control", "n_obs", "n_missing_outcome"):
        df[c] = df[c].astype("int64")
    df["n_clusters"] = df["n_clusters"].astype("Int64")
    for c in ("estimate", "se", "ci_low", "ci_high", "p", "mean_treated", "mean_control"):
        df[c] = df[c].astype("float64")
    df["adjusted_for_baseline"] = df["adjusted_for_baseline"].astype(bool)
    for c in ("outcome", "stars", "vcov", "baseline_note", "dropped", "note"):
        df[c] = df[c].astype("str")
    return df.reset_index(drop=True)


def window_summary(
    panel: pd.DataFrame,
    outcome: str,
    *,
    years: Iterable[int] = range(0, 8),
    treatment: str = "treated",
    rel_year: str = "rel_year",
    weights: str | None = "weight",
    cluster: str | None = "person_id",
    covariates: Sequence[str] = (),
    baseline_suffix: str | None = "_pre",
    alpha: float = 0.05,
    categorical: Sequence[str] | None = None,
    ci_dist: CiDist = "normal",
) -> pd.DataFrame:
    """Average effect over a window of relative years, with a person-clustered SE.

    The estimate is the plain average over the window's years of the yearly treatment
    coefficients of :func:`estimate_effects` (same sample, covariates and baseline rule).
    Its standard error comes from the joint cluster-robust covariance of the yearly
    coefficients, clustering on the person across years.

    Parameters
    ----------
    panel : pandas.DataFrame
        The long matched panel (see :func:`estimate_effects`).
    outcome : str
        Outcome column.
    years : iterable of int, default range(0, 8)
        Relative years to average (each counts once). Years in the window without an
        estimable effect raise :class:`EstimationError` (the average would change meaning).
    treatment, rel_year, weights, cluster, covariates, baseline_suffix, categorical
        As in :func:`estimate_effects`.
    alpha : float, default 0.05
    ci_dist : {"normal", "t"}, default "normal"
        ``t`` uses ``G - 1`` degrees of freedom.

    Returns
    -------
    pandas.DataFrame
        One row: ``outcome, year_from, year_to, n_years, estimate, se, ci_low, ci_high,
        p, stars, n_treated, n_control`` (persons with at least one used row in the
        window)``, n_obs`` (person-years)``, n_clusters, vcov`` (``"CR1"``)``,
        adjusted_for_baseline`` (in every year of the window).

    Notes
    -----
    The joint covariance is that of the *stacked* regression in which every year has
    its own coefficients (all covariates interacted with year) and the errors are
    clustered by person, ``vcovCL(cluster = ~person)`` on the stacked rows:
    ``V = G/(G-1) * (N-1)/(N-K) * sum_g psi_g psi_g'`` where ``psi_g`` stacks the
    person's score contributions ``(X_t'W_tX_t)^-1 sum_i x_it w_it e_it`` over the
    years, ``N`` is the number of person-years and ``K`` the total number of
    coefficients. Yearly point estimates are identical to the year-by-year fits; only
    the small-sample factor differs slightly from each year's own CR1 factor. This
    accounts for the correlation of a person's outcomes across years, which a naive
    average of yearly SEs would ignore (Abadie & Spiess 2022 on clustering; Cameron &
    Miller 2015 on clustering across time).
    """
    _check_choice("ci_dist", ci_dist, CI_DISTS)
    _check_alpha(alpha)
    years = sorted({int(y) for y in years})
    if not years:
        raise EstimationError("years is empty; give at least one relative year for the window")
    bcol = outcome + baseline_suffix if baseline_suffix is not None else None
    _require_columns(panel, [bcol], "panel (baseline column)")
    P = _prepare_panel(
        panel, [outcome], treatment=treatment, rel_year=rel_year, weights=weights,
        cluster=cluster, covariates=covariates, categorical=categorical,
    )
    year_rows = _year_index(P.year)
    y_all = panel[outcome].to_numpy(dtype=float, na_value=np.nan)
    base_all = panel[bcol].to_numpy(dtype=float, na_value=np.nan) if bcol is not None else None
    n_rows_total = 0
    k_total = 0
    estimates: list[float] = []
    psi_parts: list[tuple[np.ndarray, np.ndarray]] = []  # (global cluster codes or row ids, contributions)
    all_adjusted = True
    used_rows: list[np.ndarray] = []
    failed: list[str] = []
    with _blas_single_thread():
        for r in years:
            rows = year_rows.get(r, np.empty(0, dtype=np.intp))
            cell = _cell_fit(
                P, y_all, base_all, rows, r, vcov="CR1", treatment=treatment,
                baseline_name=bcol or "", cache=_CellCache(), keep_scores=True,
            )
            if cell["core"] is None:
                failed.append(f"{r} ({cell['note']})")
                continue
            core: _Core = cell["core"]
            j = cell["treat_pos"]
            contrib = core.scores @ core.bread[j]  # psi contribution per row for the treatment coef
            srows = cell["sample_rows"]
            ids = P.cl_codes[srows] if P.cl_codes is not None else srows
            psi_parts.append((ids, contrib))
            estimates.append(float(core.params[j]))
            n_rows_total += core.nobs
            k_total += core.k
            all_adjusted &= bool(cell["adjusted_for_baseline"])
            used_rows.append(srows)
    if failed:
        raise EstimationError(
            f"window_summary for {outcome!r}: rel_year {', '.join(failed)} cannot be estimated; "
            "choose a window of years that all have data"
        )
    T = len(years)
    ids = np.concatenate([p[0] for p in psi_parts])
    contrib = np.concatenate([p[1] for p in psi_parts]) / T
    codes, G = _codes(ids)
    psi = np.bincount(codes, weights=contrib, minlength=G)
    if G > 1 and n_rows_total > k_total:
        var = G / (G - 1) * (n_rows_total - 1) / (n_rows_total - k_total) * float(np.dot(psi, psi))
    else:
        var = math.nan
    est = float(np.mean(estimates))
    se = math.sqrt(var) if var >= 0 else math.nan
    lo, hi, p = _wald(est, se, alpha, ci_dist, G - 1)
    allr = np.concatenate(used_rows)
    clv = P.cl_values
    t = P.t
    record = {
        "outcome": outcome,
        "year_from": years[0],
        "year_to": years[-1],
        "n_years": T,
        "estimate": est,
        "se": se,
        "ci_low": lo,
        "ci_high": hi,
        "p": p,
        "stars": stars_for(p),
        "n_treated": _n_persons(clv[allr] if clv is not None else None, t[allr] == 1),
        "n_control": _n_persons(clv[allr] if clv is not None else None, t[allr] == 0),
        "n_obs": int(n_rows_total),
        "n_clusters": int(G),
        "vcov": "CR1",
        "adjusted_for_baseline": bool(all_adjusted),
    }
    return pd.DataFrame([record])


MEANS_COLUMNS: tuple[str, ...] = (
    "outcome", "rel_year", "group", "mean", "se", "ci_low", "ci_high", "n", "n_obs",
)
"""Columns of :func:`group_means`, in order."""


def group_means(
    panel: pd.DataFrame,
    outcomes: Sequence[str],
    *,
    treatment: str = "treated",
    rel_year: str = "rel_year",
    weights: str | None = "weight",
    cluster: str | None = "person_id",
    alpha: float = 0.05,
    years: Sequence[int] | None = None,
    ci_dist: CiDist = "normal",
) -> pd.DataFrame:
    """Weighted outcome levels per (outcome, relative year, group) with cluster-robust CIs.

    Parameters
    ----------
    panel : pandas.DataFrame
        Long matched panel (see :func:`estimate_effects`).
    outcomes : sequence of str
        Outcome columns.
    treatment, rel_year, weights, cluster : str
        Column names.
    alpha : float, default 0.05
    years : sequence of int, optional
        Years to report (default: every year present).
    ci_dist : {"normal", "t"}, default "normal"

    Returns
    -------
    pandas.DataFrame
        Columns :data:`MEANS_COLUMNS`: ``outcome, rel_year, group`` (``"treated"`` then
        ``"control"``)``, mean`` (weighted)``, se, ci_low, ci_high, n`` (persons with
        positive weight and non-missing outcome)``, n_obs`` (rows). ``se`` is ``nan``
        with fewer than two clusters; ``mean`` is ``nan`` with no rows.

    Notes
    -----
    ``se`` is the CR1 standard error of the intercept in the weighted regression of the
    outcome on a constant, clustered by person: with ``u_g = sum_{i in g} w_i (y_i -
    mean)``, ``se^2 = G/(G-1) * sum_g u_g^2 / (sum_i w_i)^2`` (the ``(n-1)/(n-k)``
    factor is 1 for ``k = 1``). This accounts for controls that appear several times.
    """
    _check_choice("ci_dist", ci_dist, CI_DISTS)
    _check_alpha(alpha)
    outcomes = list(outcomes)
    P = _prepare_panel(
        panel, outcomes, treatment=treatment, rel_year=rel_year, weights=weights,
        cluster=cluster, covariates=(), categorical=None,
    )
    year_rows = _year_index(P.year)
    report_years = sorted(int(y) for y in years) if years is not None else P.years_present
    records = []
    for o in outcomes:
        y_all = panel[o].to_numpy(dtype=float, na_value=np.nan)
        for r in report_years:
            rows = year_rows.get(r, np.empty(0, dtype=np.intp))
            for group, gv in (("treated", 1.0), ("control", 0.0)):
                sel = rows[(P.w[rows] > 0) & ~np.isnan(y_all[rows]) & (P.t[rows] == gv)]
                yv, wv = y_all[sel], P.w[sel]
                m = _wmean(yv, wv)
                se = math.nan
                G = 0
                if sel.size:
                    ids = P.cl_codes[sel] if P.cl_codes is not None else np.arange(sel.size)
                    codes, G = _codes(ids)
                    if G > 1:
                        u = np.bincount(codes, weights=wv * (yv - m), minlength=G)
                        se = math.sqrt(G / (G - 1) * float(np.dot(u, u))) / float(wv.sum())
                lo, hi, _ = _wald(m, se, alpha, ci_dist, G - 1 if G else None)
                if np.isfinite(m) and se == 0:
                    lo = hi = m
                records.append(
                    {
                        "outcome": o, "rel_year": r, "group": group, "mean": m, "se": se,
                        "ci_low": lo, "ci_high": hi,
                        "n": _n_persons(P.cl_values[sel] if P.cl_values is not None else None, np.ones(sel.size, bool)),
                        "n_obs": int(sel.size),
                    }
                )
    df = pd.DataFrame.from_records(records, columns=list(MEANS_COLUMNS))
    df["rel_year"] = df["rel_year"].astype("int64")
    df["n"] = df["n"].astype("int64")
    df["n_obs"] = df["n_obs"].astype("int64")
    for c in ("mean", "se", "ci_low", "ci_high"):
        df[c] = df[c].astype("float64")
    for c in ("outcome", "group"):
        df[c] = df[c].astype("str")
    return df


# --------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------


def _new_figure(figsize: tuple[float, float]) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _select_outcome(df: pd.DataFrame, outcome: str, what: str) -> pd.DataFrame:
    if "outcome" not in df.columns:
        raise EstimationError(f"{what} lacks the column 'outcome'")
    sub = df[df["outcome"] == outcome]
    if sub.empty:
        raise EstimationError(
            f"{what} has no rows for outcome {outcome!r}; outcomes present: {sorted(df['outcome'].unique())}"
        )
    return sub.sort_values("rel_year", kind="stable")


def _axis_label(label: str, unit: str | None) -> str:
    return f"{label} ({unit})" if unit else label


# figure texts: English, Danish
_FIG_TEXT: dict[str, tuple[str, str]] = {
    "x": ("Year relative to start (0 = start year)", "År i forhold til start (0 = startåret)"),
    "effect_y": ("Effect: {axis}", "Effekt: {axis}"),
    "effect_title": ("Effect on {label} by year relative to start", "Effekt på {label} pr. år i forhold til start"),
    "ci": ("(95 % CI, {vc} SE)", "(95 %-konfidensinterval, {vc}-standardfejl)"),
    "estimate": ("estimate with 95 % CI", "estimat med 95 %-konfidensinterval"),
    "levels_title": ("{label}: participants and matched controls (weighted means, 95 % CI)",
                     "{label}: deltagere og matchede kontroller (vægtede gennemsnit, 95 %-konfidensinterval)"),
}


def _ft(key: str, language: str, **kw: object) -> str:
    from regeval.reporting.labels import translate

    return translate(_FIG_TEXT, key, language, **kw)


def effect_figure(
    effects: pd.DataFrame,
    outcome: str,
    *,
    label: str | None = None,
    unit: str | None = None,
    figsize: tuple[float, float] = (6.4, 4.0),
    language: str = "en",
) -> Figure:
    """Event-time plot of the yearly effects on one outcome.

    Points are the estimates, bars the confidence intervals (``ci_low``..``ci_high``)
    by relative year, with a zero line and a dashed vertical line between years -1 and 0
    (start). Significant years are marked with their stars.

    Parameters
    ----------
    effects : pandas.DataFrame
        Output of :func:`estimate_effects`.
    outcome : str
        The outcome to plot.
    label, unit : str, optional
        Human-readable outcome name and unit for the axis and title.
    figsize : tuple of float

    Returns
    -------
    matplotlib.figure.Figure
        Drawn with the Agg canvas; the caller saves it.
    """
    sub = _select_outcome(effects, outcome, "effects")
    label = label or outcome
    fig = _new_figure(figsize)
    ax = fig.add_subplot()
    x = sub["rel_year"].to_numpy(dtype=float)
    est = sub["estimate"].to_numpy(dtype=float)
    lo = sub["ci_low"].to_numpy(dtype=float)
    hi = sub["ci_high"].to_numpy(dtype=float)
    ok = np.isfinite(est)
    ax.axhline(0.0, color="0.3", linewidth=0.8)
    ax.axvline(-0.5, color="0.5", linewidth=0.8, linestyle="--")
    ax.errorbar(
        x[ok], est[ok],
        yerr=np.vstack([est[ok] - np.where(np.isfinite(lo[ok]), lo[ok], est[ok]),
                        np.where(np.isfinite(hi[ok]), hi[ok], est[ok]) - est[ok]]),
        fmt="o", color="C0", ecolor="C0", capsize=3, linewidth=1.2, label=_ft("estimate", language),
    )
    if "stars" in sub.columns:
        for xi, hv, s in zip(x[ok], hi[ok], sub["stars"].to_numpy()[ok]):
            if isinstance(s, str) and s and np.isfinite(hv):
                ax.annotate(str(s), (xi, hv), textcoords="offset points", xytext=(0, 2), ha="center", fontsize=8)
    ax.set_xticks(x)
    ax.set_xlabel(_ft("x", language))
    ax.set_ylabel(_ft("effect_y", language, axis=_axis_label(label, unit)))
    vc = ""
    if "vcov" in sub.columns:
        vcs = sub["vcov"].dropna().unique()
        vc = str(vcs[0]) if len(vcs) == 1 else ""
    ax.set_title(_ft("effect_title", language, label=label) + ("\n" + _ft("ci", language, vc=vc) if vc else ""), fontsize=10)
    return fig


def levels_figure(
    means: pd.DataFrame,
    outcome: str,
    *,
    label: str | None = None,
    unit: str | None = None,
    group_labels: tuple[str, str] = ("Participants", "Controls"),
    figsize: tuple[float, float] = (6.4, 4.0),
    language: str = "en",
) -> Figure:
    """Before/after plot of the weighted outcome levels of treated and controls.

    Parameters
    ----------
    means : pandas.DataFrame
        Output of :func:`group_means`.
    outcome : str
        Outcome to plot.
    label, unit : str, optional
        Outcome name and unit for the axis and title.
    group_labels : tuple of str
        Legend labels of the treated and the control group.
    figsize : tuple of float

    Returns
    -------
    matplotlib.figure.Figure
    """
    sub = _select_outcome(means, outcome, "means")
    label = label or outcome
    fig = _new_figure(figsize)
    ax = fig.add_subplot()
    for (group, glabel), color, offset in zip(
        (("treated", group_labels[0]), ("control", group_labels[1])), ("C0", "C1"), (-0.06, 0.06)
    ):
        g = sub[sub["group"] == group]
        x = g["rel_year"].to_numpy(dtype=float)
        m = g["mean"].to_numpy(dtype=float)
        lo = g["ci_low"].to_numpy(dtype=float)
        hi = g["ci_high"].to_numpy(dtype=float)
        ok = np.isfinite(m)
        ax.plot(x[ok] + offset, m[ok], marker="o", color=color, label=glabel, linewidth=1.2)
        band = ok & np.isfinite(lo) & np.isfinite(hi)
        ax.vlines(x[band] + offset, lo[band], hi[band], color=color, linewidth=1.0)
    ax.axvline(-0.5, color="0.5", linewidth=0.8, linestyle="--")
    years = np.unique(sub["rel_year"].to_numpy())
    ax.set_xticks(years)
    ax.set_xlabel(_ft("x", language))
    ax.set_ylabel(_axis_label(label, unit))
    ax.set_title(_ft("levels_title", language, label=label), fontsize=10)
    ax.legend(frameon=False)
    return fig
