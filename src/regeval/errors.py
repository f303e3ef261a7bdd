"""The project's own exception and warning classes.

Every error message names what is wrong (table, column, argument, spec), the bad
value or the number of offending rows, and how to fix it.
"""


class RegevalError(Exception):
    """Base class of every error raised by regeval."""


class ConfigError(RegevalError):
    """The configuration or a spec is invalid (names the offending key)."""


class DataContractError(RegevalError):
    """An input table violates the register data contract."""


class PopulationError(RegevalError):
    """The base population cannot be built meaningfully (no treated, no potential
    controls, nobody in the age range): names the lost step and the config key."""


class PropensityError(RegevalError):
    """The propensity model cannot be fitted meaningfully (separation, collinearity, ...)."""


class MatchingError(RegevalError):
    """Matching cannot be carried out with the given data and options."""


class EstimationError(RegevalError):
    """An effect regression cannot be estimated (too few observations, singular design)."""


class BudgetError(RegevalError):
    """Budget inputs (prices, mappings, refunds, cost) are inconsistent."""


class DisclosureError(RegevalError):
    """An exported table would reveal information on fewer persons than allowed."""


class RegevalWarning(UserWarning):
    """Base class of warnings (options without effect, dropped terms, ...)."""
