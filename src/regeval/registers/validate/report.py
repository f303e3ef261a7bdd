"""What validation reports: violations and, on success, what it saw of each table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from regeval.registers.violation import Violation

__all__ = ["TableReport", "ValidationReport", "Violation"]


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
