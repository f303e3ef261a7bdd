"""Rule person_years: the yearly outcomes of every base-population person."""

from regeval.pipeline.rules.person_years import person_years
from regeval.pipeline.runner import run_rule

run_rule(person_years, snakemake)  # type: ignore[name-defined]  # noqa: F821 - set by the script directive
