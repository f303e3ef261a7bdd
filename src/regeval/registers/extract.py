"""Register extracts as they arrive on a research machine, converted once into a cache.

An evaluator's extract is rarely one Parquet file per contract table. Each table may be

* a Parquet file or a folder of Parquet files (a dataset),
* a CSV file (``.csv``; its person ids take the kind of the other files' ids, integer
  or text, and are text if every table is CSV, so that leading zeros survive),
* a SAS dataset (``.sas7bdat``), a SAS transport file (``.xpt``) or a Stata file
  (``.dta``), read in chunks with pyreadstat,
* one file per year, given as a file-name pattern with ``{year}`` (``bef{year}.sas7bdat``):
  the year comes from the file name when the file has no year column.

:func:`build_cache` reads every table once, chunk by chunk, and writes it to the project's
own columnar cache (one Parquet file per table, canonical column names) that every later
step reads, with a progress line per file. On the way it converts what SAS and Stata
cannot store otherwise: doubles that hold only integral values are accepted for integer,
year, id and 0/1 columns and stored as int64 (the cache report counts them); a
non-integral value there is a named error (table, column, rows, examples). Text columns
lose SAS's blank-for-missing (an empty string is missing), dates stay dates.

Then the person ids of all tables are replaced by integer codes, the ranks of the sorted
distinct ids, with a map back to the ids in ``persons.parquet``
(:mod:`regeval.registers.person_codes`): every later step joins and groups integers,
whatever kind of id the extract has. Tables whose ids are of different kinds (integer
in one, text in another) are a named error.

Structural problems (a table or file missing, a pattern matching no file, a year of the
coverage without a file, a column missing in one year's file, an unreadable file) are
found from the files' metadata before any row is converted, and reported together.
Everything else (values, keys, coverage) is validation's, on the cache
(:mod:`regeval.registers.validate`).
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from regeval.errors import DataContractError
from regeval.registers.contract import CONTRACT, TABLE_NAMES, ColumnSpec, TableSpec
from regeval.registers.person_codes import PERSONS_FILE, code_tables, id_kinds
from regeval.registers.read import TableSource, cache_sources, is_pattern, pattern_files
from regeval.registers.violation import Violation  # worded as validation words its violations

log = logging.getLogger("regeval")

FORMATS: dict[str, str] = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".sas7bdat": "sas7bdat",
    ".xpt": "xport",
    ".dta": "stata",
}
"""File-name suffix -> format (a folder is a Parquet dataset)."""

EXTRACT_PROBLEMS: tuple[str, ...] = (
    "table missing",
    "no file matches the pattern",
    "year file missing",
    "unreadable",
    "column missing",
    "value not integral",
    "wrong type",
)
"""Every problem the conversion into the cache can report (documented in
``docs/data_contract.md``, "From a research machine's extract")."""

CHUNK_ROWS = 1_000_000
"""Rows per chunk read from a file (and per row group of the cache)."""

INTEGRAL_KINDS = ("id", "year", "int", "bool")
"""Contract kinds whose doubles are accepted when every value is integral."""


@dataclass(frozen=True)
class ExtractFile:
    """One file of a table: its path, its format and the year its name gives (if any)."""

    path: Path
    format: str
    year: int | None = None


@dataclass
class TableConversion:
    """What the conversion did to one table (the cache report's entry)."""

    table: str
    files: list[dict[str, Any]] = field(default_factory=list)
    rows: int = 0
    converted: dict[str, int] = field(default_factory=dict)
    """Contract column -> number of integral doubles stored as integers."""
    year_from_file_name: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "rows": self.rows,
            "doubles_converted_to_integers": dict(sorted(self.converted.items())),
            "year_from_file_name": self.year_from_file_name,
        }


def file_format(path: Path) -> str | None:
    """The format of ``path`` (None if not one the pipeline reads)."""
    if path.is_dir():
        return "parquet"
    return FORMATS.get(path.suffix.lower())


