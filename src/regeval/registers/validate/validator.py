"""The entry point: open every table, run the checks in order, report or raise."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow.compute as pc

from regeval.errors import ConfigError, DataContractError, RegevalWarning
from regeval.registers.contract import TABLE_NAMES
from regeval.registers.memory import release_freed_memory
from regeval.registers.read import TableSource
from regeval.registers.validate.coverage import check_dense, check_starts
from regeval.registers.validate.keys import check_duplicates
from regeval.registers.validate.persons import check_bef, check_diagnosis_years, check_persons_in_bef
from regeval.registers.validate.recorder import Recorder
from regeval.registers.validate.report import TableReport, ValidationReport
from regeval.registers.validate.rules import YEARLY_TABLES
from regeval.registers.validate.schema import check_id_kinds, open_table
from regeval.registers.validate.table import Table, Unreadable
from regeval.registers.validate.values import check_column

logger = logging.getLogger(__package__)


def validate_registers(
    sources: Mapping[str, TableSource],
    years: tuple[int, int],
    *,
    max_examples: int = 5,
    education_levels: Mapping[str, Sequence[int]] | None = None,
    diagnosis_groups: Mapping[str, Sequence[str]] | None = None,
    person_ids: Any = None,
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
    person_ids
        For the register cache, whose tables hold person codes: the extract's person id
        of each code (:func:`regeval.registers.person_codes.read_person_ids`), so that
        examples name persons by their ids.

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
    return run(Recorder(sources, coverage, max_examples, levels, groups, person_ids))


def _check_years(years: Any) -> tuple[int, int]:
    """The years of coverage as a pair of ints (first, last), or ConfigError."""
    try:
        first, last = years
    except (TypeError, ValueError):
        raise ConfigError(f"years must be a pair (first, last), got {years!r}") from None
    ok = all(isinstance(y, (int, np.integer)) and not isinstance(y, bool) for y in (first, last))
    if not ok or first > last:
        raise ConfigError(f"years must be two integers with first <= last, got {years!r}")
    return int(first), int(last)


def run(rec: Recorder) -> ValidationReport:
    """Open every table, check the tables in contract order, and report (or raise)."""
    start = time.perf_counter()
    tables: dict[str, Table] = {}
    for name in TABLE_NAMES:
        t = open_table(rec, name)
        if t is not None:
            tables[name] = t
    check_id_kinds(rec, tables)
    for name in TABLE_NAMES:  # bef first: the other tables are checked against it
        if name in tables:
            t0 = time.perf_counter()
            try:
                check_table(rec, tables[name])
            except Unreadable as exc:
                rec.add(name, None, "unreadable", detail=f"{str(tables[name].source.path)!r}: {exc}")
            finally:
                tables[name].clear()
                release_freed_memory()  # the table's columns, before the next table
            logger.info("validated %s (%d rows) in %.1f s", name, tables[name].rows, time.perf_counter() - t0)
    seconds = time.perf_counter() - start
    order = {name: i for i, name in enumerate(TABLE_NAMES)}
    rec.violations.sort(key=lambda v: order.get(v.table, len(order)))  # stable: check order within a table
    errors = [v for v in rec.violations if v.severity == "error"]
    warns = tuple(v for v in rec.violations if v.severity == "warning")
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
            f"table(s); years of coverage {rec.first}–{rec.last}; see docs/data_contract.md):"
        ]
        lines += ["  - " + v.message() for v in errors]
        if warns:
            lines.append("warnings:")
            lines += ["  - " + w.message() for w in warns]
        error = DataContractError("\n".join(lines))
        error.violations = tuple(rec.violations)  # type: ignore[attr-defined]
        raise error
    return ValidationReport(
        coverage=(rec.first, rec.last),
        tables=tuple(rec.reports[n] for n in TABLE_NAMES if n in rec.reports),
        warnings=warns,
        seconds=seconds,
    )


def check_table(rec: Recorder, t: Table) -> None:
    """Every check of one table, in order (the order of its violations in the message)."""
    spec = t.spec
    for c in spec.key:  # key columns first: every example names the row's key
        if c in t.usable:
            t.read(c)
    for col in spec.columns:
        if col.name in t.usable:
            check_column(rec, t, col, t.read(col.name))
    if all(c in t.usable for c in spec.key):
        check_duplicates(rec, t)
    if t.rows == 0 and t.name == "deltagere":
        rec.add(t.name, None, "no rows", detail=f"{str(t.source.path)!r} holds no participations")
    if t.name == "bef":
        check_bef(rec, t)
    elif t.name == "deltagere":
        check_starts(rec, t)
    elif t.name == "diag":
        check_diagnosis_years(rec, t)
    if t.name != "bef":
        check_persons_in_bef(rec, t)
        if not spec.sparse and t.name in YEARLY_TABLES:
            check_dense(rec, t)
    rec.reports[t.name] = table_report(t)


def table_report(t: Table) -> TableReport:
    """What validation saw of table ``t``: rows, columns, years and persons."""
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
    except Unreadable:
        persons = None
    return TableReport(
        table=t.name,
        path=str(t.source.path),
        rows=t.rows,
        columns=tuple((c, t.present[c]) for c in t.spec.column_names if c in t.present),
        years=tuple(int(y) for y in years),
        persons=persons,
    )
