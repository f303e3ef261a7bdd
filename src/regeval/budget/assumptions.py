"""The evaluator's budget assumptions as one frozen, validated object."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from regeval.budget.schema import EFFECT_RULES, EffectRule, valid_list
from regeval.errors import BudgetError

_SENSITIVITY_KEYS = {"cost_factors": "sensitivity_cost_factors", "discount_rates": "sensitivity_discount_rates"}
#: Names used by the pipeline's ``config.yaml`` (section ``budget``) for the same fields.
ALIASES = {"effects_rule": "effect_rule", "cost_multiplier": "programme_cost_factor"}


@dataclass(frozen=True)
class BudgetAssumptions:
    """Assumptions of a budget calculation (defaults = ``config/budget/assumptions.yaml``).

    Attributes
    ----------
    price_year
        Every price and cost is brought to this year's price level with the price index
        (2022, as the published KLAPjob calculation).
    discount_rate
        Yearly discount rate as a fraction (0.035 = the Finance Ministry's 3.5 %).
    horizon
        Last relative year counted; years ``0..horizon`` (5 = SØM's six-year follow-up).
    effect_rule
        Which effect estimates count:
        ``"significant"`` – SØM's default: the point estimate if ``p < alpha``, else 0;
        ``"all"`` – every point estimate;
        ``"ci_low"`` / ``"ci_high"`` – the lower / upper 95 % confidence bound of every
        effect (bounds of the effect, not of the budget result);
        ``"pessimistic"`` / ``"optimistic"`` – every effect at the 95 % bound that lowers /
        raises the total net result (the bound chosen by the sign of the outcome's total
        value per unit, summed over its consequences and actors).
    alpha
        Significance level of the ``"significant"`` rule.
    programme_cost_factor
        Multiplies the programme's cost (1.0 = as in ``programme_cost.csv``); used by the
        cost-level sensitivity analysis.
    sensitivity_cost_factors, sensitivity_discount_rates
        The grid of :func:`regeval.budget.sensitivity_grid`.
    """

    price_year: int = 2022
    discount_rate: float = 0.035
    horizon: int = 5
    effect_rule: EffectRule = "significant"
    alpha: float = 0.05
    programme_cost_factor: float = 1.0
    sensitivity_cost_factors: tuple[float, ...] = (0.5, 0.75, 1.0, 1.25, 1.5)
    sensitivity_discount_rates: tuple[float, ...] = (0.0, 0.025, 0.035, 0.04)

    def __post_init__(self) -> None:
        # numpy scalars (e.g. from snakemake.utils.Paramspace) become plain Python numbers
        for name in ("price_year", "horizon"):
            value = getattr(self, name)
            if isinstance(value, numbers.Integral) and not isinstance(value, bool):
                object.__setattr__(self, name, int(value))
        for name in ("discount_rate", "alpha", "programme_cost_factor"):
            value = getattr(self, name)
            if isinstance(value, numbers.Real) and not isinstance(value, bool):
                object.__setattr__(self, name, float(value))
        if isinstance(self.price_year, bool) or not isinstance(self.price_year, int):
            raise BudgetError(f"assumption price_year must be a whole year such as 2022, got {self.price_year!r}")
        if isinstance(self.horizon, bool) or not isinstance(self.horizon, int) or self.horizon < 0:
            raise BudgetError(
                f"assumption horizon must be a whole number of years >= 0 (5 = years 0-5), got {self.horizon!r}"
            )
        _check_rate("discount_rate", self.discount_rate)
        if self.effect_rule not in EFFECT_RULES:
            raise BudgetError(
                f"assumption effect_rule={self.effect_rule!r} is not known; use {valid_list(EFFECT_RULES)}"
            )
        if not (_is_number(self.alpha) and 0.0 < float(self.alpha) < 1.0):
            raise BudgetError(f"assumption alpha must be between 0 and 1 (e.g. 0.05), got {self.alpha!r}")
        if not _is_number(self.programme_cost_factor) or self.programme_cost_factor < 0:
            raise BudgetError(
                f"assumption programme_cost_factor must be a number >= 0, got {self.programme_cost_factor!r}"
            )
        object.__setattr__(self, "sensitivity_cost_factors", _tuple_of_numbers(
            "sensitivity.cost_factors", self.sensitivity_cost_factors, minimum=0.0))
        object.__setattr__(self, "sensitivity_discount_rates", _tuple_of_numbers(
            "sensitivity.discount_rates", self.sensitivity_discount_rates, minimum=None))
        for r in self.sensitivity_discount_rates:
            _check_rate("sensitivity.discount_rates", r)

    @property
    def years(self) -> tuple[int, ...]:
        """The relative years counted: ``0..horizon``."""
        return tuple(range(self.horizon + 1))

    def with_(self, **changes: Any) -> BudgetAssumptions:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], source: str = "budget assumptions") -> BudgetAssumptions:
        """Build from a mapping such as the parsed ``assumptions.yaml``.

        Keys are the field names (or the pipeline config's aliases ``effects_rule`` and
        ``cost_multiplier``); the grid may be nested as
        ``sensitivity: {cost_factors: [...], discount_rates: [...]}``. Unknown keys are an
        error naming the key and listing the valid ones.
        """
        if not isinstance(mapping, Mapping):
            raise BudgetError(
                f"{source}: expected a mapping of assumption names to values, got {type(mapping).__name__}"
            )
        names = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, value in mapping.items():
            if key == "sensitivity":
                if not isinstance(value, Mapping):
                    raise BudgetError(f"{source}: 'sensitivity' must be a mapping with cost_factors and discount_rates")
                for sub, sub_value in value.items():
                    if sub not in _SENSITIVITY_KEYS:
                        raise BudgetError(
                            f"{source}: unknown key 'sensitivity.{sub}'; valid keys are "
                            f"{valid_list(sorted(_SENSITIVITY_KEYS))}"
                        )
                    kwargs[_SENSITIVITY_KEYS[sub]] = sub_value
            elif key in names or key in ALIASES:
                kwargs[ALIASES.get(key, key)] = value
            else:
                valid = sorted((names - set(_SENSITIVITY_KEYS.values())) | {"sensitivity"})
                raise BudgetError(f"{source}: unknown assumption '{key}'; valid keys are {valid_list(valid)}")
        if "discount_rate" in kwargs and isinstance(kwargs["discount_rate"], int):
            kwargs["discount_rate"] = float(kwargs["discount_rate"])
        try:
            return cls(**kwargs)
        except BudgetError as exc:
            raise BudgetError(f"{source}: {exc}") from None


def _is_number(x: object) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(float(x))


def _check_rate(name: str, rate: object) -> None:
    if not _is_number(rate) or not -1.0 < float(rate) <= 1.0:  # type: ignore[arg-type]
        raise BudgetError(
            f"assumption {name} must be a yearly rate as a fraction (0.035 for 3.5 %), got {rate!r}"
        )


def _tuple_of_numbers(name: str, values: object, minimum: float | None) -> tuple[float, ...]:
    if isinstance(values, str) or not hasattr(values, "__iter__"):
        raise BudgetError(f"assumption {name} must be a list of numbers, got {values!r}")
    out = []
    for v in values:
        if not _is_number(v) or (minimum is not None and float(v) < minimum):
            raise BudgetError(f"assumption {name}: {v!r} is not a number >= {minimum}")
        out.append(float(v))
    if not out:
        raise BudgetError(f"assumption {name} is empty")
    return tuple(out)
