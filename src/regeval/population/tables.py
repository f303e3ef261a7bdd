"""The exportable tables of the population stages, each with its disclosure metadata:
the population flow (participants to matched treated), the whole population's means
and the outcome panel's attrition counts. Each function returns an
:class:`regeval.disclosure.meta.Aggregate` (table + which columns count persons).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from regeval.disclosure.meta import Aggregate, AggregateMeta
from regeval.population import characteristics
from regeval.population.base import PopulationSpec, population_means
from regeval.population.outcomes import CENSOR_COUNTS, panel_counts
from regeval.registers.read import TableSource

FLOW_COUNTS = (
    "participants", "with_person_id", "resident_year_before", "in_base_population", "base_population",
    "potential_controls",
)

FLOW_LINKS = (
    # the treated of a cohort are the participants of the descriptives' and balance's cohort level
    {"column": "in_base_population", "key": "treated units", "by": {"cohort": "cohort"}},
)

FLOW_META = AggregateMeta(
    name="population_flow",
    title="From participants to the treatment group, per cohort",
    kind="flow",
    differences=(
        ("participants", "with_person_id", "resident_year_before", "in_base_population"),
        ("base_population", "potential_controls"),
    ),
    count_columns=FLOW_COUNTS,
    # the treated of all cohorts are published (matching summary, balance, descriptives)
    secondary=({"by": [], "cells": ["in_base_population"], "total": "treated units"},),
    links=FLOW_LINKS,
)
"""The flow of :func:`regeval.population.base.build_base_population`: each count a
subset of the previous one (so a small difference is a small cell)."""


def flow_table(flow: pd.DataFrame) -> Aggregate:
    """The base population's flow per cohort (``BasePopulation.flow``)."""
    return Aggregate(flow, FLOW_META)


def matched_flow_table(flow: Aggregate, matched: pd.DataFrame, pool: pd.DataFrame | None = None) -> Aggregate:
    """The population flow of a control group: the shared ``flow`` plus treated matched
    and matched controls per cohort; ``pool`` (the spec's units) gives its potential
    controls per cohort (the control rule may shrink them)."""
    table = flow.frame.copy()
    analysed = table["analysed"].astype(bool) if "analysed" in table else pd.Series(True, index=table.index)

    def per_cohort(counts: pd.Series) -> pd.Series:
        # missing (not 0) in the rows of start years that are not analysed
        values = table["cohort"].map(counts).fillna(0)
        return values.astype(int) if analysed.all() else values.where(analysed)

    if pool is not None:
        table["potential_controls"] = per_cohort(pool[pool["treated"] == 0].groupby("cohort").size())
    table["matched"] = per_cohort(matched[matched["treated"] == 1].groupby("cohort").size())
    table["matched_controls"] = per_cohort(matched[matched["treated"] == 0].groupby("cohort").size())
    return Aggregate(
        table,
        AggregateMeta(
            name=flow.meta.name,
            title="From participants to matched treated, per cohort (and the matched controls)",
            kind="flow",
            differences=(
                ("participants", "with_person_id", "resident_year_before", "in_base_population", "matched"),
                ("base_population", "potential_controls", "matched_controls"),
            ),
            count_columns=(*flow.meta.count_columns, "matched", "matched_controls"),
            # the cohorts add up to totals published in the matching summary and the balance
            secondary=(
                {"by": [], "cells": ["in_base_population"], "total": "treated units"},
                {"by": [], "cells": ["matched"], "total": "matched treated"},
                {"by": [], "cells": ["matched_controls"], "total": "matched control units"},
            ),
            links=(
                *FLOW_LINKS,
                {"column": "matched_controls", "key": "matched control units", "by": {"cohort": "cohort"}},
            ),
        ),
    )


def population_means_table(sources: Mapping[str, TableSource], spec: PopulationSpec) -> Aggregate:
    """Means of every characteristic over the whole population aged
    ``age_min``–``age_max`` in the years before start (person-years), with the
    person-years behind each mean and share."""
    return population_means_aggregate(population_means(sources, spec, *population_means_of(spec)))


def population_means_of(spec: PopulationSpec) -> tuple[list[str], list[str]]:
    """The columns of the population means (every characteristic, age group last) and
    the categorical ones among them."""
    names = [n for n in characteristics.CHARACTERISTICS if n not in ("age_group",)] + ["age_group"]
    return characteristics.expand(names, list(spec.diagnosis_groups))


def population_means_aggregate(means: pd.DataFrame) -> Aggregate:
    """The population means (:func:`regeval.population.base.population_means`) as the
    exportable table."""
    return Aggregate(
        means,
        AggregateMeta(
            name="population_means",
            title="Whole population aged 18–64 in the years before start (person-years)",
            kind="descriptive",
            counts={"population": ["n_population", "k_population", "nk_population"]},
            count_columns=("n_population", "k_population", "nk_population"),
            cell_sets=(("population", "k_population", "nk_population"),),
            secondary=({"by": ["variable"], "cells": ["k_population"]},),
        ),
    )


def panel_counts_table(panel: pd.DataFrame, censoring: pd.DataFrame | None = None) -> Aggregate:
    """Persons with data in each year relative to start (:func:`panel_counts`), and with
    ``censoring`` (control rule ``censor_at_start``) the censored control persons."""
    title = "Persons with data in each year relative to start (attrition by death, emigration and data end)"
    if censoring is not None:
        title += (
            "; n_control_censored: control persons whose rows end at their own later start (control rule "
            "censor_at_start, remaining controls reweighted), n_censored_unmodelled: of them, started "
            "outside the modelled years (not reweighted)"
        )
    return Aggregate(
        panel_counts(panel, censoring),
        AggregateMeta(
            name="panel_counts",
            title=title,
            kind="flow",
            count_columns=("n_treated", "n_control", *(CENSOR_COUNTS if censoring is not None else ())),
            # persons enter (before start) and leave (after) from one year to the next
            row_chains=({"order": "rel_year", "cells": ["n_treated", "n_control"]},),
            links=(
                # everybody matched has data in the year of start (unless the data end first)
                {"column": "n_treated", "key": "matched treated", "where": {"rel_year": 0}},
                {"column": "n_treated", "key": "treated with data", "by": {"rel_year": "rel_year"}},
                {"column": "n_control", "key": "controls with data", "by": {"rel_year": "rel_year"}},
            ),
        ),
    )


__all__ = ["FLOW_META", "flow_table", "matched_flow_table", "panel_counts_table", "population_means_table"]
