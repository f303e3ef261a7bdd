"""Rule base_population: treated and potential controls per cohort, and the population flow."""

from regeval.pipeline.rules.base_population import base_population
from regeval.pipeline.runner import run_rule

run_rule(base_population, snakemake)  # type: ignore[name-defined]  # noqa: F821 - set by the script directive
