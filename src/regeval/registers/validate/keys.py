"""Unique keys: rows sharing a key, found by sorting one combined int64 key per row."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from regeval.registers.validate.arrow import ArrayLike, array_chunks, as_int, from_int, is_date
from regeval.registers.validate.recorder import Recorder
from regeval.registers.validate.table import Table


class KeyCoder:
    """Codes one key column as dense non-negative integers ``0 .. size-1``."""

    def __init__(self, arr: ArrayLike, precoded: tuple[pa.Array, np.ndarray] | None = None) -> None:
        self.type = arr.type
        self.numeric = pa.types.is_integer(arr.type) or is_date(arr.type)
        self.precoded = None if self.numeric else precoded
        if self.precoded is not None:
            self.uniques: pa.Array | None = self.precoded[0]
            self.size = max(len(self.uniques), 1)
            self.lo = 0
        elif self.numeric:
            ints = as_int(arr)
            mm = pc.min_max(ints)
            lo, hi = mm["min"].as_py(), mm["max"].as_py()
            lo = 0 if lo is None else int(lo)
            hi = lo if hi is None else int(hi)
            self.null_code = lo - 1 if arr.null_count else None
            self.lo = lo - 1 if arr.null_count else lo
            self.size = hi - self.lo + 1
            self.uniques = None
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
        for chunk in array_chunks(arr):
            if self.numeric:
                chunk = as_int(chunk)
                if self.null_code is not None and chunk.null_count:
                    chunk = chunk.fill_null(self.null_code)
            codes = chunk.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
            yield codes - self.lo if self.lo else codes

    def decode(self, code: int) -> object:
        if self.numeric:
            value = int(code) + self.lo
            if self.null_code is not None and value == self.null_code:
                return None
            return from_int(value, self.type)
        assert self.uniques is not None
        return self.uniques[int(code)].as_py()


class DenseCoder(KeyCoder):
    """Codes a numeric key column by its rank among distinct values (wide ranges)."""

    def __init__(self, arr: ArrayLike) -> None:  # noqa: D107 - see class docstring
        self.type = arr.type
        self.numeric = False
        self.precoded = None
        uniq = pc.unique(arr)
        self.uniques = uniq.combine_chunks() if isinstance(uniq, pa.ChunkedArray) else uniq
        self.size = max(len(self.uniques), 1)
        self.lo = 0


def run_lengths(same: np.ndarray, run_start: np.ndarray, k: int) -> list[int]:
    """Lengths (in rows) of the first ``k`` runs of equal keys."""
    out = []
    for s in np.flatnonzero(run_start)[:k]:
        end = s
        while end + 1 < len(same) and same[end + 1]:
            end += 1
        out.append(int(end - s + 2))
    return out


def check_duplicates(rec: Recorder, t: Table) -> None:
    """Rows sharing a key: combined int64 key per row, sorted in place."""
    key = t.spec.key
    arrays = [t.read(c) for c in key]
    coders = [
        KeyCoder(a, t.person_codes() if c == "pnr" and not pa.types.is_integer(a.type) else None)
        for c, a in zip(key, arrays, strict=False)
    ]
    total = 1
    for c in coders:
        total *= c.size
    if total >= 2**62:  # numeric ranges too wide to combine: use dense codes instead
        coders = [DenseCoder(a) if c.numeric else c for c, a in zip(coders, arrays, strict=False)]
    combined = np.zeros(t.rows, np.int64)
    for coder, arr in zip(coders, arrays, strict=False):
        offset = 0
        combined *= coder.size
        for codes in coder.codes(arr):
            n = len(codes)
            combined[offset : offset + n] += codes
            offset += n
    combined.sort()
    same = combined[1:] == combined[:-1]
    if same.any():
        report_duplicates(rec, t, coders, combined, same)
    del same
    if key[0] == "pnr" and t.rows:
        # persons: distinct pnr codes, i.e. distinct sorted keys without the other key columns
        rest = 1
        for coder in coders[1:]:
            rest *= coder.size
        combined //= rest
        t.persons = int(np.count_nonzero(combined[1:] != combined[:-1])) + 1 - (1 if arrays[0].null_count else 0)


def report_duplicates(
    rec: Recorder, t: Table, coders: Sequence[KeyCoder], combined: np.ndarray, same: np.ndarray
) -> None:
    key = t.spec.key
    run_start = same.copy()
    run_start[1:] &= ~same[:-1]
    n_keys = int(run_start.sum())
    n_rows = int(same.sum()) + n_keys
    dup_values = combined[1:][run_start][: rec.k]
    lengths = run_lengths(same, run_start, rec.k)
    examples = []
    for value, length in zip(dup_values, lengths, strict=False):
        parts = []
        rest = int(value)
        decoded = []
        for coder in reversed(coders):
            rest, code = divmod(rest, coder.size)
            decoded.append(coder.decode(code))
        for c, v in zip(key, reversed(decoded), strict=False):
            parts.append(f"{c}={rec.show(c, v)}")
        examples.append(", ".join(parts) + f": {length} rows")
    rec.add(
        t.name,
        "+".join(key),
        "duplicate key",
        n_rows,
        f"{n_keys} key(s) occur more than once; the key ({', '.join(key)}) must be unique",
        examples,
    )
