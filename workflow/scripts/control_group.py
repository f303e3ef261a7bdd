"""Rule control_group: matching, balance and descriptives of one matching choice (key m-…)."""

from regeval.pipeline.rules.control_group import control_group
from regeval.pipeline.runner import run_rule

run_rule(control_group, snakemake)  # type: ignore[name-defined]  # noqa: F821 - set by the script directive
