"""Rule propensity: the propensity model of one characteristic set (key ps-…)."""

from regeval.pipeline.rules.propensity import propensity
from regeval.pipeline.runner import run_rule

run_rule(propensity, snakemake)  # type: ignore[name-defined]  # noqa: F821 - set by the script directive
