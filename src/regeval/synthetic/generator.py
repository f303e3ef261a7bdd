"""Synthetic register generator with known true effects.

It simulates a Danish-like adult population 2009–2025 in the register data contract
(:mod:`regeval.registers.contract`), with a KLAPjob-like programme whose participants are
selected on observed characteristics (and, optionally, on an unobserved
"motivation"), and whose true effect on every outcome is known because both
potential outcomes are simulated. The data-generating process is documented in
``synthetic_data/README.md``.

Design
------
Persons are simulated in independent chunks (``chunk_size``), each with its own
random stream spawned from the seed, so that output is byte-identical for the
same seed and size, whatever the number of worker processes. Every chunk is a
row group of each Parquet file, sorted by person id and year, so later stages can
read the files column by column.

For each participant and each year from the first start year on, the untreated
outcome ``Y0`` and the treated outcome ``Y1`` are both simulated with common random
numbers; the registers hold ``Y1`` for participants (from their first start year)
and ``Y0`` for everyone else. The person-level effects ``Y1 - Y0`` are written to
``truth_effects.parquet`` and their mean over the analysis-eligible participants
(the default treated definition) per outcome and relative year to
``truth_att.csv``.
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from regeval.registers.contract import SUPPORT_TYPES
from regeval.population.panel import YEARLY_OUTCOMES
from regeval.errors import ConfigError

log = logging.getLogger(__name__)

FIRST_YEAR = 2009
LAST_YEAR = 2025

SUPPORT_CODE = {name: i for i, name in enumerate(SUPPORT_TYPES)}
S_FOEP, S_FLEX, S_LEDIG, S_KONT, S_RESS, S_DAGP, S_SYGE, S_SU, S_SELV, S_OEVR = (
    SUPPORT_CODE[s] for s in SUPPORT_TYPES
)

# Diagnosis groups of the simulation and the ICD-10 codes written for them.
DIAG_CODES: dict[str, tuple[str, ...]] = {
    "intellectual_disability": ("DF700", "DF701", "DF710", "DF720", "DF799"),
    "autism": ("DF840", "DF841", "DF845", "DF849"),
    "adhd": ("DF900", "DF909"),
    "epilepsy": ("DG400", "DG402", "DG409"),
    "cerebral_palsy": ("DG800", "DG801", "DG809"),
    "brain_injury": ("DS065", "DI639", "DI619"),
    "psychiatric": ("DF200", "DF209", "DF251", "DF311", "DF332"),
    "diabetes": ("DE110", "DE119"),
    "back_pain": ("DM544", "DM545"),
}
COGNITIVE_GROUPS = (
    "intellectual_disability",
    "autism",
    "adhd",
    "epilepsy",
    "cerebral_palsy",
    "brain_injury",
    "psychiatric",
)

# 98 Danish municipality codes.
MUNICIPALITIES = np.array(
    [101, 147, 151, 153, 155, 157, 159, 161, 163, 165, 167, 169, 173, 175, 183, 185, 187,
     190, 201, 210, 217, 219, 223, 230, 240, 250, 253, 259, 260, 265, 269, 270, 306, 316,
     320, 326, 329, 330, 336, 340, 350, 360, 370, 376, 390, 400, 410, 420, 430, 440, 450,
     461, 479, 480, 482, 492, 510, 530, 540, 550, 561, 563, 573, 575, 580, 607, 615, 621,
     630, 657, 661, 665, 671, 706, 707, 710, 727, 730, 740, 741, 746, 751, 756, 760, 766,
     773, 779, 787, 791, 810, 813, 820, 825, 840, 846, 849, 851, 860],
    dtype=np.int16,
)

EDU_LEVEL_CODES = np.array([10, 20, 35, 40, 50, 65], dtype=np.int16)

OUTCOMES = YEARLY_OUTCOMES
"""Outcomes whose true effects the generator records (the pipeline's outcome names)."""

MAX_REL_YEAR = LAST_YEAR - 2014


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
    workers
        Processes generating chunks in parallel (does not change the output).
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
    def from_dict(cls, values: dict[str, object]) -> "SyntheticConfig":
        values = dict(values)
        for key in ("start_years", "start_year_weights"):
            if key in values:
                values[key] = tuple(values[key])  # type: ignore[arg-type]
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise ConfigError(f"synthetic: unknown key(s) {sorted(unknown)}")
        return cls(**values)  # type: ignore[arg-type]


YEARS = np.arange(FIRST_YEAR, LAST_YEAR + 1)
NY = len(YEARS)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _calibrate_intercept(eta: np.ndarray, target: float) -> float:
    """Intercept a with sum(sigmoid(a + eta)) == target (bisection)."""
    if target <= 0 or eta.size == 0:
        return -50.0
    lo, hi = -40.0, 40.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if _sigmoid(mid + eta).sum() > target:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


@dataclass
class _Chunk:
    """Everything simulated for one chunk of persons (arrays n or n × NY)."""

    tables: dict[str, pa.Table]
    truth_rows: pa.Table
    truth_sums: dict[str, np.ndarray]
    truth_counts: np.ndarray
    participants: pd.DataFrame


def _simulate_chunk(cfg: SyntheticConfig, chunk_index: int, first_person: int, n: int) -> _Chunk:
    seed_seq = np.random.SeedSequence([cfg.seed, chunk_index])
    rng = np.random.default_rng(seed_seq)
    eff = cfg.effects
    scale = cfg.effect_scale
    share = n / cfg.n_persons

    pnr = np.arange(first_person, first_person + n, dtype=np.int64) + 1_000_000_001
    # ---------------------------------------------------------------- static
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

    # diagnoses: flags and first year
    dprob = {
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
    onset_age = {
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
    diag_flag: dict[str, np.ndarray] = {}
    diag_year: dict[str, np.ndarray] = {}
    for g, probs in dprob.items():
        p = np.choose(cls, probs)
        diag_flag[g] = rng.random(n) < p
        lo, hi = onset_age[g]
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

    # education: final level and the age it is completed
    edu_score = alpha * 0.8 + rng.normal(size=n) - 1.6 * (cls == 2) - 0.6 * (cls == 1)
    edu_final = np.digitize(edu_score, [-0.9, -0.5, 0.4, 0.8, 1.6]).astype(np.int8)
    completion_age = np.array([16, 19, 21, 22, 24, 26])[edu_final]
    edu_missing = rng.random(n) < np.where(origin == 2, 0.25, 0.01)
    edu_sub = rng.integers(10, 99, size=n)

    # marriage / divorce
    marry_age = np.where(
        rng.random(n) < np.where(cls == 2, 0.08, np.where(cls == 1, 0.35, 0.62)),
        rng.integers(23, 45, size=n),
        200,
    )
    divorce_age = np.where(rng.random(n) < 0.3, marry_age + rng.integers(3, 20, size=n), 200)

    # ---------------------------------------------------------------- person × year
    Y = YEARS[None, :]
    age = Y - birth_year[:, None]  # age at year end
    resident = (age >= 16) & (age <= 66) & (Y >= entry_year[:, None]) & (Y < exit_year[:, None])

    # disability pension (FØP) and flex-job visitation onsets
    p_foep = np.select(
        [cls == 2, cls == 1],
        [_sigmoid(1.0 + 1.2 * severity), _sigmoid(-0.7 + 0.8 * severity)],
        0.045,
    )
    foep_age = np.select(
        [cls == 2, cls == 1],
        [18 + rng.exponential(4, n), 22 + rng.exponential(12, n)],
        40 + rng.uniform(0, 25, n),
    )
    foep_year = np.where(rng.random(n) < p_foep, birth_year + foep_age.astype(int), 9999)
    p_flex = np.choose(cls, (0.03, 0.35, 0.6))
    flex_age = np.select(
        [cls == 2, cls == 1],
        [19 + rng.exponential(4, n), 25 + rng.exponential(10, n)],
        30 + rng.uniform(0, 30, n),
    )
    flex_year = np.where(rng.random(n) < p_flex, birth_year + flex_age.astype(int), 9999)
    on_foep = Y >= foep_year[:, None]
    on_flex = (Y >= flex_year[:, None]) & ~on_foep

    # yearly support status (Y0)
    support = np.full((n, NY), S_OEVR, dtype=np.int8)
    uu = rng.random((n, NY))
    p_selv = _sigmoid(2.0 + 0.9 * alpha[:, None] - 1.5 * (cls[:, None] > 0) - 0.04 * np.maximum(age - 58, 0) ** 2 / 3)
    student = (age < 25) & (age < completion_age[:, None] + 1) & (edu_final[:, None] > 0)
    support[:] = np.where(uu < p_selv, S_SELV, S_OEVR)
    rest = uu >= p_selv
    u2 = rng.random((n, NY))
    support = np.where(
        rest & (cls[:, None] > 0),
        np.select([u2 < 0.35, u2 < 0.60, u2 < 0.75], [S_KONT, S_RESS, S_SYGE], S_OEVR),
        support,
    )
    support = np.where(
        rest & (cls[:, None] == 0),
        np.select([u2 < 0.25, u2 < 0.55, u2 < 0.80], [S_KONT, S_DAGP, S_SYGE], S_OEVR),
        support,
    )
    support = np.where(student & (rng.random((n, NY)) < 0.85), S_SU, support)
    support = np.where(on_flex, np.where(rng.random((n, NY)) < 0.72, S_FLEX, S_LEDIG), support)
    support = np.where(on_foep, S_FOEP, support).astype(np.int8)

    # employment (Y0)
    u_emp = rng.random((n, NY))
    emp0 = np.zeros((n, NY), dtype=bool)
    hours0 = np.zeros((n, NY))
    share0 = np.zeros((n, NY))
    h_gen = np.clip(rng.normal(34, 5, size=n), 10, 45)
    h_skaane = np.clip(rng.normal(11, 4, size=n), 3, 30)
    h_flex = np.clip(rng.normal(18, 5, size=n), 8, 32)
    w_draw = rng.beta(5, 2, size=(n, NY))
    foep_emp_base = -2.2 + 1.0 * alpha - 0.25 * severity + 0.3 * male + cfg.confounding * motivation
    prev = np.zeros(n, dtype=bool)
    p_emp0 = np.zeros((n, NY))
    for j in range(NY):
        a = age[:, j]
        s = support[:, j]
        p = np.select(
            [s == S_SELV, s == S_SU, (s == S_DAGP) | (s == S_SYGE), s == S_KONT, s == S_FLEX, s == S_RESS],
            [1.0, 0.4, 0.5, 0.1, 1.0, 0.05],
            0.0,
        )
        p_foep_emp = _sigmoid(foep_emp_base + 2.4 * prev - 0.02 * (a - 35))
        p = np.where(s == S_FOEP, p_foep_emp, p)
        p = np.where(resident[:, j], p, 0.0)
        p_emp0[:, j] = p
        e = u_emp[:, j] < p
        emp0[:, j] = e
        prev = np.where(resident[:, j], e, prev)
        hours0[:, j] = np.where(
            s == S_FOEP, h_skaane, np.where(s == S_FLEX, h_flex, np.where(s == S_SU, 10.0, h_gen))
        )
        share0[:, j] = np.where((s == S_SELV) | (s == S_FLEX) | (s == S_FOEP), np.maximum(w_draw[:, j], 0.35), 0.45 * w_draw[:, j])
    hours0 = np.where(emp0, np.round(hours0, 1), 0.0)
    share0 = np.where(emp0, share0, 0.0)
    # full-time equivalent days: hours beyond a 37-hour week do not count (at most 365)
    days0 = np.where(emp0, np.maximum(np.round(365 * share0 * np.minimum(hours0, 37) / 37, 1), 0.1), 0.0)
    supported0 = emp0 & ((support == S_FOEP) | (support == S_FLEX))

    # social services (Y0): persistent latent Gaussian processes
    def latent_use(base: np.ndarray, rho: float = 0.85) -> tuple[np.ndarray, np.ndarray]:
        e = np.empty((n, NY))
        e[:, 0] = rng.normal(size=n)
        z = rng.normal(size=(n, NY))
        for j in range(1, NY):
            e[:, j] = rho * e[:, j - 1] + np.sqrt(1 - rho**2) * z[:, j]
        mu = base[:, None] + 0.8 * rng.normal(size=n)[:, None]
        use = (mu + e > 0) & resident & (age >= 18)
        return use, rng.random((n, NY))

    disabled = (on_foep | on_flex) & (cls[:, None] > 0)
    sev = severity[:, None]
    base_103 = np.where(cls == 2, -0.55 + 0.5 * severity, np.where(cls == 1, -1.6, -3.5))
    use103, u103 = latent_use(base_103)
    use103 &= disabled | (cls[:, None] == 2)
    base_bo = np.where(cls == 2, -1.35 + 0.5 * severity, np.where(cls == 1, -2.0, -4.0))
    usebo, ubo = latent_use(base_bo, rho=0.95)
    base_85 = np.where(cls == 2, -0.7 + 0.2 * severity, np.where(cls == 1, -1.0, -3.8))
    use85, u85 = latent_use(base_85)
    base_oth = np.where(cls > 0, -1.7, -4.0)
    useoth, _ = latent_use(base_oth, rho=0.6)
    del sev
    split103 = rng.random((n, NY))
    split108 = rng.random((n, NY)) < 0.8

    # health (Y0)
    gp_rate = np.exp(np.log(5.0) + 0.5 * (cls > 0) + 0.2 * ~male + 0.3 * rng.normal(size=n))[:, None] * np.exp(0.01 * (age - 40))
    gp0 = rng.poisson(gp_rate * resident)
    sp_rate = np.exp(np.log(1.0) + 0.4 * (cls > 0) + 0.6 * rng.normal(size=n))[:, None] * np.ones((1, NY))
    sp0 = rng.poisson(sp_rate * resident)
    u_som = rng.random((n, NY))
    p_som = _sigmoid(
        (-1.2 + 0.3 * (cls > 0) + 0.5 * rng.normal(size=n))[:, None] + 0.015 * (age - 40)
    )
    som0 = (u_som < p_som) & resident
    u_psy = rng.random((n, NY))
    p_psy = _sigmoid(
        np.choose(cls, (-4.5, -1.2, -2.3))[:, None]
        + 0.8 * diag_flag["psychiatric"][:, None]
        + 0.4 * rng.normal(size=n)[:, None]
    ) * np.ones((1, NY))
    psy0 = (u_psy < p_psy) & resident

    # taxable income (Y0)
    base_income = np.choose(
        support.astype(np.int64),
        (215_000, 245_000, 190_000, 140_000, 150_000, 200_000, 215_000, 80_000, 0, 60_000),
    ).astype(float)
    wage_gen = np.exp(np.log(390_000) + 0.25 * alpha + 0.25 * rng.normal(size=n))
    income0 = np.where(support == S_SELV, wage_gen[:, None] * np.maximum(share0, 0.5), base_income)
    income0 += np.where(
        emp0 & (support == S_FOEP), hours0 * 52 * share0 * eff.hourly_wage, 0.0
    )
    income0 += rng.normal(0, 8_000, size=(n, NY))
    income0 = np.round(np.where(resident, income0, 0.0), -1)

    # ---------------------------------------------------------------- programme
    yidx = {int(y): i for i, y in enumerate(YEARS)}
    started = np.full(n, 9999, dtype=np.int64)
    extra_start = np.full(n, 9999, dtype=np.int64)
    n_linked = cfg.n_participants * cfg.share_with_id
    weights = np.array(cfg.start_year_weights) / np.sum(cfg.start_year_weights)
    not_res_rows = []
    for t, w in zip(cfg.start_years, weights):
        jb = yidx[t - 1]
        jt = yidx[t]
        target = n_linked * w * share * (1 - cfg.share_not_resident_before)
        age_b = age[:, jb]
        sup_b = support[:, jb]
        # what the registers show at the end of t - 1: diagnoses registered by then,
        # the education completed by then (selection uses nothing the pipeline cannot see,
        # apart from origin and, with the knob, motivation)
        known = {g: diag_flag[g] & (diag_year[g] <= t - 1) for g in COGNITIVE_GROUPS}
        any_diag_b = np.zeros(n, dtype=bool)
        for g in COGNITIVE_GROUPS:
            any_diag_b |= known[g]
        n_cog_b = sum(known[g].astype(np.int8) for g in COGNITIVE_GROUPS)
        edu_b = np.where(edu_missing | (age_b < completion_age), 0, edu_final)
        elig = (
            resident[:, jb]
            & resident[:, jt]
            & (age_b >= 18)
            & (age_b <= 64)
            & np.isin(sup_b, (S_FOEP, S_FLEX, S_LEDIG))
            & (started == 9999)
        )
        idx = np.flatnonzero(elig)
        # employment degree (full-time equivalent) the year before and 2-5 years before
        deg1 = days0[idx, jb] / 365
        deg25 = days0[idx, jb - 4 : jb].sum(axis=1) / (4 * 365)
        eta = (
            2.6 * any_diag_b[idx]
            + 0.45 * male[idx]
            - 0.035 * (age_b[idx] - 35)
            + 0.6 * known["intellectual_disability"][idx]
            + 0.3 * known["autism"][idx]
            - 0.5 * known["psychiatric"][idx]
            - 0.3 * known["adhd"][idx]
            + 0.5 * (origin[idx] == 1)
            - 0.4 * (edu_b[idx] >= 2)
            + 2.5 * deg1
            + 2.0 * deg25
            + 0.3 * (sup_b[idx] == S_FOEP)
            - 0.5 * use85[idx, jb]
            + 0.3 * use103[idx, jb]
            - 0.3 * usebo[idx, jb]
            - 0.08 * sp0[idx, jb]
            - 0.6 * psy0[idx, jb]
            - 0.3 * (n_cog_b[idx] >= 3)
            + cfg.confounding * motivation[idx]
        )
        a = _calibrate_intercept(eta, target)
        chosen = idx[rng.random(idx.size) < _sigmoid(a + eta)]
        started[chosen] = t
        # a few participants who were not resident at the end of the year before
        nr_target = n_linked * w * share * cfg.share_not_resident_before
        cand = np.flatnonzero(~resident[:, jb] & resident[:, jt] & (age[:, jt] >= 19) & (started == 9999))
        k = min(cand.size, int(rng.poisson(nr_target)))
        if k:
            pick = rng.choice(cand, size=k, replace=False)
            started[pick] = t
            not_res_rows.append(pick)
    # additional starts in later years (several rows per person)
    part = np.flatnonzero(started < 9999)
    can_repeat = part[started[part] < max(cfg.start_years)]
    p_rep = cfg.share_multi_year * part.size / max(can_repeat.size, 1)
    rep = can_repeat[rng.random(can_repeat.size) < min(p_rep, 1.0)]
    for i in rep:
        later = [y for y in cfg.start_years if y > started[i]]
        extra_start[i] = later[int(rng.integers(0, len(later)))]

    # ---------------------------------------------------------------- treated outcomes (Y1)
    rel = Y - started[:, None]
    treated_py = (rel >= 0) & (started[:, None] < 9999) & resident
    r_idx = np.clip(rel, 0, MAX_REL_YEAR)

    def shift(name: str) -> np.ndarray:
        return np.asarray(getattr(eff, name))[r_idx] * scale

    def flip(y0: np.ndarray, tau: np.ndarray, p_ref: np.ndarray) -> np.ndarray:
        """Monotone flips giving E[Y1 - Y0] = tau for units with share p_ref."""
        up = np.clip(tau / np.maximum(1 - p_ref, 0.05), 0, 1)
        down = np.clip(-tau / np.maximum(p_ref, 0.05), 0, 1)
        uf = rng.random(y0.shape)
        y1 = np.where(~y0 & (tau > 0) & (uf < up), True, y0)
        y1 = np.where(y0 & (tau < 0) & (uf < down), False, y1)
        return np.where(treated_py, y1, y0)

    def ref_share(y0: np.ndarray) -> np.ndarray:
        """Share of Y0 among this chunk's treated person-years, by relative year."""
        out = np.zeros((n, NY))
        for r in range(MAX_REL_YEAR + 1):
            m = treated_py & (rel == r)
            out[m] = y0[m].mean() if m.any() else 0.0
        return out

    emp1 = flip(emp0, shift("employed"), ref_share(emp0))
    new_job = emp1 & ~emp0
    klap_hours = np.clip(rng.normal(eff.new_job_hours, 3.0, size=(n, NY)), 4, 25)
    klap_share = np.asarray(eff.new_job_year_share)[r_idx]
    hours1 = np.where(new_job, np.round(klap_hours, 1), hours0)
    share1 = np.where(new_job, klap_share, share0)
    supported1 = np.where(new_job, True, supported0)
    use103_1 = flip(use103, shift("sel103_104"), ref_share(use103))
    usebo_1 = flip(usebo, shift("botilbud"), ref_share(usebo))
    use85_1 = flip(use85, shift("sel85"), ref_share(use85))
    gp1 = gp0 + np.where(treated_py, rng.poisson(np.maximum(shift("gp_contacts"), 0)), 0)
    thin = np.asarray(eff.specialist_thinning)[r_idx] * scale
    sp1 = sp0 - np.where(treated_py, rng.binomial(sp0, np.clip(thin, 0, 1)), 0)
    som1 = flip(som0, shift("somatic_hospital"), ref_share(som0))
    psy1 = flip(psy0, shift("psychiatric_hospital"), ref_share(psy0))
    income1 = income0 + np.where(
        new_job & treated_py, np.round(hours1 * 52 * share1 * eff.hourly_wage, -1), 0.0
    )

    days1 = np.where(new_job, np.maximum(np.round(365 * share1 * hours1 / 37, 1), 0.1), days0)
    hours1 = np.where(emp1, hours1, 0.0)

    # ---------------------------------------------------------------- truth
    truth_pairs = {
        "employed": (emp0, emp1),
        "fulltime_days": (days0, days1),
        "hours_per_week": (hours0, hours1),
        "sel103_104": (use103, use103_1),
        "botilbud": (usebo, usebo_1),
        "sel85": (use85, use85_1),
        "sel_other": (useoth, useoth),
        "gp_contacts": (gp0, gp1),
        "specialist_contacts": (sp0, sp1),
        "somatic_hospital": (som0, som1),
        "psychiatric_hospital": (psy0, psy1),
        "taxable_income": (income0, income1),
    }
    # analysis-eligible participants: linked, resident at end of year before start,
    # 18-64, FØP or visited to flex job, with a cognitive diagnosis by then
    eligible = np.zeros(n, dtype=bool)
    pi = np.flatnonzero(started < 9999)
    for i in pi:
        jb = yidx[int(started[i]) - 1]
        has_d = any(diag_flag[g][i] and diag_year[g][i] <= started[i] - 1 for g in COGNITIVE_GROUPS)
        eligible[i] = bool(
            resident[i, jb]
            and 18 <= age[i, jb] <= 64
            and support[i, jb] in (S_FOEP, S_FLEX, S_LEDIG)
            and has_d
        )
    nrel = MAX_REL_YEAR + 1 + 5
    truth_sums = {k: np.zeros(nrel) for k in OUTCOMES}
    truth_counts = np.zeros(nrel)
    rows_i, rows_j = np.nonzero(resident[pi] & (rel[pi] >= -5))
    rows_i = pi[rows_i]
    rel_rows = rel[rows_i, rows_j]
    truth_cols: dict[str, np.ndarray] = {
        "pnr": pnr[rows_i],
        "aar": YEARS[rows_j].astype(np.int16),
        "rel_year": rel_rows.astype(np.int16),
        "analysis_eligible": eligible[rows_i],
    }
    for name, (y0, y1) in truth_pairs.items():
        truth_cols[name] = (y1.astype(float) - y0.astype(float))[rows_i, rows_j]
    for s in SUPPORT_TYPES:
        truth_cols[f"support_{s}"] = np.zeros(rows_i.size)
    elig_rows = eligible[rows_i]
    for k in OUTCOMES:
        np.add.at(truth_sums[k], rel_rows[elig_rows] + 5, truth_cols[k][elig_rows])
    np.add.at(truth_counts, rel_rows[elig_rows] + 5, 1)

    # ---------------------------------------------------------------- observed
    obs = treated_py
    emp = np.where(obs, emp1, emp0)
    days = np.where(obs, days1, days0)
    hours = np.where(obs, hours1, hours0)
    supported = np.where(obs, supported1, supported0) & emp
    s103 = np.where(obs, use103_1, use103)
    sbo = np.where(obs, usebo_1, usebo)
    s85 = np.where(obs, use85_1, use85)
    gp = np.where(obs, gp1, gp0)
    sp = np.where(obs, sp1, sp0)
    som = np.where(obs, som1, som0)
    psy = np.where(obs, psy1, psy0)
    income = np.where(obs, income1, income0)

    # ---------------------------------------------------------------- tables
    rj, ri = np.nonzero(resident.T)  # year-major: sorted by year, then person
    t_pnr = pnr[ri]
    t_aar = YEARS[rj].astype(np.int16)
    age_r = age[ri, rj]
    civ = np.where(
        age_r >= divorce_age[ri], "F", np.where(age_r >= marry_age[ri], "G", "U")
    )
    bd = (birth_year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + birth_doy.astype(
        "timedelta64[D]"
    )
    tables: dict[str, pa.Table] = {}
    tables["bef"] = pa.table(
        {
            "pnr": t_pnr,
            "aar": t_aar,
            "koen": np.where(male[ri], 1, 2).astype(np.int8),
            "foed_dag": pa.array(bd[ri], type=pa.date32()),
            "ie_type": origin[ri],
            "civst": pa.array(civ).dictionary_encode(),
            "kom": kom[ri],
        }
    )
    has_edu = (age_r >= 16) & ~edu_missing[ri]
    level = np.where(age_r >= completion_age[ri], edu_final[ri], 0)
    tables["udda"] = pa.table(
        {
            "pnr": t_pnr[has_edu],
            "aar": t_aar[has_edu],
            "hfaudd": (EDU_LEVEL_CODES[level[has_edu]].astype(np.int32) * 100 + edu_sub[ri][has_edu]).astype(np.int16),
        }
    )
    tables["forsorg"] = pa.table(
        {
            "pnr": t_pnr,
            "aar": t_aar,
            "ydelse": pa.DictionaryArray.from_arrays(
                pa.array(support[ri, rj].astype(np.int32)), pa.array(list(SUPPORT_TYPES))
            ),
        }
    )
    m = emp[ri, rj]
    tables["beskaeftigelse"] = pa.table(
        {
            "pnr": t_pnr[m],
            "aar": t_aar[m],
            "fuldtid_dage": days[ri, rj][m],
            "timer_uge": hours[ri, rj][m],
            "stoettet": supported[ri, rj][m],
        }
    )
    s103r, sbor, s85r, sothr = s103[ri, rj], sbo[ri, rj], s85[ri, rj], useoth[ri, rj]
    anyh = s103r | sbor | s85r | sothr
    sp103 = split103[ri, rj]
    sp108 = split108[ri, rj]
    tables["handicap"] = pa.table(
        {
            "pnr": t_pnr[anyh],
            "aar": t_aar[anyh],
            "sel85": s85r[anyh],
            "sel103": (s103r & (sp103 < 0.65))[anyh],
            "sel104": (s103r & (sp103 >= 0.35))[anyh],
            "sel107": (sbor & ~sp108[:])[anyh],
            "sel108": (sbor & sp108)[anyh],
            "sel_oevrig": sothr[anyh],
        }
    )
    gpr, spr, somr, psyr = gp[ri, rj], sp[ri, rj], som[ri, rj], psy[ri, rj]
    anys = (gpr > 0) | (spr > 0) | somr | psyr
    tables["sundhed"] = pa.table(
        {
            "pnr": t_pnr[anys],
            "aar": t_aar[anys],
            "laege_kontakter": gpr[anys].astype(np.int16),
            "speciallaege_kontakter": spr[anys].astype(np.int16),
            "somatisk_kontakt": somr[anys],
            "psykiatrisk_kontakt": psyr[anys],
        }
    )
    tables["indkomst"] = pa.table({"pnr": t_pnr, "aar": t_aar, "skattepl_indk": income[ri, rj]})
    # diagnoses: one row per person and code, sorted by pnr then code
    d_pnr, d_code, d_year = [], [], []
    ever_resident = resident.any(axis=1)
    for g, codes in DIAG_CODES.items():
        has = diag_flag[g] & (diag_year[g] <= LAST_YEAR) & ever_resident
        idx = np.flatnonzero(has)
        d_pnr.append(pnr[idx])
        d_code.append(np.asarray(codes)[rng.integers(0, len(codes), size=idx.size)])
        d_year.append(diag_year[g][idx].astype(np.int16))
    dp = np.concatenate(d_pnr)
    dc = np.concatenate(d_code)
    dy = np.concatenate(d_year)
    order = np.lexsort((dc, dp))
    tables["diag"] = pa.table({"pnr": dp[order], "diag": dc[order], "aar": dy[order]})

    # participants of this chunk (linked)
    rows = []
    for i in np.flatnonzero(started < 9999):
        for y in (started[i], extra_start[i]):
            if y < 9999:
                rows.append((pnr[i], int(y), int(rng.integers(0, 365))))
    participants = pd.DataFrame(rows, columns=["pnr", "year", "doy"])

    truth_rows = pa.table(truth_cols)
    return _Chunk(tables, truth_rows, truth_sums, truth_counts, participants)


def _chunk_bounds(cfg: SyntheticConfig) -> list[tuple[int, int, int]]:
    out = []
    start = 0
    i = 0
    while start < cfg.n_persons:
        n = min(cfg.chunk_size, cfg.n_persons - start)
        out.append((i, start, n))
        start += n
        i += 1
    return out


def _worker(args: tuple[SyntheticConfig, int, int, int]) -> _Chunk:
    cfg, i, start, n = args
    return _simulate_chunk(cfg, i, start, n)


def _iter_chunks(cfg: SyntheticConfig) -> Iterator[_Chunk]:
    jobs = [(cfg, i, s, n) for i, s, n in _chunk_bounds(cfg)]
    if cfg.workers <= 1 or len(jobs) == 1:
        for job in jobs:
            yield _worker(job)
        return
    ctx = mp.get_context("fork")
    with ctx.Pool(cfg.workers, maxtasksperchild=1) as pool:
        yield from pool.imap(_worker, jobs)


def _participant_file(cfg: SyntheticConfig, linked: pd.DataFrame) -> pa.Table:
    """Linked rows from the chunks plus unlinked participants (no person id)."""
    rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 999_999]))
    n_unique_linked = linked["pnr"].nunique()
    n_unlinked = int(round(n_unique_linked * (1 - cfg.share_with_id) / cfg.share_with_id))
    weights = np.array(cfg.start_year_weights) / np.sum(cfg.start_year_weights)
    years = np.asarray(cfg.start_years)[rng.choice(len(weights), size=n_unlinked, p=weights)]
    unl = pd.DataFrame({"pnr": pd.array([pd.NA] * n_unlinked, dtype="Int64"), "year": years, "doy": rng.integers(0, 365, size=n_unlinked)})
    rep = (rng.random(n_unlinked) < cfg.share_multi_year) & (years < max(cfg.start_years))
    extra = unl[rep].copy()
    extra["year"] = [
        int(rng.choice([y for y in cfg.start_years if y > yr])) for yr in extra["year"]
    ]
    unl["key"] = np.arange(n_unlinked)
    extra["key"] = unl.loc[rep, "key"].to_numpy()
    linked = linked.copy()
    linked["pnr"] = linked["pnr"].astype("Int64")
    codes = {p: i for i, p in enumerate(pd.unique(linked["pnr"]))}
    linked["key"] = linked["pnr"].map(codes).astype(np.int64) + n_unlinked
    allrows = pd.concat([linked, unl, extra], ignore_index=True)
    n_people = n_unlinked + len(codes)
    ids = rng.permutation(n_people) + 10_001  # the programme's participant numbers
    allrows["deltager_id"] = ids[allrows["key"].to_numpy()].astype(np.int64)
    start = pd.to_datetime(pd.DataFrame({"year": allrows["year"], "month": 1, "day": 1})) + pd.to_timedelta(
        allrows["doy"], unit="D"
    )
    allrows["startdato"] = start.dt.date
    allrows = allrows.sort_values(["deltager_id", "startdato"], kind="stable")
    return pa.table(
        {
            "deltager_id": allrows["deltager_id"].to_numpy(),
            "pnr": pa.array(allrows["pnr"].to_numpy(dtype=object, na_value=None), type=pa.int64()),
            "startdato": pa.array(allrows["startdato"].to_numpy(), type=pa.date32()),
        }
    )


def _write_by_year(writer: pq.ParquetWriter, table: pa.Table) -> None:
    """Write one row group per year (sorted by person within it), so that readers
    asking for some years skip the other row groups, as with year-wise register
    files. Tables without a yearly key (diagnoses) are written as they are."""
    if "aar" not in table.column_names or table.num_rows == 0 or "diag" in table.column_names:
        writer.write_table(table)
        return
    years = table.column("aar").to_numpy()
    if np.any(np.diff(years) < 0):
        order = np.lexsort((table.column("pnr").to_numpy(), years))
        table = table.take(pa.array(order))
        years = years[order]
    bounds = np.flatnonzero(np.diff(years)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [years.size]])
    for a, b in zip(starts, ends):
        writer.write_table(table.slice(int(a), int(b - a)))


