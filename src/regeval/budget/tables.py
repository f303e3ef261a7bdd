"""The exportable tables of the budget stage and of the business case, each with its
disclosure metadata (:class:`regeval.disclosure.meta.Aggregate`).

The budget tables are derived from the effect table (itself checked) and prices, so
they carry no person counts (kind ``budget``); the business case's tables rest on the
numbers of citizens per benefit status and time point.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from regeval.disclosure.meta import Aggregate, AggregateMeta, value_columns

if TYPE_CHECKING:
    import pandas as pd

    from regeval.budget.business_case import BusinessCaseResult
    from regeval.budget.som import BudgetResult

BUDGET_TITLES = {
    "budget_net": "Net result per participant by actor (kr, present value and undiscounted)",
    "budget_by_actor": "Consequences and programme cost per participant by actor (kr)",
    "budget_by_year": "Net result per participant by year relative to start and actor (kr)",
    "budget_by_group": "Net result per participant by consequence group (kr)",
    "budget_by_item": "Every valued consequence: effect × price × actor share, by year",
    "budget_sensitivity": "Net result at programme cost × {0.5 … 1.5} and discount rates {0 … 4 %}",
}
BUDGET_TABLES = tuple(BUDGET_TITLES)
"""The budget tables of a spec, in the order they are written."""

BUSINESS_CASE_TABLES = (
    "business_case_summary", "business_case_by_time", "business_case_by_status", "business_case_comparison",
)
"""The tables of the business case."""


def budget_tables(result: BudgetResult, sensitivity: pd.DataFrame) -> dict[str, Aggregate]:
    """The budget's tables by name (:data:`BUDGET_TABLES`): net result, by actor, year,
    consequence group and item, and the sensitivity grid."""
    frames = {
        "budget_net": result.net,
        "budget_by_actor": result.by_actor,
        "budget_by_year": result.by_year,
        "budget_by_group": result.by_group,
        "budget_by_item": result.by_item,
        "budget_sensitivity": sensitivity,
    }
    return {
        name: Aggregate(frame, AggregateMeta(name=name, title=BUDGET_TITLES[name], kind="budget"))
        for name, frame in frames.items()
    }


def business_case_tables(result: BusinessCaseResult, name: str) -> dict[str, Aggregate]:
    """The business case's tables by name (:data:`BUSINESS_CASE_TABLES`); ``name`` is the
    case's name, for the summary's title."""
    summary_values = value_columns(result.summary, exclude=("citizens",))
    return {
        "business_case_summary": Aggregate(
            result.summary,
            AggregateMeta(name="business_case_summary", title=f"Business case: {name}", kind="descriptive",
                          counts={c: ["citizens"] for c in summary_values}, count_columns=("citizens",)),
        ),
        "business_case_by_time": Aggregate(
            result.by_time,
            AggregateMeta(name="business_case_by_time", title="Yearly cost per group and time point",
                          kind="descriptive", counts={"yearly_cost": ["citizens"]}, count_columns=("citizens",)),
        ),
        "business_case_by_status": Aggregate(
            result.by_status,
            AggregateMeta(name="business_case_by_status", title="Citizens and yearly cost per benefit status",
                          kind="descriptive", counts={"yearly_cost": ["citizens"]}, count_columns=("citizens",),
                          cell_sets=(("citizens", "yearly_cost"),),
                          # a reader knows each group's citizens and yearly cost at each time point
                          # (business_case_by_time) and every status's unit cost: two equations per
                          # group and time point
                          secondary=({"by": ["group", "time_point"], "cells": ["citizens"],
                                      "weights": ["unit_cost_month"]},)),
        ),
        "business_case_comparison": Aggregate(
            result.comparison,
            AggregateMeta(name="business_case_comparison", title="Intervention versus control group", kind="budget"),
        ),
    }


__all__ = ["BUDGET_TABLES", "BUDGET_TITLES", "BUSINESS_CASE_TABLES", "budget_tables", "business_case_tables"]
