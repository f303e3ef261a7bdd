"""Rule validate_registers: every register table against the data contract."""

from regeval.pipeline.rules.validate_registers import validate_registers
from regeval.pipeline.runner import run_rule

run_rule(validate_registers, snakemake)  # type: ignore[name-defined]  # noqa: F821 - set by the script directive
