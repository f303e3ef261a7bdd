"""regeval: register-based effect evaluation with propensity score matching.

The statistical core (propensity, matching, balance, effects, budget) works on any
pandas DataFrame; the register-specific parts (data contract, synthetic generator,
base population) feed it inside the Snakemake pipeline. The public API is importable
from here (``regeval.fit_propensity``, ``regeval.Spec`` …); each name is imported from
its module when first used, so ``import regeval`` itself loads no numerical library.
The subpackages, by layer: :mod:`regeval.stats`, :mod:`regeval.registers`,
:mod:`regeval.population`, :mod:`regeval.synthetic`, :mod:`regeval.budget`,
:mod:`regeval.disclosure`, :mod:`regeval.reporting`, :mod:`regeval.pipeline`
(docs/architecture.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from regeval._lazy import lazy_exports
from regeval.errors import (
    BudgetError,
    ConfigError,
    DataContractError,
    DisclosureError,
    EstimationError,
    MatchingError,
    PopulationError,
    PropensityError,
    RegevalError,
    RegevalWarning,
)

__version__ = "0.1.0"

_EXPORTS = {
    # stats: any DataFrame
    "fit_propensity": "regeval.stats.propensity",
    "PropensityFit": "regeval.stats.propensity",
    "match_nearest": "regeval.stats.matching",
    "MatchResult": "regeval.stats.matching",
    "balance_table": "regeval.stats.balance",
    "descriptive_table": "regeval.stats.balance",
    "estimate_effect": "regeval.stats.effects",
    "estimate_effects": "regeval.stats.effects",
    "group_means": "regeval.stats.effects",
    "window_summary": "regeval.stats.effects",
    # registers, population, synthetic data
    "validate_registers": "regeval.registers.validate",
    "resolve_sources": "regeval.registers.read",
    "PopulationSpec": "regeval.population.base",
    "build_base_population": "regeval.population.base",
    "person_year_outcomes": "regeval.population.outcomes",
    "build_outcome_panel": "regeval.population.outcomes",
    "SyntheticConfig": "regeval.synthetic.generator",
    "generate": "regeval.synthetic.generator",
    # budget economics
    "BudgetAssumptions": "regeval.budget",
    "compute_budget": "regeval.budget",
    "load_budget_inputs": "regeval.budget",
    "sensitivity_grid": "regeval.budget",
    "business_case": "regeval.budget",
    "load_business_case": "regeval.budget",
    # disclosure control
    "Aggregate": "regeval.disclosure.meta",
    "AggregateMeta": "regeval.disclosure.meta",
    "check_table": "regeval.disclosure.check",
    "export_tables": "regeval.disclosure.check",
    # specs, configuration, a whole evaluation in memory
    "Spec": "regeval.pipeline.spec",
    "load_config": "regeval.pipeline.config",
    "validate_config": "regeval.pipeline.config",
    "evaluate": "regeval.pipeline.evaluate",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())

__all__ = [
    "BudgetError", "ConfigError", "DataContractError", "DisclosureError", "EstimationError", "MatchingError",
    "PopulationError", "PropensityError", "RegevalError", "RegevalWarning", "__version__", *_EXPORTS,
]

if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    from regeval.budget import (
        BudgetAssumptions,
        business_case,
        compute_budget,
        load_budget_inputs,
        load_business_case,
        sensitivity_grid,
    )
    from regeval.disclosure.check import check_table, export_tables
    from regeval.disclosure.meta import Aggregate, AggregateMeta
    from regeval.pipeline.config import load_config, validate_config
    from regeval.pipeline.evaluate import evaluate
    from regeval.pipeline.spec import Spec
    from regeval.population.base import PopulationSpec, build_base_population
    from regeval.population.outcomes import build_outcome_panel, person_year_outcomes
    from regeval.registers.read import resolve_sources
    from regeval.registers.validate import validate_registers
    from regeval.stats.balance import balance_table, descriptive_table
    from regeval.stats.effects import estimate_effect, estimate_effects, group_means, window_summary
    from regeval.stats.matching import MatchResult, match_nearest
    from regeval.stats.propensity import PropensityFit, fit_propensity
    from regeval.synthetic.generator import SyntheticConfig, generate
