"""Checks against the years of coverage: years of the yearly tables, participation starts,
and a row of each dense table for every resident person-year of bef."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from regeval.registers.contract import ColumnSpec
from regeval.registers.validate.arrow import ArrayLike, array_chunks, year_list
from regeval.registers.validate.recorder import Recorder
from regeval.registers.validate.rules import DENSE_DEFAULT, YEARLY_TABLES
from regeval.registers.validate.table import Table


def check_years(rec: Recorder, t: Table, col: ColumnSpec, arr: ArrayLike) -> None:
    if t.name in YEARLY_TABLES:
        bad = pc.or_(pc.less(arr, rec.first), pc.greater(arr, rec.last))
        rec.report_mask(
            t,
            col.name,
            "year outside coverage",
            bad,
            f"years of coverage are {rec.first}–{rec.last} (config data.years); seen: {{seen}}",
        )
        present = set(pc.unique(arr).drop_null().to_pylist())
        t.years = tuple(sorted(int(y) for y in present))
        absent = [y for y in range(rec.first, rec.last + 1) if y not in present]
        if absent:
            dense = not t.spec.sparse
            rec.add(
                t.name,
                col.name,
                "coverage year without rows",
                detail=f"no rows for year(s) {year_list(absent)} of the coverage {rec.first}–{rec.last}"
                + (
                    "; the table must have a row for every resident person-year"
                    if dense
                    else "; a sparse table without rows in a year means nobody used it that year"
                ),
                severity="error" if dense else "warning",
            )
    else:  # diag: year of first registration, may precede the coverage
        bad = pc.greater(arr, rec.last)
        rec.report_mask(
            t,
            col.name,
            "year after coverage end",
            bad,
            f"first registrations may precede the coverage but not follow its last year {rec.last}; "
            "seen: {seen}",
        )


def check_starts(rec: Recorder, t: Table) -> None:
    """Participation start dates must lie in the years of coverage."""
    if "startdato" not in t.usable:
        return
    start = t.read("startdato")
    year = pc.year(start)
    extra = {"pnr": t.read("pnr")} if "pnr" in t.usable else None
    rec.report_mask(
        t,
        "startdato",
        "start date outside coverage",
        pc.or_(pc.less(year, rec.first), pc.greater(year, rec.last)),
        f"start dates must lie in the years of coverage {rec.first}–{rec.last} (a start after "
        f"31 December {rec.last} is in the future of the data); seen years: {{seen}}",
        values=year,
        extra=extra,
    )


SLICE_ROWS = 1 << 22
"""Rows handled at a time by the checks that index person × year bitmaps."""


def year_slices(years: ArrayLike, fill: int) -> Iterator[tuple[int, np.ndarray]]:
    """``(first row, years as int64)`` of a year column, :data:`SLICE_ROWS` rows at a
    time, nulls replaced by ``fill``."""
    offset = 0
    for chunk in array_chunks(years):
        for start in range(0, len(chunk), SLICE_ROWS):
            part = chunk.slice(start, SLICE_ROWS)
            if part.null_count:
                part = part.fill_null(fill)
            yield offset + start, part.to_numpy(zero_copy_only=False).astype(np.int64)
        offset += len(chunk)


def check_dense(rec: Recorder, t: Table) -> None:
    """A dense table has a row for every resident person-year of bef."""
    if (
        rec.bef_person_years is None
        or rec.bef_persons is None
        or not t.person_comparable
        or not {"pnr", "aar"} <= t.usable
    ):
        return
    idx = rec.bef_index(t)
    missing = rec.bef_person_years.copy()
    # slice by slice: the temporaries of a national table (40 million rows) stay small
    for start, aar in year_slices(t.read("aar"), rec.first - 1):
        rows = idx[start : start + len(aar)]
        keep = (rows >= 0) & (aar >= rec.first) & (aar <= rec.last)
        missing[rows[keep], aar[keep] - rec.first] = False
    n = int(np.count_nonzero(missing))
    if n == 0:
        return
    per_year = np.count_nonzero(missing, axis=0)
    n_persons = int(np.count_nonzero(missing.any(axis=1)))
    n_years = missing.shape[1]
    flat = np.flatnonzero(missing.ravel())[: rec.k]
    person, year = np.divmod(flat, n_years)
    ids = rec.bef_persons.take(pa.array(person, pa.int64())).to_pylist()
    examples = [f"pnr={rec.show('pnr', i)}, aar={rec.first + int(y)}" for i, y in zip(ids, year, strict=False)]
    by_year = ", ".join(f"{rec.first + y}: {int(c)}" for y, c in enumerate(per_year) if c)
    rec.add(
        t.name,
        "pnr+aar",
        "resident person-year missing",
        n,
        f"{n_persons} person(s) resident at the end of a year per bef have no {t.name} row for that year "
        f"(missing per year: {by_year}); {t.name} is dense — one row per resident person-year — and a "
        f"missing row would silently be read as {DENSE_DEFAULT.get(t.name, 'missing')}; extract the table "
        "for every person-year of bef",
        examples,
    )
