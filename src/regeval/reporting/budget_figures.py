"""Figures of the budget results for a municipal economist.

Every figure shows kr per participant in the price year's prices, labelled with the
discounting used. Functions return a :class:`matplotlib.figure.Figure` built without
pyplot (no global state); save it with ``fig.savefig(path)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from regeval.budget.business_case import BusinessCaseResult
from regeval.budget.schema import BEARERS, PROGRAMME_GROUP, label
from regeval.budget.som import BudgetResult
from regeval.errors import BudgetError
from regeval.reporting import numbers as nf
from regeval.reporting.labels import has, t
from regeval.reporting.plotting import legend_below, new_figure, wrap

ACTOR_COLOURS = {"kommune": "#1f6f8b", "region": "#99c24d", "stat": "#e3a72f", "programme": "#b8435a",
                 "total": "#333333"}


def _t(key: str, language: str, **kw: object) -> str:
    """Text ``key`` of the translation catalogue's section ``budget_figure``."""
    return t(key, language, "budget_figure", **kw)


def _kr(x: float, _pos: object = None, language: str = "en") -> str:
    return nf.number(x, 0, language)


def _one_spec(df: pd.DataFrame, spec: str | None) -> tuple[pd.DataFrame, str]:
    specs = list(dict.fromkeys(df["spec"]))
    if spec is None:
        if len(specs) > 1:
            raise BudgetError(f"the result holds several specs ({', '.join(specs)}); choose one with spec=")
        spec = specs[0]
    if spec not in specs:
        raise BudgetError(f"spec {spec!r} is not in the result ({', '.join(specs)})")
    return df[df["spec"] == spec], spec


def _rule(rule: str, language: str) -> str:
    return t(f"rule_{rule}", language) if has(f"rule_{rule}") else rule


def _subtitle(result: BudgetResult, spec: str, language: str = "en") -> str:
    a = result.assumptions
    text = _t("subtitle", language, spec=spec, py=a.price_year, h=a.horizon,
              rate=nf.percent(a.discount_rate, language), rule=_rule(a.effect_rule, language))
    return "\n".join(wrap(line, 72) for line in text.split("\n"))


def _kr_axis(axis, language: str = "en") -> None:
    axis.set_major_locator(MaxNLocator(nbins=5))
    axis.set_major_formatter(FuncFormatter(lambda x, _p: _kr(x, language=language)))


def _bar_labels(ax, bars, values, horizontal: bool, language: str = "en") -> None:
    for bar, v in zip(bars, values, strict=True):
        if horizontal:
            ax.annotate(nf.kr(v, language), (v, bar.get_y() + bar.get_height() / 2),
                        xytext=(4 if v >= 0 else -4, 0), textcoords="offset points",
                        ha="left" if v >= 0 else "right", va="center", fontsize=8)
        else:
            ax.annotate(_kr(v, language=language), (bar.get_x() + bar.get_width() / 2, v),
                        xytext=(0, 3 if v >= 0 else -10), textcoords="offset points", ha="center", fontsize=8)


def plot_net_by_actor(result: BudgetResult, spec: str | None = None, language: str = "en") -> Figure:
    """Net result (present value) for municipalities, regions, state, the programme and in total."""
    net, spec = _one_spec(result.net, spec)
    order = list(BEARERS) + ["total"]
    net = net.set_index("actor").loc[order]
    fig = new_figure((8, 4.2))
    ax = fig.add_subplot()
    y = np.arange(len(order))[::-1]
    bars = ax.barh(y, net["value_pv"], color=[ACTOR_COLOURS[a] for a in order])
    ax.set_yticks(y, [label(a, language) for a in order])
    ax.axvline(0, color="black", lw=0.8)
    _kr_axis(ax.xaxis, language)
    ax.set_xlabel(_t("kr_pv", language, py=result.price_year))
    _bar_labels(ax, bars, net["value_pv"].to_numpy(), horizontal=True, language=language)
    ax.margins(x=0.2)
    fig.suptitle(_t("net_title", language), fontweight="bold")
    ax.set_title(_subtitle(result, spec, language), fontsize=8)
    return fig


