"""The persons of a chunk: what does not change from year to year.

Sex, birth, origin and immigration, municipality, ability and (unobserved) motivation,
the class of cognitive disability, the year of exit, diagnoses with their first year,
education, marriage and divorce. Every function draws from the chunk's random stream
``rng`` in a fixed order: :func:`draw_persons` calls them in the order of the original
simulation, so that the same seed gives the same persons.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from regeval.synthetic.codes import COGNITIVE_GROUPS, MUNICIPALITIES
from regeval.synthetic.config import FIRST_YEAR

DIAGNOSIS_PROBABILITY: dict[str, tuple[float, float, float]] = {
    # group: (class0, class1, class2)
    "intellectual_disability": (0.0, 0.02, 0.55),
    "autism": (0.0005, 0.06, 0.30),
    "adhd": (0.01, 0.25, 0.25),
    "epilepsy": (0.006, 0.05, 0.22),
    "cerebral_palsy": (0.0, 0.0, 0.08),
    "brain_injury": (0.008, 0.12, 0.03),
    "psychiatric": (0.02, 0.75, 0.15),
    "diabetes": (0.05, 0.07, 0.06),
    "back_pain": (0.08, 0.10, 0.05),
}
"""Probability of each diagnosis group by class of cognitive disability."""

ONSET_AGE: dict[str, tuple[int, int]] = {
    "intellectual_disability": (3, 18),
    "autism": (4, 25),
    "adhd": (6, 30),
    "epilepsy": (2, 40),
    "cerebral_palsy": (1, 6),
    "brain_injury": (20, 60),
    "psychiatric": (16, 45),
    "diabetes": (20, 60),
    "back_pain": (25, 60),
}
"""Range of the age at first registration of each diagnosis group (inclusive)."""


@dataclass
class Persons:
    """One value per person of the chunk (arrays of length n)."""

    pnr: np.ndarray
    male: np.ndarray
    birth_year: np.ndarray
    birth_doy: np.ndarray
    """Day of the year of birth (0-based)."""
    origin: np.ndarray
    """1 Danish origin, 2 immigrant, 3 descendant."""
    entry_year: np.ndarray
    """Year of immigration (0 if not an immigrant)."""
    kom: np.ndarray
    alpha: np.ndarray
    """Labour-market ability (observed through history)."""
    motivation: np.ndarray
    """The unobserved confounder."""
    cls: np.ndarray
    """Class of cognitive disability: 0 none, 1 mild (mostly psychiatric), 2 severe."""
    exit_year: np.ndarray
    """First year out of the country (death or emigration)."""
    diag_flag: dict[str, np.ndarray]
    diag_year: dict[str, np.ndarray]
    """Year of first registration of each diagnosis group (where flagged)."""
    severity: np.ndarray
    edu_final: np.ndarray
    """Index of the final education level in :data:`~regeval.synthetic.codes.EDU_LEVEL_CODES`."""
    completion_age: np.ndarray
    edu_missing: np.ndarray
    edu_sub: np.ndarray
    """Last two digits of the education code."""
    marry_age: np.ndarray
    divorce_age: np.ndarray


def draw_persons(rng: np.random.Generator, first_person: int, n: int) -> Persons:
    """Persons ``first_person`` … ``first_person + n − 1`` of the population."""
    pnr = np.arange(first_person, first_person + n, dtype=np.int64) + 1_000_000_001
    male = rng.random(n) < 0.5
    birth_year = rng.integers(1943, 2010, size=n)
    birth_doy = rng.integers(0, 365, size=n)
    u = rng.random(n)
    origin = np.where(u < 0.86, 1, np.where(u < 0.96, 2, 3)).astype(np.int8)
    entry_year = np.where(origin == 2, birth_year + rng.integers(5, 50, size=n), 0)
    kom = MUNICIPALITIES[rng.integers(0, len(MUNICIPALITIES), size=n)]
    alpha = rng.normal(size=n)  # labour-market ability (observed through history)
    motivation = rng.normal(size=n)  # unobserved confounder

    u = rng.random(n)
    p_cog = np.where(male, 0.040, 0.028)
    cls = np.where(u < p_cog, 2, np.where(u < p_cog + 0.05, 1, 0)).astype(np.int8)
    # exit (death or emigration): geometric with a higher hazard for class 2
    hazard = 0.004 + 0.004 * (cls == 2) + 0.006 * (origin == 2)
    exit_year = FIRST_YEAR + rng.geometric(hazard) + rng.integers(-3, 3, size=n)

    diag_flag, diag_year, severity = _draw_diagnoses(rng, cls, birth_year)
    edu_final, completion_age, edu_missing, edu_sub = _draw_education(rng, alpha, cls, origin)
    marry_age, divorce_age = _draw_marriage(rng, cls)
    return Persons(
        pnr=pnr,
        male=male,
        birth_year=birth_year,
        birth_doy=birth_doy,
        origin=origin,
        entry_year=entry_year,
        kom=kom,
        alpha=alpha,
        motivation=motivation,
        cls=cls,
        exit_year=exit_year,
        diag_flag=diag_flag,
        diag_year=diag_year,
        severity=severity,
        edu_final=edu_final,
        completion_age=completion_age,
        edu_missing=edu_missing,
        edu_sub=edu_sub,
        marry_age=marry_age,
        divorce_age=divorce_age,
    )


def _draw_diagnoses(
    rng: np.random.Generator, cls: np.ndarray, birth_year: np.ndarray
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    """Diagnosis flags and first years by group, and the severity of disability."""
    n = cls.size
    diag_flag: dict[str, np.ndarray] = {}
    diag_year: dict[str, np.ndarray] = {}
    for g, probs in DIAGNOSIS_PROBABILITY.items():
        p = np.choose(cls, probs)
        diag_flag[g] = rng.random(n) < p
        lo, hi = ONSET_AGE[g]
        diag_year[g] = np.maximum(1977, birth_year + rng.integers(lo, hi + 1, size=n))
    # every class-1/2 person has at least one cognitive-type diagnosis
    any_cog = np.zeros(n, dtype=bool)
    for g in COGNITIVE_GROUPS:
        any_cog |= diag_flag[g]
    diag_flag["intellectual_disability"] |= (cls == 2) & ~any_cog
    diag_flag["psychiatric"] |= (cls == 1) & ~any_cog
    n_cog = sum(diag_flag[g].astype(np.int8) for g in COGNITIVE_GROUPS)
    severity = (
        rng.normal(size=n)
        + 0.8 * diag_flag["intellectual_disability"]
        + 0.3 * diag_flag["cerebral_palsy"]
        + 0.3 * diag_flag["autism"]
        + 0.2 * (n_cog >= 3)
    )
    return diag_flag, diag_year, severity


def _draw_education(
    rng: np.random.Generator, alpha: np.ndarray, cls: np.ndarray, origin: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Final education level, the age it is completed, missing education (mostly
    immigrants) and the last two digits of the code."""
    n = cls.size
    edu_score = alpha * 0.8 + rng.normal(size=n) - 1.6 * (cls == 2) - 0.6 * (cls == 1)
    edu_final = np.digitize(edu_score, [-0.9, -0.5, 0.4, 0.8, 1.6]).astype(np.int8)
    completion_age = np.array([16, 19, 21, 22, 24, 26])[edu_final]
    edu_missing = rng.random(n) < np.where(origin == 2, 0.25, 0.01)
    edu_sub = rng.integers(10, 99, size=n)
    return edu_final, completion_age, edu_missing, edu_sub


def _draw_marriage(rng: np.random.Generator, cls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Age at marriage and at divorce (200: never)."""
    n = cls.size
    marry_age = np.where(
        rng.random(n) < np.where(cls == 2, 0.08, np.where(cls == 1, 0.35, 0.62)),
        rng.integers(23, 45, size=n),
        200,
    )
    divorce_age = np.where(rng.random(n) < 0.3, marry_age + rng.integers(3, 20, size=n), 200)
    return marry_age, divorce_age
