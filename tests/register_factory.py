"""A tiny, valid set of the nine contract tables, written as Parquet for tests.

``valid_frames()`` builds the tables as pandas DataFrames (12 persons, years
2016–2019); ``write_registers()`` writes them to ``<directory>/<table>.parquet`` with
arguments to break exactly one thing (leave a table out, edit a frame, rename
columns, write garbage instead of Parquet, or write a table as a folder dataset).

The data are hand-made and deterministic so that a test can break a known number of
rows and assert the exact count in the error message. Person ids are six-digit
numbers (100001 …) so that they never collide with counts in a message.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

YEARS: tuple[int, int] = (2016, 2019)
"""Years of coverage of the valid set."""

PERSONS: tuple[int, ...] = tuple(range(100001, 100013))
"""The twelve persons of the valid set."""

LEFT_AFTER_2017 = 100012
"""Resident in 2016–2017 only (emigrated)."""

ARRIVED_2018 = 100011
"""Resident in 2018–2019 only (immigrated)."""

_BIRTH = {
    100001: date(1960, 3, 14),
    100002: date(1975, 11, 2),
    100003: date(1988, 6, 30),
    100004: date(1952, 1, 1),
    100005: date(1994, 12, 31),
    100006: date(1970, 7, 7),
    100007: date(1981, 2, 28),
    100008: date(1999, 9, 9),
    100009: date(1965, 5, 5),
    100010: date(1990, 10, 10),
    100011: date(1985, 4, 1),
    100012: date(1978, 8, 18),
}
_CIVST = ("U", "G", "F", "E", "U", "U", "G", "U", "F", "U", "G", "U")
_KOM = (101, 147, 151, 265, 751, 851, 860, 101, 461, 169, 147, 410)
_YDELSE = ("foep", "fleksjob", "foep", "ledighedsydelse", "kontanthjaelp", "selvforsoerget", "foep", "su",
           "ressourceforloeb", "dagpenge", "sygedagpenge", "oevrig")
_HFAUDD = (1010, 2010, 3510, 4000, 6530, 1090, 2020, 3020, 5080, 7010, 1010, 2010)


def resident_years(pnr: int, years: tuple[int, int] = YEARS) -> list[int]:
    """The years in which ``pnr`` has a bef row."""
    first, last = years
    if pnr == LEFT_AFTER_2017:
        return [y for y in range(first, last + 1) if y <= 2017]
    if pnr == ARRIVED_2018:
        return [y for y in range(first, last + 1) if y >= 2018]
    return list(range(first, last + 1))


def valid_frames(years: tuple[int, int] = YEARS) -> dict[str, pd.DataFrame]:
    """The nine tables of a valid extract, by canonical table name and column names."""
    person_years = [(p, y) for p in PERSONS for y in resident_years(p, years)]
    index = {p: i for i, p in enumerate(PERSONS)}

    bef = pd.DataFrame(
        {
            "pnr": [p for p, _ in person_years],
            "aar": [y for _, y in person_years],
            "koen": [1 + index[p] % 2 for p, _ in person_years],
            "foed_dag": pd.Series([_BIRTH[p] for p, _ in person_years], dtype=object),
            "ie_type": [1 + index[p] % 3 for p, _ in person_years],
            "civst": [_CIVST[index[p]] for p, _ in person_years],
            "kom": [_KOM[index[p]] for p, _ in person_years],
        }
    )
    udda_rows = [(p, y) for p, y in person_years if index[p] < 10]
    udda = pd.DataFrame(
        {
            "pnr": [p for p, _ in udda_rows],
            "aar": [y for _, y in udda_rows],
            "hfaudd": [_HFAUDD[index[p]] for p, _ in udda_rows],
        }
    )
    diag = pd.DataFrame(
        {
            "pnr": [100001, 100001, 100002, 100003, 100005, 100006, 100011],
            "diag": ["DF700", "DG409", "DF840", "DF711", "DG809", "DF700", "DF840"],
            "aar": [2001, 2015, 2010, 2017, 1999, 1990, 2019],
        }
    )
    forsorg = pd.DataFrame(
        {
            "pnr": [p for p, _ in person_years],
            "aar": [y for _, y in person_years],
            "ydelse": [_YDELSE[index[p]] for p, _ in person_years],
        }
    )
    job_rows = [(p, y) for p, y in person_years if index[p] in (1, 5, 7, 9)]
    beskaeftigelse = pd.DataFrame(
        {
            "pnr": [p for p, _ in job_rows],
            "aar": [y for _, y in job_rows],
            "fuldtid_dage": [40.0 + 20 * index[p] + (y % 3) for p, y in job_rows],
            "timer_uge": [15.0 + index[p] for p, _ in job_rows],
            "stoettet": [index[p] in (1, 5) for p, _ in job_rows],
        }
    )
    care_rows = [(p, y) for p, y in person_years if index[p] < 6]
    handicap = pd.DataFrame(
        {
            "pnr": [p for p, _ in care_rows],
            "aar": [y for _, y in care_rows],
            "sel85": [index[p] % 2 == 0 for p, _ in care_rows],
            "sel103": [index[p] in (0, 3) for p, _ in care_rows],
            "sel104": [index[p] == 4 for p, _ in care_rows],
            "sel107": [False for _ in care_rows],
            "sel108": [index[p] == 2 and y >= 2018 for p, y in care_rows],
            "sel_oevrig": [index[p] == 5 for p, _ in care_rows],
        }
    )
    health_rows = [(p, y) for p, y in person_years if index[p] < 8]
    sundhed = pd.DataFrame(
        {
            "pnr": [p for p, _ in health_rows],
            "aar": [y for _, y in health_rows],
            "laege_kontakter": [3 + index[p] + y % 2 for p, y in health_rows],
            "speciallaege_kontakter": [index[p] % 3 for p, _ in health_rows],
            "somatisk_kontakt": [index[p] % 4 == 0 for p, _ in health_rows],
            "psykiatrisk_kontakt": [index[p] == 3 for p, _ in health_rows],
        }
    )
    indkomst = pd.DataFrame(
        {
            "pnr": [p for p, _ in person_years],
            "aar": [y for _, y in person_years],
            "skattepl_indk": [150_000.0 + 10_000 * index[p] + 500 * (y - years[0]) for p, y in person_years],
        }
    )
    deltagere = pd.DataFrame(
        {
            "deltager_id": [1, 1, 2, 3, 4, 5],
            "pnr": pd.array([100001, 100001, 100002, None, 100004, 100011], dtype="Int64"),
            "startdato": pd.Series(
                [date(2017, 3, 1), date(2018, 2, 1), date(2017, 8, 15), date(2018, 1, 10), date(2019, 5, 1),
                 date(2019, 9, 1)],
                dtype=object,
            ),
        }
    )
    return {
        "bef": bef,
        "udda": udda,
        "diag": diag,
        "forsorg": forsorg,
        "beskaeftigelse": beskaeftigelse,
        "handicap": handicap,
        "sundhed": sundhed,
        "indkomst": indkomst,
        "deltagere": deltagere,
    }


def write_registers(
    directory: str | Path,
    *,
    years: tuple[int, int] = YEARS,
    omit: Collection[str] = (),
    edit: Mapping[str, Callable[[pd.DataFrame], pd.DataFrame]] | None = None,
    rename: Mapping[str, Mapping[str, str]] | None = None,
    garbage: Collection[str] = (),
    as_dataset: Collection[str] = (),
    frames: Mapping[str, pd.DataFrame] | None = None,
) -> Path:
    """Write the valid set (or ``frames``) as Parquet under ``directory``; break one thing.

    Parameters
    ----------
    directory
        Target folder (created); table ``t`` goes to ``<directory>/<t>.parquet``.
    years
        Years of coverage of the generated set.
    omit
        Tables not written at all.
    edit
        Per table, a function ``DataFrame -> DataFrame`` applied before writing (to
        change values or dtypes, drop or add rows/columns).
    rename
        Per table, ``{contract column: name in the file}``.
    garbage
        Tables written as a file of non-Parquet bytes.
    as_dataset
        Tables written as a folder holding one Parquet file per year (or two halves).
    frames
        Start from these frames instead of :func:`valid_frames`.

    Returns
    -------
    Path
        ``directory``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tables = dict(frames) if frames is not None else valid_frames(years)
    edit = edit or {}
    rename = rename or {}
    for name, frame in tables.items():
        if name in omit:
            continue
        path = directory / f"{name}.parquet"
        if name in garbage:
            path.write_bytes(b"this is not a parquet file\n" * 10)
            continue
        if name in edit:
            frame = edit[name](frame.copy())
        frame = frame.rename(columns=dict(rename.get(name, {})))
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if name in as_dataset:
            path.mkdir()
            half = table.num_rows // 2
            pq.write_table(table.slice(0, half), path / "part-0.parquet")
            pq.write_table(table.slice(half), path / "part-1.parquet")
        else:
            pq.write_table(table, path)
    return directory
