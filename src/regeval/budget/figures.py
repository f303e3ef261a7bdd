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
from regeval.budget.schema import BEARERS, LABELS, PROGRAMME_GROUP
from regeval.budget.som import BudgetResult
from regeval.errors import BudgetError

ACTOR_COLOURS = {"kommune": "#1f6f8b", "region": "#99c24d", "stat": "#e3a72f", "programme": "#b8435a",
                 "total": "#333333"}


def _kr(x: float, _pos: object = None) -> str:
    return f"{x:,.0f}".replace(",", " ")


def _one_spec(df: pd.DataFrame, spec: str | None) -> tuple[pd.DataFrame, str]:
    specs = list(dict.fromkeys(df["spec"]))
    if spec is None:
        if len(specs) > 1:
            raise BudgetError(f"the result holds several specs ({', '.join(specs)}); choose one with spec=")
        spec = specs[0]
    if spec not in specs:
        raise BudgetError(f"spec {spec!r} is not in the result ({', '.join(specs)})")
    return df[df["spec"] == spec], spec


def _subtitle(result: BudgetResult, spec: str) -> str:
    a = result.assumptions
    return (f"spec '{spec}' · kr per participant, {a.price_year} prices · years 0–{a.horizon}\n"
            f"discount rate {a.discount_rate:.1%} a year · effects counted: {a.effect_rule}")


def _kr_axis(axis) -> None:
    axis.set_major_locator(MaxNLocator(nbins=5))
    axis.set_major_formatter(FuncFormatter(_kr))


def _bar_labels(ax, bars, values, horizontal: bool) -> None:
    for bar, v in zip(bars, values, strict=True):
        if horizontal:
            ax.annotate(f"{_kr(v)} kr", (v, bar.get_y() + bar.get_height() / 2),
                        xytext=(4 if v >= 0 else -4, 0), textcoords="offset points",
                        ha="left" if v >= 0 else "right", va="center", fontsize=8)
        else:
            ax.annotate(f"{_kr(v)}", (bar.get_x() + bar.get_width() / 2, v),
                        xytext=(0, 3 if v >= 0 else -10), textcoords="offset points", ha="center", fontsize=8)


def plot_net_by_actor(result: BudgetResult, spec: str | None = None) -> Figure:
    """Net result (present value) for municipalities, regions, state, the programme and in total."""
    net, spec = _one_spec(result.net, spec)
    order = list(BEARERS) + ["total"]
    net = net.set_index("actor").loc[order]
    fig = Figure(figsize=(8, 4.2), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(order))[::-1]
    bars = ax.barh(y, net["value_pv"], color=[ACTOR_COLOURS[a] for a in order])
    ax.set_yticks(y, [LABELS[a] for a in order])
    ax.axvline(0, color="black", lw=0.8)
    _kr_axis(ax.xaxis)
    ax.set_xlabel(f"kr per participant ({result.price_year} prices, present value at year 0)")
    _bar_labels(ax, bars, net["value_pv"].to_numpy(), horizontal=True)
    ax.margins(x=0.2)
    fig.suptitle("Budget-economic net result by public actor", fontweight="bold")
    ax.set_title(_subtitle(result, spec), fontsize=8)
    return fig


def plot_by_year(result: BudgetResult, spec: str | None = None, value: str = "value_undiscounted") -> Figure:
    """Stacked bars per relative year and actor, with the yearly total and the cumulative PV.

    ``value`` is ``"value_undiscounted"`` (default: the yearly amounts) or ``"value_pv"``.
    """
    if value not in ("value_undiscounted", "value_pv"):
        raise BudgetError(f"value must be 'value_undiscounted' or 'value_pv', got {value!r}")
    by_year, spec = _one_spec(result.by_year, spec)
    wide = by_year.pivot(index="rel_year", columns="actor", values=value).reindex(columns=list(BEARERS)).fillna(0.0)
    pv = by_year.groupby("rel_year")["value_pv"].sum().cumsum()
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.add_subplot()
    x = wide.index.to_numpy()
    pos = np.zeros(len(x))
    neg = np.zeros(len(x))
    for actor in wide.columns:
        v = wide[actor].to_numpy()
        bottom = np.where(v >= 0, pos, neg)
        ax.bar(x, v, bottom=bottom, color=ACTOR_COLOURS[actor], label=LABELS[actor], width=0.7)
        pos += np.where(v >= 0, v, 0)
        neg += np.where(v < 0, v, 0)
    total = wide.sum(axis=1).to_numpy()
    ax.plot(x, total, "D", color=ACTOR_COLOURS["total"], label="Total in the year")
    for xi, ti in zip(x, total, strict=True):
        ax.annotate(_kr(ti), (xi, ti), xytext=(0, 6), textcoords="offset points", ha="center", fontsize=8)
    ax.plot(x, pv.to_numpy(), "-o", color="grey", lw=1, ms=3, label="Cumulative present value")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x, [f"Year {t}" for t in x])
    _kr_axis(ax.yaxis)
    kind = "undiscounted" if value == "value_undiscounted" else "discounted to year 0"
    ax.set_ylabel(f"kr per participant ({result.price_year} prices, {kind})")
    ax.set_xlabel("Year relative to start (year 0 = calendar year of start)")
    ax.legend(fontsize=8, loc="upper left", frameon=False)
    fig.suptitle("Net result per year by public actor", fontweight="bold")
    ax.set_title(_subtitle(result, spec), fontsize=8)
    return fig


