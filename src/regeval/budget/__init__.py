"""Budget economics: effects × prices → net result per actor, year and consequence (SØM-style).

The stage values estimated effects per participant with unit prices split across the
public actors (municipality, region, state), after state refunds, in one price year, and
discounts them to a present value at the start year; the intervention's cost is borne by
its own bearer. A municipal business case from counts per benefit status and a cost-level
sensitivity grid complete it. See ``docs/budget.md``.

Typical use::

    from regeval.budget import load_budget_inputs, load_budget_assumptions, compute_budget
    inputs = load_budget_inputs("config/budget")
    assumptions = load_budget_assumptions("config/budget/assumptions.yaml")
    result = compute_budget(effects, inputs, assumptions)
    result.net        # kr per participant by actor, present value and undiscounted
"""

from regeval.budget.assumptions import BudgetAssumptions
from regeval.budget.business_case import (
    BusinessCaseResult,
    business_case,
    compare_with_published,
    implied_unit_costs,
)
from regeval.budget.discounting import discount_factors, present_value
from regeval.budget.examples import published_shape_effects
from regeval.budget.inputs import (
    BudgetInputs,
    BusinessCaseInputs,
    load_budget_assumptions,
    load_budget_config,
    load_budget_inputs,
    load_business_case,
    load_refund_rates,
    make_budget_inputs,
)
from regeval.budget.prices import actor_prices, price_factor
from regeval.budget.refunds import (
    RefundRates,
    RefundStep,
    average_refund_rate,
    benefit_shares,
    handicap_compensation_flows,
    handicap_compensation_shares,
    municipal_net_cost,
    personal_assistance_gross,
    refund_rate,
    round_kr,
    split_benefit_payment,
)
from regeval.budget.sensitivity import sensitivity_grid
from regeval.budget.som import BudgetResult, compute_budget

__all__ = [
    "BudgetAssumptions", "BudgetInputs", "BudgetResult", "BusinessCaseInputs", "BusinessCaseResult",
    "RefundRates", "RefundStep",
    "load_budget_inputs", "load_budget_assumptions", "load_budget_config", "load_business_case", "load_refund_rates",
    "make_budget_inputs",
    "compute_budget", "present_value", "discount_factors", "actor_prices", "price_factor",
    "refund_rate", "average_refund_rate", "benefit_shares", "split_benefit_payment",
    "handicap_compensation_shares", "handicap_compensation_flows", "municipal_net_cost",
    "personal_assistance_gross", "round_kr",
    "business_case", "implied_unit_costs", "compare_with_published",
    "sensitivity_grid", "published_shape_effects",
]
