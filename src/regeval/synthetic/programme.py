"""The programme: who starts when (selection on what the registers show, and optionally
on the unobserved motivation), and the treated outcomes ``Y1`` of the participants.

Both functions draw from the chunk's random stream in a fixed order (start years in the
configured order, then the repeated starts; then the outcomes in the order of
:func:`draw_treated`), so that the same seed gives the same programme.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

from regeval.synthetic.codes import COGNITIVE_GROUPS, S_FLEX, S_FOEP, S_LEDIG
from regeval.synthetic.config import MAX_REL_YEAR, NY, YEARS, EffectShape, SyntheticConfig
from regeval.synthetic.persons import Persons
from regeval.synthetic.untreated import PersonYears, sigmoid

NOT_STARTED = 9999
"""Start year of a person who never starts."""

_YEAR_INDEX = {int(y): i for i, y in enumerate(YEARS)}


def calibrate_intercept(eta: np.ndarray, target: float) -> float:
    """Intercept a with sum(sigmoid(a + eta)) == target (bisection)."""
    if target <= 0 or eta.size == 0:
        return -50.0
    lo, hi = -40.0, 40.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if sigmoid(mid + eta).sum() > target:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


def draw_starts(
    rng: np.random.Generator, cfg: SyntheticConfig, share: float, p: Persons, y0: PersonYears
) -> tuple[np.ndarray, np.ndarray]:
    """First start year of every person and the year of an additional later start
    (both :data:`NOT_STARTED` if none); ``share`` is the chunk's share of the population."""
    n = p.cls.size
    started = np.full(n, NOT_STARTED, dtype=np.int64)
    extra_start = np.full(n, NOT_STARTED, dtype=np.int64)
    weights = np.array(cfg.start_year_weights) / np.sum(cfg.start_year_weights)
    for t, w in zip(cfg.start_years, weights, strict=False):
        _select_starters(rng, cfg, share, p, y0, t, w, started)
    # additional starts in later years (several rows per person)
    part = np.flatnonzero(started < NOT_STARTED)
    can_repeat = part[started[part] < max(cfg.start_years)]
    p_rep = cfg.share_multi_year * part.size / max(can_repeat.size, 1)
    rep = can_repeat[rng.random(can_repeat.size) < min(p_rep, 1.0)]
    for i in rep:
        later = [y for y in cfg.start_years if y > started[i]]
        extra_start[i] = later[int(rng.integers(0, len(later)))]
    return started, extra_start


def _select_starters(
    rng: np.random.Generator,
    cfg: SyntheticConfig,
    share: float,
    p: Persons,
    y0: PersonYears,
    t: int,
    w: float,
    started: np.ndarray,
) -> None:
    """Set ``started`` to ``t`` for the persons starting in year ``t`` (weight ``w`` of
    the start years): the eligible by a logit selection model calibrated to the expected
    number, plus a few who were not resident at the end of the year before."""
    n = p.cls.size
    age, resident, support = y0.age, y0.resident, y0.support
    n_linked = cfg.n_participants * cfg.share_with_id
    jb = _YEAR_INDEX[t - 1]
    jt = _YEAR_INDEX[t]
    target = n_linked * w * share * (1 - cfg.share_not_resident_before)
    age_b = age[:, jb]
    sup_b = support[:, jb]
    # what the registers show at the end of t - 1: diagnoses registered by then,
    # the education completed by then (selection uses nothing the pipeline cannot see,
    # apart from origin and, with the knob, motivation)
    known = {g: p.diag_flag[g] & (p.diag_year[g] <= t - 1) for g in COGNITIVE_GROUPS}
    any_diag_b = np.zeros(n, dtype=bool)
    for g in COGNITIVE_GROUPS:
        any_diag_b |= known[g]
    n_cog_b = cast(np.ndarray, sum(known[g].astype(np.int8) for g in COGNITIVE_GROUPS))
    edu_b = np.where(p.edu_missing | (age_b < p.completion_age), 0, p.edu_final)
    elig = (
        resident[:, jb]
        & resident[:, jt]
        & (age_b >= 18)
        & (age_b <= 64)
        & np.isin(sup_b, (S_FOEP, S_FLEX, S_LEDIG))
        & (started == NOT_STARTED)
    )
    idx = np.flatnonzero(elig)
    # employment degree (full-time equivalent) the year before and 2-5 years before
    deg1 = y0.days[idx, jb] / 365
    deg25 = y0.days[idx, jb - 4 : jb].sum(axis=1) / (4 * 365)
    eta = (
        2.6 * any_diag_b[idx]
        + 0.45 * p.male[idx]
        - 0.035 * (age_b[idx] - 35)
        + 0.6 * known["intellectual_disability"][idx]
        + 0.3 * known["autism"][idx]
        - 0.5 * known["psychiatric"][idx]
        - 0.3 * known["adhd"][idx]
        + 0.5 * (p.origin[idx] == 1)
        - 0.4 * (edu_b[idx] >= 2)
        + 2.5 * deg1
        + 2.0 * deg25
        + 0.3 * (sup_b[idx] == S_FOEP)
        - 0.5 * y0.use85[idx, jb]
        + 0.3 * y0.use103[idx, jb]
        - 0.3 * y0.usebo[idx, jb]
        - 0.08 * y0.sp[idx, jb]
        - 0.6 * y0.psy[idx, jb]
        - 0.3 * (n_cog_b[idx] >= 3)
        + cfg.confounding * p.motivation[idx]
    )
    a = calibrate_intercept(eta, target)
    chosen = idx[rng.random(idx.size) < sigmoid(a + eta)]
    started[chosen] = t
    # a few participants who were not resident at the end of the year before
    nr_target = n_linked * w * share * cfg.share_not_resident_before
    cand = np.flatnonzero(~resident[:, jb] & resident[:, jt] & (age[:, jt] >= 19) & (started == NOT_STARTED))
    k = min(cand.size, int(rng.poisson(nr_target)))
    if k:
        pick = rng.choice(cand, size=k, replace=False)
        started[pick] = t


