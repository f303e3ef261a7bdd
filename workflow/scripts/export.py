"""Rule export: budget, checked tables, figures, report and workbook of the specs sharing an effect table."""

from regeval.pipeline.rules.export import export
from regeval.pipeline.runner import run_rule

run_rule(export, snakemake)  # type: ignore[name-defined]  # noqa: F821 - set by the script directive
