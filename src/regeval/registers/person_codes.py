"""Person codes of the register cache: every person id of the extract, of whatever kind,
replaced once by an integer code that all later steps work on.

Pseudonymised person numbers usually arrive as text. Every join, membership test and
grouping on text ids hashes strings, which costs 10–15 × hashing integers, and the
population steps do many of them. The register cache therefore codes the ids once:

* the codes are the ranks of the sorted distinct ids of all tables together (nulls stay
  null), so a table sorted by code is sorted by id, and persons are ordered and numbered
  alike whether the extract carries the ids as integers or as fixed-width text;
* every cached table holds ``pnr`` as these int64 codes;
* ``persons.parquet`` in the cache maps each code (``code``, 0, 1, …) back to the
  extract's id (``pnr``), for the places that must show a person's real id (examples in
  validation messages) or read ids from outside the registers (a user's control-id file).

Person-level files downstream of the cache (inside folders only) hold codes; nothing
person-level is exported.

How the codes are found, at national scale (3.6 M persons, tables of 44 M rows):

* **Digit fast path.** Pseudonymised person numbers are usually text of one width made
  only of ASCII digits (ten-digit CPR-like numbers). For such ids numeric order is text
  order, so their int64 values have the same ranks as the text: while every batch of
  every table has that shape (checked vectorised: byte lengths, ``ascii_is_decimal``;
  at most :data:`MAX_DIGITS` digits, so that the values fit int64), the ids are gathered,
  sorted and looked up as integers, and ``persons.parquet`` gets the text back by
  left-padding the values with zeros to the width, the extract's ids byte for byte.
  The first batch of another shape (another width, a letter, a sign, a blank, more than
  18 digits) turns what was gathered back into text, and the run takes the general text
  path; nulls stay nulls on either path. Why: gathering and hashing text ids cost the
  cache about twice the CPU of integer ids (263 against 152 CPU s at national scale).
* **Lookup by binary search** for integer ids (and digit text ids): the distinct ids are
  sorted anyway, so a table's code is the position found by ``searchsorted`` (checked to
  be an exact match; an id missing from the distinct ids is an error, never a wrong
  code). Arrow's hash lookup (``index_in``) rebuilds its hash table of all distinct ids
  at every call: 12 CPU s for a 44 M-row table in 4 M-row calls, against 2.2 s of binary
  search (and 0.8 s for the check). Other text ids keep the hash lookup, in calls of
  :data:`HASH_LOOKUP_ROWS` rows.
* A table's ids are read once per pass: the coding pass reads the other columns of each
  row group without them.

Measured on the national extract (the coding of all tables alone, CPU seconds of the
process, ``benchmarks/results_registers.md``): integer ids 162 → 93 s, ten-digit text
ids 289 → 132 s (see there for the figures of the whole register path).

Every table must carry its ids as the same kind (all integer or all text); otherwise
integer 123 and text "0000000123" would silently be different persons. A table whose
kind differs is a named error (:func:`id_kind_problems`).
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

log = logging.getLogger("regeval")

PERSONS_FILE = "persons.parquet"
"""The cache's map from code to the extract's person id."""

CACHE_COMPRESSION = "lz4"
"""Compression of the cache's tables: with lz4 (and no dictionary for the codes) writing a
table takes about 30 % less CPU than zstd and reading it less too, for files about 1.5 ×
larger (the cache is a working copy inside the project folder)."""

LOOKUP_ROWS = 4_000_000
"""Rows of person ids gathered or looked up at a time."""

HASH_LOOKUP_ROWS = 16_000_000
"""Rows of text ids (not of the digit shape) looked up at a time: Arrow's hash lookup
hashes every distinct id at each call, so larger calls cost less per row (−28 % against
4 M rows at national scale) for ≈ 0.5 GB more memory at the peak."""

MAX_DIGITS = 18
"""Text ids of at most this many ASCII digits (all of one width) are coded as int64 values."""


def id_kind(t: pa.DataType) -> str | None:
    """``integer``, ``string`` or None (no ids at all: a column of nulls)."""
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_null(t):
        return None
    return "other"


def id_kinds(tables: Mapping[str, Path]) -> dict[str, str | None]:
    """The kind of ``pnr`` in each Parquet file of ``tables`` that has the column."""
    out: dict[str, str | None] = {}
    for name, path in tables.items():
        schema = pq.read_schema(str(path))
        if "pnr" in schema.names:
            out[name] = id_kind(schema.field("pnr").type)
    return out


def _pnr_batches(path: Path) -> Iterator[pa.ChunkedArray]:
    """The ``pnr`` column of a Parquet file, :data:`LOOKUP_ROWS` rows at a time."""
    pf = pq.ParquetFile(str(path))
    parts: list[pa.Array] = []
    rows = 0
    for batch in pf.iter_batches(columns=["pnr"], batch_size=1 << 20):
        parts.append(batch.column(0))
        rows += batch.num_rows
        if rows >= LOOKUP_ROWS:
            yield pa.chunked_array(parts)
            parts, rows = [], 0
    if parts:
        yield pa.chunked_array(parts)


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def digit_width(ids: pa.Array | pa.ChunkedArray) -> int | None:
    """The width W if every non-null value of the text ids ``ids`` is W ASCII digits
    (1 ≤ W ≤ :data:`MAX_DIGITS`), 0 if there is no non-null value, else None (vectorised:
    byte lengths from the offsets, one scan of the bytes)."""
    lengths = pc.min_max(pc.binary_length(ids)).as_py()
    if lengths["min"] is None:
        return 0
    width = int(lengths["min"])
    if width != lengths["max"] or not 1 <= width <= MAX_DIGITS:
        return None
    return width if pc.all(pc.ascii_is_decimal(ids)).as_py() else None


@dataclass(frozen=True)
class PersonIds:
    """The sorted distinct person ids of the extract, as they are looked up.

    ``lookup`` holds them as the extract has them (integer or text), or, on the fast path
    for text ids that are all ``width`` ASCII digits, as their int64 values: for digit
    strings of one width numeric order is lexicographic order, so the ranks (the codes)
    are the same."""

    lookup: pa.Array
    width: int | None = None
    text_type: pa.DataType | None = None

    def __len__(self) -> int:
        return len(self.lookup)

    def kind(self) -> str:
        """How the ids are looked up, for the log."""
        if self.width is not None:
            return f"text of {self.width} digits, looked up as integers"
        return "integers" if pa.types.is_integer(self.lookup.type) else str(self.lookup.type)

    def extract_ids(self) -> pa.Array:
        """The ids as the extract has them (position = code)."""
        if self.width is None:
            return self.lookup
        return _as_text(self.lookup, self.width, self.text_type or pa.string())


def _as_text(values: pa.Array, width: int | None, text_type: pa.DataType) -> pa.Array:
    """int64 values of ``width``-digit text ids back to that text (leading zeros restored)."""
    text = pc.cast(values, text_type)
    return text if width is None else pc.utf8_lpad(text, width=width, padding="0")


def distinct_ids(tables: Mapping[str, Path]) -> PersonIds:
    """The sorted distinct non-null ids of every table's ``pnr`` (read column by column,
    in batches; the distinct ids seen so far are compacted as they grow).

    Text ids take the fast path (kept as int64 values) while every batch of every table
    is text of one width of ASCII digits; the first batch that is not turns what was
    gathered back into text, and the rest of the run takes the general path."""
    seen: list[pa.Array] = []
    pending = known = 0
    digits = True  # every batch so far is text of `width` ASCII digits (or has no value)
    width: int | None = None
    text_type: pa.DataType | None = None
    first_type: pa.DataType | None = None
    for path in tables.values():
        for batch in _pnr_batches(path):
            first_type = first_type or batch.type
            if pa.types.is_null(batch.type):
                continue  # a column of nulls: no ids
            if digits:
                w = digit_width(batch) if _is_text(batch.type) else None
                text_type = text_type or (batch.type if _is_text(batch.type) else None)
                if w is None or (w and width is not None and w != width):
                    digits = False
                    if text_type is not None:  # what was gathered back to text
                        seen = [_as_text(s, width, text_type) for s in seen]
                else:
                    width = width or w or None
                    batch = pc.cast(batch, pa.int64())
            u = pc.unique(batch)
            seen.append(u)
            pending += len(u)
            if pending > 2 * known + LOOKUP_ROWS:
                merged = pc.unique(pa.concat_arrays(seen))
                seen, pending, known = [merged], len(merged), len(merged)
    if digits and width is None and text_type is not None:  # text without a value: as text
        seen, digits = [_as_text(s, None, text_type) for s in seen], False
    if not seen:
        return PersonIds(pa.array([], first_type or pa.int64()))
    ids = pc.unique(pa.concat_arrays([s.cast(seen[0].type) for s in seen])).drop_null()
    ids = ids.take(pc.sort_indices(ids))
    return PersonIds(ids, width, text_type) if digits else PersonIds(ids)


def write_coded(source: Path, target: Path, ids: PersonIds) -> int:
    """Copy the Parquet table ``source`` to ``target`` with ``pnr`` replaced by its code
    (position in ``ids``), row group by row group; returns the number of rows."""
    pf = pq.ParquetFile(str(source))
    schema = pf.schema_arrow
    i = schema.names.index("pnr")
    out_schema = schema.set(i, pa.field("pnr", pa.int64()))
    rows = 0
    # lz4 and no dictionary for the codes (distinct almost everywhere, so a dictionary
    # only costs): the write is the largest part of the cache's time, lz4 also reads faster
    no_dict = [n for n in out_schema.names if n != "pnr"]
    per_lookup = LOOKUP_ROWS if pa.types.is_integer(ids.lookup.type) else HASH_LOOKUP_ROWS
    with pq.ParquetWriter(str(target), out_schema, compression=CACHE_COMPRESSION, use_dictionary=no_dict) as writer:
        groups: list[int] = []
        n = 0
        for g in range(pf.num_row_groups):
            groups.append(g)
            n += pf.metadata.row_group(g).num_rows
            if n >= per_lookup or g == pf.num_row_groups - 1:
                rows += _write_groups(pf, source, groups, i, out_schema, writer, ids)
                groups, n = [], 0
    return rows


def _codes(pnr: pa.ChunkedArray, ids: PersonIds, where: Path) -> pa.Array:
    """The codes (int64) of the ids ``pnr``, all of which are in ``ids`` (nulls stay null).

    Integer ids (and digit text ids, as their values) are looked up by binary search in the
    sorted ids, text ids by Arrow's hash lookup (which hashes all distinct ids per call)."""
    if not pa.types.is_integer(ids.lookup.type):
        if pnr.type != ids.lookup.type:
            pnr = pnr.cast(ids.lookup.type)
        return pc.index_in(pnr, value_set=ids.lookup).cast(pa.int64())
    # digit text ids: parsed (their shape was checked when the distinct ids were gathered)
    values = (pnr if pnr.type == ids.lookup.type else pc.cast(pnr, ids.lookup.type)).combine_chunks()
    sorted_ids = ids.lookup.to_numpy()
    v = pc.fill_null(values, 0).to_numpy() if values.null_count else values.to_numpy()
    pos = np.searchsorted(sorted_ids, v)
    found = sorted_ids[np.minimum(pos, len(sorted_ids) - 1)] == v if len(sorted_ids) else np.zeros(len(v), bool)
    valid = values.is_valid().to_numpy(zero_copy_only=False) if values.null_count else None
    if not (found.all() if valid is None else found[valid].all()):
        raise RuntimeError(f"register cache: a person id of {where} is not among the distinct ids")
    return pa.array(pos.astype(np.int64, copy=False), mask=None if valid is None else ~valid)


