"""One violation of the data contract, as validation and the extract's conversion word it.

Kept outside :mod:`regeval.registers.validate` so that the register cache, which reports
its conversion problems the same way, does not import (and is not rerun for edits of)
the validation checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]


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


def _n_rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"
