"""Balance as a verdict: thresholds on the balance statistics, and terms that check the
distribution of continuous characteristics, not only their means.

:func:`distribution_terms` adds, for every continuous characteristic, a standardised
squared term and indicators of the treated group's lower and upper tails (below its
10th and above its 90th percentile), so that a control group with the treated group's
mean age but too many of the youngest and oldest is seen (a variance ratio alone hides
where the difference is). :func:`balance_verdict` judges every row of a
:func:`regeval.stats.balance.balance_table` against :class:`BalanceThresholds` (cobalt's
conventions: |SMD| <= 0.1, variance ratio in [0.5, 2]; eCDF max <= 0.15 for continuous
terms), and :func:`balance_failures` names the terms that fail, for the run's log and the
report. See ``docs/matching.md``, "Balance verdict".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["BalanceThresholds", "balance_failures", "balance_score", "balance_verdict", "distribution_terms"]

VERDICT_COLUMNS = ("smd_ok", "var_ratio_ok", "ecdf_ok", "balanced")


@dataclass(frozen=True)
class BalanceThresholds:
    """The thresholds of a balanced term (after matching).

    smd : largest acceptable |standardised mean difference| (Stuart 2010; cobalt).
    var_ratio : acceptable range of the variance ratio treated / control of a continuous
        term (Rubin 2001; cobalt's default 2, i.e. [0.5, 2]).
    ecdf_max : largest acceptable maximum eCDF difference (Kolmogorov–Smirnov statistic)
        of a continuous term.
    """

    smd: float = 0.1
    var_ratio: tuple[float, float] = (0.5, 2.0)
    ecdf_max: float = 0.15


def _continuous(s: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
                and s.nunique(dropna=True) > 5)


def distribution_terms(
    units: pd.DataFrame, columns: Sequence[str], treatment: str = "treated"
) -> tuple[pd.DataFrame, list[str]]:
    """``units`` with distribution terms of its continuous ``columns`` added, and their names.

    For a continuous column ``c`` (numeric, more than 5 distinct values): ``c_sq``, the
    square of ``c`` standardised by the treated group's mean and SD (its balance is the
    balance of the variance around the treated mean); ``c_low`` and ``c_high``, 0/1
    indicators of values below the treated group's 10th and above its 90th percentile
    (the treated have 10 % in each; the matched controls should too).
    """
    t = units[treatment].to_numpy() == 1
    new: dict[str, np.ndarray] = {}
    for c in columns:
        if c not in units.columns or not _continuous(units[c]):
            continue
        x = units[c].to_numpy(dtype=float, na_value=np.nan)
        xt = x[t & ~np.isnan(x)]
        if xt.size < 2:
            continue
        sd = float(np.std(xt, ddof=1))
        if not sd > 0:
            continue
        lo, hi = np.quantile(xt, [0.1, 0.9])
        new[f"{c}_sq"] = ((x - xt.mean()) / sd) ** 2
        new[f"{c}_low"] = np.where(np.isnan(x), np.nan, (x < lo).astype(float))
        new[f"{c}_high"] = np.where(np.isnan(x), np.nan, (x > hi).astype(float))
    return units.assign(**new), list(new)


def balance_verdict(bal: pd.DataFrame, thresholds: BalanceThresholds = BalanceThresholds()) -> pd.DataFrame:
    """``bal`` (a balance table) with the verdict of every term.

    Uses the ``*_after`` statistics when present, else ``*_before``. Adds ``smd_ok``,
    ``var_ratio_ok`` (true for binary terms, which have no variance ratio),
    ``ecdf_ok`` (eCDF max; true for binary terms, whose eCDF max is the difference in
    shares, judged by the SMD) and ``balanced`` (all three). A statistic that cannot be
    computed (``nan``, e.g. a level nobody has) counts as balanced.
    """
    sfx = "_after" if "smd_after" in bal.columns else "_before"
    smd = bal[f"smd{sfx}"].to_numpy(dtype=float)
    vr = bal[f"var_ratio{sfx}"].to_numpy(dtype=float)
    ks = bal[f"ecdf_max{sfx}"].to_numpy(dtype=float)
    cont = (bal["kind"] == "continuous").to_numpy()
    lo, hi = thresholds.var_ratio
    with np.errstate(invalid="ignore"):
        smd_ok = ~(np.abs(smd) > thresholds.smd)
        vr_ok = ~cont | ~((vr < lo) | (vr > hi))
        ks_ok = ~cont | ~(ks > thresholds.ecdf_max)
    out = bal.copy()
    out["smd_ok"] = smd_ok
    out["var_ratio_ok"] = vr_ok
    out["ecdf_ok"] = ks_ok
    out["balanced"] = smd_ok & vr_ok & ks_ok
    return out


def balance_failures(verdict: pd.DataFrame) -> list[str]:
    """One sentence per unbalanced term, naming the term and what failed."""
    sfx = "_after" if "smd_after" in verdict.columns else "_before"
    msgs = []
    for r in verdict.loc[~verdict["balanced"].astype(bool)].itertuples(index=False):
        parts = []
        if not r.smd_ok:
            parts.append(f"SMD {getattr(r, 'smd' + sfx):+.3f}")
        if not r.var_ratio_ok:
            parts.append(f"variance ratio {getattr(r, 'var_ratio' + sfx):.2f}")
        if not r.ecdf_ok:
            parts.append(f"eCDF max {getattr(r, 'ecdf_max' + sfx):.3f}")
        msgs.append(f"{r.term}: {', '.join(parts)}")
    return msgs


def balance_score(verdict: pd.DataFrame) -> tuple[int, float, float]:
    """How well a verdict balances, smaller is better: (number of unbalanced terms,
    largest |SMD|, largest eCDF max), compared in this order."""
    sfx = "_after" if "smd_after" in verdict.columns else "_before"
    smd = np.abs(verdict[f"smd{sfx}"].to_numpy(dtype=float))
    ks = verdict[f"ecdf_max{sfx}"].to_numpy(dtype=float)
    return (
        int((~verdict["balanced"].astype(bool)).sum()),
        float(np.nanmax(smd)) if np.isfinite(smd).any() else 0.0,
        float(np.nanmax(ks)) if np.isfinite(ks).any() else 0.0,
    )