def plot_by_group(result: BudgetResult, spec: str | None = None) -> Figure:
    """Present value by consequence group (social-service parts, transfers, tax, health, other, cost)."""
    by_group, spec = _one_spec(result.by_group, spec)
    rows: list[tuple[str, float, str]] = []
    social = by_group[by_group["group"] == "social_services"]
    rows.append((LABELS["social_services"] + " (total)", float(social["value_pv"].sum()), "#1f6f8b"))
    for r in social.itertuples():
        rows.append(("– " + LABELS[r.consequence_group], float(r.value_pv), "#7fb3c8"))
    for r in by_group[by_group["group"] != "social_services"].itertuples():
        colour = ACTOR_COLOURS["programme"] if r.group == PROGRAMME_GROUP else "#5b7f95"
        rows.append((LABELS[r.consequence_group], float(r.value_pv), colour))
    rows.append((LABELS["total"], float(by_group["value_pv"].sum()), ACTOR_COLOURS["total"]))
    fig = Figure(figsize=(8.5, 5), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(rows))[::-1]
    values = np.array([r[1] for r in rows])
    bars = ax.barh(y, values, color=[r[2] for r in rows])
    ax.set_yticks(y, [r[0] for r in rows], fontsize=8)
    ax.axvline(0, color="black", lw=0.8)
    _kr_axis(ax.xaxis)
    ax.set_xlabel(f"kr per participant ({result.price_year} prices, present value at year 0)\n"
                  "positive = the public budget gains")
    _bar_labels(ax, bars, values, horizontal=True)
    ax.margins(x=0.25)
    fig.suptitle("Net result by consequence", fontweight="bold")
    ax.set_title(_subtitle(result, spec), fontsize=8)
    return fig


def plot_sensitivity(table: pd.DataFrame, spec: str | None = None, actor: str = "total",
                     price_year: int | None = None) -> Figure:
    """Net result against the programme-cost level, one line per discount rate."""
    t, spec = _one_spec(table, spec)
    t = t[t["actor"] == actor]
    if t.empty:
        raise BudgetError(f"no sensitivity rows for actor {actor!r}")
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.add_subplot()
    for rate, g in t.groupby("discount_rate", sort=True):
        g = g.sort_values("cost_factor")
        ax.plot(g["cost_factor"], g["net_pv"], "-o", ms=4, label=f"discount rate {rate:.1%}")
    ax.axhline(0, color="black", lw=0.8)
    _kr_axis(ax.yaxis)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _p: f"{x:.0%}"))
    ax.set_xlabel("Programme cost relative to the base case")
    prices = f"{price_year} prices, " if price_year else ""
    ax.set_ylabel(f"kr per participant ({prices}present value)")
    ax.legend(fontsize=8, frameon=False)
    fig.suptitle(f"Sensitivity of the net result ({LABELS.get(actor, actor).lower()})", fontweight="bold")
    ax.set_title(f"spec '{spec}'", fontsize=8)
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
                   spec: str | None = None) -> dict[str, Figure]:
    """The standard figures of one spec by name: ``net_by_actor``, ``by_year``, ``by_group``
    and, if a sensitivity table is given, ``sensitivity``."""
    figs = {
        "net_by_actor": plot_net_by_actor(result, spec),
        "by_year": plot_by_year(result, spec),
        "by_group": plot_by_group(result, spec),
    }
    if sensitivity is not None:
        figs["sensitivity"] = plot_sensitivity(sensitivity, spec, price_year=result.price_year)
    return figs

