"""Checks of persons across tables: birth dates in bef, diagnoses before birth, and every
person known to bef."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from regeval.registers.validate.arrow import (
    ArrayLike,
    array_chunks,
    as_int,
    count_true,
    first_true,
    ints_to_type,
    one_array,
)
from regeval.registers.validate.coverage import year_slices
from regeval.registers.validate.recorder import Recorder
from regeval.registers.validate.rules import (
    MAX_AGE,
    MIN_BIRTH_YEAR,
    ROWS_IN_YEAR_OF_DEATH,
    UNKNOWN_PERSON_IS_WARNING,
    Severity,
)
from regeval.registers.validate.table import Table


def check_bef(rec: Recorder, t: Table) -> None:
    """Impossible birth dates and the persons/birth years other tables are checked against."""
    if "pnr" not in t.usable:
        return
    if "foed_dag" in t.usable:
        foed = t.read("foed_dag")
        birth_year = pc.year(foed)
        if "aar" in t.usable:
            aar = t.read("aar")
            rec.report_mask(
                t,
                "foed_dag",
                "birth date after year end",
                pc.greater(birth_year, aar),
                "a BEF row describes the person at the end of year aar, so the birth date cannot "
                "be later than 31 December of aar",
                extra={"foed_dag": foed},
            )
            age = pc.subtract(aar, birth_year)
            rec.report_mask(
                t,
                "foed_dag",
                f"age over {MAX_AGE}",
                pc.greater(age, MAX_AGE),
                f"age at the end of aar above {MAX_AGE} years is impossible",
                extra={"foed_dag": foed},
            )
            del age
        rec.report_mask(
            t,
            "foed_dag",
            f"birth date before {MIN_BIRTH_YEAR}",
            pc.less(birth_year, MIN_BIRTH_YEAR),
            f"birth dates before 1 January {MIN_BIRTH_YEAR} are impossible",
            extra={"foed_dag": foed},
        )
        del birth_year
        # per person: earliest and latest birth date
        persons, code = t.person_codes()
        hi, lo = np.iinfo(np.int64).max, np.iinfo(np.int64).min
        first, last = np.full(len(persons), hi, np.int64), np.full(len(persons), lo, np.int64)
        offset = 0
        for days in array_chunks(as_int(foed)):  # chunk by chunk: no copy of the whole column
            rows = code[offset : offset + len(days)]
            offset += len(days)
            if days.null_count:
                rows = rows[days.is_valid().to_numpy(zero_copy_only=False)]
                days = days.drop_null()
            days_np = days.to_numpy(zero_copy_only=False).astype(np.int64)  # ufunc.at's fast path: one dtype
            np.minimum.at(first, rows, days_np)
            np.maximum.at(last, rows, days_np)
        del days, days_np, rows
        known = pc.is_valid(persons).to_numpy(zero_copy_only=False) & (first != hi)
        differs = known & (first != last)
        rec.bef_persons = persons.filter(pc.is_valid(persons))
        birth = ints_to_type(first, foed.type, mask=~known)
        rec.bef_birth_year = pc.year(birth).filter(pc.is_valid(persons))
        if t.persons is None:
            t.persons = len(rec.bef_persons)
        n_persons = int(differs.sum())
        if n_persons:
            rec.report_mask(
                t,
                "foed_dag",
                "birth date differs between years",
                pa.array(differs[code]),
                f"{n_persons} person(s) have more than one birth date; the earliest is used",
                extra={"foed_dag": foed},
                severity="warning",
            )
        del code
    else:
        persons, _ = t.person_codes()
        rec.bef_persons = persons.filter(pc.is_valid(persons))
        rec.bef_birth_year = None
    rec.bef_person_years = person_year_bitmap(rec, t)


def person_year_bitmap(rec: Recorder, t: Table) -> np.ndarray | None:
    """Resident person-years of bef as a bitmap [person, year − first] over the persons
    of ``bef_persons`` and the years of coverage (one byte per cell: 61 MB for 3.6
    million persons × 17 years)."""
    if "aar" not in t.usable or rec.bef_persons is None:
        return None
    persons, code = t.person_codes()
    valid = pc.is_valid(persons).to_numpy(zero_copy_only=False)
    position = np.cumsum(valid, dtype=np.int64) - 1  # position among the non-null persons
    bitmap = np.zeros((len(rec.bef_persons), rec.last - rec.first + 1), dtype=bool)
    for start, aar in year_slices(t.read("aar"), rec.first - 1):
        rows = code[start : start + len(aar)]
        keep = valid[rows] & (aar >= rec.first) & (aar <= rec.last)
        bitmap[position[rows[keep]], aar[keep] - rec.first] = True
    return bitmap


def check_diagnosis_years(rec: Recorder, t: Table) -> None:
    """A diagnosis cannot be first registered before the person's birth year."""
    if (
        rec.bef_birth_year is None
        or rec.bef_persons is None
        or not t.person_comparable
        or not {"pnr", "aar"} <= t.usable
    ):
        return
    pnr, aar = t.read("pnr"), t.read("aar")
    idx = pc.index_in(pnr, value_set=rec.bef_persons)
    birth_year = pc.take(rec.bef_birth_year, idx)
    rec.report_mask(
        t,
        "aar",
        "diagnosed before birth year",
        pc.less(aar, birth_year),
        "the year of first registration precedes the birth year in bef",
        extra={"aar": aar, "birth year": birth_year},
    )