def extract_files(source: TableSource, years: tuple[int, int]) -> tuple[list[ExtractFile], list[Violation]]:
    """The files of a table, and the structural problems of its location.

    A per-year pattern keeps the files of the years of coverage (files of other years
    are not read); a year of the coverage without a file is an error for a yearly table.
    """
    name = source.table
    spec = CONTRACT[name]
    problems: list[Violation] = []
    if not is_pattern(source):
        path = Path(source.path)
        if not path.exists():
            problems.append(Violation(name, None, "table missing", detail=(
                f"file or folder {str(path)!r} does not exist (set data.registers.tables.{name}.path in the config)")))
            return [], problems
        fmt = file_format(path)
        if fmt is None:
            problems.append(Violation(name, None, "unreadable", detail=(
                f"{str(path)!r}: unknown format {path.suffix!r}; the pipeline reads {', '.join(sorted(FORMATS))} "
                "files and Parquet folders")))
            return [], problems
        return [ExtractFile(path, fmt)], problems
    if spec.year_column is None:
        problems.append(Violation(name, None, "no file matches the pattern", detail=(
            f"data.registers.tables.{name}.path {str(source.path)!r} is a per-year pattern, but table {name!r} has "
            "no year column; give it as one file")))
        return [], problems
    matched = pattern_files(source)
    first, last = years
    if not matched:
        problems.append(Violation(name, None, "no file matches the pattern", detail=(
            f"no file matches {str(source.path)!r} ({{year}} stands for four digits; set "
            f"data.registers.tables.{name}.path in the config)")))
        return [], problems
    files = []
    for path, year in matched:
        fmt = file_format(path)
        if fmt is None:
            problems.append(Violation(name, None, "unreadable", detail=(
                f"{str(path)!r}: unknown format {path.suffix!r}; the pipeline reads {', '.join(sorted(FORMATS))}")))
        elif first <= year <= last or name == "diag":
            files.append(ExtractFile(path, fmt, year))
    if name != "diag":
        have = {f.year for f in files}
        absent = [y for y in range(first, last + 1) if y not in have]
        if absent:
            seen = ", ".join(str(y) for _, y in matched)
            problems.append(Violation(name, None, "year file missing", detail=(
                f"no file for year(s) {', '.join(str(y) for y in absent)} of the coverage {first}–{last} "
                f"(config data.years); {str(source.path)!r} matches the years {seen}")))
    return files, problems


def file_columns(f: ExtractFile) -> dict[str, str]:
    """The columns of a file and the kind of each (``integer``, ``floating``, ``string`` or
    ``other``), from its metadata (no rows are read; CSV: the types of its first block)."""
    if f.format in ("parquet", "csv"):
        if f.format == "parquet":
            schema = ds.dataset(str(f.path), format="parquet").schema
        else:
            with pacsv.open_csv(str(f.path)) as reader:
                schema = reader.schema
        return {fld.name: _kind(fld.type) for fld in schema}
    _, meta = _readstat(f.format)(str(f.path), metadataonly=True)
    types = meta.readstat_variable_types
    return {c: "string" if types.get(c) == "string" else "floating" for c in meta.column_names}


def _kind(t: pa.DataType) -> str:
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t):
        return "floating"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or (
            pa.types.is_dictionary(t) and pa.types.is_string(t.value_type)):
        return "string"
    return "other"


def _readstat(fmt: str) -> Any:
    import pyreadstat  # a dependency of the package; loaded only for SAS and Stata files

    return {"sas7bdat": pyreadstat.read_sas7bdat, "xport": pyreadstat.read_xport, "stata": pyreadstat.read_dta}[fmt]


def iter_chunks(f: ExtractFile, names: list[str], id_columns: Mapping[str, pa.DataType]) -> Iterator[pa.Table]:
    """The columns ``names`` of a file, chunk by chunk (at most :data:`CHUNK_ROWS` rows);
    ``id_columns`` gives the type of a CSV file's person id column."""
    if f.format == "parquet":
        dataset = ds.dataset(str(f.path), format="parquet")
        for batch in dataset.to_batches(columns=names, batch_size=CHUNK_ROWS):
            yield pa.Table.from_batches([batch])
    elif f.format == "csv":
        convert = pacsv.ConvertOptions(include_columns=names, column_types=dict(id_columns))
        with pacsv.open_csv(str(f.path), read_options=pacsv.ReadOptions(block_size=64 << 20),
                            convert_options=convert) as reader:
            for batch in reader:
                yield pa.Table.from_batches([batch])
    else:
        import pyreadstat

        for frame, _ in pyreadstat.read_file_in_chunks(_readstat(f.format), str(f.path), chunksize=CHUNK_ROWS,
                                                        usecols=names):
            table = pa.Table.from_pandas(frame, preserve_index=False)
            del frame
            yield table


class _Problems:
    """Non-integral values of a table, gathered over its files and chunks."""

    def __init__(self, table: str, k: int = 5) -> None:
        self.table, self.k = table, k
        self.rows: dict[str, int] = {}
        self.examples: dict[str, list[str]] = {}

    def add(self, column: str, n: int, examples: list[str]) -> None:
        self.rows[column] = self.rows.get(column, 0) + n
        have = self.examples.setdefault(column, [])
        have += examples[: self.k - len(have)]

    def violations(self, spec: TableSpec) -> list[Violation]:
        return [
            Violation(self.table, c, "value not integral", n, (
                f"contract kind {spec.column(c).kind!r} needs whole numbers; doubles are accepted only where "
                "every value is integral (SAS stores every number as a double)"), tuple(self.examples[c]))
            for c, n in self.rows.items()
        ]


def _integral(arr: pa.ChunkedArray | pa.Array, col: ColumnSpec, where: str, start: int, ids: Any,
              problems: _Problems, stats: TableConversion) -> pa.Array | pa.ChunkedArray:
    """A double column of an integer kind as int64 (NaN is missing), recording non-integral values."""
    arr = pc.if_else(pc.is_nan(arr), pa.scalar(None, arr.type), arr)
    valid = pc.is_valid(arr)
    whole = pc.and_(pc.is_finite(arr), pc.equal(arr, pc.floor(arr)))
    bad = pc.and_(valid, pc.invert(whole)).to_numpy(zero_copy_only=False)
    if bad.any():
        idx = np.flatnonzero(bad)
        values = arr.take(pa.array(idx[: problems.k])).to_pylist()
        who = ids.take(pa.array(idx[: problems.k])).to_pylist() if ids is not None else [None] * len(values)
        problems.add(col.name, int(idx.size), [
            f"{where} row {start + int(i) + 1}" + (f", pnr={p}" if p is not None else "") + f", {col.name}={v!r}"
            for i, p, v in zip(idx[: problems.k], who, values, strict=True)])
        # go on (truncated) to count every such value; nothing of the cache is kept
        return pc.if_else(pc.is_finite(arr), arr, pa.scalar(None, arr.type)).cast(pa.int64(), safe=False)
    stats.converted[col.name] = stats.converted.get(col.name, 0) + int(pc.sum(valid).as_py() or 0)
    return arr.cast(pa.int64())


def normalise(chunk: pa.Table, spec: TableSpec, names: Mapping[str, str], f: ExtractFile, start: int,
              problems: _Problems, stats: TableConversion) -> pa.Table:
    """One chunk under the contract's names and the cache's types; the year from the file
    name added when the file has no year column."""
    out: dict[str, Any] = {}
    ids = chunk.column(names["pnr"]) if "pnr" in names else None
    for col in spec.columns:
        if col.name not in names:
            continue
        arr = chunk.column(names[col.name])
        t = arr.type
        if col.kind in INTEGRAL_KINDS and pa.types.is_floating(t):
            arr = _integral(arr, col, f.path.name, start, ids, problems, stats)
        elif col.kind in INTEGRAL_KINDS and pa.types.is_integer(t):
            arr = arr.cast(pa.int64())
        elif col.kind in ("id", "str") and (pa.types.is_dictionary(t) or pa.types.is_large_string(t)
                                             or pa.types.is_string(t) or pa.types.is_null(t)):
            arr = arr.cast(pa.string())
            if f.format != "parquet":  # SAS, Stata and CSV write missing text as blanks
                arr = pc.if_else(pc.equal(pc.utf8_trim_whitespace(arr), ""), pa.scalar(None, pa.string()), arr)
        elif col.kind == "float" and (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)):
            arr = arr.cast(pa.float64())
        elif col.kind == "date" and pa.types.is_timestamp(t):
            arr = pc.cast(arr, pa.date32(), safe=False)
        elif col.kind == "date" and pa.types.is_date64(t):
            arr = arr.cast(pa.date32())
        out[col.name] = arr
    if f.year is not None and spec.year_column and spec.year_column not in names:
        out[spec.year_column] = pa.array(np.full(chunk.num_rows, f.year, np.int64))
    return pa.table({c.name: out[c.name] for c in spec.columns if c.name in out})


Plan = dict[str, list[tuple[ExtractFile, dict[str, str]]]]


def _plan(sources: Mapping[str, TableSource], years: tuple[int, int]) -> tuple[Plan, list[Violation], set[str]]:
    """Every table's files and, per file, contract column -> column name in the file;
    the structural problems, from metadata only; and the kinds of person id of the files
    that type their columns (all but CSV: ``integer`` for integers and SAS/Stata doubles)."""
    plan: Plan = {}
    problems: list[Violation] = []
    kinds_seen: set[str] = set()
    for name in TABLE_NAMES:
        source = sources.get(name)
        if source is None:
            problems.append(Violation(name, None, "table missing", detail="no source given for the table"))
            continue
        files, found = extract_files(source, years)
        problems += found
        spec = CONTRACT[name]
        entries = []
        for f in files:
            try:
                kinds = file_columns(f)
                have = list(kinds)
            except Exception as exc:  # noqa: BLE001 - any reader failure is an unreadable file
                problems.append(Violation(name, None, "unreadable", detail=(
                    f"{str(f.path)!r} is not a readable {f.format} file: {exc}")))
                continue
            lower = {h.lower(): h for h in have}
            names: dict[str, str] = {}
            for col in spec.columns:
                wanted = source.source_name(col.name)
                # SAS and Stata names are case-insensitive in practice (PNR, pnr)
                got = wanted if wanted in have else None
                if got is None and f.format not in ("parquet", "csv"):
                    got = lower.get(wanted.lower())
                if got is not None:
                    names[col.name] = got
                    if col.name == "pnr" and f.format != "csv" and kinds[got] != "other":
                        kinds_seen.add("string" if kinds[got] == "string" else "integer")
                elif col.name == spec.year_column and f.year is not None:
                    continue  # the year comes from the file name
                else:
                    mapped = f" (mapped from contract column {col.name!r})" if wanted != col.name else ""
                    hint = (f"fix data.registers.tables.{name}.columns.{col.name}" if wanted != col.name
                            else f"map it with data.registers.tables.{name}.columns.{col.name}")
                    shown = ", ".join(repr(h) for h in have[:20]) + (", …" if len(have) > 20 else "")
                    problems.append(Violation(name, col.name, "column missing", detail=(
                        f"looked for column {wanted!r}{mapped} in {str(f.path)!r}, which has [{shown}]; {hint}")))
            entries.append((f, names))
        plan[name] = entries
    return plan, problems, kinds_seen


def _raise(problems: list[Violation], what: str) -> None:
    lines = [f"the register extract cannot be read ({len(problems)} problem(s) {what}; see docs/data_contract.md, "
             "\"From a research machine's extract\"):"]
    lines += ["  - " + p.message() for p in problems]
    exc = DataContractError("\n".join(lines))
    exc.violations = tuple(problems)  # type: ignore[attr-defined]
    raise exc


def build_cache(sources: Mapping[str, TableSource], years: tuple[int, int], out_dir: str | Path) -> dict[str, Any]:
    """Convert every contract table of ``sources`` into ``<out_dir>/<table>.parquet``,
    person ids as codes, and the map of codes to ids ``<out_dir>/persons.parquet``.

    Returns the cache report (per table: files, rows, doubles converted to integers),
    also written to ``<out_dir>/cache.json``. Raises
    :class:`regeval.errors.DataContractError` listing every structural problem before
    any row is read, and every non-integral double after the conversion (nothing of
    the cache is then left).
    """
    out_dir = Path(out_dir)
    plan, problems, typed_kinds = _plan(sources, years)
    if problems:
        _raise(problems, "found before reading any row")
    # CSV carries no types: its person ids take the kind of the typed files' ids (integer
    # only if every typed file has integer ids), else text, so that leading zeros survive
    csv_id = pa.int64() if typed_kinds == {"integer"} else pa.string()
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = out_dir / ".raw"
    staging.mkdir(exist_ok=True)
    report: dict[str, Any] = {"coverage": list(years), "tables": {}}
    bad: list[Violation] = []
    raw: dict[str, Path] = {}
    final = [out_dir / f"{n}.parquet" for n in TABLE_NAMES] + [out_dir / PERSONS_FILE]
    try:
        for name in TABLE_NAMES:
            stats, found, raw[name] = _convert_table(name, plan[name], staging / f"{name}.parquet", csv_id)
            report["tables"][name] = stats.to_dict()
            bad += found
        if bad:
            _raise(bad, "found while converting")
        kinds = _id_kind_problems(id_kinds(raw), plan)
        if kinds:
            _raise(kinds, "found while converting")
        n_persons, _ = code_tables(raw, out_dir)
    except BaseException:
        for p in final:
            p.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    report["persons"] = n_persons
    (out_dir / "cache.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    return report


def _id_kind_problems(kinds: Mapping[str, str | None], plan: Plan) -> list[Violation]:
    """Tables whose person ids are of another kind than bef's (or than most tables')."""
    known = {n: k for n, k in kinds.items() if k is not None}
    if len(set(known.values())) <= 1 and "other" not in known.values():
        return []
    ref = "bef" if known.get("bef") in ("integer", "string") else None
    ref_kind = known[ref] if ref else max(set(known.values()), key=list(known.values()).count)
    out = []
    for name, k in sorted(known.items()):
        if k != ref_kind:
            files = ", ".join(repr(str(f.path)) for f, _ in plan.get(name, [])[:3])
            out.append(Violation(name, "pnr", "wrong type", detail=(
                f"person id is {k} here ({files}) but {ref_kind} in {ref or 'the other tables'}; every table must "
                "carry pnr as the same kind (cast the extract)")))
    return out


def _in_cache_form(spec: TableSpec, entries: list[tuple[ExtractFile, dict[str, str]]]) -> bool:
    """True if the table is one Parquet file whose contract columns have their contract
    names and types the cache keeps as they are (nothing to convert): it is read as it is."""
    if len(entries) != 1:
        return False
    f, names = entries[0]
    if f.format != "parquet" or not f.path.is_file() or f.year is not None:
        return False
    if any(names.get(c) != c for c in spec.column_names):
        return False
    schema = pq.read_schema(str(f.path))
    for col in spec.columns:
        t = schema.field(col.name).type
        ok = {
            "id": pa.types.is_integer(t) or pa.types.is_string(t),
            "year": pa.types.is_integer(t),
            "int": pa.types.is_integer(t),
            "float": pa.types.is_floating(t) or pa.types.is_integer(t),
            "bool": pa.types.is_boolean(t) or pa.types.is_integer(t),
            "date": pa.types.is_date32(t),
            "str": pa.types.is_string(t) or (pa.types.is_dictionary(t) and pa.types.is_string(t.value_type)),
        }[col.kind]
        if not ok:
            return False
    return True


def _convert_table(name: str, entries: list[tuple[ExtractFile, dict[str, str]]], target: Path,
                   csv_id: pa.DataType) -> tuple[TableConversion, list[Violation], Path]:
    """One table, file by file and chunk by chunk, into ``target``; returns what was
    done, the non-integral values and the Parquet file to code the person ids from (a
    Parquet file already in the cache's form is read as it is)."""
    spec = CONTRACT[name]
    stats = TableConversion(name)
    if _in_cache_form(spec, entries):
        f = entries[0][0]
        stats.rows = pq.ParquetFile(str(f.path)).metadata.num_rows
        stats.files.append({"path": str(f.path), "year": None, "rows": stats.rows, "copied": True})
        log.info("register cache: %s file 1/1 %s: %d rows, already in the cache's form", name, f.path.name,
                 stats.rows)
        return stats, [], f.path
    problems = _Problems(name)
    writer: pq.ParquetWriter | None = None
    schema: pa.Schema | None = None
    try:
        for i, (f, names) in enumerate(entries):
            t0 = time.perf_counter()
            rows = 0
            stats.year_from_file_name |= bool(f.year is not None and spec.year_column not in names)
            try:
                ids = {names["pnr"]: csv_id} if "pnr" in names else {}
                for chunk in iter_chunks(f, list(dict.fromkeys(names.values())), ids):
                    table = normalise(chunk, spec, names, f, rows, problems, stats)
                    rows += chunk.num_rows
                    del chunk
                    if schema is None:
                        schema = table.schema
                        # a staging file, read once by the coding of the person ids: fast lz4
                        writer = pq.ParquetWriter(str(target), schema, compression="lz4")
                    elif table.schema != schema:
                        table = _conform(table, schema, f, name)
                    assert writer is not None
                    writer.write_table(table)
            except DataContractError:
                raise
            except (pa.ArrowException, OSError, ValueError) as exc:
                _raise([Violation(name, None, "unreadable", detail=f"{str(f.path)!r}: {exc}")],
                       "found while converting")
            stats.rows += rows
            stats.files.append({"path": str(f.path), "year": f.year, "rows": rows})
            log.info("register cache: %s file %d/%d %s: %d rows in %.1f s", name, i + 1, len(entries), f.path.name,
                     rows, time.perf_counter() - t0)
        if writer is None:  # no rows at all: an empty table with the contract's names
            empty = pa.table({c: pa.array([], pa.null()) for c in spec.column_names})
            pq.write_table(empty, str(target), compression="zstd")
    finally:
        if writer is not None:
            writer.close()
    return stats, problems.violations(spec), target


def _conform(table: pa.Table, schema: pa.Schema, f: ExtractFile, name: str) -> pa.Table:
    """A chunk cast to the types of the table's first chunk (a named error if it cannot be)."""
    try:
        return table.select(schema.names).cast(schema)
    except (pa.ArrowException, KeyError, ValueError) as exc:
        differ = [f"{fld.name}: {fld.type} here, {schema.field(fld.name).type} before"
                  for fld in table.schema if fld.name in schema.names and fld.type != schema.field(fld.name).type]
        _raise([Violation(name, None, "unreadable", detail=(
            f"{str(f.path)!r} has columns of other types than the table's earlier rows ({'; '.join(differ)}): {exc}"))],
            "found while converting")
        raise  # pragma: no cover - _raise raises


__all__ = ["EXTRACT_PROBLEMS", "FORMATS", "ExtractFile", "build_cache", "cache_sources", "extract_files", "file_format"]
