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
    from regeval.budget import BudgetAssumptions as BudgetAssumptions
    from regeval.budget import business_case as business_case
    from regeval.budget import compute_budget as compute_budget
    from regeval.budget import load_budget_inputs as load_budget_inputs
    from regeval.budget import load_business_case as load_business_case
    from regeval.budget import sensitivity_grid as sensitivity_grid
    from regeval.disclosure.check import check_table as check_table
    from regeval.disclosure.check import export_tables as export_tables
    from regeval.disclosure.meta import Aggregate as Aggregate
    from regeval.disclosure.meta import AggregateMeta as AggregateMeta
    from regeval.pipeline.config import load_config as load_config
    from regeval.pipeline.config import validate_config as validate_config
    from regeval.pipeline.evaluate import evaluate as evaluate
    from regeval.pipeline.spec import Spec as Spec
    from regeval.population.base import PopulationSpec as PopulationSpec
    from regeval.population.base import build_base_population as build_base_population
    from regeval.population.outcomes import build_outcome_panel as build_outcome_panel
    from regeval.population.outcomes import person_year_outcomes as person_year_outcomes
    from regeval.registers.read import resolve_sources as resolve_sources
    from regeval.registers.validate import validate_registers as validate_registers
    from regeval.stats.balance import balance_table as balance_table
    from regeval.stats.balance import descriptive_table as descriptive_table
    from regeval.stats.effects import estimate_effect as estimate_effect
    from regeval.stats.effects import estimate_effects as estimate_effects
    from regeval.stats.effects import group_means as group_means
    from regeval.stats.effects import window_summary as window_summary
    from regeval.stats.matching import MatchResult as MatchResult
    from regeval.stats.matching import match_nearest as match_nearest
    from regeval.stats.propensity import PropensityFit as PropensityFit
    from regeval.stats.propensity import fit_propensity as fit_propensity
    from regeval.synthetic.generator import SyntheticConfig as SyntheticConfig
    from regeval.synthetic.generator import generate as generate
