"""Figures of the statistical results: effects by year, outcome levels, the love plot.

Each function takes a result table of :mod:`regeval.stats` (as computed, or as read back
from a disclosure-checked export) and returns a ``matplotlib`` figure on the Agg canvas,
without writing a file and without touching the global ``pyplot`` state or backend; the
caller saves it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from regeval.errors import EstimationError, MatchingError
from regeval.reporting import numbers as nf
from regeval.reporting.labels import t, term_label, unit_label
from regeval.reporting.plotting import format_axis, legend_below, new_figure, wrap

__all__ = ["effect_figure", "levels_figure", "love_plot"]


def _new_figure(figsize: tuple[float, float]) -> Figure:
    return new_figure(figsize)


def _select_outcome(df: pd.DataFrame, outcome: str, what: str) -> pd.DataFrame:
    if "outcome" not in df.columns:
        raise EstimationError(f"{what} lacks the column 'outcome'")
    sub = df[df["outcome"] == outcome]
    if sub.empty:
        raise EstimationError(
            f"{what} has no rows for outcome {outcome!r}; outcomes present: {sorted(df['outcome'].unique())}"
        )
    return sub.sort_values("rel_year", kind="stable")


def _ft(key: str, language: str, **kw: object) -> str:
    return t(key, language, "figure", **kw)


def _scale(unit: str | None) -> float:
    """Shares are drawn in per cent (levels) and percentage points (effects)."""
    return 100.0 if unit == "share" else 1.0


def _level_unit(unit: str | None, language: str) -> str:
    if unit == "share":
        return "%"
    return unit_label(unit, language) if unit else ""


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
        Output of :func:`regeval.stats.effects.estimate_effects`.
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
    k = _scale(unit)
    fig = _new_figure(figsize)
    ax = fig.add_subplot()
    x = sub["rel_year"].to_numpy(dtype=float)
    est = sub["estimate"].to_numpy(dtype=float) * k
    lo = sub["ci_low"].to_numpy(dtype=float) * k
    hi = sub["ci_high"].to_numpy(dtype=float) * k
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
        for xi, hv, s in zip(x[ok], hi[ok], sub["stars"].to_numpy()[ok], strict=True):
            if isinstance(s, str) and s and np.isfinite(hv):
                ax.annotate(str(s), (xi, hv), textcoords="offset points", xytext=(0, 2), ha="center", fontsize=7)
    ax.margins(y=0.12)
    ax.set_xticks(x)
    format_axis(ax.xaxis, language)
    format_axis(ax.yaxis, language)
    ax.set_xlabel(_ft("x_rel_year", language))
    ax.set_ylabel(_ft("effect_y", language, unit=unit_label(unit, language) if unit else "")
                  if unit else _ft("effect_title", language))
    ax.set_title(wrap(label, 60), fontsize=10)
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
        Output of :func:`regeval.stats.effects.group_means`.
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
    k = _scale(unit)
    fig = _new_figure(figsize)
    ax = fig.add_subplot()
    for (group, glabel), color, offset in zip(
        (("treated", group_labels[0]), ("control", group_labels[1])), ("C0", "C1"), (-0.06, 0.06), strict=True
    ):
        g = sub[sub["group"] == group]
        x = g["rel_year"].to_numpy(dtype=float)
        m = g["mean"].to_numpy(dtype=float) * k
        lo = g["ci_low"].to_numpy(dtype=float) * k
        hi = g["ci_high"].to_numpy(dtype=float) * k
        ok = np.isfinite(m)
        ax.plot(x[ok] + offset, m[ok], marker="o", color=color, label=glabel, linewidth=1.2, markersize=4)
        band = ok & np.isfinite(lo) & np.isfinite(hi)
        ax.vlines(x[band] + offset, lo[band], hi[band], color=color, linewidth=1.0)
    ax.axvline(-0.5, color="0.5", linewidth=0.8, linestyle="--")
    years = np.unique(sub["rel_year"].to_numpy())
    ax.set_xticks(years)
    ax.margins(y=0.1)
    format_axis(ax.xaxis, language)
    format_axis(ax.yaxis, language)
    ax.set_xlabel(_ft("x_rel_year", language))
    ax.set_ylabel(_level_unit(unit, language))
    ax.set_title(wrap(label, 60), fontsize=10)
    legend_below(fig, ax, ncols=2)
    return fig


def love_plot(
    balance: pd.DataFrame,
    *,
    threshold: float = 0.1,
    title: str | None = None,
    language: str = "en",
) -> Figure:
    """Draw |SMD| per term before and after matching (a "love plot").

    Parameters
    ----------
    balance : pandas.DataFrame
        Output of :func:`regeval.stats.balance.balance_table` (``smd_after`` optional).
    threshold : float, default 0.1
        Reference line for acceptable imbalance (|SMD| < 0.1 is the usual rule,
        Austin 2009).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        A figure on the Agg canvas; save it with ``fig.savefig(path)``.
    """
    if "term" not in balance.columns or "smd_before" not in balance.columns:
        raise MatchingError("balance must be a balance_table() result with 'term' and 'smd_before'")
    if "variable" in balance.columns and "level" in balance.columns:
        terms = [term_label(v, lv, language) for v, lv in zip(balance["variable"], balance["level"], strict=True)]
    else:
        terms = balance["term"].astype(str).tolist()
    n = len(terms)
    fig = _new_figure((7.0, max(3.0, 0.24 * n + 1.6)))
    ax = fig.add_subplot(1, 1, 1)
    y = np.arange(n)[::-1]
    before = np.abs(balance["smd_before"].to_numpy(dtype=float))
    ax.scatter(before, y, facecolors="none", edgecolors="#444444", label=_ft("before", language), zorder=3, s=22)
    after = None
    if "smd_after" in balance.columns:
        after = np.abs(balance["smd_after"].to_numpy(dtype=float))
        ax.scatter(after, y, color="#1f77b4", label=_ft("after", language), zorder=4, s=22)
        for yi, b, a in zip(y, before, after, strict=True):
            if np.isfinite(a) and np.isfinite(b):
                ax.plot([b, a], [yi, yi], color="#bbbbbb", linewidth=0.8, zorder=2)
    ax.axvline(threshold, color="#d62728", linestyle="--", linewidth=1,
               label=_ft("limit", language) if threshold == 0.1 else f"|SMD| = {nf.number(threshold, 2, language)}")
    ax.set_yticks(y)
    ax.set_yticklabels(terms, fontsize=7 if n > 30 else 8)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlabel(_ft("love_x", language))
    finite = np.concatenate([before[np.isfinite(before)], after[np.isfinite(after)] if after is not None else []])
    ax.set_xlim(0, max(threshold, float(finite.max()) if finite.size else threshold) * 1.08)
    format_axis(ax.xaxis, language)
    ax.grid(axis="x", color="#eeeeee")
    legend_below(fig, ax)
    ax.set_title(title if title is not None else _ft("love_title", language), fontsize=10)
    return fig
