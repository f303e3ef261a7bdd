"""Numerics of the propensity logit: IRLS with R's ``glm.fit`` rules, block-wise
cross-products, the aliasing scan, the warm start for large unbalanced data and the AUC.

Everything works on a float64 design matrix (intercept first) and a 0/1 response; the
design itself is built by :mod:`regeval.stats.design` and the model is assembled by
:func:`regeval.stats.propensity.fit_propensity`.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import linalg, special

from regeval.parallel import thread_budget

#: Rows per block when accumulating ``X' W X`` (bounded temporary memory).
_BLOCK_ROWS = 65_536
#: A design column is aliased when less than this share of its (centred) variance is
#: left after projecting it on the columns kept before it (R-squared > 1 - 1e-9).
_ALIAS_TOL = 1e-9
#: Warm start from a case-control subsample for large, unbalanced data (see
#: :func:`_warm_start`).
_WARM_MIN_ROWS = 50_000
_WARM_CONTROLS_PER_TREATED = 20
#: At most this many threads over row blocks for the cross-products (each on a single
#: BLAS thread; on a shared machine multi-threaded BLAS on small blocks slows down
#: badly), and never more than the caller's budget (:mod:`regeval.parallel`).
_MAX_WORKERS = 4


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
    workers = min(_MAX_WORKERS, thread_budget())
    if n >= 4 * _BLOCK_ROWS and workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as ex:
            parts = list(ex.map(block, starts))
    else:
        parts = [block(s) for s in starts]
    G = np.zeros((p, p))
    for part in parts:
        G += part
    return G


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
