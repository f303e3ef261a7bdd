"""State refunds (*refusion*) of municipal expenditure (method.md §4).

Two schemes, with rates from ``config/budget/refund_rates.yaml``:

* **Benefit payments** (kontanthjælp, ledighedsydelse, flex-wage subsidy, førtidspension,
  dagpenge, ...). The state refunds a share that falls with the citizen's cumulative time
  on benefits (*refusionstrappen*, 2016 reform): 80 % in weeks 1–4, 40 % in weeks 5–26,
  30 % in weeks 27–52 and 20 % from week 53. The municipality bears the rest.
* **Handicap-compensation schemes** (e.g. personal assistance at work) are refunded in
  full: 50 % directly to the job centre, 50 % through the block grant two years later.

The budget stage prices a person-year on a benefit with the refund that applies to the
target group's spell length (``target_group_weeks`` in the YAML; long-term recipients,
week 53 and on, hence 20 %).

Amounts in the published examples are rounded to the krone, half up; use
:func:`round_kr` to reproduce them (Python's ``round`` rounds half to even).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from regeval.errors import BudgetError


@dataclass(frozen=True)
class RefundStep:
    """One step of the refund staircase: ``rate`` for cumulative weeks ``first_week``..``last_week``."""

    first_week: int
    last_week: int | None  # None = open-ended
    rate: float


@dataclass(frozen=True)
class RefundRates:
    """Refund rules (read from ``refund_rates.yaml`` by :func:`regeval.budget.load_refund_rates`).

    Attributes
    ----------
    staircase
        Contiguous steps starting at week 1, the last one open-ended.
    handicap_direct, handicap_block_grant
        Shares of handicap-compensation expenditure refunded directly and through the
        block grant (together 1.0 = full refund).
    block_grant_lag_years
        Years until the block-grant part reaches the municipality.
    target_group_weeks
        Cumulative weeks on benefits assumed for the evaluated target group when pricing a
        person-year on a benefit (53 = long-term recipients, lowest step).
    pa_hourly_rate, pa_weeks_per_month
        Personal-assistance hourly rate and weeks per month (for the §4 examples).
    rate_year, source
        Year the rates apply to and where they come from.
    """

    staircase: tuple[RefundStep, ...]
    handicap_direct: float = 0.5
    handicap_block_grant: float = 0.5
    block_grant_lag_years: int = 2
    target_group_weeks: int = 53
    pa_hourly_rate: float = 127.86
    pa_weeks_per_month: float = 4.33
    rate_year: int = 2022
    source: str = ""

    def __post_init__(self) -> None:
        steps = self.staircase
        if not steps:
            raise BudgetError("refund staircase is empty: give at least one step from week 1")
        if steps[0].first_week != 1:
            raise BudgetError(
                f"refund staircase must start at week 1, its first step starts at week {steps[0].first_week}"
            )
        for i, step in enumerate(steps):
            if not 0.0 <= step.rate <= 1.0:
                raise BudgetError(
                    f"refund staircase step {i + 1} (from week {step.first_week}): rate {step.rate} "
                    "is not a fraction between 0 and 1 (write 0.8 for 80 %)"
                )
            last = i == len(steps) - 1
            if last and step.last_week is not None:
                raise BudgetError(
                    f"refund staircase: the last step (from week {step.first_week}) must be open-ended "
                    "(to_week: null), so that every week has a rate"
                )
            if not last:
                if step.last_week is None or step.last_week < step.first_week:
                    raise BudgetError(
                        f"refund staircase step {i + 1} (from week {step.first_week}): to_week must be "
                        f">= from_week, got {step.last_week}"
                    )
                if steps[i + 1].first_week != step.last_week + 1:
                    raise BudgetError(
                        f"refund staircase has a gap or overlap: step {i + 1} ends at week {step.last_week}, "
                        f"step {i + 2} starts at week {steps[i + 1].first_week} (should be {step.last_week + 1})"
                    )
        for name in ("handicap_direct", "handicap_block_grant"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise BudgetError(f"refund rates: {name} must be between 0 and 1, got {value}")
        if self.handicap_direct + self.handicap_block_grant > 1.0 + 1e-9:
            raise BudgetError(
                "refund rates: handicap_direct + handicap_block_grant exceeds 1 "
                f"({self.handicap_direct} + {self.handicap_block_grant})"
            )
        if self.block_grant_lag_years < 0:
            raise BudgetError(f"refund rates: block_grant_lag_years must be >= 0, got {self.block_grant_lag_years}")
        if self.target_group_weeks < 1:
            raise BudgetError(f"refund rates: target_group_weeks must be >= 1, got {self.target_group_weeks}")


def round_kr(amount: float) -> int:
    """Round an amount to the krone, half up (as the published examples do)."""
    return int(Decimal(repr(float(amount))).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def refund_rate(cumulative_week: int, rates: RefundRates) -> float:
    """State refund rate for a benefit paid in the given cumulative week on benefits.

    Parameters
    ----------
    cumulative_week
        The citizen's cumulative week on benefits (1 = first week).
    rates
        Refund rules.
    """
    week = int(cumulative_week)
    if week != cumulative_week or week < 1:
        raise BudgetError(f"cumulative week on benefits must be a whole number >= 1, got {cumulative_week!r}")
    for step in rates.staircase:
        if step.last_week is None or week <= step.last_week:
            return step.rate
    raise AssertionError("unreachable: the last step is open-ended")


def average_refund_rate(first_week: int, last_week: int, rates: RefundRates) -> float:
    """Average refund rate over cumulative weeks ``first_week``..``last_week`` (inclusive).

    With the 2022 staircase, weeks 1–52 average (4·80 + 22·40 + 26·30) / 52 = 38.08 %; the
    job-centre note (method.md §4) rounds this to 38 % for a first year on dagpenge.
    """
    if last_week < first_week:
        raise BudgetError(f"average_refund_rate: last_week {last_week} is before first_week {first_week}")
    weeks = range(int(first_week), int(last_week) + 1)
    return float(np.mean([refund_rate(w, rates) for w in weeks]))


def benefit_shares(cumulative_week: int, rates: RefundRates) -> dict[str, float]:
    """Municipal and state shares of a benefit payment in a given cumulative week.

    Returns
    -------
    dict
        ``{"kommune": 1 - refund, "region": 0.0, "stat": refund}``.
    """
    r = refund_rate(cumulative_week, rates)
    return {"kommune": 1.0 - r, "region": 0.0, "stat": r}


def split_benefit_payment(amount: float, cumulative_week: int, rates: RefundRates) -> dict[str, float]:
    """Split a benefit payment (kr) between municipality and state by the refund staircase."""
    shares = benefit_shares(cumulative_week, rates)
    return {actor: amount * share for actor, share in shares.items()}


def handicap_compensation_shares(rates: RefundRates) -> dict[str, float]:
    """Actor shares of handicap-compensation expenditure once all refunds have arrived.

    Timing is ignored here (the block-grant part arrives ``block_grant_lag_years`` later,
    see :func:`handicap_compensation_flows`).
    """
    refunded = rates.handicap_direct + rates.handicap_block_grant
    return {"kommune": 1.0 - refunded, "region": 0.0, "stat": refunded}


def handicap_compensation_flows(amount: float, rates: RefundRates) -> pd.DataFrame:
    """Cash flows of a handicap-compensation payment made in year 0, by actor and year.

    Returns
    -------
    pandas.DataFrame
        Columns ``year_offset, actor, channel, expenditure`` (kr; positive = the actor
        spends, negative = the actor receives). Summed over rows per actor: the
        municipality's net expenditure is ``amount × (1 - direct - block grant)``.
    """
    direct = amount * rates.handicap_direct
    block = amount * rates.handicap_block_grant
    lag = rates.block_grant_lag_years
    rows = [
        (0, "kommune", "payment", amount),
        (0, "kommune", "direct_refund", -direct),
        (0, "stat", "direct_refund", direct),
        (lag, "kommune", "block_grant", -block),
        (lag, "stat", "block_grant", block),
    ]
    return pd.DataFrame(rows, columns=["year_offset", "actor", "channel", "expenditure"])


def municipal_net_cost(gross: float, refund: float, contribution: float = 0.0) -> float:
    """Job centre's net cost: ``gross × (1 - refund) - contribution``.

    ``contribution`` covers offsets such as the special flex contribution
    (*særligt fleksbidrag*) that reduce the municipality's cost of a flex-wage subsidy.
    """
    if not 0.0 <= refund <= 1.0:
        raise BudgetError(f"refund must be a fraction between 0 and 1, got {refund}")
    return gross * (1.0 - refund) - contribution


def personal_assistance_gross(hours_per_week: float, rates: RefundRates) -> float:
    """Monthly gross cost of personal assistance: hours/week × hourly rate × weeks/month."""
    return hours_per_week * rates.pa_hourly_rate * rates.pa_weeks_per_month


def split_shares(split: str, rates: RefundRates) -> dict[str, float]:
    """Actor shares for a price row whose split is derived from refund rules.

    ``"benefit_refund"`` uses the staircase at ``rates.target_group_weeks``;
    ``"handicap_refund"`` the full refund of handicap-compensation schemes.
    """
    if split == "benefit_refund":
        return benefit_shares(rates.target_group_weeks, rates)
    if split == "handicap_refund":
        return handicap_compensation_shares(rates)
    raise BudgetError(f"split {split!r} is not derived from refunds ('benefit_refund' or 'handicap_refund')")
