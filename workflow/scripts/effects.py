"""Rule effects: outcome panel and effects of one control group × effects options (key e-…)."""

from regeval.pipeline.rules.effects import effects
from regeval.pipeline.runner import run_rule

run_rule(effects, snakemake)  # type: ignore[name-defined]  # noqa: F821 - set by the script directive
