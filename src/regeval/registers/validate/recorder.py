"""The state of one validation: its inputs, the violations recorded, what bef tells of persons."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from regeval.registers.person_codes import show_ids
from regeval.registers.read import TableSource
from regeval.registers.validate.arrow import ArrayLike, count_true, first_true, fmt, one_array, value_counts
from regeval.registers.validate.report import TableReport, Violation
from regeval.registers.validate.rules import PROBLEMS, Severity
from regeval.registers.validate.table import Table


class Recorder:
    """Inputs and results of one validation.

    Every check is a function of the recorder and a table, and records what it finds
    through :meth:`add` (or :meth:`report_mask`). The checks of bef leave the persons of
    bef, their birth years and resident person-years here, for the checks of the other
    tables.
    """

    def __init__(
        self,
        sources: Mapping[str, TableSource],
        coverage: tuple[int, int],
        max_examples: int,
        education_levels: Mapping[str, tuple[int, ...]] | None = None,
        diagnosis_groups: Mapping[str, tuple[str, ...]] | None = None,
        person_ids: pa.Array | None = None,
    ) -> None:
        self.sources = sources
        # the register cache's person ids by code: examples show the extract's ids
        self.person_ids = person_ids
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
        """Record one violation (``problem`` must be one of :data:`PROBLEMS`)."""
        if problem not in PROBLEMS:  # every problem is documented: list it in PROBLEMS and the docs
            raise AssertionError(f"validation problem {problem!r} is not registered in PROBLEMS")
        self.violations.append(Violation(table, column, problem, rows, detail, tuple(examples), severity))

    def examples(self, t: Table, positions: np.ndarray, extra: Mapping[str, ArrayLike] | None = None) -> list[str]:
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
        return [", ".join(f"{c}={self.show(c, v[i])}" for c, v in cols.items()) for i in range(len(positions))]

    def show(self, column: str, value: object) -> str:
        """A value as an example shows it: a person code of the register cache as the
        extract's person id (:mod:`regeval.registers.person_codes`)."""
        if column == "pnr" and self.person_ids is not None and value is not None:
            value = show_ids([value], self.person_ids)[0]
        return fmt(value)

    def report_mask(
        self,
        t: Table,
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
        n = count_true(mask)
        if n == 0:
            return 0
        if detail and "{seen}" in detail:
            bad = pc.filter(values if values is not None else t.read(column), mask.fill_null(False))
            detail = detail.replace("{seen}", value_counts(bad))
        self.add(t.name, column, problem, n, detail or "", self.examples(t, first_true(mask, self.k), extra), severity)
        return n

    def bef_index(self, t: Table) -> np.ndarray:
        """Each row's position in ``bef_persons`` (−1: person not in bef, or missing)."""
        if t.bef_index is None:
            assert self.bef_persons is not None
            if t._person_codes is not None:  # look up each distinct person once
                persons, codes = t._person_codes
                idx = one_array(pc.index_in(persons, value_set=self.bef_persons)).fill_null(-1)
                t.bef_index = idx.to_numpy(zero_copy_only=False)[codes]
            else:
                idx = one_array(pc.index_in(t.read("pnr"), value_set=self.bef_persons)).fill_null(-1)
                t.bef_index = idx.to_numpy(zero_copy_only=False)
        return t.bef_index