def _write_groups(pf: pq.ParquetFile, source: Path, groups: list[int], i: int, schema: pa.Schema,
                  writer: pq.ParquetWriter, ids: PersonIds) -> int:
    """Code the ids of some row groups in one lookup, then write the groups one by one
    (read without their ids, which are read once, for the lookup)."""
    codes = _codes(pf.read_row_groups(groups, columns=["pnr"]).column(0), ids, source)
    others = [n for n in schema.names if n != "pnr"]
    start = 0
    for g in groups:
        table = pf.read_row_group(g, columns=others)
        n = pf.metadata.row_group(g).num_rows
        table = table.add_column(i, schema.field(i), codes.slice(start, n))
        writer.write_table(table.cast(schema))
        start += n
    return start


def code_tables(raw: Mapping[str, Path], out_dir: Path) -> tuple[int, dict[str, int]]:
    """Write every table of ``raw`` (Parquet, ids as the extract has them) to
    ``<out_dir>/<table>.parquet`` with coded ids, and the map ``persons.parquet``.
    Returns the number of persons and the rows per table."""
    t0 = time.perf_counter()
    with_ids = {name: path for name, path in raw.items() if "pnr" in pq.read_schema(str(path)).names}
    ids = distinct_ids(with_ids)
    log.info("register cache: %d distinct person ids (%s) in %.1f s", len(ids), ids.kind(), time.perf_counter() - t0)
    rows: dict[str, int] = {}
    for name, path in raw.items():
        target = out_dir / f"{name}.parquet"
        if name in with_ids:
            t1 = time.perf_counter()
            rows[name] = write_coded(path, target, ids)
            log.info("register cache: %s: person ids coded (%d rows) in %.1f s", name, rows[name],
                     time.perf_counter() - t1)
        elif path != target:
            shutil.copyfile(path, target)
    persons = pa.table({"code": pa.array(np.arange(len(ids), dtype=np.int64)), "pnr": ids.extract_ids()})
    pq.write_table(persons, str(out_dir / PERSONS_FILE), compression="zstd")
    return len(ids), rows


def read_person_ids(path: str | Path) -> pa.Array:
    """The extract's person id of each code (position = code), from ``persons.parquet``."""
    table = pq.read_table(str(path))
    return table.column("pnr").combine_chunks()


def to_codes(ids: Any, person_ids: pa.Array) -> np.ndarray:
    """The codes of the person ids ``ids`` (a sequence of the extract's ids), −1 for an
    id that is in no table; ids are compared as the cache's kind (text or integer)."""
    values = pa.array(list(ids), from_pandas=True)
    if values.type != person_ids.type:
        values = values.cast(person_ids.type)
    codes = pc.index_in(values, value_set=person_ids)
    return np.asarray(codes.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


def show_ids(codes: list[object], person_ids: pa.Array | None) -> list[object]:
    """Codes as the extract's ids (as they are without a map; None stays None)."""
    if person_ids is None:
        return codes
    return person_ids.take(pa.array(codes, pa.int64(), from_pandas=True)).to_pylist()


__all__ = ["PERSONS_FILE", "code_tables", "distinct_ids", "id_kind", "id_kinds", "read_person_ids", "show_ids",
           "to_codes", "write_coded"]
