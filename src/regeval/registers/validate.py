"""Validation of the register tables against the data contract.

The first step of the pipeline: before any stage reads a register, every table of
:data:`regeval.registers.contract.CONTRACT` is checked against its declared columns, types,
keys, allowed values, code lists (municipalities, the form of ICD-10 codes), ranges and
the configured years of coverage, and the tables are checked against each other (one
kind of person id; every person known to BEF; a row in each dense table for every
resident person-year of BEF) and against the configuration (every education main level
mapped; every diagnosis prefix matching some code).
All violations are collected and reported together in one :class:`DataContractError`,
one line per violation, each naming the table, the column, the problem, the number of
offending rows and a few example keys, so that a user with a real extract can fix the
extract (or the column mapping in the config) in one round.

The checks are written for national extracts (≈ 3.6 million persons × 17 years, about
60 million rows per yearly table): a table is read column by column, only the columns
a check needs are held (the key columns of the table being checked, plus one other
column at a time), and every check is a vectorised pyarrow/numpy operation. Duplicate
keys are found by sorting one int64 array of combined keys in place.

The rules, their error messages and the choices between errors and warnings are
documented in ``docs/data_contract.md``.
"""

from __future__ import annotations

import datetime as _dt
import logging
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from regeval.registers.contract import CONTRACT, TABLE_NAMES, ColumnSpec, TableSpec
from regeval.errors import ConfigError, DataContractError, RegevalWarning
from regeval.registers.read import TableSource, open_dataset

__all__ = [
    "MAX_AGE",
    "MIN_BIRTH_YEAR",
    "TableReport",
    "ValidationReport",
    "Violation",
    "validate_registers",
]

logger = logging.getLogger(__name__)

Severity = Literal["error", "warning"]

MIN_BIRTH_YEAR = 1900
"""Birth dates before 1 January of this year are impossible."""

MAX_AGE = 110
"""A person older than this at the end of a BEF year is impossible."""

YEARLY_TABLES: tuple[str, ...] = tuple(
    name for name, spec in CONTRACT.items() if spec.year_column is not None and spec.year_column in spec.key
)
"""Tables with one row per person and year (the year is part of the key)."""

PERSON_TABLES: tuple[str, ...] = tuple(name for name, spec in CONTRACT.items() if "pnr" in spec.column_names)
"""Tables that carry the person id ``pnr``."""

UNKNOWN_PERSON_IS_WARNING: frozenset[str] = frozenset({"diag"})
"""Tables in which a person never resident per BEF is a warning, not an error.

A first diagnosis may have been registered before the years of coverage for a person
who left the country (or died) before them; such rows can never enter an analysis but
are not wrong. In the yearly tables every row describes a year of coverage, so a person
who is never in BEF means a mis-keyed person id (e.g. extracts pseudonymised apart)."""

_ID_KINDS = ("integer", "string")

PROBLEMS: tuple[str, ...] = (
    "table missing",
    "unreadable",
    "no rows",
    "column missing",
    "wrong type",
    "missing values",
    "duplicate key",
    "value not allowed",
    "value not 0/1",
    "value out of range",
    "code not in list",
    "code malformed",
    "education level not configured",
    "year outside coverage",
    "coverage year without rows",
    "year after coverage end",
    "birth date after year end",
    f"birth date before {MIN_BIRTH_YEAR}",
    f"age over {MAX_AGE}",
    "birth date differs between years",
    "start date outside coverage",
    "diagnosed before birth year",
    "participant not in bef",
    "person not in bef",
    "resident person-year missing",
    "diagnosis prefix matches no code",
)
"""Every problem phrase validation can report, in the order of the rules table of
``docs/data_contract.md`` (a test keeps the two in agreement; recording a problem that
is not listed here is a programming error)."""


_CODE_LISTS: dict[tuple[str, str], str] = {
    ("bef", "kom"): "the 98 municipalities of the 2007 reform and 411 Christiansø",
}
"""How a message names a column's code list."""

_DENSE_DEFAULT: dict[str, str] = {
    "forsorg": "primary income support 'oevrig' (other)",
    "indkomst": "missing income",
}
"""What the pipeline makes of a missing row of a dense table."""

_PATTERN_TEXT: dict[tuple[str, str], str] = {
    ("diag", "diag"): (
        "a diagnosis must be an ICD-10 code in LPR form: 'D', the chapter letter and at least two "
        "digits, e.g. DF700 (an ICD-10 code without the leading D, an ICD-8 code or a padded value "
        "matches no diagnosis group and would silently drop the person from the base population; "
        "recode, translate or remove such rows)"
    ),
}
"""How a message states a column's pattern."""


# ---------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class Violation:
    """One violation of the data contract (or a warning).

    Attributes
    ----------
    table, column
        Where it is (``column`` is None for table-level problems).
    problem
        Short fixed phrase naming the rule (e.g. ``"duplicate key"``); see
        ``docs/data_contract.md`` for the list.
    rows
        Number of offending rows (None where rows do not apply, e.g. a missing file).
    detail
        What was found and how to fix it.
    examples
        Up to ``max_examples`` offending keys, e.g. ``"pnr=12, aar=2016, koen=9"``.
    severity
        ``"error"`` (validation fails) or ``"warning"`` (reported, does not fail).
    """

    table: str
    column: str | None
    problem: str
    rows: int | None = None
    detail: str = ""
    examples: tuple[str, ...] = ()
    severity: Severity = "error"

    @property
    def where(self) -> str:
        return self.table if self.column is None else f"{self.table}.{self.column}"

    def message(self) -> str:
        """The violation as one line of text."""
        text = f"{self.where}: {self.problem}"
        if self.rows is not None:
            text += f" — {_n_rows(self.rows)}"
        if self.detail:
            text += f" ({self.detail})" if self.rows is not None else f" — {self.detail}"
        if self.examples:
            text += "; e.g. " + ", ".join(f"({e})" for e in self.examples)
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "column": self.column,
            "problem": self.problem,
            "rows": self.rows,
            "detail": self.detail,
            "examples": list(self.examples),
            "severity": self.severity,
        }