def check_persons_in_bef(rec: Recorder, t: Table) -> None:
    """Every person id must be resident (in bef) in at least one year.

    In a table of :data:`ROWS_IN_YEAR_OF_DEATH` (income), a person never in bef whose
    only rows are in the first year of the coverage is a warning, not an error: the
    contract allows a row in the year of death or emigration, and a person resident at
    the end of the year before the coverage who died during its first year has no bef
    row at all.
    """
    if rec.bef_persons is None or not t.person_comparable or "pnr" not in t.usable:
        return
    pnr = t.read("pnr")
    absent = rec.bef_index(t) < 0
    if pnr.null_count:
        absent &= pc.is_valid(pnr).to_numpy(zero_copy_only=False)
    if not absent.any():
        return
    excused = np.zeros(len(absent), dtype=bool)
    if t.name in ROWS_IN_YEAR_OF_DEATH and "aar" in t.usable:
        aar = one_array(t.read("aar")).fill_null(rec.first - 1).to_numpy(zero_copy_only=False)
        persons, code = t.person_codes()
        elsewhere = np.zeros(len(persons), dtype=bool)
        elsewhere[code[absent & (aar != rec.first)]] = True
        excused = absent & (aar == rec.first) & ~elsewhere[code]
        absent &= ~excused
        del aar
    if absent.any():
        warn = t.name in UNKNOWN_PERSON_IS_WARNING
        if t.name == "deltagere":
            problem, what = "participant not in bef", "participant(s) whose pnr is in bef in no year"
        else:
            problem, what = "person not in bef", "person(s) who are in bef in no year"
        _report_unknown(
            rec, t, pnr, absent, problem,
            lambda n: f"{n} {what} of the coverage"
            + (
                " — e.g. diagnosed before the coverage and gone by its start"
                if warn
                else "; check that every extract uses the same pseudonymised person ids"
            ),
            "warning" if warn else "error",
        )
    if excused.any():
        _report_unknown(
            rec, t, pnr, excused, "person not in bef",
            lambda n: f"{n} person(s) who are in bef in no year have {t.name} rows only in the first year of the "
            f"coverage ({rec.first}): allowed as income in the year of death or emigration of a person resident at "
            f"the end of {rec.first - 1}, before the coverage; these rows enter no analysis",
            "warning",
        )


def _report_unknown(rec: Recorder, t: Table, pnr: ArrayLike, mask: np.ndarray, problem: str,
                    detail: Callable[[int], str], severity: Severity) -> None:
    """Record the rows of ``mask`` (persons not in bef), with distinct persons as examples."""
    unknown: ArrayLike = pa.array(mask)
    n = count_true(unknown)
    n_persons = int(pc.count_distinct(pc.filter(pnr, unknown)).as_py())
    positions = first_true(unknown, 50 * max(rec.k, 1))
    ids = pnr.take(pa.array(positions, pa.int64())).to_pylist()
    seen: set[object] = set()
    chosen = []
    for p, i in zip(positions, ids, strict=True):
        if i not in seen:
            seen.add(i)
            chosen.append(p)
    rec.add(t.name, "pnr", problem, n, detail(n_persons), rec.examples(t, np.asarray(chosen, np.int64), {"pnr": pnr}),
            severity)
