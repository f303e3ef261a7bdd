"""Weighted least squares with R-compatible robust covariances: the engine of the
effect regressions.

:func:`fit_wls` fits one weighted least-squares regression on arrays with an ``iid``,
``HC1``, ``HC3`` or cluster-robust ``CR1`` (one- or two-way) covariance, defined exactly
as R's ``lm`` + ``sandwich::vcovHC`` / ``sandwich::vcovCL``, or ``CR1-SATT``: ``CR1``
with the treated units' error variance taken from the controls, the variance of the
estimate around the sample ATT (see ``docs/effects.md``).

The pieces are reused by :mod:`regeval.stats.effects`: a QR of the weighted design is
computed once (:func:`_make_base`) and shared by the outcomes with the same estimation
sample, each solved by :func:`_solve` (the outcome's baseline appended as one extra
column by a QR column update); :class:`_Clusters` holds a sample's cluster structure.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg as sla
from scipy import sparse

from regeval.errors import EstimationError, RegevalWarning
from regeval.stats.results import CLUSTERED_VCOVS, VCOV_TYPES, VcovType, WLSFit, _check_choice

__all__ = ["ALIAS_TOL", "fit_wls"]

#: Relative tolerance of the aliasing check, as in R's ``lm.fit`` (``qr(tol = 1e-7)``).
ALIAS_TOL: float = 1e-7


# --------------------------------------------------------------------------------------
# clusters
# --------------------------------------------------------------------------------------


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
        self.n_groups2: int | None = None
        # (sign, grouping): vcovCL adds the meat of each variable and subtracts the
        # meat of their intersection, each with its own G/(G-1)
        self.terms: list[tuple[float, _Grouping]] = [(1.0, _Grouping(codes, n_groups))]
        self.n_groups12 = None
        if codes2 is not None:
            self.n_groups2 = int(n_groups2 or 0)
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
        q, R_ext = _append_column(base, extra)
        if q is None:
            dropped.append(extra_name)
        else:
            names.append(extra_name)
    if q is None:
        R = R0
        qty = Q0.T @ ys
    else:
        R = R_ext
        qty = np.r_[Q0.T @ ys, np.dot(q, ys)]
    n, k = X.shape[0], R.shape[0]
    beta = sla.solve_triangular(R, qty, lower=False, check_finite=False)
    if q is None:
        resid = y - X @ beta
    else:
        assert extra is not None  # q is set only for an extra column
        resid = y - X @ beta[:-1] - extra * beta[-1]
        if keep_scores or vcov in ("HC1", "HC3") or base.clusters is None:
            X = np.column_stack([X, extra])
    r_inv = sla.solve_triangular(R, np.eye(k), lower=False, check_finite=False)
    bread = r_inv @ r_inv.T
    v = w * resid
    scores = None
    if keep_scores or vcov in ("HC1", "HC3"):
        scores = X * v[:, None]
    V = _covariance(
        base, vcov, X, resid, v, scores, bread, q,
        extra if q is not None else None, treat_col,
    )
    return _Core(beta, V, bread, scores if keep_scores else None, n, k, names, dropped)


def _append_column(base: _Base, extra: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """QR column update: ``(q, R)`` of the base design with ``extra`` appended, or
    ``(None, R0)`` when ``extra`` is aliased (see :func:`_solve`)."""
    Q0, R0 = base.Q, base.R
    es = extra * base.sw
    c = Q0.T @ es
    r = es - Q0 @ c
    c2 = Q0.T @ r
    r -= Q0 @ c2
    c += c2
    rho = float(np.sqrt(np.dot(r, r)))
    if rho <= ALIAS_TOL * float(np.sqrt(np.dot(es, es))):
        return None, R0
    q = r / rho
    k0 = R0.shape[0]
    R = np.zeros((k0 + 1, k0 + 1))
    R[:k0, :k0] = R0
    R[:k0, k0] = c
    R[k0, k0] = rho
    return q, R


def _covariance(
    base: _Base,
    vcov: str,
    X: np.ndarray,
    resid: np.ndarray,
    v: np.ndarray,
    scores: np.ndarray | None,
    bread: np.ndarray,
    q: np.ndarray | None,
    extra: np.ndarray | None,
    treat_col: int | None,
) -> np.ndarray:
    """Covariance of the coefficients of the given type from the fit's pieces.

    ``X`` is the design used (with the extra column when the meat needs it), ``v`` the
    weighted residuals ``w e``, ``scores`` the rows ``x_i w_i e_i`` (when computed),
    ``q`` the extra column's new ``Q`` column and ``extra`` the kept extra column.
    """
    n, k = X.shape[0], bread.shape[0]
    df_resid = n - k
    if vcov == "iid":
        sigma2 = float(np.dot(v, resid)) / df_resid if df_resid > 0 else math.nan
        return sigma2 * bread
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
            corr = _satt_correction(base, resid, treat_col, extra)
        if cl is None:  # every row its own cluster: CR1 == HC1 (vcovCL's default)
            u = X * v[:, None] if scores is None else scores
            meat = u.T @ u
            if corr is not None:
                meat = meat + corr
            meat = meat * (n / (n - 1) if n > 1 else math.nan) * hc1
        else:
            meat = cl.meat(base.X, v, extra)
            if corr is not None:
                g = cl.n_groups
                meat = meat + (g / (g - 1) if g > 1 else math.nan) * corr
            meat = meat * hc1
    else:  # pragma: no cover - validated by callers
        raise EstimationError(f"vcov={vcov!r} is not valid; use one of {VCOV_TYPES}")
    V = bread @ meat @ bread
    return (V + V.T) / 2.0


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
    w = _wls_weights(weights, n_all)
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
    clusters = _wls_clusters(cluster, cluster2, use) if vcov in CLUSTERED_VCOVS and cluster is not None else None
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


def _wls_weights(weights: np.ndarray | None, n_all: int) -> np.ndarray:
    """The weights of :func:`fit_wls` as float, checked (all ones when ``None``)."""
    if weights is None:
        return np.ones(n_all)
    w = np.asarray(weights, dtype=float)
    if w.shape != (n_all,):
        raise EstimationError(f"weights must have shape ({n_all},); got {w.shape}")
    if np.isnan(w).any():
        raise EstimationError(f"weights have {int(np.isnan(w).sum())} missing value(s); use 0 to exclude a row")
    if (w < 0).any() or not np.isfinite(w).all():
        n_bad = int((~(w >= 0) | ~np.isfinite(w)).sum())
        raise EstimationError(f"weights must be finite and >= 0; {n_bad} are not")
    return w


def _wls_clusters(cluster: np.ndarray, cluster2: np.ndarray | None, use: np.ndarray) -> _Clusters:
    """Cluster structure of the rows ``use`` of :func:`fit_wls`."""
    n_all = use.shape[0]
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
    return _Clusters(codes, g, codes2, g2)


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
