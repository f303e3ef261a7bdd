"""A municipal business case from counts per benefit status (method.md §3).

For each group (intervention, control) and time point, the number of citizens in each
benefit status is multiplied by the municipality's average net monthly cost per citizen in
that status (after state refunds) × 12, giving a yearly cost. The gain is the yearly cost at
the start minus the yearly cost at the last time point; per citizen it is divided by the
number of citizens followed; the investment is subtracted for the group that received it;
the intervention's result is compared with the control group's.

The published Ishøj tables (``config/budget/business_case_ishoej.csv``) print monthly unit
costs rounded to the krone, while their yearly totals were computed with unrounded ones.
:func:`implied_unit_costs` recovers unit costs consistent with every published figure, so
that the calculation reproduces the published totals to the krone.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from regeval.budget.inputs import validate_business_case_table
from regeval.budget.refunds import round_kr
from regeval.errors import BudgetError, RegevalWarning

BY_STATUS_COLUMNS = ["group", "status", "cost_category", "time_point", "months", "citizens",
                     "unit_cost_month", "yearly_cost"]
BY_TIME_COLUMNS = ["group", "time_point", "months", "citizens", "yearly_cost"]
SUMMARY_COLUMNS = ["group", "citizens", "cost_start", "cost_end", "gain", "gain_per_citizen",
                   "investment", "net_gain", "net_gain_per_citizen"]
COMPARISON_COLUMNS = ["measure", "intervention", "control", "difference"]
MEASURES = ("yearly_cost", "gain", "gain_per_citizen", "net_gain", "net_gain_per_citizen")


@dataclass(frozen=True, eq=False)
class BusinessCaseResult:
    """Result of :func:`business_case` (kr, unrounded; round with :func:`round_kr` to compare).

    Attributes
    ----------
    by_status
        ``group, status, cost_category, time_point, months, citizens, unit_cost_month,
        yearly_cost`` (yearly_cost = citizens × unit_cost_month × 12).
    by_time
        ``group, time_point, months, citizens, yearly_cost``: totals per group and time point.
    summary
        ``group, citizens, cost_start, cost_end, gain, gain_per_citizen, investment,
        net_gain, net_gain_per_citizen``.
    comparison
        ``measure, intervention, control, difference`` for the per-citizen gain before and
        after the investment.
    start, end
        The time points compared.
    """

    by_status: pd.DataFrame
    by_time: pd.DataFrame
    summary: pd.DataFrame
    comparison: pd.DataFrame
    start: str
    end: str
    intervention: str
    control: str

    def value(self, group: str, measure: str) -> float:
        """One figure of ``summary``, e.g. ``value("intervention", "net_gain")``."""
        row = self.summary[self.summary["group"] == group]
        if row.empty or measure not in self.summary.columns:
            raise BudgetError(f"no {measure!r} for group {group!r}")
        return float(row[measure].iloc[0])


def _unit_cost_map(unit_costs: Mapping[str, float] | pd.Series, categories: set[str]) -> dict[str, float]:
    uc = dict(unit_costs.items()) if isinstance(unit_costs, pd.Series) else dict(unit_costs)
    missing = sorted(categories - set(uc))
    if missing:
        raise BudgetError(f"unit_costs lacks the cost categories {', '.join(missing)} used in the table")
    out = {}
    for k, v in uc.items():
        x = float(v)
        if not math.isfinite(x) or x < 0:
            raise BudgetError(f"unit cost of {k!r} must be a number >= 0 (kr per month), got {v!r}")
        out[str(k)] = x
    return out


def _time_points(table: pd.DataFrame, start: str | None, end: str | None) -> tuple[str, str]:
    tp = table.drop_duplicates("time_point").sort_values("months", kind="stable")
    points = list(tp["time_point"])
    start = points[0] if start is None else start
    end = points[-1] if end is None else end
    for name, value in (("start", start), ("end", end)):
        if value not in points:
            raise BudgetError(f"{name} time point {value!r} is not in the table ({', '.join(points)})")
    return start, end


def _investment_map(investment: float | Mapping[str, float] | None, groups: list[str],
                    intervention: str) -> dict[str, float]:
    if investment is None:
        inv: dict[str, float] = {}
    elif isinstance(investment, Mapping):
        inv = {str(k): float(v) for k, v in investment.items()}
    else:
        inv = {intervention: float(investment)}
    for g in inv:
        if g not in groups:
            raise BudgetError(f"investment given for group {g!r}, which is not in the table ({', '.join(groups)})")
    return {g: inv.get(g, 0.0) for g in groups}


def business_case(
    table: pd.DataFrame,
    unit_costs: Mapping[str, float] | pd.Series,
    investment: float | Mapping[str, float] | None = None,
    *,
    start: str | None = None,
    end: str | None = None,
    intervention: str = "intervention",
    control: str = "control",
) -> BusinessCaseResult:
    """Yearly cost per group and time point, gain, gain per citizen, net of the investment.

    Parameters
    ----------
    table
        Counts, one row per group × status × time point, columns ``group, status,
        cost_category, time_point, months, citizens`` (``months`` orders the time points).
    unit_costs
        Municipal net monthly cost per citizen (after state refunds) by ``cost_category``.
    investment
        A number (the intervention group's investment) or a mapping group → kr.
    start, end
        Time points compared (default: first and last by ``months``).
    intervention, control
        Group names for the comparison.

    Returns
    -------
    BusinessCaseResult
    """
    t = validate_business_case_table(table)
    groups = list(dict.fromkeys(t["group"]))
    for role, g in (("intervention", intervention), ("control", control)):
        if g not in groups:
            raise BudgetError(f"{role} group {g!r} is not in the table; groups are {', '.join(groups)}")
    start, end = _time_points(t, start, end)
    uc = _unit_cost_map(unit_costs, set(t["cost_category"]))
    inv = _investment_map(investment, groups, intervention)

    by_status = t.drop(columns="yearly_cost_published").copy()
    by_status["unit_cost_month"] = by_status["cost_category"].map(uc).astype(float)
    by_status["yearly_cost"] = by_status["citizens"] * by_status["unit_cost_month"] * 12.0
    by_status = by_status[BY_STATUS_COLUMNS]

    by_time = (by_status.groupby(["group", "time_point"], sort=False)
               .agg(months=("months", "first"), citizens=("citizens", "sum"), yearly_cost=("yearly_cost", "sum"))
               .reset_index())
    by_time["group"] = pd.Categorical(by_time["group"], categories=groups)
    by_time = by_time.sort_values(["group", "months"], kind="stable").reset_index(drop=True)
    by_time["group"] = by_time["group"].astype(str)
    by_time = by_time[BY_TIME_COLUMNS]

    rows = []
    for g in groups:
        bt = by_time[by_time["group"] == g].set_index("time_point")
        if start not in bt.index or end not in bt.index:
            raise BudgetError(f"group {g!r} has no rows for time point {start!r} or {end!r}")
        n_start, n_end = int(bt.loc[start, "citizens"]), int(bt.loc[end, "citizens"])
        if n_start != n_end:
            warnings.warn(
                f"group {g!r} has {n_start} citizens at {start!r} but {n_end} at {end!r}; per-citizen "
                "figures divide by the number at the start", RegevalWarning, stacklevel=2)
        if n_start == 0:
            raise BudgetError(f"group {g!r} has no citizens at {start!r}")
        c0, c1 = float(bt.loc[start, "yearly_cost"]), float(bt.loc[end, "yearly_cost"])
        gain = c0 - c1
        net = gain - inv[g]
        rows.append({"group": g, "citizens": n_start, "cost_start": c0, "cost_end": c1, "gain": gain,
                     "gain_per_citizen": gain / n_start, "investment": inv[g], "net_gain": net,
                     "net_gain_per_citizen": net / n_start})
    summary = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    s = summary.set_index("group")
    comparison = pd.DataFrame(
        [{"measure": m, "intervention": float(s.loc[intervention, m]), "control": float(s.loc[control, m]),
          "difference": float(s.loc[intervention, m] - s.loc[control, m])}
         for m in ("gain_per_citizen", "net_gain_per_citizen")],
        columns=COMPARISON_COLUMNS)
    return BusinessCaseResult(by_status=by_status, by_time=by_time, summary=summary, comparison=comparison,
                              start=start, end=end, intervention=intervention, control=control)


def _linear_forms(t: pd.DataFrame, categories: list[str], published: pd.DataFrame | None,
                  inv: dict[str, float], start: str, end: str, intervention: str,
                  control: str) -> list[tuple[str, np.ndarray, float, float]]:
    """Each published figure as (label, coefficients on monthly unit costs, constant, value)."""
    k = {c: i for i, c in enumerate(categories)}
    n = len(categories)

    def cost(rows: pd.DataFrame) -> np.ndarray:
        v = np.zeros(n)
        for r in rows.to_dict("records"):
            v[k[r["cost_category"]]] += 12.0 * r["citizens"]
        return v

    forms = []
    for r in t.to_dict("records"):
        if r["citizens"] > 0 and not math.isnan(r["yearly_cost_published"]):
            v = np.zeros(n)
            v[k[r["cost_category"]]] = 12.0 * r["citizens"]
            forms.append((f"{r['group']} / {r['status']} / {r['time_point']}", v, 0.0, r["yearly_cost_published"]))
    if published is None or published.empty:
        return forms
    groups = set(t["group"])

    def group_forms(g: str) -> dict[str, tuple[np.ndarray, float]]:
        tg = t[t["group"] == g]
        n0 = int(tg.loc[tg["time_point"] == start, "citizens"].sum())
        gain = cost(tg[tg["time_point"] == start]) - cost(tg[tg["time_point"] == end])
        return {"gain": (gain, 0.0), "gain_per_citizen": (gain / n0, 0.0),
                "net_gain": (gain, -inv.get(g, 0.0)), "net_gain_per_citizen": (gain / n0, -inv.get(g, 0.0) / n0)}

    for r in published.to_dict("records"):
        g, m, tp, value = r["group"], r["measure"], r["time_point"], float(r["value"])
        label = f"published {g} {m}" + (f" at {tp}" if tp else "")
        if g == "difference":
            if m not in ("gain_per_citizen", "net_gain_per_citizen"):
                raise BudgetError(f"published difference measure {m!r} is not known; "
                                  "use gain_per_citizen or net_gain_per_citizen")
            a, b = group_forms(intervention)[m], group_forms(control)[m]
            forms.append((label, a[0] - b[0], a[1] - b[1], value))
            continue
        if g not in groups:
            raise BudgetError(f"published figure for group {g!r}, which is not in the table")
        if m == "yearly_cost":
            tg = t[(t["group"] == g) & (t["time_point"] == tp)]
            if tg.empty:
                raise BudgetError(f"published yearly_cost of {g!r} at {tp!r}: no such time point in the table")
            forms.append((label, cost(tg), 0.0, value))
        elif m in MEASURES:
            coef, const = group_forms(g)[m]
            forms.append((label, coef, const, value))
        else:
            raise BudgetError(f"published measure {m!r} is not known; use {', '.join(MEASURES)}")
    return forms


def implied_unit_costs(
    table: pd.DataFrame,
    published: pd.DataFrame | None = None,
    *,
    investment: float | Mapping[str, float] | None = None,
    start: str | None = None,
    end: str | None = None,
    intervention: str = "intervention",
    control: str = "control",
    printed_unit_costs: Mapping[str, float] | pd.Series | None = None,
    rounding: float = 0.5,
) -> pd.DataFrame:
    """Unrounded monthly unit costs consistent with every published (rounded) figure.

    Each published figure ``F`` (a per-status yearly total in ``table.yearly_cost_published``,
    if given the group totals, gains and per-citizen results in ``published``, and the
    printed monthly unit costs) is a linear function of the monthly unit costs and was
    rounded to the krone, so the true value lies within ``F ± rounding``. The unit costs returned satisfy all these
    constraints with the largest common margin (a small linear programme), i.e. they sit in
    the middle of the set of unit costs consistent with the published document.

    Returns
    -------
    pandas.DataFrame
        ``cost_category, unit_cost_month, low, high, margin``; ``low``/``high`` bound the
        category's monthly cost from its per-status totals alone; ``margin`` (kr, the same on
        every row) is how far the least-well reproduced figure stays inside its rounding
        interval (> 0 means every figure rounds to its published value). A category whose
        published totals are all 0 (ordinary job, moved away) is fixed at 0.

    Raises
    ------
    BudgetError
        If no single set of unit costs reproduces all figures (an inconsistent table).
    """
    t = validate_business_case_table(table)
    start, end = _time_points(t, start, end)
    groups = list(dict.fromkeys(t["group"]))
    inv = _investment_map(investment, groups, intervention)
    categories = list(dict.fromkeys(t["cost_category"]))
    forms = _linear_forms(t, categories, published, inv, start, end, intervention, control)
    if printed_unit_costs is not None:
        for cat, value in dict(printed_unit_costs.items()).items():
            if cat in categories:
                v = np.zeros(len(categories))
                v[categories.index(cat)] = 1.0
                forms.append((f"printed unit cost of {cat}", v, 0.0, float(value)))
    if not forms:
        raise BudgetError("no published totals to derive unit costs from (column yearly_cost_published is empty)")
    n = len(categories)
    # variables: u_1..u_n (monthly unit costs), m (common margin); maximise m
    a_ub, b_ub = [], []
    for _, coef, const, value in forms:
        a_ub.append(np.append(coef, 1.0))      # coef·u + const + m <= value + r
        b_ub.append(value + rounding - const)
        a_ub.append(np.append(-coef, 1.0))     # -(coef·u + const) + m <= -(value - r)
        b_ub.append(-(value - rounding - const))
    c = np.zeros(n + 1)
    c[-1] = -1.0
    # a category whose every published total is 0 (ordinary job, moved away) costs exactly 0
    printed_rows = t[(t["citizens"] > 0) & t["yearly_cost_published"].notna()]
    zero = {cat for cat, rows in printed_rows.groupby("cost_category")
            if (rows["yearly_cost_published"] == 0).all()}
    bounds = [(0.0, 0.0) if cat in zero else (0.0, None) for cat in categories] + [(None, rounding)]
    from scipy.optimize import linprog  # here: importing scipy.optimize costs every workflow start ~0.5 s

    res = linprog(c, A_ub=np.array(a_ub), b_ub=np.array(b_ub), bounds=bounds, method="highs")
    if res.status != 0 or res.x[-1] <= 1e-9:
        worst = "" if res.status != 0 else f" (best common margin {res.x[-1]:.3g} kr)"
        raise BudgetError(
            "the published figures are not consistent with one unrounded unit cost per cost category"
            f"{worst}; check the table for typos or give categories that differ their own cost_category"
        )
    u = res.x[:n]
    rows = []
    for i, cat in enumerate(categories):
        rt = t[(t["cost_category"] == cat) & (t["citizens"] > 0) & t["yearly_cost_published"].notna()]
        lo = max(((r["yearly_cost_published"] - rounding) / (12 * r["citizens"]) for r in rt.to_dict("records")),
                 default=math.nan)
        hi = min(((r["yearly_cost_published"] + rounding) / (12 * r["citizens"]) for r in rt.to_dict("records")),
                 default=math.nan)
        rows.append({"cost_category": cat, "unit_cost_month": float(u[i]), "low": lo, "high": hi,
                     "margin": float(res.x[-1])})
    return pd.DataFrame(rows, columns=["cost_category", "unit_cost_month", "low", "high", "margin"])


def compare_with_published(result: BusinessCaseResult, published: pd.DataFrame) -> pd.DataFrame:
    """Computed figures next to the published ones.

    Returns
    -------
    pandas.DataFrame
        ``group, measure, time_point, published, computed, computed_kr, difference_kr``
        (``computed_kr`` rounded half up to the krone; ``difference_kr = computed_kr -
        published``).
    """
    s = result.summary.set_index("group")
    bt = result.by_time.set_index(["group", "time_point"])
    cmp = result.comparison.set_index("measure")
    rows = []
    for r in published.to_dict("records"):
        g, m, tp = r["group"], r["measure"], r["time_point"]
        if g == "difference":
            computed = float(cmp.loc[m, "difference"])
        elif m == "yearly_cost":
            computed = float(bt.loc[(g, tp), "yearly_cost"])
        else:
            computed = float(s.loc[g, m])
        kr = round_kr(computed)
        rows.append({"group": g, "measure": m, "time_point": tp, "published": float(r["value"]),
                     "computed": computed, "computed_kr": kr, "difference_kr": kr - float(r["value"])})
    return pd.DataFrame(rows, columns=["group", "measure", "time_point", "published", "computed",
                                       "computed_kr", "difference_kr"])
