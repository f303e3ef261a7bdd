"""Rule release: the audit of the whole release and the checker's report."""

from regeval.pipeline.rules.release import release
from regeval.pipeline.runner import run_rule

run_rule(release, snakemake)  # type: ignore[name-defined]  # noqa: F821 - set by the script directive
