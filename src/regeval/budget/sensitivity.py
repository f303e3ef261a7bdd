"""Cost-level and discount-rate sensitivity of the net result (a grid)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import pandas as pd

from regeval.budget.assumptions import BudgetAssumptions
from regeval.budget.inputs import BudgetInputs
from regeval.budget.som import compute_budget

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
    frames = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for r in rates:
            for f in factors:
                res = compute_budget(effects, inputs, a.with_(discount_rate=float(r), programme_cost_factor=float(f)))
                net = res.net[["spec", "actor", "value_pv"]].rename(columns={"value_pv": "net_pv"})
                net.insert(1, "cost_factor", float(f))
                net.insert(2, "discount_rate", float(r))
                frames.append(net)
    # the same input warnings arise for every grid point: repeat each once
    for msg in dict.fromkeys(str(w.message) for w in caught):
        cat = next(w.category for w in caught if str(w.message) == msg)
        warnings.warn(msg, cat, stacklevel=2)
    return pd.concat(frames, ignore_index=True)[SENSITIVITY_COLUMNS]