def plot_by_year(result: BudgetResult, spec: str | None = None, value: str = "value_undiscounted",
                 language: str = "en") -> Figure:
    """Stacked bars per relative year and actor, with the yearly total and the cumulative PV.

    ``value`` is ``"value_undiscounted"`` (default: the yearly amounts) or ``"value_pv"``.
    """
    if value not in ("value_undiscounted", "value_pv"):
        raise BudgetError(f"value must be 'value_undiscounted' or 'value_pv', got {value!r}")
    by_year, spec = _one_spec(result.by_year, spec)
    wide = by_year.pivot(index="rel_year", columns="actor", values=value).reindex(columns=list(BEARERS)).fillna(0.0)
    pv = by_year.groupby("rel_year")["value_pv"].sum().cumsum()
    fig = new_figure((8, 4.5))
    ax = fig.add_subplot()
    x = wide.index.to_numpy()
    pos = np.zeros(len(x))
    neg = np.zeros(len(x))
    for actor in wide.columns:
        v = wide[actor].to_numpy()
        bottom = np.where(v >= 0, pos, neg)
        ax.bar(x, v, bottom=bottom, color=ACTOR_COLOURS[actor], label=label(actor, language), width=0.7)
        pos += np.where(v >= 0, v, 0)
        neg += np.where(v < 0, v, 0)
    total = wide.sum(axis=1).to_numpy()
    ax.plot(x, total, "D", color=ACTOR_COLOURS["total"], label=_t("total_year", language))
    for xi, ti in zip(x, total, strict=True):
        ax.annotate(_kr(ti, language=language), (xi, ti), xytext=(0, 6), textcoords="offset points", ha="center",
                    fontsize=8)
    ax.plot(x, pv.to_numpy(), "-o", color="grey", lw=1, ms=3, label=_t("cum_pv", language))
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x, [_t("year", language, t=t) for t in x])
    _kr_axis(ax.yaxis, language)
    kind = _t("undiscounted" if value == "value_undiscounted" else "discounted", language)
    ax.set_ylabel(_t("kr_year", language, py=result.price_year, kind=kind))
    ax.set_xlabel(_t("rel_year", language))
    legend_below(fig, ax, ncols=3)
    fig.suptitle(_t("year_title", language), fontweight="bold")
    ax.set_title(_subtitle(result, spec, language), fontsize=8)
    return fig


def plot_by_group(result: BudgetResult, spec: str | None = None, language: str = "en") -> Figure:
    """Present value by consequence group (social-service parts, transfers, tax, health, other, cost)."""
    by_group, spec = _one_spec(result.by_group, spec)
    rows: list[tuple[str, float, str]] = []
    social = by_group[by_group["group"] == "social_services"]
    rows.append((label("social_services", language) + _t("total_suffix", language), float(social["value_pv"].sum()),
                 "#1f6f8b"))
    for r in social.itertuples():
        rows.append(("– " + label(r.consequence_group, language), float(r.value_pv), "#7fb3c8"))
    for r in by_group[by_group["group"] != "social_services"].itertuples():
        colour = ACTOR_COLOURS["programme"] if r.group == PROGRAMME_GROUP else "#5b7f95"
        rows.append((label(r.consequence_group, language), float(r.value_pv), colour))
    rows.append((label("total", language), float(by_group["value_pv"].sum()), ACTOR_COLOURS["total"]))
    fig = new_figure((8.5, 5))
    ax = fig.add_subplot()
    y = np.arange(len(rows))[::-1]
    values = np.array([r[1] for r in rows])
    bars = ax.barh(y, values, color=[r[2] for r in rows])
    ax.set_yticks(y, [r[0] for r in rows], fontsize=8)
    ax.axvline(0, color="black", lw=0.8)
    _kr_axis(ax.xaxis, language)
    ax.set_xlabel(_t("kr_pv", language, py=result.price_year) + "\n" + _t("gains", language))
    _bar_labels(ax, bars, values, horizontal=True, language=language)
    ax.margins(x=0.25)
    fig.suptitle(_t("group_title", language), fontweight="bold")
    ax.set_title(_subtitle(result, spec, language), fontsize=8)
    return fig


