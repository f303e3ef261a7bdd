"""Rule base_population: treated and potential controls per cohort, with their
characteristics in the year before start, and the population flow."""

from __future__ import annotations

import logging
from pathlib import Path

from regeval.disclosure.aggregates import write_aggregate
from regeval.pipeline.runner import Files, Params
from regeval.pipeline.sources import register_sources
from regeval.population.base import PopulationSpec, build_base_population
from regeval.population.tables import flow_table

log = logging.getLogger("regeval")


def base_population(input: Files, output: Files, params: Params, threads: int = 1) -> None:
    """Write the units (``output.units``, person-level) and the flow (``output.flow``)."""
    sources = register_sources(params["data"], input.get("generated"), input.get("cache"))
    bp = build_base_population(sources, PopulationSpec.from_config(params["population"]))
    Path(output["units"]).parent.mkdir(parents=True, exist_ok=True)
    bp.units.to_parquet(output["units"], index=False)
    write_aggregate(flow_table(bp.flow), output["flow"])
    log.info("base population: %d units (%d treated)", len(bp.units), int(bp.units["treated"].sum()))
