"""Rule population_means: the whole population's means."""

from regeval.pipeline.rules.population_means import population_means
from regeval.pipeline.runner import run_rule

run_rule(population_means, snakemake)  # type: ignore[name-defined]  # noqa: F821 - set by the script directive
