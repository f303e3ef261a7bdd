"""Reading register tables: where each table lives and how its columns are named.

A :class:`TableSource` says where one contract table is (a Parquet file or a folder
of Parquet files, i.e. a dataset; for an extract also a CSV, SAS or Stata file, or a
file-name pattern with ``{year}`` for one file per year, see
:mod:`regeval.registers.extract`) and how the extract's column names map to the
contract's. :func:`read_table` reads only the requested columns (and optionally only
some years and some persons, filtered inside the Parquet read) and returns them under
the contract's names, so that a national register is never held in memory in full when
a stage needs two columns of it.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from regeval.errors import DataContractError
from regeval.registers.contract import CONTRACT, TABLE_NAMES, table_spec


@dataclass(frozen=True)
class TableSource:
    """Location of one contract table and the mapping of its column names.

    Parameters
    ----------
    table
        Canonical table name (a key of :data:`regeval.registers.contract.CONTRACT`).
    path
        Parquet file, or folder holding a Parquet dataset.
    columns
        Mapping canonical column name -> column name in the extract. Columns not
        listed are expected under their canonical name.
    """

    table: str
    path: Path
    columns: Mapping[str, str] = field(default_factory=dict)

    def source_name(self, canonical: str) -> str:
        return self.columns.get(canonical, canonical)


def resolve_sources(
    directory: str | Path, tables: Mapping[str, Mapping[str, object]] | None = None
) -> dict[str, TableSource]:
    """Build the table sources from the ``data`` section of the config.

    Parameters
    ----------
    directory
        Folder holding the extracts. By default table ``t`` is ``<directory>/<t>.parquet``
        (a file or a dataset folder).
    tables
        Optional per-table overrides: ``{"bef": {"path": "BEF2009_2025", "columns":
        {"pnr": "PNR"}}}``; a relative path is taken relative to ``directory``.
    """
    directory = Path(directory)
    tables = tables or {}
    unknown = sorted(set(tables) - set(TABLE_NAMES))
    if unknown:
        raise DataContractError(
            f"config data.registers.tables names unknown table(s) {unknown}; "
            f"the contract has {list(TABLE_NAMES)}"
        )
    sources: dict[str, TableSource] = {}
    for name in TABLE_NAMES:
        override = tables.get(name, {}) or {}
        path = Path(str(override.get("path", f"{name}.parquet")))
        if not path.is_absolute():
            path = directory / path
        columns = dict(override.get("columns", {}) or {})  # type: ignore[call-overload]
        spec = table_spec(name)
        bad = sorted(set(columns) - set(spec.column_names))
        if bad:
            raise DataContractError(
                f"config data.registers.tables.{name}.columns maps unknown contract "
                f"column(s) {bad}; table {name!r} has {list(spec.column_names)}"
            )
        sources[name] = TableSource(table=name, path=path, columns=columns)
    return sources


def cache_sources(folder: str | Path) -> dict[str, TableSource]:
    """The register cache (rule register_cache, :func:`regeval.registers.extract.build_cache`)
    as table sources: one Parquet file per table under its canonical column names."""
    return {name: TableSource(table=name, path=Path(folder) / f"{name}.parquet") for name in TABLE_NAMES}


# pyarrow's dataset discovery skips every file or folder whose name starts with these
IGNORED_PREFIXES = (".", "_")


YEAR_FIELD = "{year}"
"""Marks the year in a per-year file-name pattern (``bef{year}.sas7bdat``)."""


def pattern_files(source: TableSource) -> list[tuple[Path, int]]:
    """The files of a per-year pattern (path containing ``{year}``) and the year each
    file's name gives, sorted by year. The year is four digits; the rest of the path
    must match literally."""
    text = str(source.path)
    head, _, tail = text.partition(YEAR_FIELD)
    found = glob.glob(glob.escape(head) + "[0-9][0-9][0-9][0-9]" + glob.escape(tail))
    rx = re.compile(re.escape(head) + r"([0-9]{4})" + re.escape(tail) + r"\Z")
    out = []
    for f in found:
        m = rx.match(f)
        if m and os.path.isfile(f):
            out.append((Path(f), int(m.group(1))))
    return sorted(out, key=lambda fy: fy[1])


def is_pattern(source: TableSource) -> bool:
    """True if the table is given as one file per year (its path holds ``{year}``)."""
    return YEAR_FIELD in str(source.path)


def source_files(source: TableSource) -> list[Path]:
    """The files a table is read from, for the workflow's declared inputs.

    A per-year pattern is every file it matches (:func:`pattern_files`); a single file
    (Parquet, CSV, SAS, Stata) is itself; a dataset folder is every file in it that pyarrow's
    dataset discovery reads (recursively, skipping names that start with ``.`` or
    ``_``), sorted. The files are listed rather than the folder because Snakemake
    compares a folder's own modification time, which does not change when a file in
    it is overwritten. A path that does not exist gives no files (validation then
    names the missing table).
    """
    if is_pattern(source):
        return [f for f, _ in pattern_files(source)]
    path = Path(source.path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        return []
    found = []
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith(IGNORED_PREFIXES))
        found += [Path(root) / f for f in files if not f.startswith(IGNORED_PREFIXES)]
    return sorted(found)


def register_files(sources: Mapping[str, TableSource]) -> list[str]:
    """Every file of every table of ``sources`` (see :func:`source_files`)."""
    return [str(f) for name in sorted(sources) for f in source_files(sources[name])]


def register_fingerprint(sources: Mapping[str, TableSource]) -> list[list[object]]:
    """Size and modification time (ns) of every register file: a cheap stamp that
    changes when a file is replaced, even by an older copy (``cp -p``, ``rsync -a``),
    which Snakemake's modification-time check alone would miss."""
    out: list[list[object]] = []
    for f in register_files(sources):
        st = os.stat(f)
        out.append([f, st.st_size, st.st_mtime_ns])
    return out


