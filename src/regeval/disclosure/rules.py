"""The output-checking rules a release is checked against (docs/disclosure.md).

One frozen value, read from the configuration's ``disclosure`` section
(``src/regeval/pipeline/config.schema.yaml`` holds the defaults). ACRO's documented
configuration, for comparison: ``min_persons`` 10, ``p_percent`` 10, ``nk_n`` 2,
``nk_k`` 0.9 (the issue's reference 85 %), ``min_dof`` 10, zeros disclosive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from regeval.errors import DisclosureError


@dataclass(frozen=True)
class Rules:
    """Output-checking rules.

    Attributes
    ----------
    min_persons
        Threshold: a count of persons, or a statistic, resting on fewer (but more than
        zero) persons is suppressed; so is any cell an attacker could derive to within
        this many persons.
    p_percent
        p % rule for magnitude cells: a cell is dominated when the total minus the two
        largest contributions is less than p % of the largest (the second-largest
        contributor could estimate the largest to within p %).
    nk_n, nk_k
        (n, k) rule: a cell is dominated when its ``nk_n`` largest contributions make up
        more than ``nk_k`` (a fraction) of its total.
    min_dof
        Model output (coefficients, standard errors, tests) needs at least this many
        residual degrees of freedom.
    zeros_are_disclosive
        A count of zero (nobody in a group has a characteristic) is suppressed like a
        small cell (ACRO's default); off by default: a zero reveals no person and most
        zeros here are structural (a diagnosis nobody of a cohort has).
    all_or_nothing
        A share of 100 % (every person of a group has the characteristic or event: the
        group's count equals the persons with it) is suppressed (class disclosure).
    secondary
        Secondary suppression of linked cells. Only the tests switch it off, to show that
        the attacks succeed without it.
    """

    min_persons: int = 5
    p_percent: float = 10.0
    nk_n: int = 2
    nk_k: float = 0.85
    min_dof: int = 10
    zeros_are_disclosive: bool = False
    all_or_nothing: bool = True
    secondary: bool = True

    def __post_init__(self) -> None:
        if int(self.min_persons) < 1:
            raise DisclosureError(f"disclosure.min_persons must be at least 1, got {self.min_persons}")
        if not 0 < float(self.nk_k) <= 1:
            raise DisclosureError(f"disclosure.nk_k is a fraction in (0, 1], got {self.nk_k}")
        if int(self.nk_n) < 1 or float(self.p_percent) < 0 or int(self.min_dof) < 0:
            raise DisclosureError(
                f"disclosure: nk_n ≥ 1, p_percent ≥ 0 and min_dof ≥ 0 needed, got {self.nk_n}, "
                f"{self.p_percent}, {self.min_dof}"
            )

    @classmethod
    def from_mapping(cls, values: Rules | Mapping[str, Any] | int | None) -> Rules:
        """From the configuration's ``disclosure`` section (or a bare threshold)."""
        if values is None:
            return cls()
        if isinstance(values, Rules):
            return values
        if isinstance(values, int):
            return cls(min_persons=values)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise DisclosureError(f"disclosure: unknown setting(s) {unknown}; known: {sorted(known)}")
        return cls(**dict(values))

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


__all__ = ["Rules"]
