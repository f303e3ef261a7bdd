"""Robustness of the effect table: honest uncertainty for rare outcomes and a doubly
robust estimate beside the matched-sample regression.

* :func:`honest_uncertainty` -- in a cell where few persons of a group have the event
  (e.g. a support type almost nobody has after start), ``CR1`` sees (almost) no variance
  on that side and its standard error collapses: when no participant has the outcome,
  the estimate is minus the controls' share and ``CR1`` treats it as known on the
  participants' side. There the standard error is the larger of ``CR1`` and ``CR1-SATT``
  (which takes the participants' error variance from the controls, so it does not
  collapse), and when fewer than ``min_events`` persons in either group have the event
  no star is given (``stars_withheld``): one or two events cannot support a claim, and
  such a cell never counts as significant in the budget.
* :func:`doubly_robust_effects` -- the same weighted regression on the matched sample with
  a richer outcome model (``extra`` characteristics, e.g. age groups and the employment
  history). Matching followed by regression adjustment is consistent if either the
  matching balances the confounders (the score is right) or the outcome model is right
  (Ho, Imai, King & Stuart 2007; Abadie & Imbens 2011); when the two estimates differ by
  much, one of the two models is wrong.

See ``docs/effects.md`` ("Robustness").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from regeval.stats.effects import estimate_effects
from regeval.stats.results import CiDist, VcovType, _wald, stars_for

__all__ = ["DR_COLUMNS", "doubly_robust_effects", "honest_uncertainty"]

DR_COLUMNS = ("dr_estimate", "dr_se", "dr_ci_low", "dr_ci_high", "dr_p")


def honest_uncertainty(
    panel: pd.DataFrame,
    outcomes: Sequence[str],
    table: pd.DataFrame,
    *,
    min_events: int,
    vcov: str,
    alpha: float,
    ci_dist: str = "normal",
    **options: Any,
) -> pd.DataFrame:
    """``table`` (effects with ``k_treated``/``k_control``: persons with the event, i.e. a
    non-zero value) with the rare-event rule applied; adds ``se_rule`` and
    ``stars_withheld``. ``min_events = 0`` leaves the table as it is (the published rule)."""
    out = table.copy()
    out["se_rule"] = vcov
    out["stars_withheld"] = False
    if min_events <= 0:
        return out
    k_t = out["k_treated"].fillna(0).to_numpy(dtype=float)
    k_c = out["k_control"].fillna(0).to_numpy(dtype=float)
    rare = (np.minimum(k_t, k_c) < min_events) & out["estimate"].notna().to_numpy()
    if not rare.any():
        return out
    if vcov == "CR1":
        which = sorted(set(out.loc[rare, "outcome"]), key=list(outcomes).index)
        years = sorted(set(out.loc[rare, "rel_year"].astype(int)))
        satt = estimate_effects(panel, which, vcov="CR1-SATT", alpha=alpha, ci_dist=cast(CiDist, ci_dist),
                                years=years, **options)
        se_satt = out[["outcome", "rel_year"]].merge(satt[["outcome", "rel_year", "se"]], how="left",
                                                   on=["outcome", "rel_year"])["se"].to_numpy()
        idx = np.flatnonzero(rare)
        for i in idx:
            se = max(float(out["se"].iat[i]), float(se_satt[i]) if np.isfinite(se_satt[i]) else -np.inf)
            lo, hi, p = _wald(float(out["estimate"].iat[i]), se, alpha, ci_dist, None if ci_dist == "normal" else
                              int(out["n_clusters"].iat[i]) - 1)
            out.loc[out.index[i], ["se", "ci_low", "ci_high", "p"]] = [se, lo, hi, p]
            out.loc[out.index[i], "stars"] = stars_for(p)
            out.loc[out.index[i], "se_rule"] = "max(CR1, CR1-SATT)"
    out.loc[rare, "stars"] = ""
    out.loc[rare, "stars_withheld"] = True
    return out


def doubly_robust_effects(
    panel: pd.DataFrame,
    outcomes: Sequence[str],
    extra: Sequence[str],
    *,
    vcov: str,
    covariates: Sequence[str] = (),
    categorical: Sequence[str] | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Effects with the richer outcome model: ``covariates`` + ``extra`` (categorical ones
    as dummies); columns ``outcome``, ``rel_year`` and :data:`DR_COLUMNS`."""
    covs = [*covariates, *[c for c in extra if c not in covariates]]
    cat = sorted({*(categorical or ()), *[c for c in extra if not pd.api.types.is_numeric_dtype(panel[c])]})
    import warnings

    with warnings.catch_warnings():  # age groups and linear age can alias in a year: dropped, as R does
        warnings.simplefilter("ignore")
        t = estimate_effects(panel, list(outcomes), vcov=cast(VcovType, vcov), covariates=covs, categorical=cat,
                             **options)
    return t[["outcome", "rel_year", "estimate", "se", "ci_low", "ci_high", "p"]].rename(
        columns=dict(zip(["estimate", "se", "ci_low", "ci_high", "p"], DR_COLUMNS, strict=True))
    )