def generate(cfg: SyntheticConfig, out_dir: str | Path) -> dict[str, object]:
    """Simulate the registers and write them, with the truth, to ``out_dir``.

    Writes one Parquet file per contract table (``<table>.parquet``), plus
    ``truth_att.csv`` (true average effect on the analysis-eligible treated per
    outcome and relative year), ``truth_effects.parquet`` (person-year effects of
    every linked participant) and ``generator.json`` (the configuration and
    summary counts). Returns the summary.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    writers: dict[str, pq.ParquetWriter] = {}
    truth_writer: pq.ParquetWriter | None = None
    nrel = MAX_REL_YEAR + 1 + 5
    sums = {k: np.zeros(nrel) for k in OUTCOMES}
    counts = np.zeros(nrel)
    linked_parts = []
    rows_written: dict[str, int] = {}
    try:
        for chunk in _iter_chunks(cfg):
            for name, table in chunk.tables.items():
                if name not in writers:
                    writers[name] = pq.ParquetWriter(
                        out_dir / f"{name}.parquet", table.schema, compression="zstd"
                    )
                _write_by_year(writers[name], table)
                rows_written[name] = rows_written.get(name, 0) + table.num_rows
            if truth_writer is None:
                truth_writer = pq.ParquetWriter(
                    out_dir / "truth_effects.parquet", chunk.truth_rows.schema, compression="zstd"
                )
            truth_writer.write_table(chunk.truth_rows)
            for k in OUTCOMES:
                sums[k] += chunk.truth_sums[k]
            counts += chunk.truth_counts
            linked_parts.append(chunk.participants)
    finally:
        for w in writers.values():
            w.close()
        if truth_writer is not None:
            truth_writer.close()
    participants = _participant_file(cfg, pd.concat(linked_parts, ignore_index=True))
    pq.write_table(participants, out_dir / "deltagere.parquet", compression="zstd")
    rows_written["deltagere"] = participants.num_rows

    rel_years = np.arange(-5, MAX_REL_YEAR + 1)
    truth = []
    for k in OUTCOMES:
        for r, s, c in zip(rel_years, sums[k], counts):
            if c > 0:
                truth.append((k, int(r), s / c, int(c)))
    truth_df = pd.DataFrame(truth, columns=["outcome", "rel_year", "true_att", "n_treated"])
    truth_df.to_csv(out_dir / "truth_att.csv", index=False, float_format="%.10g")
    summary = {
        # the number of workers does not change the data, so it is not recorded
        "config": _jsonable({k: v for k, v in asdict(cfg).items() if k != "workers"}),
        "rows": rows_written,
        "participants_unique": int(pd.Series(participants.column("deltager_id").to_numpy()).nunique()),
        "participants_with_id": int(
            pd.Series(participants.column("pnr").to_pandas()).dropna().nunique()
        ),
        "analysis_eligible_treated": int(counts[5 - 1]) if counts.size > 4 else 0,
    }
    (out_dir / "generator.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary


def _jsonable(obj: object) -> object:
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return round(float(obj), 12)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj
