"""Rule sweep_summary: the cross-spec summary of a sweep."""

from regeval.pipeline.rules.sweep_summary import sweep_summary
from regeval.pipeline.runner import run_rule

run_rule(sweep_summary, snakemake)  # type: ignore[name-defined]  # noqa: F821 - set by the script directive
