"""Aggregate tables: tidy frames that may leave the research machine after checking.

Every stage that produces something meant for export writes it with
:func:`write_aggregate`, which stores, beside the data, *what the numbers rest on*:
for each value column the column(s) holding the number of persons behind it, and
the table's kind. The disclosure step (:mod:`regeval.disclosure.check`) reads that and
checks every cell before anything is written to an export folder.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from regeval.errors import DisclosureError

META_KEY = b"regeval.aggregate"
KINDS = ("descriptive", "regression", "budget", "flow", "model", "distribution")


@dataclass(frozen=True)
class AggregateMeta:
    """What an aggregate table is and which counts its cells rest on.

    Attributes
    ----------
    name
        File stem of the table (e.g. ``effects``).
    title
        Caption for reports.
    kind
        ``descriptive`` (means/shares/counts: every cell needs ≥ min persons),
        ``regression`` (model output: coefficients, SEs, CIs, p and N may be exported,
        but descriptive means in it are checked), ``budget`` (derived from regression
        output and prices), ``flow`` (counts), ``model`` (propensity model
        coefficients), ``distribution`` (binned counts).
    counts
        Mapping value column -> list of count columns (persons) it rests on; the
        value is suppressed when any of them is below the threshold.
    count_columns
        Columns that are themselves person counts (suppressed when below threshold).
    cell_sets
        Groups of columns that reveal each other within a row (a share, the number
        of persons with the level, the number without it): suppressed together.
    secondary
        Groups of rows whose cells add up to a published total: ``{"by": [columns
        identifying the group], "cells": [value columns]}``. If exactly one cell of a
        group is suppressed, the smallest other one is suppressed too, so that the
        first cannot be recovered as the total minus the rest.
    differences
        Chains of count columns where each is a subset of the previous one (a flow):
        a difference between two published counts below the threshold suppresses
        the later count.
    """

    name: str
    title: str
    kind: str
    counts: Mapping[str, Sequence[str]] = field(default_factory=dict)
    count_columns: Sequence[str] = ()
    description: str = ""
    cell_sets: Sequence[Sequence[str]] = ()
    secondary: Sequence[Mapping[str, Sequence[str]]] = ()
    differences: Sequence[Sequence[str]] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise DisclosureError(f"aggregate {self.name!r}: kind {self.kind!r} not in {KINDS}")


def write_aggregate(frame: pd.DataFrame, path: str | Path, meta: AggregateMeta) -> None:
    """Write ``frame`` to Parquet with its disclosure metadata."""
    missing = [
        c
        for c in list(meta.counts) + [x for v in meta.counts.values() for x in v] + list(meta.count_columns)
        if c not in frame.columns
    ]
    if missing:
        raise DisclosureError(
            f"aggregate {meta.name!r}: metadata names column(s) {sorted(set(missing))} "
            f"that the table does not have ({list(frame.columns)})"
        )
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
