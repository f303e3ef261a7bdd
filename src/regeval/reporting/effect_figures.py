"""Figures of the statistical results: effects by year, outcome levels, the love plot.

Each function takes a result table of :mod:`regeval.stats` (as computed, or as read back
from a disclosure-checked export) and returns a ``matplotlib`` figure on the Agg canvas,
without writing a file and without touching the global ``pyplot`` state or backend; the
caller saves it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from regeval.errors import EstimationError, MatchingError
from regeval.reporting.labels import translate

__all__ = ["effect_figure", "levels_figure", "love_plot"]


def _new_figure(figsize: tuple[float, float]) -> Figure:
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


def love_plot(
    balance: pd.DataFrame,
    *,
    threshold: float = 0.1,
    title: str | None = None,
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
    terms = balance["term"].astype(str).tolist()
    n = len(terms)
    fig = Figure(figsize=(6.5, max(2.5, 0.28 * n + 1.2)))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    y = np.arange(n)[::-1]
    before = np.abs(balance["smd_before"].to_numpy(dtype=float))
    ax.scatter(before, y, facecolors="none", edgecolors="#444444", label="Before matching", zorder=3)
    if "smd_after" in balance.columns:
        after = np.abs(balance["smd_after"].to_numpy(dtype=float))
        ax.scatter(after, y, color="#1f77b4", label="After matching", zorder=4)
        for yi, b, a in zip(y, before, after):
            if np.isfinite(a) and np.isfinite(b):
                ax.plot([b, a], [yi, yi], color="#bbbbbb", linewidth=0.8, zorder=2)
    ax.axvline(threshold, color="#d62728", linestyle="--", linewidth=1, label=f"|SMD| = {threshold:g}")
    ax.set_yticks(y)
    ax.set_yticklabels(terms)
    ax.set_xlabel("Absolute standardised mean difference")
    ax.set_ylabel("Characteristic")
    ax.set_xlim(left=0)
    ax.grid(axis="x", color="#eeeeee")
    ax.legend(loc="lower right", fontsize="small")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
