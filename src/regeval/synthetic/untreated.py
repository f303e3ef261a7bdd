"""The persons' years without the programme: residence, primary support and the untreated
outcomes ``Y0`` (employment, social services, health contacts, taxable income).

Arrays are persons × years (:data:`~regeval.synthetic.config.YEARS`). :func:`draw_untreated`
draws from the chunk's random stream in a fixed order (support, employment, services,
health, income), so that the same seed gives the same years.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from regeval.synthetic.codes import S_DAGP, S_FLEX, S_FOEP, S_KONT, S_LEDIG, S_OEVR, S_RESS, S_SELV, S_SU, S_SYGE
from regeval.synthetic.config import NY, YEARS, SyntheticConfig
from regeval.synthetic.persons import Persons


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class PersonYears:
    """Person-years of the chunk (arrays n × NY): residence, support and outcomes.

    :func:`draw_untreated` gives the untreated outcomes ``Y0``; the observed ones (``Y1``
    in the treated person-years) are of the same form."""

    age: np.ndarray
    """Age at the end of the year."""
    resident: np.ndarray
    """In BEF at the end of the year (aged 16–66, immigrated, not exited)."""
    support: np.ndarray
    """Primary support type (codes of :data:`~regeval.synthetic.codes.SUPPORT_CODE`)."""
    on_foep: np.ndarray
    on_flex: np.ndarray
    emp: np.ndarray
    hours: np.ndarray
    share: np.ndarray
    """Share of the year in the job."""
    days: np.ndarray
    """Full-time equivalent days."""
    supported: np.ndarray
    """Supported employment (on FØP or visited to a flex job)."""
    use103: np.ndarray
    usebo: np.ndarray
    use85: np.ndarray
    useoth: np.ndarray
    split103: np.ndarray
    """Uniform draw splitting § 103/104 use between the two sections."""
    split108: np.ndarray
    """Residential care under § 108 (else § 107)."""
    gp: np.ndarray
    sp: np.ndarray
    som: np.ndarray
    psy: np.ndarray
    income: np.ndarray


def draw_untreated(rng: np.random.Generator, cfg: SyntheticConfig, p: Persons) -> PersonYears:
    """Residence, support and the untreated outcomes of every person-year."""
    Y = YEARS[None, :]
    age = Y - p.birth_year[:, None]  # age at year end
    resident = (age >= 16) & (age <= 66) & (Y >= p.entry_year[:, None]) & (Y < p.exit_year[:, None])
    on_foep, on_flex = _draw_pension_and_flex(rng, p)
    support = _draw_support(rng, p, age, on_foep, on_flex)
    emp, hours, share, days, supported = _draw_employment(rng, cfg, p, age, resident, support)
    use103, usebo, use85, useoth, split103, split108 = _draw_services(rng, p, age, resident, on_foep, on_flex)
    gp, sp, som, psy = _draw_health(rng, p, age, resident)
    income = _draw_income(rng, cfg, p, resident, support, emp, hours, share)
    return PersonYears(
        age=age,
        resident=resident,
        support=support,
        on_foep=on_foep,
        on_flex=on_flex,
        emp=emp,
        hours=hours,
        share=share,
        days=days,
        supported=supported,
        use103=use103,
        usebo=usebo,
        use85=use85,
        useoth=useoth,
        split103=split103,
        split108=split108,
        gp=gp,
        sp=sp,
        som=som,
        psy=psy,
        income=income,
    )


def _draw_pension_and_flex(rng: np.random.Generator, p: Persons) -> tuple[np.ndarray, np.ndarray]:
    """Years on disability pension (FØP) and visited to a flex job, from their onsets."""
    n, cls, severity, birth_year = p.cls.size, p.cls, p.severity, p.birth_year
    Y = YEARS[None, :]
    p_foep = np.select(
        [cls == 2, cls == 1],
        [sigmoid(1.0 + 1.2 * severity), sigmoid(-0.7 + 0.8 * severity)],
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
    return on_foep, on_flex


def _draw_support(
    rng: np.random.Generator, p: Persons, age: np.ndarray, on_foep: np.ndarray, on_flex: np.ndarray
) -> np.ndarray:
    """Primary support type of every person-year."""
    n, cls = p.cls.size, p.cls
    support = np.full((n, NY), S_OEVR, dtype=np.int8)
    uu = rng.random((n, NY))
    p_selv = sigmoid(2.0 + 0.9 * p.alpha[:, None] - 1.5 * (cls[:, None] > 0) - 0.04 * np.maximum(age - 58, 0) ** 2 / 3)
    student = (age < 25) & (age < p.completion_age[:, None] + 1) & (p.edu_final[:, None] > 0)
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
    return np.where(on_foep, S_FOEP, support).astype(np.int8)


def _draw_employment(
    rng: np.random.Generator,
    cfg: SyntheticConfig,
    p: Persons,
    age: np.ndarray,
    resident: np.ndarray,
    support: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Employment, hours per week, share of the year, full-time days and supported
    employment, year by year (employment on FØP persists)."""
    n = p.cls.size
    u_emp = rng.random((n, NY))
    emp0 = np.zeros((n, NY), dtype=bool)
    hours0 = np.zeros((n, NY))
    share0 = np.zeros((n, NY))
    h_gen = np.clip(rng.normal(34, 5, size=n), 10, 45)
    h_skaane = np.clip(rng.normal(11, 4, size=n), 3, 30)
    h_flex = np.clip(rng.normal(18, 5, size=n), 8, 32)
    w_draw = rng.beta(5, 2, size=(n, NY))
    foep_emp_base = -2.2 + 1.0 * p.alpha - 0.25 * p.severity + 0.3 * p.male + cfg.confounding * p.motivation
    prev = np.zeros(n, dtype=bool)
    for j in range(NY):
        a = age[:, j]
        s = support[:, j]
        pr = np.select(
            [s == S_SELV, s == S_SU, (s == S_DAGP) | (s == S_SYGE), s == S_KONT, s == S_FLEX, s == S_RESS],
            [1.0, 0.4, 0.5, 0.1, 1.0, 0.05],
            0.0,
        )
        p_foep_emp = sigmoid(foep_emp_base + 2.4 * prev - 0.02 * (a - 35))
        pr = np.where(s == S_FOEP, p_foep_emp, pr)
        pr = np.where(resident[:, j], pr, 0.0)
        e = u_emp[:, j] < pr
        emp0[:, j] = e
        prev = np.where(resident[:, j], e, prev)
        hours0[:, j] = np.where(
            s == S_FOEP, h_skaane, np.where(s == S_FLEX, h_flex, np.where(s == S_SU, 10.0, h_gen))
        )
        working = (s == S_SELV) | (s == S_FLEX) | (s == S_FOEP)
        share0[:, j] = np.where(working, np.maximum(w_draw[:, j], 0.35), 0.45 * w_draw[:, j])
    hours0 = np.where(emp0, np.round(hours0, 1), 0.0)
    share0 = np.where(emp0, share0, 0.0)
    # full-time equivalent days: hours beyond a 37-hour week do not count (at most 365)
    days0 = np.where(emp0, np.maximum(np.round(365 * share0 * np.minimum(hours0, 37) / 37, 1), 0.1), 0.0)
    supported0 = emp0 & ((support == S_FOEP) | (support == S_FLEX))
    return emp0, hours0, share0, days0, supported0


