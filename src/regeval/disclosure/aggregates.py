"""Aggregate tables on disk: tidy frames that may leave the research machine after checking.

Every stage that produces something meant for export writes it with
:func:`write_aggregate`, which stores, beside the data, *what the numbers rest on*
(:class:`regeval.disclosure.meta.AggregateMeta`): for each value column the column(s)
holding the number of persons behind it, and the table's kind. The disclosure step
(:mod:`regeval.disclosure.check`) reads that and checks every cell before anything is
written to an export folder.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from regeval.disclosure.meta import KINDS, Aggregate, AggregateMeta
from regeval.errors import DisclosureError

META_KEY = b"regeval.aggregate"


def write_aggregate(frame: pd.DataFrame | Aggregate, path: str | Path, meta: AggregateMeta | None = None) -> None:
    """Write an :class:`Aggregate` (or a frame and its metadata) to Parquet with its
    disclosure metadata."""
    if isinstance(frame, Aggregate):
        if meta is not None:
            raise TypeError("write_aggregate: an Aggregate carries its own metadata; do not pass meta")
        frame, meta = frame.frame, frame.meta
    if meta is None:
        raise TypeError("write_aggregate: a DataFrame needs its AggregateMeta")
    meta.check_columns(frame.columns)
    table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
    md = dict(table.schema.metadata or {})
    md[META_KEY] = json.dumps(asdict(meta), sort_keys=True).encode()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table.replace_schema_metadata(md), path, compression="zstd")


def read_aggregate(path: str | Path) -> tuple[pd.DataFrame, AggregateMeta]:
    """Read an aggregate table and its metadata."""
    table = pq.read_table(path)
    raw = (table.schema.metadata or {}).get(META_KEY)
    if raw is None:
        raise DisclosureError(f"{path}: not an aggregate table (no disclosure metadata)")
    meta_dict = json.loads(raw)
    meta = AggregateMeta(**meta_dict)
    return table.to_pandas(), meta


def load_aggregate(path: str | Path) -> Aggregate:
    """:func:`read_aggregate` as an :class:`Aggregate`."""
    frame, meta = read_aggregate(path)
    return Aggregate(frame, meta)


__all__ = ["KINDS", "META_KEY", "Aggregate", "AggregateMeta", "load_aggregate", "read_aggregate", "write_aggregate"]
