"""Sensitivity of an effect to an unobserved confounder (e.g. motivation): the
omitted-variable-bias robustness value of Cinelli & Hazlett (2020), as R's sensemakr
computes it from an estimate, its standard error and the residual degrees of freedom.

* :func:`partial_r2` -- the share of the outcome's residual variance the treatment explains,
  ``t^2 / (t^2 + dof)``;
* :func:`robustness_value` -- the strength a confounder must have, as a partial R^2 with
  *both* the treatment and the outcome (given the characteristics), to remove the
  estimate (``alpha=None``) or to make it lose significance at ``alpha``: ``RV_q`` and
  ``RV_{q,alpha}``; a confounder weaker than that on both counts cannot do it;
* :func:`adjusted_estimate` -- the estimate after removing the bias of a confounder of
  given strengths (the largest bias it can cause).

Checked against sensemakr's own test numbers (the Darfur example:
``tests/test_sensitivity.py``). The effects are estimated with cluster-robust standard
errors; ``t`` is then the robust t statistic, an approximation that sensemakr itself
uses for models with robust SEs (``docs/effects.md``, "Unobserved confounding").
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

__all__ = ["adjusted_estimate", "partial_r2", "robustness_value"]


def partial_r2(t: float, dof: float) -> float:
    """Partial R^2 of the treatment with the outcome, ``t^2 / (t^2 + dof)``."""
    if not (math.isfinite(t) and dof > 0):
        return math.nan
    return t * t / (t * t + dof)


def robustness_value(t: float, dof: float, q: float = 1.0, alpha: float | None = None) -> float:
    """Cinelli & Hazlett's robustness value ``RV_q`` (``alpha=None``) or ``RV_{q,alpha}``.

    ``RV_q``: a confounder explaining ``RV_q`` of the residual variance of both the
    treatment and the outcome reduces the estimate by ``100 q %``. ``RV_{q,alpha}``: the
    strength that makes the reduced estimate no longer significant at level ``alpha``
    (0 if it is not significant to begin with).
    """
    if not (math.isfinite(t) and dof > 1):
        return math.nan
    fq = q * abs(t) / math.sqrt(dof)
    f_crit = 0.0 if alpha is None else abs(float(stats.t.ppf(alpha / 2, dof - 1))) / math.sqrt(dof - 1)
    fqa = fq - f_crit
    if fqa <= 0:
        return 0.0
    if f_crit > 0 and fq > 1 / f_crit:
        return (fq * fq - f_crit * f_crit) / (1 + fq * fq)
    return 0.5 * (math.sqrt(fqa**4 + 4 * fqa**2) - fqa**2)


def adjusted_estimate(estimate: float, se: float, dof: float, r2dz: float, r2yz: float) -> float:
    """The estimate moved towards zero by the largest bias of a confounder with partial
    R^2 ``r2dz`` with the treatment and ``r2yz`` with the outcome:
    ``|estimate| - se * sqrt(dof * r2yz * r2dz / (1 - r2dz))``, with the estimate's sign."""
    bias = se * math.sqrt(dof * r2yz * r2dz / (1 - r2dz))
    return float(np.sign(estimate)) * (abs(estimate) - bias)
