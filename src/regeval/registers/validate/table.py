"""A register table under validation: its dataset, the columns present, a column cache."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from regeval.registers.contract import TableSpec
from regeval.registers.read import TableSource
from regeval.registers.validate.arrow import ArrayLike, one_array


class Unreadable(Exception):
    """Reading a column of a table failed (corrupt file, inconsistent schema)."""


@dataclass
class Table:
    """One table of the extract as validation reads it: column by column, holding only
    the columns in ``keep`` (key, person id, year) between checks."""

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
            raise Unreadable(str(exc)) from exc
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
            persons = one_array(pc.unique(pnr))
            codes = one_array(pc.index_in(pnr, value_set=persons, skip_nulls=False))
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