@dataclass
class Treated:
    """The treated outcomes ``Y1`` (arrays n × NY; equal to ``Y0`` outside the treated
    person-years), with the relative year and the treated person-years."""

    rel: np.ndarray
    """Year relative to the first start (meaningless for persons who never start)."""
    treated_py: np.ndarray
    """Resident person-years from the first start on."""
    emp: np.ndarray
    days: np.ndarray
    hours: np.ndarray
    supported: np.ndarray
    use103: np.ndarray
    usebo: np.ndarray
    use85: np.ndarray
    gp: np.ndarray
    sp: np.ndarray
    som: np.ndarray
    psy: np.ndarray
    income: np.ndarray


def draw_treated(rng: np.random.Generator, cfg: SyntheticConfig, y0: PersonYears, started: np.ndarray) -> Treated:
    """The treated outcomes, with common random numbers: ``Y1`` differs from ``Y0`` only by
    the effect (binary outcomes flip monotonely; counts gain or thin; a new job brings its
    hours, share of the year and wage)."""
    eff, scale = cfg.effects, cfg.effect_scale
    n = started.size
    rel = YEARS[None, :] - started[:, None]
    treated_py = (rel >= 0) & (started[:, None] < NOT_STARTED) & y0.resident
    r_idx = np.clip(rel, 0, MAX_REL_YEAR)

    def shift(name: str) -> np.ndarray:
        return _shift(eff, name, r_idx, scale)

    def flip(y: np.ndarray, tau: np.ndarray) -> np.ndarray:
        return _flip(rng, y, tau, _ref_share(y, treated_py, rel), treated_py)

    emp1 = flip(y0.emp, shift("employed"))
    new_job = emp1 & ~y0.emp
    klap_hours = np.clip(rng.normal(eff.new_job_hours, 3.0, size=(n, NY)), 4, 25)
    klap_share = np.asarray(eff.new_job_year_share)[r_idx]
    hours1 = np.where(new_job, np.round(klap_hours, 1), y0.hours)
    share1 = np.where(new_job, klap_share, y0.share)
    supported1 = np.where(new_job, True, y0.supported)
    use103_1 = flip(y0.use103, shift("sel103_104"))
    usebo_1 = flip(y0.usebo, shift("botilbud"))
    use85_1 = flip(y0.use85, shift("sel85"))
    gp1 = y0.gp + np.where(treated_py, rng.poisson(np.maximum(shift("gp_contacts"), 0)), 0)
    thin = np.asarray(eff.specialist_thinning)[r_idx] * scale
    sp1 = y0.sp - np.where(treated_py, rng.binomial(y0.sp, np.clip(thin, 0, 1)), 0)
    som1 = flip(y0.som, shift("somatic_hospital"))
    psy1 = flip(y0.psy, shift("psychiatric_hospital"))
    income1 = y0.income + np.where(
        new_job & treated_py, np.round(hours1 * 52 * share1 * eff.hourly_wage, -1), 0.0
    )

    days1 = np.where(new_job, np.maximum(np.round(365 * share1 * hours1 / 37, 1), 0.1), y0.days)
    hours1 = np.where(emp1, hours1, 0.0)
    return Treated(
        rel=rel,
        treated_py=treated_py,
        emp=emp1,
        days=days1,
        hours=hours1,
        supported=supported1,
        use103=use103_1,
        usebo=usebo_1,
        use85=use85_1,
        gp=gp1,
        sp=sp1,
        som=som1,
        psy=psy1,
        income=income1,
    )


def _shift(eff: EffectShape, name: str, r_idx: np.ndarray, scale: float) -> np.ndarray:
    """The effect ``name`` of :class:`EffectShape` at each person-year's relative year."""
    return np.asarray(getattr(eff, name))[r_idx] * scale


def _flip(
    rng: np.random.Generator, y0: np.ndarray, tau: np.ndarray, p_ref: np.ndarray, treated_py: np.ndarray
) -> np.ndarray:
    """Monotone flips giving E[Y1 - Y0] = tau for units with share p_ref."""
    up = np.clip(tau / np.maximum(1 - p_ref, 0.05), 0, 1)
    down = np.clip(-tau / np.maximum(p_ref, 0.05), 0, 1)
    uf = rng.random(y0.shape)
    y1 = np.where(~y0 & (tau > 0) & (uf < up), True, y0)
    y1 = np.where(y0 & (tau < 0) & (uf < down), False, y1)
    return np.where(treated_py, y1, y0)


def _ref_share(y0: np.ndarray, treated_py: np.ndarray, rel: np.ndarray) -> np.ndarray:
    """Share of Y0 among this chunk's treated person-years, by relative year."""
    out = np.zeros(y0.shape)
    for r in range(MAX_REL_YEAR + 1):
        m = treated_py & (rel == r)
        out[m] = y0[m].mean() if m.any() else 0.0
    return out
