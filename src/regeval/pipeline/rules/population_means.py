"""Rule population_means: the means of every characteristic over the whole population
(the third column of the descriptive table)."""

from __future__ import annotations

from regeval.disclosure.aggregates import write_aggregate
from regeval.pipeline.runner import Files, Params
from regeval.pipeline.sources import register_sources
from regeval.population.base import PopulationSpec
from regeval.population.tables import population_means_table


def population_means(input: Files, output: Files, params: Params, threads: int = 1) -> None:
    """Write the whole population's means (``output.means``)."""
    sources = register_sources(params["data"], input.get("generated"), input.get("cache"))
    spec = PopulationSpec.from_config(params["population"])
    write_aggregate(population_means_table(sources, spec), output["means"])