def open_dataset(source: TableSource) -> ds.Dataset:
    """Open the table as a pyarrow dataset (raises DataContractError if missing)."""
    if not source.path.exists():
        raise DataContractError(
            f"table {source.table!r}: file or folder {str(source.path)!r} does not exist "
            f"(set data.registers.tables.{source.table}.path in the config)"
        )
    try:
        return ds.dataset(str(source.path), format="parquet")
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataContractError(
            f"table {source.table!r}: {str(source.path)!r} is not a readable Parquet "
            f"file or dataset ({exc})"
        ) from exc


def read_table(
    source: TableSource,
    columns: Sequence[str] | None = None,
    *,
    years: Iterable[int] | None = None,
    persons: object | None = None,
) -> pd.DataFrame:
    """Read columns of a table under their canonical names.

    Parameters
    ----------
    source
        Where the table is.
    columns
        Canonical column names to read (default: every contract column).
    years
        If given, keep only rows whose year column is in ``years`` (pushed down to
        the Parquet reader, so other years are never loaded).
    persons
        If given (an array of person ids), keep only rows whose ``pnr`` is one of them:
        a hash lookup inside the read, batch by batch, so that rows of other persons
        are never converted to pandas.

    The filtered Arrow table is handed to pandas column by column, each column's
    Arrow memory freed as it is converted, so the rows are never held twice.
    """
    spec = CONTRACT[source.table]
    columns = list(columns) if columns is not None else list(spec.column_names)
    dataset = open_dataset(source)
    names = {c: source.source_name(c) for c in columns}
    missing = [c for c, s in names.items() if s not in dataset.schema.names]
    if missing:
        raise DataContractError(
            f"table {source.table!r}: column(s) "
            + ", ".join(f"{c!r}" + (f" (mapped to {names[c]!r})" if names[c] != c else "") for c in missing)
            + f" missing from {str(source.path)!r}; it has {dataset.schema.names}"
        )
    flt = None
    if years is not None and spec.year_column is not None:
        flt = ds.field(source.source_name(spec.year_column)).isin(sorted(set(int(y) for y in years)))
    if persons is not None:
        pnr = source.source_name("pnr")
        ids = person_id_array(persons, dataset.schema.field(pnr).type)
        by_person = ds.field(pnr).isin(ids)
        flt = by_person if flt is None else flt & by_person
    table = dataset.to_table(columns=list(names.values()), filter=flt)
    for i, c in enumerate(columns):
        # a 'bool' column may be stored as integer 0/1 (validation checks the values)
        if spec.column(c).kind == "bool" and pa.types.is_integer(table.schema.field(i).type):
            table = table.set_column(i, table.schema.field(i).name, pc.not_equal(table.column(i), 0))
    frame = _to_pandas(table)
    return frame.rename(columns={s: c for c, s in names.items()})


def person_id_array(persons: object, id_type: pa.DataType) -> pa.Array:
    """Person ids as an Arrow array of the table's id type (the value set of a filter)."""
    values = pd.unique(pd.Series(persons).dropna().to_numpy())
    if pa.types.is_integer(id_type):
        return pa.array(np.asarray(values).astype(np.int64), pa.int64())
    return pa.array([str(v) for v in values], pa.string())


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    """``table`` as pandas, its Arrow buffers released column by column on the way
    (the caller must hold no other reference to the table)."""
    return table.to_pandas(split_blocks=True, self_destruct=True)
