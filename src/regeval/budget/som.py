"""Effects × prices → budget values per year, consequence and actor (SØM-style).

For every relative year ``t`` in ``0..horizon``, every consequence ``c`` fed by an outcome
``o`` and every public actor ``a`` (method.md §7)::

    value[t, c, a] = s_c × factor[o, c] × effect[o, t] × price[c, a]

with ``s_c = -1`` for a cost (less use of a service is a saving, a positive value) and
``+1`` for a revenue (more taxable income is more tax). ``effect`` is the estimate chosen
by the effect rule (only significant ones by default; others count 0). The programme's
cost enters as a negative value borne by its bearer. Present values discount year ``t``
by ``(1 + r) ** t`` (:mod:`regeval.budget.discounting`). Values are kr per participant in
the price year's prices; positive = the public budget gains.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from regeval.budget.assumptions import BudgetAssumptions
from regeval.budget.discounting import discount_factors
from regeval.budget.inputs import BudgetInputs
from regeval.budget.prices import actor_prices, programme_cost_in_price_year
from regeval.budget.schema import (
    ACTORS,
    BEARERS,
    CONSEQUENCE_GROUPS,
    GROUPS,
    NET_ROWS,
    PROGRAMME_CONSEQUENCE,
    PROGRAMME_GROUP,
)
from regeval.errors import BudgetError, RegevalWarning

DEFAULT_SPEC = "default"

BY_ITEM_COLUMNS = [
    "spec", "rel_year", "group", "consequence_group", "consequence", "outcome", "actor",
    "estimate", "p", "quantity", "counted", "reason", "factor", "unit", "price", "sign",
    "value_undiscounted", "discount_factor", "value_pv",
]
EFFECTS_USED_COLUMNS = [
    "spec", "outcome", "rel_year", "estimate", "p", "ci_low", "ci_high", "quantity", "counted", "reason",
]
BY_ACTOR_COLUMNS = [
    "spec", "actor", "consequences_undiscounted", "consequences_pv",
    "programme_cost_undiscounted", "programme_cost_pv", "net_undiscounted", "net_pv",
]
BY_YEAR_COLUMNS = ["spec", "rel_year", "actor", "value_undiscounted", "value_pv"]
BY_GROUP_COLUMNS = ["spec", "group", "consequence_group", "value_undiscounted", "value_pv"]
NET_COLUMNS = ["spec", "actor", "value_undiscounted", "value_pv"]


@dataclass(frozen=True, eq=False)
class BudgetResult:
    """Result of :func:`compute_budget`. All values are kr per participant, price-year prices.

    Attributes
    ----------
    assumptions
        The assumptions used.
    prices
        The actor prices used (:func:`regeval.budget.prices.actor_prices`).
    effects_used
        One row per spec × mapped outcome × year: ``spec, outcome, rel_year, estimate, p,
        ci_low, ci_high, quantity, counted, reason`` (``quantity`` = the effect counted).
    by_item
        One row per spec × year × consequence × actor, plus the programme-cost rows
        (``consequence = group = "programme_cost"``): ``spec, rel_year, group,
        consequence_group, consequence, outcome, actor, estimate, p, quantity, counted,
        reason, factor, unit, price, sign, value_undiscounted, discount_factor, value_pv``.
    by_actor
        ``spec, actor, consequences_undiscounted, consequences_pv,
        programme_cost_undiscounted, programme_cost_pv, net_undiscounted, net_pv`` for the
        actors kommune, region, stat and programme.
    by_year
        ``spec, rel_year, actor, value_undiscounted, value_pv`` (programme cost included,
        under its bearer).
    by_group
        ``spec, group, consequence_group, value_undiscounted, value_pv``: every consequence
        group in a fixed order (the four social-service parts share ``group =
        "social_services"``), then the programme cost; rows sum to the total net result.
    net
        ``spec, actor, value_undiscounted, value_pv`` for kommune, region, stat, programme
        and total: the headline net result.
    """

    assumptions: BudgetAssumptions
    prices: pd.DataFrame
    effects_used: pd.DataFrame
    by_item: pd.DataFrame
    by_actor: pd.DataFrame
    by_year: pd.DataFrame
    by_group: pd.DataFrame
    net: pd.DataFrame

    @property
    def price_year(self) -> int:
        return self.assumptions.price_year

    @property
    def specs(self) -> tuple[str, ...]:
        return tuple(pd.unique(self.net["spec"]))

    def tables(self) -> dict[str, pd.DataFrame]:
        """The output tables by name (for writing to Parquet/CSV)."""
        return {
            "by_item": self.by_item, "by_actor": self.by_actor, "by_year": self.by_year,
            "by_group": self.by_group, "net": self.net, "effects_used": self.effects_used,
            "prices": self.prices,
        }

    def net_pv(self, actor: str = "total", spec: str | None = None) -> float:
        """Present value of the net result for one actor (``"total"`` = all)."""
        net = self.net if spec is None else self.net[self.net["spec"] == spec]
        if spec is None and net["spec"].nunique() > 1:
            raise BudgetError(f"the result holds several specs ({', '.join(self.specs)}); name one with spec=")
        row = net[net["actor"] == actor]
        if row.empty:
            raise BudgetError(f"no net result for actor {actor!r}; actors are {', '.join(NET_ROWS)}")
        return float(row["value_pv"].iloc[0])


def _prepare_effects(effects: pd.DataFrame, assumptions: BudgetAssumptions) -> pd.DataFrame:
    if not isinstance(effects, pd.DataFrame):
        raise BudgetError(f"effects must be a pandas DataFrame, got {type(effects).__name__}")
    needed = ["outcome", "rel_year", "estimate"]
    rule = assumptions.effect_rule
    if rule == "significant":
        needed.append("p")
    elif rule in ("ci_low", "ci_high"):
        needed.append(rule)
    missing = [c for c in needed if c not in effects.columns]
    if missing:
        raise BudgetError(
            f"effect table lacks column(s) {', '.join(missing)} needed with effect_rule='{rule}'; "
            f"it has {', '.join(map(str, effects.columns))}"
        )
    eff = effects.copy()
    if "spec" not in eff.columns:
        eff["spec"] = DEFAULT_SPEC
    for col in ("p", "ci_low", "ci_high"):
        if col not in eff.columns:
            eff[col] = np.nan
    ry = pd.to_numeric(eff["rel_year"], errors="coerce")
    bad = ry.isna() | (ry != np.floor(ry))
    if bad.any():
        raise BudgetError(
            f"effect table: rel_year must be whole numbers; {int(bad.sum())} row(s) are not, "
            f"e.g. {eff.loc[bad, 'rel_year'].iloc[0]!r}"
        )
    eff["rel_year"] = ry.astype(int)
    eff["spec"] = eff["spec"].astype(str)
    eff["outcome"] = eff["outcome"].astype(str)
    for col in ("estimate", "p", "ci_low", "ci_high"):
        eff[col] = pd.to_numeric(eff[col], errors="coerce").astype(float)
    dup = eff.duplicated(["spec", "outcome", "rel_year"], keep=False)
    if dup.any():
        first = eff.loc[dup].iloc[0]
        raise BudgetError(
            f"effect table has {int(dup.sum())} rows repeating a (spec, outcome, rel_year), e.g. "
            f"({first['spec']!r}, {first['outcome']!r}, {first['rel_year']}); keep one row each"
        )
    return eff


def _choose(
    est: float, p: float, lo: float, hi: float, a: BudgetAssumptions, unit_value: float = 0.0
) -> tuple[float, bool, str]:
    """Quantity counted, whether it is counted, and why (one effect, one year).

    ``unit_value``: the outcome's total value (all consequences and actors) per unit,
    which decides the bound of the ``pessimistic`` / ``optimistic`` rules.
    """
    if math.isnan(est):
        return 0.0, False, "no estimate for this outcome and year: counted as 0"
    rule = a.effect_rule
    if rule in ("pessimistic", "optimistic"):
        gain_up = unit_value >= 0  # a larger effect raises the net result
        use_lo = gain_up if rule == "pessimistic" else not gain_up
        bound = lo if use_lo else hi
        side = "lower" if use_lo else "upper"
        if math.isnan(bound):
            return 0.0, False, f"{side} confidence bound missing: counted as 0"
        effect = "lowers" if rule == "pessimistic" else "raises"
        return bound, True, f"rule '{rule}': {side} 95 % confidence bound ({effect} the net result)"
    if rule == "significant":
        if math.isnan(p):
            return 0.0, False, "p-value missing: counted as 0"
        if p < a.alpha:
            return est, True, f"p = {p:.3g} < {a.alpha:g}"
        return 0.0, False, f"p = {p:.3g} >= {a.alpha:g}: counted as 0"
    if rule == "all":
        return est, True, "rule 'all': point estimate"
    bound = lo if rule == "ci_low" else hi
    if math.isnan(bound):
        return 0.0, False, f"{rule} missing: counted as 0"
    side = "lower" if rule == "ci_low" else "upper"
    return bound, True, f"rule '{rule}': {side} 95 % confidence bound"


def compute_budget(
    effects: pd.DataFrame,
    inputs: BudgetInputs,
    assumptions: BudgetAssumptions | None = None,
) -> BudgetResult:
    """Value the effects with the prices: net result per participant by actor, year and group.

    Parameters
    ----------
    effects
        Tidy effect table, one row per (spec, outcome, rel_year), with at least
        ``outcome, rel_year, estimate`` and ``p`` (rule ``"significant"``) or
        ``ci_low``/``ci_high``. Without ``spec`` all rows form one spec ``"default"``.
        Effects are per participant per year; rows outside ``0..horizon`` are ignored.
    inputs
        Validated inputs (:func:`regeval.budget.load_budget_inputs`).
    assumptions
        Price year, discount rate, horizon, effect rule (defaults: 2022, 3.5 %, 0–5,
        significant at 5 %).

    Returns
    -------
    BudgetResult

    Warns
    -----
    RegevalWarning
        If effect-table outcomes are not in the mapping at all (they are not priced), or
        mapped outcomes are missing from the effect table (they count 0).

    Notes
    -----
    method.md §2 and §7: SØM values a consequence as change in quantity × unit price, by
    actor, after state refunds, in 2022 prices, as present value at year 0 with
    ``PV = Σ_t value_t / (1 + r)^t``, counting only estimates significant at 5 %.
    """
    a = assumptions if assumptions is not None else BudgetAssumptions()
    if not isinstance(inputs, BudgetInputs):
        raise BudgetError(f"inputs must be BudgetInputs (see load_budget_inputs), got {type(inputs).__name__}")
    eff = _prepare_effects(effects, a)
    prices = actor_prices(inputs, a.price_year)
    mapping = inputs.consequences
    priced = mapping[mapping["consequence"] != ""]
    listed = set(mapping["outcome"])
    years = list(a.years)
    dfac = dict(zip(years, discount_factors(years, a.discount_rate), strict=True))
    cost = programme_cost_in_price_year(inputs, a.price_year, a.programme_cost_factor)
    late = cost[cost["rel_year"] > a.horizon]
    if not late.empty:
        warnings.warn(
            f"programme cost in relative year(s) {sorted(late['rel_year'].unique().tolist())} lies beyond the "
            f"horizon (0-{a.horizon}) and is not counted", RegevalWarning, stacklevel=2)
    cost = cost[cost["rel_year"] <= a.horizon]
    price_lookup = {(r["consequence"], r["actor"]): r for r in prices.to_dict("records")}

    # total value per unit of each outcome (all its consequences and actors), for the
    # pessimistic / optimistic rules
    unit_value: dict[str, float] = {}
    for m in priced.to_dict("records"):
        for actor in ACTORS:
            pr = price_lookup[(m["consequence"], actor)]
            s = -1.0 if pr["sign"] == "cost" else 1.0
            unit_value[m["outcome"]] = unit_value.get(m["outcome"], 0.0) + s * m["factor"] * pr["price"]

    specs = list(dict.fromkeys(eff["spec"]))
    if not specs:
        raise BudgetError("effect table is empty")
    item_rows: list[dict] = []
    used_rows: list[dict] = []
    for spec in specs:
        e = eff[eff["spec"] == spec]
        present = set(e["outcome"])
        unlisted = sorted(present - listed)
        if unlisted:
            warnings.warn(
                f"spec '{spec}': outcome(s) {', '.join(unlisted)} are not in the outcome-consequence mapping "
                "and are not priced (list them there, with an empty consequence to silence this)",
                RegevalWarning, stacklevel=2)
        absent = sorted(set(priced["outcome"]) - present)
        if absent:
            warnings.warn(
                f"spec '{spec}': mapped outcome(s) {', '.join(absent)} have no estimates and count 0",
                RegevalWarning, stacklevel=2)
        lookup = {(r["outcome"], r["rel_year"]): r for r in e.to_dict("records")}
        used: dict[tuple[str, int], dict] = {}
        for outcome in dict.fromkeys(priced["outcome"]):
            for t in years:
                r = lookup.get((outcome, t))
                est, p, lo, hi = ((r["estimate"], r["p"], r["ci_low"], r["ci_high"]) if r is not None
                                  else (math.nan, math.nan, math.nan, math.nan))
                qty, counted, reason = _choose(est, p, lo, hi, a, unit_value.get(outcome, 0.0))
                used[(outcome, t)] = {"spec": spec, "outcome": outcome, "rel_year": t, "estimate": est, "p": p,
                                      "ci_low": lo, "ci_high": hi, "quantity": qty, "counted": counted,
                                      "reason": reason}
        used_rows.extend(used.values())
        for t in years:
            for m in priced.to_dict("records"):
                u = used[(m["outcome"], t)]
                for actor in ACTORS:
                    pr = price_lookup[(m["consequence"], actor)]
                    s = -1.0 if pr["sign"] == "cost" else 1.0
                    value = s * m["factor"] * u["quantity"] * pr["price"]
                    item_rows.append({
                        "spec": spec, "rel_year": t, "group": pr["group"],
                        "consequence_group": pr["consequence_group"], "consequence": m["consequence"],
                        "outcome": m["outcome"], "actor": actor, "estimate": u["estimate"], "p": u["p"],
                        "quantity": u["quantity"], "counted": u["counted"], "reason": u["reason"],
                        "factor": m["factor"], "unit": pr["unit"], "price": pr["price"], "sign": pr["sign"],
                        "value_undiscounted": value + 0.0, "discount_factor": dfac[t],
                        "value_pv": value * dfac[t] + 0.0,
                    })
            for c in cost[cost["rel_year"] == t].to_dict("records"):
                item_rows.append({
                    "spec": spec, "rel_year": t, "group": PROGRAMME_GROUP, "consequence_group": PROGRAMME_GROUP,
                    "consequence": PROGRAMME_CONSEQUENCE, "outcome": "", "actor": c["bearer"],
                    "estimate": math.nan, "p": math.nan, "quantity": 1.0, "counted": True,
                    "reason": f"cost of the intervention, borne by {c['bearer']}", "factor": 1.0,
                    "unit": "participant", "price": c["amount"], "sign": "cost",
                    "value_undiscounted": -c["amount"], "discount_factor": dfac[t],
                    "value_pv": -c["amount"] * dfac[t],
                })
    by_item = pd.DataFrame(item_rows, columns=BY_ITEM_COLUMNS)
    by_item["counted"] = by_item["counted"].astype(bool)
    effects_used = pd.DataFrame(used_rows, columns=EFFECTS_USED_COLUMNS)
    effects_used["counted"] = effects_used["counted"].astype(bool)
    return BudgetResult(
        assumptions=a,
        prices=prices,
        effects_used=effects_used,
        by_item=by_item,
        by_actor=_by_actor(by_item, specs),
        by_year=_by_year(by_item, specs, years),
        by_group=_by_group(by_item, specs),
        net=_net(by_item, specs),
    )


def _sums(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return df.groupby(keys, sort=False)[["value_undiscounted", "value_pv"]].sum()


def _pair(sums: pd.DataFrame, key: tuple) -> tuple[float, float]:
    """(undiscounted, present value) of one group of ``_sums``; zeros if the group is absent."""
    if key not in sums.index:
        return 0.0, 0.0
    return float(sums.loc[key, "value_undiscounted"]), float(sums.loc[key, "value_pv"])


def _by_actor(items: pd.DataFrame, specs: list[str]) -> pd.DataFrame:
    is_cost = items["group"] == PROGRAMME_GROUP
    cons = _sums(items[~is_cost], ["spec", "actor"])
    prog = _sums(items[is_cost], ["spec", "actor"])
    rows = []
    for spec in specs:
        for actor in BEARERS:
            c = cons.loc[(spec, actor)] if (spec, actor) in cons.index else None
            k = prog.loc[(spec, actor)] if (spec, actor) in prog.index else None
            cu = float(c["value_undiscounted"]) if c is not None else 0.0
            cp = float(c["value_pv"]) if c is not None else 0.0
            ku = float(k["value_undiscounted"]) if k is not None else 0.0
            kp = float(k["value_pv"]) if k is not None else 0.0
            rows.append({"spec": spec, "actor": actor, "consequences_undiscounted": cu, "consequences_pv": cp,
                         "programme_cost_undiscounted": ku, "programme_cost_pv": kp,
                         "net_undiscounted": cu + ku, "net_pv": cp + kp})
    return pd.DataFrame(rows, columns=BY_ACTOR_COLUMNS)


def _by_year(items: pd.DataFrame, specs: list[str], years: list[int]) -> pd.DataFrame:
    s = _sums(items, ["spec", "rel_year", "actor"])
    rows = []
    for spec in specs:
        for t in years:
            for actor in BEARERS:
                key = (spec, t, actor)
                u, p = _pair(s, key)
                rows.append({"spec": spec, "rel_year": t, "actor": actor, "value_undiscounted": u, "value_pv": p})
    return pd.DataFrame(rows, columns=BY_YEAR_COLUMNS)


def _by_group(items: pd.DataFrame, specs: list[str]) -> pd.DataFrame:
    s = _sums(items, ["spec", "consequence_group"])
    order = [(CONSEQUENCE_GROUPS[g], g) for g in CONSEQUENCE_GROUPS] + [(PROGRAMME_GROUP, PROGRAMME_GROUP)]
    order.sort(key=lambda gc: GROUPS.index(gc[0]))
    rows = []
    for spec in specs:
        for group, cg in order:
            key = (spec, cg)
            u, p = _pair(s, key)
            rows.append({"spec": spec, "group": group, "consequence_group": cg, "value_undiscounted": u, "value_pv": p})
    return pd.DataFrame(rows, columns=BY_GROUP_COLUMNS)


def _net(items: pd.DataFrame, specs: list[str]) -> pd.DataFrame:
    s = _sums(items, ["spec", "actor"])
    rows = []
    for spec in specs:
        tu = tp = 0.0
        for actor in BEARERS:
            key = (spec, actor)
            u, p = _pair(s, key)
            tu += u
            tp += p
            rows.append({"spec": spec, "actor": actor, "value_undiscounted": u, "value_pv": p})
        rows.append({"spec": spec, "actor": "total", "value_undiscounted": tu, "value_pv": tp})
    return pd.DataFrame(rows, columns=NET_COLUMNS)
