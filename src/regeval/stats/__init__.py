"""regeval.stats: the statistical core (propensity score, matching, balance, effects).

Pure numpy/scipy/pandas on DataFrames and arrays: no file I/O, no plotting, nothing of
registers or the pipeline. See ``docs/architecture.md`` for the modules and what each
may import.
"""

from regeval.parallel import thread_budget, using_threads
from regeval.stats.balance import balance_table, descriptive_table
from regeval.stats.design import DesignColumn, build_design, design_matrix, expand_covariates, treatment_indicator
from regeval.stats.effects import (
    EFFECT_COLUMNS,
    MEANS_COLUMNS,
    estimate_effect,
    estimate_effects,
    group_means,
    window_summary,
)
from regeval.stats.matching import UNMATCHED_REASONS, MatchResult, match_nearest
from regeval.stats.propensity import PropensityFit, fit_propensity
from regeval.stats.results import EffectEstimate, WLSFit, stars_for
from regeval.stats.wls import fit_wls

__all__ = [
    "EFFECT_COLUMNS",
    "MEANS_COLUMNS",
    "UNMATCHED_REASONS",
    "DesignColumn",
    "EffectEstimate",
    "MatchResult",
    "PropensityFit",
    "WLSFit",
    "balance_table",
    "build_design",
    "descriptive_table",
    "design_matrix",
    "estimate_effect",
    "estimate_effects",
    "expand_covariates",
    "fit_propensity",
    "fit_wls",
    "group_means",
    "match_nearest",
    "stars_for",
    "thread_budget",
    "treatment_indicator",
    "using_threads",
    "window_summary",
]
