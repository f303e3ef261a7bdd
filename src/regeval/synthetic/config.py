"""Configuration of the synthetic registers: years, effect shapes, size, seed and knobs."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from regeval.errors import ConfigError

FIRST_YEAR = 2009
LAST_YEAR = 2025

YEARS = np.arange(FIRST_YEAR, LAST_YEAR + 1)
"""The simulated years (the columns of every person × year array)."""
NY = len(YEARS)

PERSON_ID_KINDS = ("integer", "string")
"""How the generator writes person ids (:attr:`SyntheticConfig.person_ids`)."""

MAX_REL_YEAR = LAST_YEAR - 2014
"""Last year relative to start with an effect of its own (later years take the last)."""


def _shape(values: dict[int, float], default: float) -> np.ndarray:
    """Effect by relative year 0..MAX_REL_YEAR from a sparse dict."""
    out = np.full(MAX_REL_YEAR + 1, float(default))
    for r, v in values.items():
        if r <= MAX_REL_YEAR:
            out[r] = v
    return out


def _tup(values: np.ndarray) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


@dataclass(frozen=True)
class EffectShape:
    """Target effect paths by relative year 0, 1, 2, ... (published KLAPjob shape).

    Binary outcomes: percentage-point shift of the share (as a fraction);
    counts: additional contacts per year. Employment intensity follows from who is
    newly employed: hours per week and the share of the year in the job.
    """

    employed: tuple[float, ...] = _tup(_shape({0: 0.38, 1: 0.24}, 0.21))
    new_job_hours: float = 12.0
    new_job_year_share: tuple[float, ...] = _tup(_shape({0: 0.29, 1: 0.93}, 0.72))
    sel103_104: tuple[float, ...] = _tup(_shape({0: -0.031}, -0.09))
    botilbud: tuple[float, ...] = tuple(
        _shape({0: -0.010, 1: -0.0175, 2: -0.025, 3: -0.0325}, -0.04)
    )
    sel85: tuple[float, ...] = tuple(
        _shape({0: 0.023, 1: 0.030, 2: 0.037, 3: 0.044, 4: 0.051}, 0.058)
    )
    gp_contacts: tuple[float, ...] = _tup(_shape({}, 0.6))
    specialist_thinning: tuple[float, ...] = _tup(_shape({1: 0.15, 2: 0.15, 3: 0.15}, 0.0))
    somatic_hospital: tuple[float, ...] = _tup(_shape({}, 0.015))
    psychiatric_hospital: tuple[float, ...] = _tup(_shape({}, 0.005))
    hourly_wage: float = 55.0


@dataclass(frozen=True)
class SyntheticConfig:
    """Size, seed and knobs of the synthetic population.

    Parameters
    ----------
    seed
        Seed of every random draw.
    n_persons
        Number of simulated persons (ever resident 2009–2025, aged 16–66 while in BEF).
    n_participants
        Unique programme participants, linked and unlinked (KLAPjob: 2,570).
    share_with_id
        Share of participants whose person id is known (KLAPjob: ≈ 79 %).
    share_not_resident_before
        Share of linked participants not resident at the end of the year before
        start (KLAPjob: 34 of 2,033).
    share_multi_year
        Share of participants with starts in more than one calendar year (≈ 15 %).
    confounding
        Strength of the unobserved confounder "motivation": its coefficient in the
        selection model and in the employment model (0 = no hidden bias).
    effect_scale
        Multiplies every true effect (0 gives a world without effects).
    chunk_size
        Persons per independent chunk (changing it changes the draws).
    selection_age_curve, selection_interaction, overlap, outcome_age_curve, rare_support_rate
        Knobs of the simulation study's misspecified worlds (``benchmarks/simulation_study.py``;
        the defaults leave the registers unchanged): participation falling off as
        ``-c ((age - 40) / 10)^2`` towards both ends of working age; interactions of age
        with sex and of a diagnosis with employment in selection; the selection index
        multiplied by ``overlap`` (> 1: poorer overlap of the groups' scores); employment
        on FØP falling off as ``-c ((age - 40) / 10)^2`` (pension age in the follow-up);
        a rare support status (cash benefit) drawn at this rate per person-year, with no
        effect of the programme.
    workers
        Processes generating chunks in parallel (does not change the output).
    person_ids
        ``integer`` (default) writes the person ids as int64; ``string`` writes the same
        ids as text (ten digits, so they sort as the integers do), as pseudonymised CPR
        numbers usually arrive. The persons and every draw are the same.
    """

    seed: int = 20230601
    n_persons: int = 600_000
    n_participants: int = 2570
    share_with_id: float = 0.79
    share_not_resident_before: float = 0.017
    share_multi_year: float = 0.15
    start_years: tuple[int, ...] = (2014, 2015, 2016, 2017, 2018, 2019)
    start_year_weights: tuple[float, ...] = (0.14, 0.16, 0.17, 0.18, 0.18, 0.17)
    confounding: float = 0.0
    effect_scale: float = 1.0
    chunk_size: int = 125_000
    workers: int = 1
    selection_age_curve: float = 0.0
    selection_interaction: float = 0.0
    overlap: float = 1.0
    outcome_age_curve: float = 0.0
    rare_support_rate: float = 0.0
    person_ids: str = "integer"
    effects: EffectShape = field(default_factory=EffectShape)

    def __post_init__(self) -> None:
        checks = {
            "n_persons": self.n_persons >= 1000,
            "n_participants": 0 <= self.n_participants < self.n_persons,
            "share_with_id": 0 < self.share_with_id <= 1,
            "share_not_resident_before": 0 <= self.share_not_resident_before < 1,
            "share_multi_year": 0 <= self.share_multi_year < 1,
            "confounding": self.confounding >= 0,
            "effect_scale": self.effect_scale >= 0,
            "chunk_size": self.chunk_size >= 1000,
            "workers": self.workers >= 1,
            "selection_age_curve": self.selection_age_curve >= 0,
            "overlap": self.overlap > 0,
            "outcome_age_curve": self.outcome_age_curve >= 0,
            "rare_support_rate": 0 <= self.rare_support_rate < 1,
            "person_ids": self.person_ids in PERSON_ID_KINDS,
            "start_years": all(FIRST_YEAR + 5 <= y <= LAST_YEAR for y in self.start_years)
            and len(self.start_years) == len(self.start_year_weights),
        }
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            raise ConfigError(
                f"synthetic: invalid value for {', '.join('synthetic.' + b for b in bad)} "
                f"({', '.join(f'{b}={getattr(self, b)!r}' for b in bad)})"
            )

    @classmethod
    def from_dict(cls, values: dict[str, object]) -> SyntheticConfig:
        values = dict(values)
        for key in ("start_years", "start_year_weights"):
            if key in values:
                values[key] = tuple(values[key])  # type: ignore[arg-type]
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise ConfigError(f"synthetic: unknown key(s) {sorted(unknown)}")
        return cls(**values)  # type: ignore[arg-type]
