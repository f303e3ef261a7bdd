"""Rule register_cache: the register extract converted once into the columnar cache."""

from regeval.pipeline.rules.register_cache import register_cache
from regeval.pipeline.runner import run_rule

run_rule(register_cache, snakemake)  # type: ignore[name-defined]  # noqa: F821 - set by the script directive
