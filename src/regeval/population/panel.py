"""From register tables to the project's person × year variables.

Together with :mod:`regeval.registers.contract` this is the only module that knows register
column names; everything downstream speaks the project's own names:

=====================  ==========================================================
project variable       derived from
=====================  ==========================================================
resident               a BEF row exists for (pnr, aar): resident at year end
sex                    BEF koen (1 man, 2 woman)
age                    aar − birth year (age reached in the year)
origin                 BEF ie_type (danish / immigrant / descendant)
civil_status           BEF civst (unmarried, married incl. partnership, divorced, widowed)
municipality           BEF kom
education              UDDA hfaudd, first two digits mapped to levels by config
support                forsorg ydelse (primary income support)
employed               a beskaeftigelse row with fuldtid_dage > 0
fulltime_days          beskaeftigelse fuldtid_dage (0 without a row)
hours_per_week         beskaeftigelse timer_uge (0 without a row)
supported_employment   beskaeftigelse stoettet
sel85 … sel_other      handicap: §85; §103 or §104; §107 or §108 (botilbud); other
gp_contacts …          sundhed (0 / False without a row)
taxable_income         indkomst skattepl_indk
=====================  ==========================================================

Variables of a person-year in which the person was not resident at year end are
missing (NaN), not zero: sparse tables mean 'none' only for resident persons.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from regeval.registers.contract import SUPPORT_TYPES
from regeval.registers.read import TableSource, read_table

ORIGIN_LABELS = {1: "danish", 2: "immigrant", 3: "descendant"}
CIVIL_LABELS = {
    "U": "unmarried",
    "G": "married",
    "P": "married",
    "F": "divorced",
    "O": "divorced",
    "E": "widowed",
    "L": "widowed",
}

YEARLY_OUTCOMES: tuple[str, ...] = (
    "employed",
    "fulltime_days",
    "hours_per_week",
    "sel103_104",
    "botilbud",
    "sel85",
    "sel_other",
    "gp_contacts",
    "specialist_contacts",
    "somatic_hospital",
    "psychiatric_hospital",
    "taxable_income",
) + tuple(f"support_{s}" for s in SUPPORT_TYPES)
"""Every yearly outcome the panel can deliver (project names)."""


def education_level(hfaudd: pd.Series, levels: Mapping[str, Sequence[int]]) -> pd.Series:
    """Map education codes to configured levels by their first two digits."""
    main = (hfaudd // 100).astype("Int64")
    out = pd.Series("unknown", index=hfaudd.index, dtype=object)
    for name, prefixes in levels.items():
        out[main.isin(list(prefixes)).fillna(False).to_numpy(dtype=bool)] = name
    return out


def yearly_variables(
    sources: Mapping[str, TableSource],
    years: Iterable[int],
    *,
    persons: np.ndarray | None = None,
    education_levels: Mapping[str, Sequence[int]] | None = None,
    background: bool = True,
) -> pd.DataFrame:
    """Person × year variables for the given years (and optionally persons).

    Returns one row per resident person-year (pnr, year) with the background
    variables (if ``background``) and every yearly outcome. Reads each register
    only for the requested years.
    """
    years = sorted(set(int(y) for y in years))
    cols = ["pnr", "aar", "koen", "foed_dag", "ie_type", "civst", "kom"] if background else ["pnr", "aar"]
    bef = read_table(sources["bef"], cols, years=years, persons=persons)
    out = pd.DataFrame({"pnr": bef["pnr"].to_numpy(), "year": bef["aar"].to_numpy().astype(np.int64)})
    if background:
        birth_year = pd.to_datetime(bef["foed_dag"]).dt.year.to_numpy()
        out["sex"] = np.where(bef["koen"].to_numpy() == 1, "man", "woman")
        out["age"] = out["year"].to_numpy() - birth_year
        out["birth_year"] = birth_year
        out["origin"] = bef["ie_type"].map(ORIGIN_LABELS).to_numpy()
        out["civil_status"] = bef["civst"].astype(str).map(CIVIL_LABELS).to_numpy()
        out["municipality"] = bef["kom"].to_numpy().astype(np.int64)
        udda = read_table(sources["udda"], ["pnr", "aar", "hfaudd"], years=years, persons=persons)
        udda = udda.rename(columns={"aar": "year"})
        udda["year"] = udda["year"].astype(np.int64)
        udda["education"] = education_level(udda["hfaudd"], education_levels or {}).to_numpy()
        out = out.merge(udda[["pnr", "year", "education"]], on=["pnr", "year"], how="left")
        out["education"] = out["education"].fillna("unknown")
    out = _add_outcomes(out, sources, years, persons)
    return out.sort_values(["pnr", "year"], kind="stable").reset_index(drop=True)


def _read_yearly(
    sources: Mapping[str, TableSource], table: str, columns: list[str], years: list[int], persons
) -> pd.DataFrame:
    frame = read_table(sources[table], ["pnr", "aar", *columns], years=years, persons=persons)
    frame = frame.rename(columns={"aar": "year"})
    frame["year"] = frame["year"].astype(np.int64)
    return frame


def _add_outcomes(
    out: pd.DataFrame, sources: Mapping[str, TableSource], years: list[int], persons
) -> pd.DataFrame:
    forsorg = _read_yearly(sources, "forsorg", ["ydelse"], years, persons)
    forsorg["support"] = forsorg.pop("ydelse").astype(str)
    out = out.merge(forsorg, on=["pnr", "year"], how="left")
    out["support"] = out["support"].fillna("oevrig")
    for s in SUPPORT_TYPES:
        out[f"support_{s}"] = (out["support"] == s).astype(float)

    emp = _read_yearly(sources, "beskaeftigelse", ["fuldtid_dage", "timer_uge", "stoettet"], years, persons)
    out = out.merge(emp, on=["pnr", "year"], how="left")
    days = out.pop("fuldtid_dage").fillna(0.0).astype(float)
    out["fulltime_days"] = days
    out["employed"] = (days > 0).astype(float)
    out["hours_per_week"] = out.pop("timer_uge").fillna(0.0).astype(float)
    out["supported_employment"] = out.pop("stoettet").fillna(False).astype(bool).astype(float)

    hc = _read_yearly(
        sources, "handicap", ["sel85", "sel103", "sel104", "sel107", "sel108", "sel_oevrig"], years, persons
    )
    hc["sel103_104"] = hc["sel103"] | hc["sel104"]
    hc["botilbud"] = hc["sel107"] | hc["sel108"]
    hc["sel_other"] = hc["sel_oevrig"]
    hc = hc[["pnr", "year", "sel103_104", "botilbud", "sel85", "sel_other"]]
    out = out.merge(hc, on=["pnr", "year"], how="left")
    for c in ("sel103_104", "botilbud", "sel85", "sel_other"):
        out[c] = out[c].fillna(False).astype(bool).astype(float)

    hs = _read_yearly(
        sources,
        "sundhed",
        ["laege_kontakter", "speciallaege_kontakter", "somatisk_kontakt", "psykiatrisk_kontakt"],
        years,
        persons,
    )
    hs = hs.rename(
        columns={
            "laege_kontakter": "gp_contacts",
            "speciallaege_kontakter": "specialist_contacts",
            "somatisk_kontakt": "somatic_hospital",
            "psykiatrisk_kontakt": "psychiatric_hospital",
        }
    )
    out = out.merge(hs, on=["pnr", "year"], how="left")
    for c in ("gp_contacts", "specialist_contacts"):
        out[c] = out[c].fillna(0).astype(float)
    for c in ("somatic_hospital", "psychiatric_hospital"):
        out[c] = out[c].fillna(False).astype(bool).astype(float)

    inc = _read_yearly(sources, "indkomst", ["skattepl_indk"], years, persons)
    out = out.merge(inc.rename(columns={"skattepl_indk": "taxable_income"}), on=["pnr", "year"], how="left")
    out["taxable_income"] = out["taxable_income"].astype(float)
    return out


def diagnosis_groups(
    sources: Mapping[str, TableSource],
    groups: Mapping[str, Sequence[str]],
    *,
    persons: np.ndarray | None = None,
) -> pd.DataFrame:
    """First year of each configured diagnosis group per person.

    ``groups`` maps a group name to ICD-10 code prefixes (with the LPR 'D' prefix,
    e.g. ``DF7`` for F70–F79). Returns columns pnr, group, first_year.
    """
    diag = read_table(sources["diag"], ["pnr", "diag", "aar"], persons=persons)
    codes = diag["diag"].astype(str).str.upper()
    parts = []
    for name, prefixes in groups.items():
        hit = np.zeros(len(diag), dtype=bool)
        for prefix in prefixes:
            hit |= codes.str.startswith(str(prefix).upper()).to_numpy()
        sub = diag.loc[hit, ["pnr", "aar"]]
        first = sub.groupby("pnr", sort=True)["aar"].min()
        parts.append(
            pd.DataFrame(
                {"pnr": first.index.to_numpy(), "group": name, "first_year": first.to_numpy().astype(np.int64)}
            )
        )
    if not parts:
        return pd.DataFrame(
            {
                "pnr": pd.Series(dtype=np.int64),
                "group": pd.Series(dtype=object),
                "first_year": pd.Series(dtype=np.int64),
            }
        )
    return pd.concat(parts, ignore_index=True)


def participants_first_year(sources: Mapping[str, TableSource]) -> pd.DataFrame:
    """The participant file summarised per participant: first start year, person id.

    Returns columns deltager_id, pnr (may be missing), first_year, n_start_years.
    """
    part = read_table(sources["deltagere"], ["deltager_id", "pnr", "startdato"])
    part["year"] = pd.to_datetime(part["startdato"]).dt.year.astype(np.int64)
    grouped = part.groupby("deltager_id", sort=True)
    out = pd.DataFrame(
        {
            "pnr": grouped["pnr"].first(),
            "first_year": grouped["year"].min(),
            "n_start_years": grouped["year"].nunique(),
        }
    ).reset_index()
    return out