def _latent_use(
    rng: np.random.Generator, base: np.ndarray, age: np.ndarray, resident: np.ndarray, rho: float = 0.85
) -> np.ndarray:
    """Use of a social service: a persistent latent Gaussian process above zero (adults)."""
    n = base.size
    e = np.empty((n, NY))
    e[:, 0] = rng.normal(size=n)
    z = rng.normal(size=(n, NY))
    for j in range(1, NY):
        e[:, j] = rho * e[:, j - 1] + np.sqrt(1 - rho**2) * z[:, j]
    mu = base[:, None] + 0.8 * rng.normal(size=n)[:, None]
    use = (mu + e > 0) & resident & (age >= 18)
    rng.random((n, NY))  # unused; drawn so that every later draw of the stream stays the same
    return use


def _draw_services(
    rng: np.random.Generator,
    p: Persons,
    age: np.ndarray,
    resident: np.ndarray,
    on_foep: np.ndarray,
    on_flex: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Social services: § 103/104 (sheltered work), residential care (§ 107/108), § 85
    support and other services, and the draws that split them between sections."""
    n, cls, severity = p.cls.size, p.cls, p.severity
    disabled = (on_foep | on_flex) & (cls[:, None] > 0)
    base_103 = np.where(cls == 2, -0.55 + 0.5 * severity, np.where(cls == 1, -1.6, -3.5))
    use103 = _latent_use(rng, base_103, age, resident)
    use103 &= disabled | (cls[:, None] == 2)
    base_bo = np.where(cls == 2, -1.35 + 0.5 * severity, np.where(cls == 1, -2.0, -4.0))
    usebo = _latent_use(rng, base_bo, age, resident, rho=0.95)
    base_85 = np.where(cls == 2, -0.7 + 0.2 * severity, np.where(cls == 1, -1.0, -3.8))
    use85 = _latent_use(rng, base_85, age, resident)
    base_oth = np.where(cls > 0, -1.7, -4.0)
    useoth = _latent_use(rng, base_oth, age, resident, rho=0.6)
    split103 = rng.random((n, NY))
    split108 = rng.random((n, NY)) < 0.8
    return use103, usebo, use85, useoth, split103, split108


def _draw_health(
    rng: np.random.Generator, p: Persons, age: np.ndarray, resident: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """GP and specialist contacts, somatic and psychiatric hospital contact."""
    n, cls, male = p.cls.size, p.cls, p.male
    gp_rate = np.exp(np.log(5.0) + 0.5 * (cls > 0) + 0.2 * ~male + 0.3 * rng.normal(size=n))[:, None] * np.exp(
        0.01 * (age - 40)
    )
    gp0 = rng.poisson(gp_rate * resident)
    sp_rate = np.exp(np.log(1.0) + 0.4 * (cls > 0) + 0.6 * rng.normal(size=n))[:, None] * np.ones((1, NY))
    sp0 = rng.poisson(sp_rate * resident)
    u_som = rng.random((n, NY))
    p_som = sigmoid(
        (-1.2 + 0.3 * (cls > 0) + 0.5 * rng.normal(size=n))[:, None] + 0.015 * (age - 40)
    )
    som0 = (u_som < p_som) & resident
    u_psy = rng.random((n, NY))
    p_psy = sigmoid(
        np.choose(cls, (-4.5, -1.2, -2.3))[:, None]
        + 0.8 * p.diag_flag["psychiatric"][:, None]
        + 0.4 * rng.normal(size=n)[:, None]
    ) * np.ones((1, NY))
    psy0 = (u_psy < p_psy) & resident
    return gp0, sp0, som0, psy0


def _draw_income(
    rng: np.random.Generator,
    cfg: SyntheticConfig,
    p: Persons,
    resident: np.ndarray,
    support: np.ndarray,
    emp0: np.ndarray,
    hours0: np.ndarray,
    share0: np.ndarray,
) -> np.ndarray:
    """Taxable income: wage of the self-supporting, benefit by support type otherwise,
    plus the wage of a job on FØP."""
    n = p.cls.size
    base_income = np.choose(
        support.astype(np.int64),
        (215_000, 245_000, 190_000, 140_000, 150_000, 200_000, 215_000, 80_000, 0, 60_000),
    ).astype(float)
    wage_gen = np.exp(np.log(390_000) + 0.25 * p.alpha + 0.25 * rng.normal(size=n))
    income0 = np.where(support == S_SELV, wage_gen[:, None] * np.maximum(share0, 0.5), base_income)
    income0 += np.where(
        emp0 & (support == S_FOEP), hours0 * 52 * share0 * cfg.effects.hourly_wage, 0.0
    )
    income0 += rng.normal(0, 8_000, size=(n, NY))
    return np.round(np.where(resident, income0, 0.0), -1)
