"""Rule generate_synthetic: the synthetic registers."""

from regeval.pipeline.rules.generate_synthetic import generate_synthetic
from regeval.pipeline.runner import run_rule

run_rule(generate_synthetic, snakemake)  # type: ignore[name-defined]  # noqa: F821 - set by the script directive
