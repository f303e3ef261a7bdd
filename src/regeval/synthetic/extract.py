"""Writing generated registers the way a research machine's extract arrives.

:func:`write_extract` copies the generator's Parquet tables into another layout: a table
as Parquet, CSV, Stata (``.dta``) or SAS transport (``.xpt``), whole or one file per year
(``<table>{year}.<ext>``, without the year column: the year is in the file name). In
Stata and SAS files every number is written as a double, as SAS stores them, and 0/1
columns as doubles 0/1, so that reading them back exercises the conversion of the
register cache. (pyreadstat writes Stata and SAS transport files, not ``.sas7bdat``.)
It returns the ``data.registers`` section that maps the extract.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from regeval.registers.contract import CONTRACT, TABLE_NAMES

LAYOUTS = ("parquet", "csv", "stata", "xport", "stata_per_year", "xport_per_year", "parquet_per_year")
SUFFIX = {"parquet": ".parquet", "csv": ".csv", "stata": ".dta", "xport": ".xpt"}


def _as_stored(frame: pd.DataFrame, fmt: str) -> pd.DataFrame:
    """A frame as SAS or Stata store it: numbers as doubles, dates as dates, text as text."""
    if fmt in ("parquet", "csv"):
        return frame
    out = {}
    for c in frame.columns:
        s = frame[c]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_integer_dtype(s) or pd.api.types.is_float_dtype(s):
            out[c] = s.astype("float64")
        elif pd.api.types.is_datetime64_any_dtype(s):
            out[c] = s.dt.date
        else:
            out[c] = s.astype(object).where(s.notna(), "")  # SAS and Stata: blank text is missing
    return pd.DataFrame(out)


def _write(frame: pd.DataFrame, path: Path, fmt: str) -> None:
    frame = _as_stored(frame, fmt)
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    elif fmt == "csv":
        frame.to_csv(path, index=False)
    else:
        import pyreadstat

        if fmt == "stata":
            pyreadstat.write_dta(frame, str(path), version=15)
        else:
            pyreadstat.write_xport(frame, str(path), file_format_version=8, table_name=path.stem[:32])


def _read(source: Path, year: int | None, person_ids: str) -> pd.DataFrame:
    dataset = ds.dataset(str(source), format="parquet")
    flt = ds.field("aar") == year if year is not None else None
    table = _ids(dataset.to_table(filter=flt), person_ids)
    for i, f in enumerate(table.schema):
        if pa.types.is_dictionary(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(pa.string()))
    frame = table.to_pandas()
    for c in frame.columns:
        if pa.types.is_integer(table.schema.field(c).type):  # nullable integers stay integers
            frame[c] = pd.array(table.column(c).to_pylist(), dtype="Int64") if table.column(c).null_count else frame[c]
        if pa.types.is_date32(table.schema.field(c).type):
            frame[c] = pd.to_datetime(frame[c])
    return frame


def _copy_parquet(source: Path, target: Path, person_ids: str) -> None:
    """A Parquet table copied row group by row group, its ids written as ``person_ids``."""
    reader = pq.ParquetFile(str(source))
    writer = None
    try:
        for i in range(reader.num_row_groups):
            table = _ids(reader.read_row_group(i), person_ids)
            if writer is None:
                writer = pq.ParquetWriter(str(target), table.schema, compression="zstd")
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


PERSON_IDS = ("as_generated", "string", "alnum")


def _ids(table: pa.Table, person_ids: str) -> pa.Table:
    """``table`` with integer person ids as ten-digit text if ``person_ids`` is ``string``,
    as ``P`` and ten digits if ``alnum`` (text that is not all digits; same order)."""
    if person_ids not in PERSON_IDS:
        raise ValueError(f"person_ids {person_ids!r}: one of {PERSON_IDS}")
    if person_ids == "as_generated" or "pnr" not in table.column_names:
        return table
    if not pa.types.is_integer(table.schema.field("pnr").type):
        return table
    i = table.column_names.index("pnr")
    text = pc.utf8_lpad(pc.cast(table.column(i), pa.string()), width=10, padding="0")
    if person_ids == "alnum":
        text = pc.binary_join_element_wise("P", text, "")
    return table.set_column(i, pa.field("pnr", pa.string()), text)


def write_extract(
    registers: str | Path,
    out_dir: str | Path,
    layouts: Mapping[str, str],
    years: tuple[int, int],
    person_ids: str = "as_generated",
) -> dict[str, Any]:
    """Write the tables of ``registers`` (the generator's folder) to ``out_dir`` in the
    given layout per table (default ``parquet``; see :data:`LAYOUTS`); per-year layouts
    write the years of ``years``. ``person_ids="string"`` writes integer ids as ten-digit
    text, ``"alnum"`` as ``P`` and ten digits. Returns the config section ``data.registers``."""
    registers, out_dir = Path(registers), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tables: dict[str, Any] = {}
    for name in TABLE_NAMES:
        layout = layouts.get(name, "parquet")
        if layout not in LAYOUTS:
            raise ValueError(f"layout {layout!r} of {name}: one of {LAYOUTS}")
        fmt, per_year = layout.removesuffix("_per_year"), layout.endswith("_per_year")
        source = registers / f"{name}.parquet"
        if per_year:
            if CONTRACT[name].year_column != "aar" or name == "diag":
                raise ValueError(f"table {name} is not yearly")
            for year in range(years[0], years[1] + 1):
                frame = _read(source, year, person_ids).drop(columns=["aar"])
                _write(frame, out_dir / f"{name}{year}{SUFFIX[fmt]}", fmt)
                del frame
            tables[name] = {"path": f"{name}{{year}}{SUFFIX[fmt]}"}
        elif fmt == "parquet":
            _copy_parquet(source, out_dir / f"{name}.parquet", person_ids)
            tables[name] = {"path": f"{name}.parquet"}
        else:
            _write(_read(source, None, person_ids), out_dir / f"{name}{SUFFIX[fmt]}", fmt)
            tables[name] = {"path": f"{name}{SUFFIX[fmt]}"}
    return {"directory": str(out_dir), "tables": tables}


__all__ = ["LAYOUTS", "PERSON_IDS", "write_extract"]
