"""One chunk of persons, simulated in steps from its own random stream.

:func:`simulate_chunk` draws, in this order: the persons (:mod:`~regeval.synthetic.persons`),
their untreated years (:mod:`~regeval.synthetic.untreated`), the programme starts and the
treated outcomes (:mod:`~regeval.synthetic.programme`), then the diagnosis codes and the
participants' start days (:mod:`~regeval.synthetic.tables`). The order of the draws is
part of the output: changing it changes every later value of the chunk.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from regeval.registers.contract import SUPPORT_TYPES
from regeval.synthetic.codes import COGNITIVE_GROUPS, OUTCOMES, S_FLEX, S_FOEP, S_LEDIG
from regeval.synthetic.config import MAX_REL_YEAR, YEARS, SyntheticConfig
from regeval.synthetic.persons import Persons, draw_persons
from regeval.synthetic.programme import NOT_STARTED, Treated, draw_starts, draw_treated
from regeval.synthetic.tables import chunk_participants, register_tables
from regeval.synthetic.untreated import PersonYears, draw_untreated

N_REL = MAX_REL_YEAR + 1 + 5
"""Relative years −5 … MAX_REL_YEAR of the truth sums."""


@dataclass
class Chunk:
    """Everything simulated for one chunk of persons (arrays n or n × NY)."""

    tables: dict[str, pa.Table]
    truth_rows: pa.Table
    truth_sums: dict[str, np.ndarray]
    truth_counts: np.ndarray
    participants: pd.DataFrame


def simulate_chunk(cfg: SyntheticConfig, chunk_index: int, first_person: int, n: int) -> Chunk:
    """Persons ``first_person`` … ``first_person + n − 1``, from the random stream of
    chunk ``chunk_index`` (independent of every other chunk)."""
    seed_seq = np.random.SeedSequence([cfg.seed, chunk_index])
    rng = np.random.default_rng(seed_seq)
    share = n / cfg.n_persons
    persons = draw_persons(rng, first_person, n)
    y0 = draw_untreated(rng, cfg, persons)
    started, extra_start = draw_starts(rng, cfg, share, persons, y0)
    y1 = draw_treated(rng, cfg, y0, started)
    truth_cols, truth_sums, truth_counts = _truth(persons, y0, y1, started)
    tables = register_tables(rng, persons, _observed(y0, y1))
    participants = chunk_participants(rng, persons, started, extra_start)
    return Chunk(tables, pa.table(truth_cols), truth_sums, truth_counts, participants)


def _truth(
    p: Persons, y0: PersonYears, y1: Treated, started: np.ndarray
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    """Person-year effects ``Y1 − Y0`` of every linked participant (from 5 years before
    the first start), and their sums and counts over the analysis-eligible by relative year."""
    truth_pairs = {
        "employed": (y0.emp, y1.emp),
        "fulltime_days": (y0.days, y1.days),
        "hours_per_week": (y0.hours, y1.hours),
        "sel103_104": (y0.use103, y1.use103),
        "botilbud": (y0.usebo, y1.usebo),
        "sel85": (y0.use85, y1.use85),
        "sel_other": (y0.useoth, y0.useoth),
        "gp_contacts": (y0.gp, y1.gp),
        "specialist_contacts": (y0.sp, y1.sp),
        "somatic_hospital": (y0.som, y1.som),
        "psychiatric_hospital": (y0.psy, y1.psy),
        "taxable_income": (y0.income, y1.income),
    }
    eligible = _analysis_eligible(p, y0, started)
    pi = np.flatnonzero(started < NOT_STARTED)
    rel = y1.rel
    truth_sums = {k: np.zeros(N_REL) for k in OUTCOMES}
    truth_counts = np.zeros(N_REL)
    rows_i, rows_j = np.nonzero(y0.resident[pi] & (rel[pi] >= -5))
    rows_i = pi[rows_i]
    rel_rows = rel[rows_i, rows_j]
    truth_cols: dict[str, np.ndarray] = {
        "pnr": p.pnr[rows_i],
        "aar": YEARS[rows_j].astype(np.int16),
        "rel_year": rel_rows.astype(np.int16),
        "analysis_eligible": eligible[rows_i],
    }
    for name, (a, b) in truth_pairs.items():
        truth_cols[name] = (b.astype(float) - a.astype(float))[rows_i, rows_j]
    for s in SUPPORT_TYPES:
        truth_cols[f"support_{s}"] = np.zeros(rows_i.size)
    elig_rows = eligible[rows_i]
    for k in OUTCOMES:
        np.add.at(truth_sums[k], rel_rows[elig_rows] + 5, truth_cols[k][elig_rows])
    np.add.at(truth_counts, rel_rows[elig_rows] + 5, 1)
    return truth_cols, truth_sums, truth_counts


def _analysis_eligible(p: Persons, y0: PersonYears, started: np.ndarray) -> np.ndarray:
    """Analysis-eligible participants: linked, resident at the end of the year before
    start, 18-64, on FØP or visited to a flex job, with a cognitive diagnosis by then."""
    eligible = np.zeros(started.size, dtype=bool)
    year_index = {int(y): i for i, y in enumerate(YEARS)}
    for i in np.flatnonzero(started < NOT_STARTED):
        jb = year_index[int(started[i]) - 1]
        has_d = any(p.diag_flag[g][i] and p.diag_year[g][i] <= started[i] - 1 for g in COGNITIVE_GROUPS)
        eligible[i] = bool(
            y0.resident[i, jb]
            and 18 <= y0.age[i, jb] <= 64
            and y0.support[i, jb] in (S_FOEP, S_FLEX, S_LEDIG)
            and has_d
        )
    return eligible


def _observed(y0: PersonYears, y1: Treated) -> PersonYears:
    """What the registers hold: ``Y1`` in the treated person-years, ``Y0`` elsewhere."""
    obs = y1.treated_py
    emp = np.where(obs, y1.emp, y0.emp)
    return dataclasses.replace(
        y0,
        emp=emp,
        days=np.where(obs, y1.days, y0.days),
        hours=np.where(obs, y1.hours, y0.hours),
        supported=np.where(obs, y1.supported, y0.supported) & emp,
        use103=np.where(obs, y1.use103, y0.use103),
        usebo=np.where(obs, y1.usebo, y0.usebo),
        use85=np.where(obs, y1.use85, y0.use85),
        gp=np.where(obs, y1.gp, y0.gp),
        sp=np.where(obs, y1.sp, y0.sp),
        som=np.where(obs, y1.som, y0.som),
        psy=np.where(obs, y1.psy, y0.psy),
        income=np.where(obs, y1.income, y0.income),
    )
