"""Rule business_case: the municipal business case."""

from regeval.pipeline.rules.business_case import business_case
from regeval.pipeline.runner import run_rule

run_rule(business_case, snakemake)  # type: ignore[name-defined]  # noqa: F821 - set by the script directive
