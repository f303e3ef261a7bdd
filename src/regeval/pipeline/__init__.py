"""The Snakemake pipeline's Python side: configuration, specs, the plan of a run, one
function per rule, and a whole evaluation in memory.

=======================================  =================================================
module                                   what
=======================================  =================================================
:mod:`regeval.pipeline.schema`           the configuration's JSON schema and its defaults
:mod:`regeval.pipeline.config`           validation (``load_config``), sweeps
:mod:`regeval.pipeline.spec`             typed specs and the keys of the work they share
:mod:`regeval.pipeline.plan`             what a run does: specs, keys, export jobs, files
:mod:`regeval.pipeline.rules`            one function per rule (``rules.<rule>.<rule>``)
:mod:`regeval.pipeline.runner`           running a rule's function: logs, errors
:mod:`regeval.pipeline.code`             digest of the code a rule runs
:mod:`regeval.pipeline.files`            declared files, atomic export folders
:mod:`regeval.pipeline.evaluate`         a whole spec in memory (no Snakemake)
=======================================  =================================================

Names are imported from their module when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from regeval._lazy import lazy_exports

_EXPORTS = {
    "Spec": "regeval.pipeline.spec",
    "MatchingSpec": "regeval.pipeline.spec",
    "EffectsSpec": "regeval.pipeline.spec",
    "BudgetSpec": "regeval.pipeline.spec",
    "Window": "regeval.pipeline.spec",
    "resolve_spec": "regeval.pipeline.spec",
    "load_config": "regeval.pipeline.config",
    "validate_config": "regeval.pipeline.config",
    "expand_sweep": "regeval.pipeline.config",
    "fill_defaults": "regeval.pipeline.schema",
    "load_schema": "regeval.pipeline.schema",
    "Plan": "regeval.pipeline.plan",
    "code_digest": "regeval.pipeline.code",
    "run_rule": "regeval.pipeline.runner",
    "control_group": "regeval.pipeline.evaluate",
    "ControlGroup": "regeval.pipeline.evaluate",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
__all__ = list(_EXPORTS)

if TYPE_CHECKING:
    from regeval.pipeline.code import code_digest as code_digest
    from regeval.pipeline.config import expand_sweep as expand_sweep
    from regeval.pipeline.config import load_config as load_config
    from regeval.pipeline.config import validate_config as validate_config
    from regeval.pipeline.evaluate import ControlGroup as ControlGroup
    from regeval.pipeline.evaluate import control_group as control_group
    from regeval.pipeline.plan import Plan as Plan
    from regeval.pipeline.runner import run_rule as run_rule
    from regeval.pipeline.schema import fill_defaults as fill_defaults
    from regeval.pipeline.schema import load_schema as load_schema
    from regeval.pipeline.spec import BudgetSpec as BudgetSpec
    from regeval.pipeline.spec import EffectsSpec as EffectsSpec
    from regeval.pipeline.spec import MatchingSpec as MatchingSpec
    from regeval.pipeline.spec import Spec as Spec
    from regeval.pipeline.spec import Window as Window
    from regeval.pipeline.spec import resolve_spec as resolve_spec
