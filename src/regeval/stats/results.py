"""Result types and inference rules of the effect regressions.

:class:`WLSFit` (one weighted least-squares fit, :func:`regeval.stats.wls.fit_wls`) and
:class:`EffectEstimate` (the treatment effect from one DataFrame,
:func:`regeval.stats.effects.estimate_effect`), the allowed covariance types and
reference distributions, the Wald interval and the significance stars.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np
from scipy import stats

from regeval.errors import EstimationError

__all__ = [
    "CI_DISTS",
    "CLUSTERED_VCOVS",
    "STAR_THRESHOLDS",
    "VCOV_TYPES",
    "CiDist",
    "EffectEstimate",
    "VcovType",
    "WLSFit",
    "stars_for",
]

VcovType = Literal["iid", "HC1", "HC3", "CR1", "CR1-SATT"]
"""Allowed covariance types (see :func:`regeval.stats.wls.fit_wls`)."""

CiDist = Literal["normal", "t"]
"""Reference distribution of confidence intervals and p-values."""

VCOV_TYPES: tuple[str, ...] = get_args(VcovType)
#: Covariance types that cluster (on ``cluster``).
CLUSTERED_VCOVS: tuple[str, ...] = ("CR1", "CR1-SATT")
CI_DISTS: tuple[str, ...] = get_args(CiDist)
#: Star thresholds: p below the first value gets the second (checked in order).
STAR_THRESHOLDS: tuple[tuple[float, str], ...] = ((0.001, "***"), (0.01, "**"), (0.05, "*"))


# --------------------------------------------------------------------------------------
# result objects
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class WLSFit:
    """Result of :func:`regeval.stats.wls.fit_wls`.

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
    """Treatment effect from one weighted regression (:func:`regeval.stats.effects.estimate_effect`).

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
# checks and inference
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
