"""The register tables of a chunk, and the participant file of the whole population.

The yearly tables hold one row per resident person-year (sorted by year, then person);
the diagnosis codes and the participants' start days are the last draws of a chunk.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from regeval.registers.contract import SUPPORT_TYPES
from regeval.synthetic.codes import DIAG_CODES, EDU_LEVEL_CODES
from regeval.synthetic.config import LAST_YEAR, YEARS, SyntheticConfig
from regeval.synthetic.persons import Persons
from regeval.synthetic.programme import NOT_STARTED
from regeval.synthetic.untreated import PersonYears


def register_tables(rng: np.random.Generator, p: Persons, obs: PersonYears) -> dict[str, pa.Table]:
    """Every register table of the contract but the participant file, from the persons and
    their observed person-years (``Y1`` in treated person-years)."""
    rj, ri = np.nonzero(obs.resident.T)  # year-major: sorted by year, then person
    t_pnr = p.pnr[ri]
    t_aar = YEARS[rj].astype(np.int16)
    tables = _person_tables(p, obs, ri, rj, t_pnr, t_aar)
    tables.update(_outcome_tables(obs, ri, rj, t_pnr, t_aar))
    tables["diag"] = _diagnosis_table(rng, p, obs.resident)
    return tables


def _person_tables(
    p: Persons, obs: PersonYears, ri: np.ndarray, rj: np.ndarray, t_pnr: np.ndarray, t_aar: np.ndarray
) -> dict[str, pa.Table]:
    """bef (population), udda (education) and forsorg (primary support)."""
    birth_year, birth_doy, male, origin, kom = p.birth_year, p.birth_doy, p.male, p.origin, p.kom
    marry_age, divorce_age = p.marry_age, p.divorce_age
    edu_missing, completion_age, edu_final, edu_sub = p.edu_missing, p.completion_age, p.edu_final, p.edu_sub
    age, support = obs.age, obs.support
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
    return tables


def _outcome_tables(
    obs: PersonYears, ri: np.ndarray, rj: np.ndarray, t_pnr: np.ndarray, t_aar: np.ndarray
) -> dict[str, pa.Table]:
    """beskaeftigelse (employment), handicap (social services), sundhed (health) and
    indkomst (income)."""
    emp, days, hours, supported, income = obs.emp, obs.days, obs.hours, obs.supported, obs.income
    s103, sbo, s85, useoth = obs.use103, obs.usebo, obs.use85, obs.useoth
    split103, split108 = obs.split103, obs.split108
    gp, sp, som, psy = obs.gp, obs.sp, obs.som, obs.psy
    tables: dict[str, pa.Table] = {}
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
    return tables


def _diagnosis_table(rng: np.random.Generator, p: Persons, resident: np.ndarray) -> pa.Table:
    """diag: one row per person and code, sorted by pnr then code."""
    pnr, diag_flag, diag_year = p.pnr, p.diag_flag, p.diag_year
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
    return pa.table({"pnr": dp[order], "diag": dc[order], "aar": dy[order]})


def chunk_participants(
    rng: np.random.Generator, p: Persons, started: np.ndarray, extra_start: np.ndarray
) -> pd.DataFrame:
    """The participations of the chunk's (linked) participants: person, year, day of year."""
    rows = []
    for i in np.flatnonzero(started < NOT_STARTED):
        for y in (started[i], extra_start[i]):
            if y < NOT_STARTED:
                rows.append((p.pnr[i], int(y), int(rng.integers(0, 365))))
    return pd.DataFrame(rows, columns=["pnr", "year", "doy"])


def participant_file(cfg: SyntheticConfig, linked: pd.DataFrame) -> pa.Table:
    """Linked rows from the chunks plus unlinked participants (no person id)."""
    rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 999_999]))
    n_unique_linked = linked["pnr"].nunique()
    n_unlinked = int(round(n_unique_linked * (1 - cfg.share_with_id) / cfg.share_with_id))
    weights = np.array(cfg.start_year_weights) / np.sum(cfg.start_year_weights)
    years = np.asarray(cfg.start_years)[rng.choice(len(weights), size=n_unlinked, p=weights)]
    unl = pd.DataFrame(
        {
            "pnr": pd.array([pd.NA] * n_unlinked, dtype="Int64"),
            "year": years,
            "doy": rng.integers(0, 365, size=n_unlinked),
        }
    )
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