def plot_sensitivity(table: pd.DataFrame, spec: str | None = None, actor: str = "total",
                     price_year: int | None = None, language: str = "en") -> Figure:
    """Net result against the programme-cost level, one line per discount rate."""
    t, spec = _one_spec(table, spec)
    t = t[t["actor"] == actor]
    if t.empty:
        raise BudgetError(f"no sensitivity rows for actor {actor!r}")
    fig = new_figure((7, 4.2))
    ax = fig.add_subplot()
    for rate, g in t.groupby("discount_rate", sort=True):
        g = g.sort_values("cost_factor")
        ax.plot(g["cost_factor"], g["net_pv"], "-o", ms=4, label=_t("rate", language, rate=nf.percent(rate, language)))
    ax.axhline(0, color="black", lw=0.8)
    _kr_axis(ax.yaxis, language)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _p: nf.percent(x, language, 0)))
    ax.set_xlabel(_t("cost_rel", language))
    prices = _t("prices", language, py=price_year) if price_year else ""
    ax.set_ylabel(_t("kr_pv_short", language, prices=prices))
    legend_below(fig, ax, ncols=4)
    fig.suptitle(_t("sens_title", language, actor=label(actor, language).lower()), fontweight="bold")
    ax.set_title(_t("spec", language, spec=spec), fontsize=8)
    return fig


def plot_business_case(result: BusinessCaseResult, title: str = "Municipal business case") -> Figure:
    """Yearly municipal cost per group at each time point, with gain per citizen annotated."""
    bt = result.by_time
    groups = list(dict.fromkeys(bt["group"]))
    points = list(dict.fromkeys(bt.sort_values("months")["time_point"]))
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.add_subplot()
    width = 0.8 / len(groups)
    x = np.arange(len(points))
    for i, g in enumerate(groups):
        v = bt[bt["group"] == g].set_index("time_point").loc[points, "yearly_cost"].to_numpy()
        s = result.summary.set_index("group").loc[g]
        bars = ax.bar(x + (i - (len(groups) - 1) / 2) * width, v, width,
                      label=f"{g} (n = {int(s['citizens'])}; net gain {_kr(s['net_gain_per_citizen'])} kr per citizen)")
        _bar_labels(ax, bars, v, horizontal=False)
    ax.set_xticks(x, points)
    _kr_axis(ax.yaxis)
    ax.set_ylabel("kr per year, all citizens of the group\n(municipal net cost after state refunds)")
    ax.set_xlabel("Time point")
    ax.margins(y=0.2)
    ax.legend(fontsize=8, frameon=False, loc="upper right")
    fig.suptitle(title, fontweight="bold", fontsize=10, wrap=True)
    ax.set_title(f"Yearly cost at each time point; gain = cost at {result.start} − cost at {result.end}", fontsize=8)
    return fig


def budget_figures(result: BudgetResult, sensitivity: pd.DataFrame | None = None,
                   spec: str | None = None, language: str = "en") -> dict[str, Figure]:
    """The standard figures of one spec by name: ``net_by_actor``, ``by_year``, ``by_group``
    and, if a sensitivity table is given, ``sensitivity``; texts in English or Danish."""
    figs = {
        "net_by_actor": plot_net_by_actor(result, spec, language),
        "by_year": plot_by_year(result, spec, language=language),
        "by_group": plot_by_group(result, spec, language),
    }
    if sensitivity is not None:
        figs["sensitivity"] = plot_sensitivity(sensitivity, spec, price_year=result.price_year, language=language)
    return figs

