"""Cost-level and discount-rate sensitivity of the net result (a grid)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from regeval.budget.assumptions import BudgetAssumptions
from regeval.budget.discounting import discount_factors
from regeval.budget.inputs import BudgetInputs
from regeval.budget.schema import PROGRAMME_GROUP
from regeval.budget.som import _net, compute_budget

SENSITIVITY_COLUMNS = ["spec", "cost_factor", "discount_rate", "actor", "net_pv"]


def sensitivity_grid(
    effects: pd.DataFrame,
    inputs: BudgetInputs,
    assumptions: BudgetAssumptions | None = None,
    *,
    cost_factors: Sequence[float] | None = None,
    discount_rates: Sequence[float] | None = None,
) -> pd.DataFrame:
    """Net result (present value) at each programme-cost level × discount rate.

    Parameters
    ----------
    effects, inputs, assumptions
        As for :func:`regeval.budget.compute_budget`; every other assumption is kept.
    cost_factors
        Multipliers of the programme's cost (default ``assumptions.sensitivity_cost_factors``:
        0.5, 0.75, 1, 1.25, 1.5).
    discount_rates
        Yearly rates (default ``assumptions.sensitivity_discount_rates``: 0, 2.5, 3.5, 4 %).

    Returns
    -------
    pandas.DataFrame
        ``spec, cost_factor, discount_rate, actor, net_pv`` with actor kommune, region,
        stat, programme and total (kr per participant, price-year prices).
    """
    a = assumptions if assumptions is not None else BudgetAssumptions()
    factors = tuple(cost_factors) if cost_factors is not None else a.sensitivity_cost_factors
    rates = tuple(discount_rates) if discount_rates is not None else a.sensitivity_discount_rates
    # One valuation at cost factor 1; every grid point rescales the programme's cost and
    # rediscounts the undiscounted items (the same sums compute_budget forms, 20x faster
    # than recomputing the budget per point; equal to it to rounding, tested).
    base = compute_budget(effects, inputs, a.with_(programme_cost_factor=1.0))
    items = base.by_item
    specs = list(dict.fromkeys(items["spec"]))
    is_cost = (items["group"] == PROGRAMME_GROUP).to_numpy()
    undiscounted = items["value_undiscounted"].to_numpy(dtype=float)
    years = items["rel_year"].to_numpy()
    frames = []
    for r in rates:
        dfac = discount_factors(years, float(r))
        for f in factors:
            a.with_(discount_rate=float(r), programme_cost_factor=float(f))  # validates the point
            value = np.where(is_cost, undiscounted * float(f), undiscounted)
            point = items[["spec", "actor", "group", "rel_year"]].assign(
                value_undiscounted=value, value_pv=value * dfac
            )
            net = _net(point, specs)[["spec", "actor", "value_pv"]].rename(columns={"value_pv": "net_pv"})
            net.insert(1, "cost_factor", float(f))
            net.insert(2, "discount_rate", float(r))
            frames.append(net)
    return pd.concat(frames, ignore_index=True)[SENSITIVITY_COLUMNS]
