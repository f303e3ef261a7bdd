"""The analysis population, built from the registers: base population, treated and
potential controls per cohort year, their characteristics, and the outcome panel.

* :mod:`~regeval.population.panel` — yearly register variables per person (the only
  module besides the data contract that knows register names);
* :mod:`~regeval.population.characteristics` — the matching characteristics;
* :mod:`~regeval.population.base` — base population, treated, potential controls, the
  population flow and means;
* :mod:`~regeval.population.outcomes` — the outcome panel around the start year and
  censoring at a later start.

The names below load their module on first use (the modules import pandas).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from regeval._lazy import lazy_exports

if TYPE_CHECKING:  # the modules that define the public names (loaded on first use below)
    from regeval.population.base import (
        CONTROL_RULES,
        POPULATION_CHECKS,
        BasePopulation,
        PopulationSpec,
        build_base_population,
        control_pool,
        population_means,
    )
    from regeval.population.characteristics import CHARACTERISTICS
    from regeval.population.outcomes import build_outcome_panel, censor_at_start, panel_counts, person_year_outcomes
    from regeval.population.panel import YEARLY_OUTCOMES

_MODULES = {
    "regeval.population.base": ("CONTROL_RULES", "POPULATION_CHECKS", "BasePopulation", "PopulationSpec",
                                "build_base_population", "control_pool", "population_means"),
    "regeval.population.characteristics": ("CHARACTERISTICS",),
    "regeval.population.outcomes": ("build_outcome_panel", "censor_at_start", "panel_counts", "person_year_outcomes"),
    "regeval.population.panel": ("YEARLY_OUTCOMES",),
}
_WHERE = {name: module for module, names in _MODULES.items() for name in names}

__all__ = [
    "BasePopulation",
    "CHARACTERISTICS",
    "CONTROL_RULES",
    "POPULATION_CHECKS",
    "PopulationSpec",
    "YEARLY_OUTCOMES",
    "build_base_population",
    "build_outcome_panel",
    "censor_at_start",
    "control_pool",
    "panel_counts",
    "person_year_outcomes",
    "population_means",
]


__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())