@dataclass(frozen=True)
class TableReport:
    """What validation saw of one table.

    Attributes
    ----------
    table
        Canonical table name.
    path
        File or folder read.
    rows
        Number of rows.
    columns
        Pairs (contract column, column name in the extract).
    years
        Distinct years present: the year column of yearly tables and of ``diag``
        (year of first registration), the year of ``startdato`` for ``deltagere``.
    persons
        Number of distinct non-missing person ids (``pnr``).
    """

    table: str
    path: str
    rows: int
    columns: tuple[tuple[str, str], ...]
    years: tuple[int, ...]
    persons: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "path": self.path,
            "rows": self.rows,
            "columns": {c: s for c, s in self.columns},
            "years": list(self.years),
            "first_year": self.years[0] if self.years else None,
            "last_year": self.years[-1] if self.years else None,
            "persons": self.persons,
        }


@dataclass(frozen=True)
class ValidationReport:
    """The result of a successful validation (see :func:`validate_registers`).

    Attributes
    ----------
    coverage
        The configured years of coverage (first, last), inclusive.
    tables
        One :class:`TableReport` per contract table, in contract order.
    warnings
        Violations of severity ``"warning"`` (they do not fail validation).
    seconds
        Wall time of the validation.
    """

    coverage: tuple[int, int]
    tables: tuple[TableReport, ...]
    warnings: tuple[Violation, ...] = ()
    seconds: float = 0.0

    def __getitem__(self, table: str) -> TableReport:
        for rep in self.tables:
            if rep.table == table:
                return rep
        raise KeyError(f"no report for table {table!r}; have {[r.table for r in self.tables]}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (the pipeline's validation report).

        The wall time is left out, so that the report of the same data is byte-identical
        from run to run. Warning examples hold person ids: the report stays inside.
        """
        return {
            "valid": True,
            "coverage": {"first_year": self.coverage[0], "last_year": self.coverage[1]},
            "tables": {rep.table: rep.to_dict() for rep in self.tables},
            "warnings": [w.to_dict() for w in self.warnings],
        }


# ---------------------------------------------------------------------------------
# public entry point


def validate_registers(
    sources: Mapping[str, TableSource],
    years: tuple[int, int],
    *,
    max_examples: int = 5,
    education_levels: Mapping[str, Sequence[int]] | None = None,
    diagnosis_groups: Mapping[str, Sequence[str]] | None = None,
) -> ValidationReport:
    """Check every contract table against the data contract.

    Parameters
    ----------
    sources
        Table sources by canonical table name, as returned by
        :func:`regeval.registers.read.resolve_sources`. A contract table without an entry
        is reported as missing.
    years
        The years of coverage ``(first, last)``, inclusive (config
        ``data.years``): every yearly table must have its rows in these years.
    max_examples
        Number of example keys listed per violation.
    education_levels
        Config ``population.education_levels`` (level -> main levels, the first two
        digits of ``hfaudd``). If given, an education code whose main level no level
        covers is an error (it would silently become "unknown").
    diagnosis_groups
        Config ``population.diagnosis_groups`` (group -> ICD-10 prefixes). If given, a
        prefix that matches no code in ``diag`` is a warning.

    Returns
    -------
    ValidationReport
        Per table: path, rows, columns, years present and number of persons; and the
        warnings.

    Raises
    ------
    DataContractError
        If any rule is violated. The message lists every violation on its own line
        (table.column: problem — number of rows (details); e.g. example keys); the
        violations are also available as the exception's ``violations`` attribute.
    ConfigError
        If ``years`` is not a pair of integers with first <= last.

    Notes
    -----
    Warnings (see ``docs/data_contract.md``) are emitted as :class:`RegevalWarning`
    and kept in the report; they never fail validation.
    """
    coverage = _check_years(years)
    if not isinstance(max_examples, int) or isinstance(max_examples, bool) or max_examples < 0:
        raise ConfigError(f"max_examples must be a non-negative integer, got {max_examples!r}")
    unknown = sorted(set(sources) - set(TABLE_NAMES))
    if unknown:
        warnings.warn(
            f"validate_registers ignores source(s) {unknown}: not tables of the contract "
            f"({', '.join(TABLE_NAMES)})",
            RegevalWarning,
            stacklevel=2,
        )
    levels = None
    if education_levels is not None:
        levels = {str(k): tuple(int(x) for x in v) for k, v in education_levels.items()}
    groups = None
    if diagnosis_groups is not None:
        groups = {str(k): tuple(str(x) for x in v) for k, v in diagnosis_groups.items()}
    return _Validator(sources, coverage, max_examples, levels, groups).run()


def _check_years(years: object) -> tuple[int, int]:
    try:
        first, last = years  # type: ignore[misc]
    except (TypeError, ValueError):
        raise ConfigError(f"years must be a pair (first, last), got {years!r}") from None
    ok = all(isinstance(y, (int, np.integer)) and not isinstance(y, bool) for y in (first, last))
    if not ok or first > last:
        raise ConfigError(f"years must be two integers with first <= last, got {years!r}")
    return int(first), int(last)


# ---------------------------------------------------------------------------------
# helpers on arrow arrays

ArrayLike = pa.Array | pa.ChunkedArray


def _n_rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def _is_string(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _is_string_like(t: pa.DataType) -> bool:
    return _is_string(t) or (pa.types.is_dictionary(t) and _is_string(t.value_type))


def _is_date(t: pa.DataType) -> bool:
    return pa.types.is_date32(t) or pa.types.is_date64(t) or pa.types.is_timestamp(t)


def _kind_problem(kind: str, t: pa.DataType) -> str | None:
    """None if type ``t`` is acceptable for contract kind ``kind``, else what is needed."""
    integer = pa.types.is_integer(t)
    if kind == "id":
        return None if integer or _is_string_like(t) else "an integer or string type"
    if kind in ("year", "int"):
        return None if integer else "an integer type"
    if kind == "float":
        return None if integer or pa.types.is_floating(t) or pa.types.is_decimal(t) else "a numeric type"
    if kind == "bool":
        return None if pa.types.is_boolean(t) or integer else "a boolean type (or integer 0/1)"
    if kind == "date":
        return None if _is_date(t) else "a date type (date32, date64 or timestamp)"
    if kind == "str":
        return None if _is_string_like(t) else "a string type (string, large_string or dictionary of strings)"
    raise AssertionError(f"unknown column kind {kind!r}")  # pragma: no cover


def _id_kind(t: pa.DataType) -> str:
    return "integer" if pa.types.is_integer(t) else "string"


def _count(mask: ArrayLike) -> int:
    """Number of true values (nulls count as false)."""
    if len(mask) == 0:
        return 0
    return int(pc.sum(mask.fill_null(False)).as_py() or 0)


def _chunks(arr: ArrayLike) -> list[pa.Array]:
    return list(arr.chunks) if isinstance(arr, pa.ChunkedArray) else [arr]


def _first_true(mask: ArrayLike, k: int) -> np.ndarray:
    """Row positions of the first ``k`` true values of ``mask``."""
    out: list[np.ndarray] = []
    need, offset = k, 0
    for chunk in _chunks(mask):
        if need <= 0:
            break
        if chunk.null_count:
            chunk = chunk.fill_null(False)
        idx = np.flatnonzero(chunk.to_numpy(zero_copy_only=False))[:need]
        out.append(idx + offset)
        need -= len(idx)
        offset += len(chunk)
    return np.concatenate(out).astype(np.int64) if out else np.zeros(0, np.int64)


def _fmt(value: object) -> str:
    if value is None:
        return "missing"
    if isinstance(value, _dt.datetime):
        return value.date().isoformat() if value.time() == _dt.time() else value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    return str(value)


def _fmt_value(value: object) -> str:
    """A value in a list of bad values (strings quoted so blanks are visible)."""
    return repr(value) if isinstance(value, str) else _fmt(value)


def _value_counts(values: ArrayLike, limit: int = 10) -> str:
    """'9 ×2, 0 ×1' for the most frequent values (most frequent first)."""
    if len(values) == 0:
        return ""
    vc = pc.value_counts(values)
    if isinstance(vc, pa.ChunkedArray):
        vc = vc.combine_chunks()
    vals = vc.field("values").to_pylist()
    counts = vc.field("counts").to_pylist()
    order = sorted(range(len(vals)), key=lambda i: (-counts[i], _fmt_value(vals[i])))
    parts = [f"{_fmt_value(vals[i])} ×{counts[i]}" for i in order[:limit]]
    if len(order) > limit:
        parts.append(f"… {len(order) - limit} more value(s)")
    return ", ".join(parts)


def _as_int(arr: ArrayLike) -> ArrayLike:
    """Integer view of an integer, date or timestamp array (days / time units)."""
    t = arr.type
    if pa.types.is_date32(t):
        return arr.cast(pa.int32())
    if pa.types.is_date64(t) or pa.types.is_timestamp(t):
        return arr.cast(pa.int64())
    return arr


def _combined(arr: ArrayLike) -> pa.Array:
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _ints_to_type(values: np.ndarray, t: pa.DataType, mask: np.ndarray | None = None) -> pa.Array:
    """Inverse of :func:`_as_int` for an array (``mask`` marks nulls)."""
    if pa.types.is_date32(t):
        return pa.array(values.astype(np.int32, copy=False) if mask is None else
                        np.where(mask, 0, values).astype(np.int32), mask=mask).cast(t)
    ints = pa.array(values if mask is None else np.where(mask, 0, values), mask=mask)
    return ints.cast(t) if (pa.types.is_date64(t) or pa.types.is_timestamp(t)) else ints


def _from_int(value: int, t: pa.DataType) -> object:
    """Inverse of :func:`_as_int` for one value."""
    if pa.types.is_date32(t):
        return pa.array([value], pa.int32()).cast(t)[0].as_py()
    if pa.types.is_date64(t) or pa.types.is_timestamp(t):
        return pa.array([value], pa.int64()).cast(t)[0].as_py()
    return value


class _KeyCoder:
    """Codes one key column as dense non-negative integers ``0 .. size-1``."""

    def __init__(self, arr: ArrayLike, precoded: tuple[pa.Array, np.ndarray] | None = None) -> None:
        self.type = arr.type
        self.numeric = pa.types.is_integer(arr.type) or _is_date(arr.type)
        self.precoded = None if self.numeric else precoded
        if self.precoded is not None:
            self.uniques = self.precoded[0]
            self.size = max(len(self.uniques), 1)
            self.lo = 0
        elif self.numeric:
            ints = _as_int(arr)
            mm = pc.min_max(ints)
            lo, hi = mm["min"].as_py(), mm["max"].as_py()
            lo = 0 if lo is None else int(lo)
            hi = lo if hi is None else int(hi)
            self.null_code = lo - 1 if arr.null_count else None
            self.lo = lo - 1 if arr.null_count else lo
            self.size = hi - self.lo + 1
            self.uniques: pa.Array | None = None
        else:
            uniq = pc.unique(arr)
            self.uniques = uniq.combine_chunks() if isinstance(uniq, pa.ChunkedArray) else uniq
            self.size = max(len(self.uniques), 1)
            self.lo = 0

    def codes(self, arr: ArrayLike) -> Iterator[np.ndarray]:
        """The codes of ``arr``, chunk by chunk."""
        if self.precoded is not None:
            yield self.precoded[1].astype(np.int64)
            return
        if not self.numeric:
            # one lookup for the whole column: the hash table of the values is built once
            arr = pc.index_in(arr, value_set=self.uniques, skip_nulls=False)
        for chunk in _chunks(arr):
            if self.numeric:
                chunk = _as_int(chunk)
                if self.null_code is not None and chunk.null_count:
                    chunk = chunk.fill_null(self.null_code)
            codes = chunk.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
            yield codes - self.lo if self.lo else codes

    def decode(self, code: int) -> object:
        if self.numeric:
            value = int(code) + self.lo
            if self.null_code is not None and value == self.null_code:
                return None
            return _from_int(value, self.type)
        assert self.uniques is not None
        return self.uniques[int(code)].as_py()


# ---------------------------------------------------------------------------------
# the validator


class _Unreadable(Exception):
    """Reading a column of a table failed (corrupt file, inconsistent schema)."""


@dataclass
class _Table:
    spec: TableSpec
    source: TableSource
    dataset: ds.Dataset
    rows: int
    present: dict[str, str]
    """Contract column -> column name in the extract, for the columns present."""
    types: dict[str, pa.DataType]
    usable: set[str]
    """Contract columns present with an acceptable type."""
    keep: set[str]
    cache: dict[str, ArrayLike] = field(default_factory=dict)
    person_comparable: bool = True
    persons: int | None = None
    """Distinct person ids, when a check has counted them on the way."""
    _person_codes: tuple[pa.Array, np.ndarray] | None = None
    bef_index: np.ndarray | None = None
    """Each row's position among the persons of bef (−1 if absent), once looked up."""
    years: tuple[int, ...] | None = None
    """Distinct years of the year column, when a check has found them on the way."""

    @property
    def name(self) -> str:
        return self.spec.name

    def read(self, column: str) -> ArrayLike:
        if column in self.cache:
            return self.cache[column]
        try:
            arr = self.dataset.to_table(columns=[self.present[column]]).column(0)
        except (pa.ArrowException, OSError) as exc:
            raise _Unreadable(str(exc)) from exc
        kind = self.spec.column(column).kind
        t = arr.type
        if kind == "id":
            arr = arr.cast(pa.int64()) if pa.types.is_integer(t) else arr.cast(pa.large_string())
        elif kind == "str" and pa.types.is_dictionary(t):
            arr = arr.cast(pa.large_string())
        elif kind == "float" and pa.types.is_decimal(t):
            arr = arr.cast(pa.float64())
        if column in self.keep:
            self.cache[column] = arr
        return arr

    def person_codes(self) -> tuple[pa.Array, np.ndarray]:
        """Distinct person ids (nulls included) and each row's position among them."""
        if self._person_codes is None:
            pnr = self.read("pnr")
            persons = _combined(pc.unique(pnr))
            codes = _combined(pc.index_in(pnr, value_set=persons, skip_nulls=False))
            self._person_codes = (persons, codes.to_numpy(zero_copy_only=False))
        return self._person_codes

    def clear(self) -> None:
        self.cache.clear()
        self._person_codes = None
        self.bef_index = None

    def head(self, columns: Sequence[str], k: int) -> pa.Table:
        names = [self.present[c] for c in columns if c in self.present]
        try:
            return self.dataset.head(k, columns=names)
        except (pa.ArrowException, OSError):
            return pa.table({})


class _Validator:
    def __init__(
        self,
        sources: Mapping[str, TableSource],
        coverage: tuple[int, int],
        max_examples: int,
        education_levels: Mapping[str, tuple[int, ...]] | None = None,
        diagnosis_groups: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.sources = sources
        self.first, self.last = coverage
        self.k = max_examples
        self.education_levels = education_levels
        self.diagnosis_groups = diagnosis_groups
        self.violations: list[Violation] = []
        self.reports: dict[str, TableReport] = {}
        # persons resident per BEF in some year, and their (earliest) birth year
        self.bef_persons: pa.Array | None = None
        self.bef_birth_year: pa.Array | None = None
        # resident person-years per BEF: [person (position in bef_persons), year - first]
        self.bef_person_years: np.ndarray | None = None

    # -- recording ---------------------------------------------------------------

    def add(
        self,
        table: str,
        column: str | None,
        problem: str,
        rows: int | None = None,
        detail: str = "",
        examples: Sequence[str] = (),
        severity: Severity = "error",
    ) -> None:
        if problem not in PROBLEMS:  # every problem is documented: list it in PROBLEMS and the docs
            raise AssertionError(f"validation problem {problem!r} is not registered in PROBLEMS")
        self.violations.append(Violation(table, column, problem, rows, detail, tuple(examples), severity))

    def examples(self, t: _Table, positions: np.ndarray, extra: Mapping[str, ArrayLike] | None = None) -> list[str]:
        """Format the key (and ``extra`` columns) of the rows at ``positions``."""
        positions = positions[: self.k]
        if len(positions) == 0:
            return []
        idx = pa.array(positions, pa.int64())
        cols: dict[str, list[object]] = {}
        for c in t.spec.key:
            if c in t.cache:
                cols[c] = t.cache[c].take(idx).to_pylist()
        for c, arr in (extra or {}).items():
            if c not in cols:
                cols[c] = arr.take(idx).to_pylist()
        if not cols:
            return [f"row {int(p) + 1}" for p in positions]
        return [", ".join(f"{c}={_fmt(v[i])}" for c, v in cols.items()) for i in range(len(positions))]

    def report_mask(
        self,
        t: _Table,
        column: str,
        problem: str,
        mask: ArrayLike,
        detail: str | None = None,
        *,
        values: ArrayLike | None = None,
        extra: Mapping[str, ArrayLike] | None = None,
        severity: Severity = "error",
    ) -> int:
        """Record a violation for the rows where ``mask`` is true; return their number.

        ``detail`` may contain ``{seen}``, replaced by the counts of the offending
        ``values`` (default: the column itself).
        """
        n = _count(mask)
        if n == 0:
            return 0
        if detail and "{seen}" in detail:
            bad = pc.filter(values if values is not None else t.read(column), mask.fill_null(False))
            detail = detail.replace("{seen}", _value_counts(bad))
        self.add(t.name, column, problem, n, detail or "", self.examples(t, _first_true(mask, self.k), extra), severity)
        return n

    # -- driver -----------------------------------------------------------------

    def run(self) -> ValidationReport:
        start = time.perf_counter()
        tables: dict[str, _Table] = {}
        for name in TABLE_NAMES:
            t = self.open(name)
            if t is not None:
                tables[name] = t
        self.check_id_kinds(tables)
        for name in TABLE_NAMES:  # bef first: the other tables are checked against it
            if name in tables:
                t0 = time.perf_counter()
                try:
                    self.check_table(tables[name])
                except _Unreadable as exc:
                    self.add(name, None, "unreadable", detail=f"{str(tables[name].source.path)!r}: {exc}")
                finally:
                    tables[name].clear()
                logger.info("validated %s (%d rows) in %.1f s", name, tables[name].rows, time.perf_counter() - t0)
        seconds = time.perf_counter() - start
        order = {name: i for i, name in enumerate(TABLE_NAMES)}
        self.violations.sort(key=lambda v: order.get(v.table, len(order)))  # stable: check order within a table
        errors = [v for v in self.violations if v.severity == "error"]
        warns = tuple(v for v in self.violations if v.severity == "warning")
        if warns:
            warnings.warn(
                "register data: "
                + str(len(warns))
                + " warning(s):\n"
                + "\n".join("  - " + w.message() for w in warns),
                RegevalWarning,
                stacklevel=3,
            )
        if errors:
            n_tables = len({v.table for v in errors})
            lines = [
                f"the register data violate the data contract ({len(errors)} problem(s) in {n_tables} "
                f"table(s); years of coverage {self.first}–{self.last}; see docs/data_contract.md):"
            ]
            lines += ["  - " + v.message() for v in errors]
            if warns:
                lines.append("warnings:")
                lines += ["  - " + w.message() for w in warns]
            exc = DataContractError("\n".join(lines))
            exc.violations = tuple(self.violations)  # type: ignore[attr-defined]
            raise exc
        return ValidationReport(
            coverage=(self.first, self.last),
            tables=tuple(self.reports[n] for n in TABLE_NAMES if n in self.reports),
            warnings=warns,
            seconds=seconds,
        )

    # -- opening and schema ---------------------------------------------------------

    def open(self, name: str) -> _Table | None:
        spec = CONTRACT[name]
        source = self.sources.get(name)
        if source is None:
            self.add(name, None, "table missing", detail="no source given for the table")
            return None
        if not source.path.exists():
            self.add(
                name,
                None,
                "table missing",
                detail=f"file or folder {str(source.path)!r} does not exist "
                f"(set data.registers.tables.{name}.path in the config)",
            )
            return None
        try:
            dataset = open_dataset(source)
            schema = dataset.schema
            rows = dataset.count_rows()
        except DataContractError as exc:
            self.add(
                name,
                None,
                "unreadable",
                detail=f"{str(source.path)!r} is not a readable Parquet file or dataset: {exc.__cause__ or exc}",
            )
            return None
        except (pa.ArrowException, OSError) as exc:
            self.add(name, None, "unreadable", detail=f"{str(source.path)!r}: {exc}")
            return None

        present: dict[str, str] = {}
        types: dict[str, pa.DataType] = {}
        for col in spec.columns:
            wanted = source.source_name(col.name)
            if wanted in schema.names:
                present[col.name] = wanted
                types[col.name] = schema.field(wanted).type
                continue
            mapped = f" (mapped from contract column {col.name!r})" if wanted != col.name else ""
            hint = (
                f"fix data.registers.tables.{name}.columns.{col.name}"
                if wanted != col.name
                else f"map it with data.registers.tables.{name}.columns.{col.name}"
            )
            self.add(
                name,
                col.name,
                "column missing",
                detail=f"looked for column {wanted!r}{mapped} in {str(source.path)!r}, which has "
                f"{_short_list(schema.names)}; {hint}",
            )
        usable: set[str] = set()
        table = _Table(spec, source, dataset, rows, present, types, usable, set())
        for col in spec.columns:
            if col.name not in present:
                continue
            need = _kind_problem(col.kind, types[col.name])
            if need is None:
                usable.add(col.name)
            else:
                self.wrong_type(
                    table,
                    col,
                    f"column {present[col.name]!r} is {types[col.name]}; contract kind {col.kind!r} needs {need}",
                )
        keep = set(spec.key) | ({"pnr"} & set(spec.column_names))
        if spec.year_column:
            keep.add(spec.year_column)
        if name == "bef":
            keep.add("foed_dag")
        table.keep = keep
        return table

    def wrong_type(self, t: _Table, col: ColumnSpec, detail: str) -> None:
        head = t.head(list(dict.fromkeys([*t.spec.key, col.name])), self.k)
        reverse = {s: c for c, s in t.present.items()}
        ex = [
            ", ".join(f"{reverse.get(n, n)}={_fmt(v)}" for n, v in row.items())
            for row in head.to_pylist()
        ]
        self.add(t.name, col.name, "wrong type", t.rows, detail, ex)

    def check_id_kinds(self, tables: Mapping[str, _Table]) -> None:
        """The person id must be of one kind (integer or string) in every table."""
        kinds = {
            n: _id_kind(t.types["pnr"]) for n, t in tables.items() if "pnr" in t.usable and n in PERSON_TABLES
        }
        if len(set(kinds.values())) <= 1:
            return
        if "bef" in kinds:
            ref_kind, ref = kinds["bef"], "in bef"
        else:
            counts = {k: list(kinds.values()).count(k) for k in _ID_KINDS}
            ref_kind = max(_ID_KINDS, key=lambda k: counts[k])
            ref = "in most tables"
        for n, kind in kinds.items():
            if kind != ref_kind:
                t = tables[n]
                t.person_comparable = False
                self.wrong_type(
                    t,
                    t.spec.column("pnr"),
                    f"person id is {kind} ({t.types['pnr']}) here but {ref_kind} {ref}; every table must "
                    "carry pnr as the same kind (cast the extract)",
                )

    # -- per table --------------------------------------------------------------

    def check_table(self, t: _Table) -> None:
        spec = t.spec
        for c in spec.key:  # key columns first: every example names the row's key
            if c in t.usable:
                t.read(c)
        for col in spec.columns:
            if col.name in t.usable:
                self.check_column(t, col, t.read(col.name))
        if all(c in t.usable for c in spec.key):
            self.check_duplicates(t)
        if t.rows == 0 and t.name == "deltagere":
            self.add(t.name, None, "no rows", detail=f"{str(t.source.path)!r} holds no participations")
        if t.name == "bef":
            self.check_bef(t)
        elif t.name == "deltagere":
            self.check_starts(t)
        elif t.name == "diag":
            self.check_diagnosis_years(t)
        if t.name != "bef":
            self.check_persons_in_bef(t)
            if not spec.sparse and t.name in YEARLY_TABLES:
                self.check_dense(t)
        self.reports[t.name] = self.table_report(t)

    def check_column(self, t: _Table, col: ColumnSpec, arr: ArrayLike) -> None:
        floating = pa.types.is_floating(arr.type)
        n_nan = _count(pc.is_nan(arr)) if floating else 0
        if not col.nullable and (arr.null_count or n_nan):
            mask = pc.is_null(arr, nan_is_null=True) if floating else pc.is_null(arr)
            what = f"{arr.null_count} null" + (f", {n_nan} NaN" if n_nan else "")
            self.report_mask(t, col.name, "missing values", mask, f"{what}; the column may not be missing")

        valid = pc.is_valid(arr)
        allowed = col.allowed
        problem = "value not allowed"
        if col.kind == "bool" and pa.types.is_integer(arr.type):
            allowed, problem = (0, 1), "value not 0/1"
        if allowed is not None:
            value_set = pa.array(list(allowed)).cast(arr.type)
            bad = pc.and_(pc.invert(pc.is_in(arr, value_set=value_set)), valid)
            shown = ", ".join(_fmt_value(a) for a in allowed)
            self.report_mask(t, col.name, problem, bad, f"allowed: {shown}; seen: {{seen}}", extra={col.name: arr})

        # a code list that applies from a year on (municipalities): earlier rows are
        # checked against the range only, later rows against the list only
        list_rows = None
        year_col = t.spec.year_column
        if col.codes is not None and col.codes_from is not None and year_col in t.usable:
            list_rows = pc.greater_equal(t.read(year_col), col.codes_from)

        if col.min is not None or col.max is not None:
            lo = pc.less(arr, col.min) if col.min is not None else None
            hi = pc.greater(arr, col.max) if col.max is not None else None
            bad = lo if hi is None else hi if lo is None else pc.or_(lo, hi)
            if list_rows is not None:
                bad = pc.and_(bad, pc.invert(list_rows))
            self.report_mask(
                t,
                col.name,
                "value out of range",
                bad,
                f"allowed range [{_fmt(col.min)}, {_fmt(col.max)}]"
                + (f" (rows before {col.codes_from}; later rows are checked against the code list)" if list_rows is not None else "")
                + "; seen: {seen}",
                extra={col.name: arr},
            )

        if col.codes is not None and list_rows is not None:
            codes = pa.array(col.codes, pa.int64())
            bad = pc.and_(pc.and_(pc.invert(pc.is_in(arr.cast(pa.int64()), value_set=codes)), valid), list_rows)
            self.report_mask(
                t,
                col.name,
                "code not in list",
                bad,
                f"from {col.codes_from} a value must be one of the {len(col.codes)} codes of "
                f"{_CODE_LISTS.get((t.name, col.name), 'the code list')} (listed in docs/data_contract.md); "
                "seen: {seen}",
                extra={year_col: t.read(year_col), col.name: arr},
            )

        if col.pattern is not None:
            ok = pc.match_substring_regex(arr, col.pattern, ignore_case=True)
            self.report_mask(
                t,
                col.name,
                "code malformed",
                pc.and_(pc.invert(ok), valid),
                f"{_PATTERN_TEXT.get((t.name, col.name), 'values must match ' + col.pattern)}; seen: {{seen}}",
                extra={col.name: arr},
            )

        if col.kind == "year":
            self.check_years(t, col, arr)
        if (t.name, col.name) == ("udda", "hfaudd"):
            self.check_education_levels(t, arr)
        elif (t.name, col.name) == ("diag", "diag"):
            self.check_diagnosis_groups(t, arr)

    def check_years(self, t: _Table, col: ColumnSpec, arr: ArrayLike) -> None:
        if t.name in YEARLY_TABLES:
            bad = pc.or_(pc.less(arr, self.first), pc.greater(arr, self.last))
            self.report_mask(
                t,
                col.name,
                "year outside coverage",
                bad,
                f"years of coverage are {self.first}–{self.last} (config data.years); seen: {{seen}}",
            )
            present = set(pc.unique(arr).drop_null().to_pylist())
            t.years = tuple(sorted(int(y) for y in present))
            absent = [y for y in range(self.first, self.last + 1) if y not in present]
            if absent:
                dense = not t.spec.sparse
                self.add(
                    t.name,
                    col.name,
                    "coverage year without rows",
                    detail=f"no rows for year(s) {_year_list(absent)} of the coverage {self.first}–{self.last}"
                    + (
                        "; the table must have a row for every resident person-year"
                        if dense
                        else "; a sparse table without rows in a year means nobody used it that year"
                    ),
                    severity="error" if dense else "warning",
                )
        else:  # diag: year of first registration, may precede the coverage
            bad = pc.greater(arr, self.last)
            self.report_mask(
                t,
                col.name,
                "year after coverage end",
                bad,
                f"first registrations may precede the coverage but not follow its last year {self.last}; "
                "seen: {seen}",
            )

    def check_duplicates(self, t: _Table) -> None:
        """Rows sharing a key: combined int64 key per row, sorted in place."""
        key = t.spec.key
        arrays = [t.read(c) for c in key]
        coders = [
            _KeyCoder(a, t.person_codes() if c == "pnr" and not pa.types.is_integer(a.type) else None)
            for c, a in zip(key, arrays)
        ]
        total = 1
        for c in coders:
            total *= c.size
        if total >= 2**62:  # numeric ranges too wide to combine: use dense codes instead
            coders = [_DenseCoder(a) if c.numeric else c for c, a in zip(coders, arrays)]
        combined = np.zeros(t.rows, np.int64)
        for coder, arr in zip(coders, arrays):
            offset = 0
            combined *= coder.size
            for codes in coder.codes(arr):
                n = len(codes)
                combined[offset : offset + n] += codes
                offset += n
        combined.sort()
        same = combined[1:] == combined[:-1]
        if same.any():
            self.report_duplicates(t, coders, combined, same)
        del same
        if key[0] == "pnr" and t.rows:
            # persons: distinct pnr codes, i.e. distinct sorted keys without the other key columns
            rest = 1
            for coder in coders[1:]:
                rest *= coder.size
            combined //= rest
            t.persons = int(np.count_nonzero(combined[1:] != combined[:-1])) + 1 - (1 if arrays[0].null_count else 0)

    def report_duplicates(self, t: _Table, coders: Sequence[_KeyCoder], combined: np.ndarray, same: np.ndarray) -> None:
        key = t.spec.key
        run_start = same.copy()
        run_start[1:] &= ~same[:-1]
        n_keys = int(run_start.sum())
        n_rows = int(same.sum()) + n_keys
        dup_values = combined[1:][run_start][: self.k]
        lengths = _run_lengths(same, run_start, self.k)
        examples = []
        for value, length in zip(dup_values, lengths):
            parts = []
            rest = int(value)
            decoded = []
            for coder in reversed(coders):
                rest, code = divmod(rest, coder.size)
                decoded.append(coder.decode(code))
            for c, v in zip(key, reversed(decoded)):
                parts.append(f"{c}={_fmt(v)}")
            examples.append(", ".join(parts) + f": {length} rows")
        self.add(
            t.name,
            "+".join(key),
            "duplicate key",
            n_rows,
            f"{n_keys} key(s) occur more than once; the key ({', '.join(key)}) must be unique",
            examples,
        )

    def check_bef(self, t: _Table) -> None:
        """Impossible birth dates and the persons/birth years other tables are checked against."""
        if "pnr" not in t.usable:
            return
        pnr = t.read("pnr")
        if "foed_dag" in t.usable:
            foed = t.read("foed_dag")
            birth_year = pc.year(foed)
            if "aar" in t.usable:
                aar = t.read("aar")
                self.report_mask(
                    t,
                    "foed_dag",
                    "birth date after year end",
                    pc.greater(birth_year, aar),
                    "a BEF row describes the person at the end of year aar, so the birth date cannot "
                    "be later than 31 December of aar",
                    extra={"foed_dag": foed},
                )
                age = pc.subtract(aar, birth_year)
                self.report_mask(
                    t,
                    "foed_dag",
                    f"age over {MAX_AGE}",
                    pc.greater(age, MAX_AGE),
                    f"age at the end of aar above {MAX_AGE} years is impossible",
                    extra={"foed_dag": foed},
                )
                del age
            self.report_mask(
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
            days = _combined(_as_int(foed))
            valid = days.is_valid().to_numpy(zero_copy_only=False) if days.null_count else None
            days_np = days.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
            hi, lo = np.iinfo(np.int64).max, np.iinfo(np.int64).min
            first, last = np.full(len(persons), hi, np.int64), np.full(len(persons), lo, np.int64)
            rows = code if valid is None else code[valid]
            np.minimum.at(first, rows, days_np if valid is None else days_np[valid])
            np.maximum.at(last, rows, days_np if valid is None else days_np[valid])
            del days, days_np, rows
            known = pc.is_valid(persons).to_numpy(zero_copy_only=False) & (first != hi)
            differs = known & (first != last)
            self.bef_persons = persons.filter(pc.is_valid(persons))
            birth = _ints_to_type(first, foed.type, mask=~known)
            self.bef_birth_year = pc.year(birth).filter(pc.is_valid(persons))
            if t.persons is None:
                t.persons = len(self.bef_persons)
            n_persons = int(differs.sum())
            if n_persons:
                self.report_mask(
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
            self.bef_persons = persons.filter(pc.is_valid(persons))
            self.bef_birth_year = None
        self.bef_person_years = self.person_year_bitmap(t)

    def person_year_bitmap(self, t: _Table) -> np.ndarray | None:
        """Resident person-years of bef as a bitmap [person, year − first] over the persons
        of ``bef_persons`` and the years of coverage (one byte per cell: 61 MB for 3.6
        million persons × 17 years)."""
        if "aar" not in t.usable or self.bef_persons is None:
            return None
        persons, code = t.person_codes()
        valid = pc.is_valid(persons).to_numpy(zero_copy_only=False)
        position = np.cumsum(valid, dtype=np.int64) - 1  # position among the non-null persons
        aar = _combined(t.read("aar")).fill_null(self.first - 1).to_numpy(zero_copy_only=False).astype(np.int64)
        keep = valid[code] & (aar >= self.first) & (aar <= self.last)
        bitmap = np.zeros((len(self.bef_persons), self.last - self.first + 1), dtype=bool)
        bitmap[position[code[keep]], aar[keep] - self.first] = True
        return bitmap

    def bef_index(self, t: _Table) -> np.ndarray:
        """Each row's position in ``bef_persons`` (−1: person not in bef, or missing)."""
        if t.bef_index is None:
            assert self.bef_persons is not None
            if t._person_codes is not None:  # look up each distinct person once
                persons, codes = t._person_codes
                idx = _combined(pc.index_in(persons, value_set=self.bef_persons)).fill_null(-1)
                t.bef_index = idx.to_numpy(zero_copy_only=False)[codes]
            else:
                idx = _combined(pc.index_in(t.read("pnr"), value_set=self.bef_persons)).fill_null(-1)
                t.bef_index = idx.to_numpy(zero_copy_only=False)
        return t.bef_index

    def check_starts(self, t: _Table) -> None:
        """Participation start dates must lie in the years of coverage."""
        if "startdato" not in t.usable:
            return
        start = t.read("startdato")
        year = pc.year(start)
        extra = {"pnr": t.read("pnr")} if "pnr" in t.usable else None
        self.report_mask(
            t,
            "startdato",
            "start date outside coverage",
            pc.or_(pc.less(year, self.first), pc.greater(year, self.last)),
            f"start dates must lie in the years of coverage {self.first}–{self.last} (a start after "
            f"31 December {self.last} is in the future of the data); seen years: {{seen}}",
            values=year,
            extra=extra,
        )

    def check_diagnosis_years(self, t: _Table) -> None:
        """A diagnosis cannot be first registered before the person's birth year."""
        if (
            self.bef_birth_year is None
            or self.bef_persons is None
            or not t.person_comparable
            or not {"pnr", "aar"} <= t.usable
        ):
            return
        pnr, aar = t.read("pnr"), t.read("aar")
        idx = pc.index_in(pnr, value_set=self.bef_persons)
        birth_year = pc.take(self.bef_birth_year, idx)
        self.report_mask(
            t,
            "aar",
            "diagnosed before birth year",
            pc.less(aar, birth_year),
            "the year of first registration precedes the birth year in bef",
            extra={"aar": aar, "birth year": birth_year},
        )

    def check_persons_in_bef(self, t: _Table) -> None:
        """Every person id must be resident (in bef) in at least one year."""
        if self.bef_persons is None or not t.person_comparable or "pnr" not in t.usable:
            return
        pnr = t.read("pnr")
        absent = self.bef_index(t) < 0
        if pnr.null_count:
            absent &= pc.is_valid(pnr).to_numpy(zero_copy_only=False)
        unknown: ArrayLike = pa.array(absent)
        del absent
        n = _count(unknown)
        if n == 0:
            return
        bad_ids = pc.filter(pnr, unknown)
        n_persons = int(pc.count_distinct(bad_ids).as_py())
        # examples: distinct persons
        positions = _first_true(unknown, 50 * max(self.k, 1))
        ids = pnr.take(pa.array(positions, pa.int64())).to_pylist()
        seen: set[object] = set()
        chosen = []
        for p, i in zip(positions, ids):
            if i not in seen:
                seen.add(i)
                chosen.append(p)
        extra = {"pnr": pnr}
        warn = t.name in UNKNOWN_PERSON_IS_WARNING
        if t.name == "deltagere":
            problem, what = "participant not in bef", "participant(s) whose pnr is in bef in no year"
        else:
            problem, what = "person not in bef", "person(s) who are in bef in no year"
        self.add(
            t.name,
            "pnr",
            problem,
            n,
            f"{n_persons} {what} of the coverage"
            + (
                " — e.g. diagnosed before the coverage and gone by its start"
                if warn
                else "; check that every extract uses the same pseudonymised person ids"
            ),
            self.examples(t, np.asarray(chosen, np.int64), extra),
            "warning" if warn else "error",
        )

    def check_dense(self, t: _Table) -> None:
        """A dense table has a row for every resident person-year of bef."""
        if (
            self.bef_person_years is None
            or self.bef_persons is None
            or not t.person_comparable
            or not {"pnr", "aar"} <= t.usable
        ):
            return
        idx = self.bef_index(t)
        aar = _combined(t.read("aar")).fill_null(self.first - 1).to_numpy(zero_copy_only=False).astype(np.int64)
        keep = (idx >= 0) & (aar >= self.first) & (aar <= self.last)
        missing = self.bef_person_years.copy()
        missing[idx[keep], aar[keep] - self.first] = False
        del keep, aar
        n = int(np.count_nonzero(missing))
        if n == 0:
            return
        per_year = np.count_nonzero(missing, axis=0)
        n_persons = int(np.count_nonzero(missing.any(axis=1)))
        n_years = missing.shape[1]
        flat = np.flatnonzero(missing.ravel())[: self.k]
        person, year = np.divmod(flat, n_years)
        ids = self.bef_persons.take(pa.array(person, pa.int64())).to_pylist()
        examples = [f"pnr={_fmt(i)}, aar={self.first + int(y)}" for i, y in zip(ids, year)]
        by_year = ", ".join(f"{self.first + y}: {int(c)}" for y, c in enumerate(per_year) if c)
        self.add(
            t.name,
            "pnr+aar",
            "resident person-year missing",
            n,
            f"{n_persons} person(s) resident at the end of a year per bef have no {t.name} row for that year "
            f"(missing per year: {by_year}); {t.name} is dense — one row per resident person-year — and a "
            f"missing row would silently be read as {_DENSE_DEFAULT.get(t.name, 'missing')}; extract the table "
            "for every person-year of bef",
            examples,
        )

    def check_education_levels(self, t: _Table, hfaudd: ArrayLike) -> None:
        """Every education code's main level must be mapped by config education_levels."""
        if self.education_levels is None:
            return
        arr = hfaudd.cast(pa.int64())
        main = pc.divide(arr, 100)
        covered = sorted({x for v in self.education_levels.values() for x in v})
        in_range = pc.and_(pc.greater_equal(arr, 1000), pc.less_equal(arr, 9999))
        bad = pc.and_(pc.invert(pc.is_in(main, value_set=pa.array(covered, pa.int64()))), in_range)
        mapped = "; ".join(f"{name}: {list(v)}" for name, v in self.education_levels.items()) or "nothing"
        self.report_mask(
            t,
            "hfaudd",
            "education level not configured",
            bad,
            "the main level (first two digits) of these codes is in no level of config "
            f"population.education_levels ({mapped}), so they would silently count as unknown education; "
            "add each main level to a level there (e.g. unknown: [90] for 'not stated'); main levels seen: {seen}",
            values=main,
            extra={"hfaudd": arr},
        )

    def check_diagnosis_groups(self, t: _Table, diag: ArrayLike) -> None:
        """Warn about configured diagnosis prefixes that match no code of diag."""
        if self.diagnosis_groups is None:
            return
        codes = pc.utf8_upper(_combined(pc.unique(diag)).drop_null())
        for group, prefixes in self.diagnosis_groups.items():
            unmatched = [p for p in prefixes if not pc.any(pc.starts_with(codes, p.upper())).as_py()]
            if unmatched:
                self.add(
                    t.name,
                    "diag",
                    "diagnosis prefix matches no code",
                    detail=f"config population.diagnosis_groups.{group}: no code of diag starts with "
                    f"{', '.join(unmatched)} ({len(codes)} distinct codes); nobody gets this part of the group — "
                    "check the prefixes",
                    severity="warning",
                )

    def table_report(self, t: _Table) -> TableReport:
        years: tuple[int, ...] = ()
        try:
            if t.name == "deltagere" and "startdato" in t.usable:
                years = tuple(sorted(pc.unique(pc.year(t.read("startdato"))).drop_null().to_pylist()))
            elif t.years is not None:
                years = t.years
            elif t.spec.year_column and t.spec.year_column in t.usable:
                years = tuple(sorted(pc.unique(t.read(t.spec.year_column)).drop_null().to_pylist()))
            if t.persons is not None:
                persons: int | None = t.persons
            elif "pnr" in t.usable:
                persons = int(pc.count_distinct(t.read("pnr")).as_py())
            else:
                persons = None
        except _Unreadable:
            persons = None
        return TableReport(
            table=t.name,
            path=str(t.source.path),
            rows=t.rows,
            columns=tuple((c, t.present[c]) for c in t.spec.column_names if c in t.present),
            years=tuple(int(y) for y in years),
            persons=persons,
        )


class _DenseCoder(_KeyCoder):
    """Codes a numeric key column by its rank among distinct values (wide ranges)."""

    def __init__(self, arr: ArrayLike) -> None:  # noqa: D107 - see class docstring
        self.type = arr.type
        self.numeric = False
        self.precoded = None
        uniq = pc.unique(arr)
        self.uniques = uniq.combine_chunks() if isinstance(uniq, pa.ChunkedArray) else uniq
        self.size = max(len(self.uniques), 1)
        self.lo = 0


def _run_lengths(same: np.ndarray, run_start: np.ndarray, k: int) -> list[int]:
    """Lengths (in rows) of the first ``k`` runs of equal keys."""
    out = []
    for s in np.flatnonzero(run_start)[:k]:
        end = s
        while end + 1 < len(same) and same[end + 1]:
            end += 1
        out.append(int(end - s + 2))
    return out


def _short_list(names: Sequence[str], limit: int = 20) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return f"[{shown}{', …' if len(names) > limit else ''}]" if names else "no columns"


def _year_list(years: Sequence[int]) -> str:
    return ", ".join(str(y) for y in years)
