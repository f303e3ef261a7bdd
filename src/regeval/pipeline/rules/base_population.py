"""Rule base_population: treated and potential controls per cohort, with their
characteristics in the year before start, the population flow and the whole
population's means (the third column of the descriptive table), from one read of each
register year."""

from __future__ import annotations

import logging
from pathlib import Path

from regeval.disclosure.aggregates import write_aggregate
from regeval.pipeline.runner import Files, Params
from regeval.pipeline.sources import register_sources
from regeval.population.base import PopulationSpec, build_population
from regeval.population.tables import flow_table, population_means_aggregate, population_means_of

log = logging.getLogger("regeval")


def base_population(input: Files, output: Files, params: Params, threads: int = 1) -> None:
    """Write the units (``output.units``, person-level), the flow (``output.flow``) and,
    if asked for (``output.means``), the whole population's means."""
    sources = register_sources(params["data"], input.get("generated"), input.get("cache"))
    spec = PopulationSpec.from_config(params["population"])
    bp, means = build_population(sources, spec, population_means_of(spec) if output.get("means") else None)
    Path(output["units"]).parent.mkdir(parents=True, exist_ok=True)
    bp.units.to_parquet(output["units"], index=False)
    write_aggregate(flow_table(bp.flow), output["flow"])
    if means is not None:
        write_aggregate(population_means_aggregate(means), output["means"])
    log.info("base population: %d units (%d treated)", len(bp.units), int(bp.units["treated"].sum()))
