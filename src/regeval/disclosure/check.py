"""Statistical disclosure control of every exported table (method.md §5).

Rules, with the threshold ``min_persons`` (default 5, the Health Data Authority's
and most research institutions' minimum; DST's own is 3):

* A table must not contain person ids or per-person values: a column whose name
  marks it as such (``pnr``, ``person_id``, ``unit``, ``deltager_id``, ``subclass``,
  ``score``, ``logit``, ``residual`` …) fails the run.
* A count of persons below the threshold is suppressed (also counts of missing
  values, which are cells like any other), except zero, which reveals nothing about
  a person.
* A mean, share or estimate resting on a count below the threshold is suppressed.
* A suppressed cell becomes missing (empty in CSV) and the row's ``suppressed``
  column names the suppressed columns, so a reader sees why.
* Where suppression would not be safe (an id column, a table without its counts),
  the run fails naming file, table and cell.

Min, max, percentiles are never produced by the pipeline's tables; a table that
declares such a column must rest it on a count of persons sharing the value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from regeval.disclosure.aggregates import AggregateMeta, read_aggregate
from regeval.errors import DisclosureError

FORBIDDEN = (
    "pnr",
    "cpr",
    "person_id",
    "person",
    "unit_id",
    "deltager_id",
    "participant_id",
    "subclass",
    "score",
    "ps",
    "logit",
    "propensity_score",
    "residual",
    "treated_id",
    "control_id",
)


ORDER_STATISTIC = re.compile(r"^(.*_)?(min|max|minimum|maximum|median|p\d{1,2}|q[1-3]|percentile\w*)$", re.I)
"""Column names of order statistics (a real person's value)."""


@dataclass(frozen=True)
class DisclosureResult:
    table: pd.DataFrame
    suppressed_cells: int
    log: dict[str, object]


def find_person_ids(frame: pd.DataFrame, person_ids: np.ndarray | None) -> list[tuple[str, object]]:
    """Cells of ``frame`` whose value equals a person id (column, example value)."""
    if person_ids is None or len(person_ids) == 0:
        return []
    ids = pd.Index(pd.unique(np.asarray(person_ids)))
    hits = []
    for c in frame.columns:
        col = frame[c]
        if pd.api.types.is_bool_dtype(col):
            continue
        if pd.api.types.is_numeric_dtype(col) and pd.api.types.is_numeric_dtype(ids.dtype):
            vals = col.dropna().to_numpy()
            vals = vals[np.isfinite(vals.astype(float))]
            vals = vals[vals == np.round(vals)]
            found = ids.intersection(pd.Index(vals.astype(np.int64)))
        elif not pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_numeric_dtype(ids.dtype):
            found = ids.intersection(pd.Index(col.dropna().astype(str)))
        else:
            continue
        if len(found):
            hits.append((c, found[0]))
    return hits


def check_table(
    frame: pd.DataFrame,
    meta: AggregateMeta,
    min_persons: int,
    source: str = "",
    person_ids: np.ndarray | None = None,
) -> DisclosureResult:
    """Check one aggregate and suppress unsafe cells (or raise DisclosureError).

    ``person_ids``: the ids of every person in the analysis; a cell holding one of
    them fails the check (an id never leaves, whatever its column is called).
    """
    where = f"{source or meta.name} (table {meta.name!r})"
    bad = [c for c in frame.columns if c.lower() in FORBIDDEN]
    if bad:
        raise DisclosureError(
            f"{where}: column(s) {bad} hold person ids or per-person values and may never be exported"
        )
    declared = set(meta.counts) | set(meta.count_columns) | {x for v in meta.counts.values() for x in v}
    order_stats = [c for c in frame.columns if ORDER_STATISTIC.match(str(c)) and c not in declared]
    if order_stats:
        raise DisclosureError(
            f"{where}: column(s) {order_stats} look like minima, maxima, medians or percentiles, which are "
            f"real persons' values; declare the count of persons sharing each value in the table's "
            f"metadata (counts) or leave them out"
        )
    hits = find_person_ids(frame, person_ids)
    if hits:
        raise DisclosureError(
            f"{where}: column(s) {[h[0] for h in hits]} contain person ids "
            f"(e.g. a value of column {hits[0][0]!r} equals a person id); the table may not be exported"
        )
    if meta.kind in ("descriptive", "flow", "distribution") and not (meta.counts or meta.count_columns):
        raise DisclosureError(
            f"{where}: a {meta.kind} table must declare the person counts its cells rest on"
        )
    out = frame.copy().reset_index(drop=True)
    mask = pd.DataFrame(False, index=out.index, columns=out.columns)
    for c in meta.count_columns:
        v = pd.to_numeric(out[c], errors="coerce")
        mask[c] |= ((v > 0) & (v < min_persons)).fillna(False)
    for value_col, count_cols in meta.counts.items():
        for cc in count_cols:
            v = pd.to_numeric(out[cc], errors="coerce")
            # a value resting on no person at all reveals nothing about a person
            mask[value_col] |= ((v > 0) & (v < min_persons)).fillna(False)
    _differences(out, mask, meta.differences, min_persons)
    _close_sets(mask, meta.cell_sets)
    n_primary = int(mask.to_numpy().sum())
    for _ in range(10):  # secondary suppression until nothing changes
        before = int(mask.to_numpy().sum())
        _secondary(out, mask, meta.secondary, meta.cell_sets)
        _close_sets(mask, meta.cell_sets)
        if int(mask.to_numpy().sum()) == before:
            break
    out = _apply(out, mask)
    log = {
        "table": meta.name,
        "rows": int(len(out)),
        "min_persons": int(min_persons),
        "suppressed_cells": int(mask.to_numpy().sum()),
        "primary": n_primary,
        "secondary": int(mask.to_numpy().sum()) - n_primary,
    }
    return DisclosureResult(out, int(mask.to_numpy().sum()), log)


def _close_sets(mask: pd.DataFrame, cell_sets) -> None:
    """Suppress every member of a cell set when one member is suppressed."""
    for cells in cell_sets:
        cols = [c for c in cells if c in mask.columns]
        if not cols:
            continue
        anym = mask[cols].any(axis=1)
        for c in cols:
            mask[c] |= anym


def _secondary(frame: pd.DataFrame, mask: pd.DataFrame, groups, cell_sets) -> None:
    """Complementary suppression within groups of rows that add up to a total."""
    for g in groups:
        by = [c for c in g.get("by", []) if c in frame.columns]
        cells = [c for c in g.get("cells", []) if c in frame.columns]
        if not cells:
            continue
        keys = frame[by].astype(str).agg("|".join, axis=1) if by else pd.Series("", index=frame.index)
        for _, idx in frame.groupby(keys, sort=False).groups.items():
            idx = list(idx)
            if len(idx) < 2:
                continue
            for c in cells:
                m = mask.loc[idx, c]
                if int(m.sum()) != 1:
                    continue
                candidates = [i for i in idx if not mask.at[i, c] and pd.notna(frame.at[i, c])]
                if not candidates:
                    continue
                values = pd.to_numeric(frame.loc[candidates, c], errors="coerce").abs()
                # a suppressed zero protects nothing: take the smallest non-zero cell
                nonzero = values[values > 0]
                mask.at[(nonzero if len(nonzero) else values).idxmin(), c] = True


def _differences(frame: pd.DataFrame, mask: pd.DataFrame, chains, min_persons: int) -> None:
    """In a flow (each count a subset of the previous), a small difference between
    two published counts is a small cell: suppress the later count."""
    for chain in chains:
        cols = [c for c in chain if c in frame.columns]
        for i in frame.index:
            last = None
            for c in cols:
                if mask.at[i, c] or pd.isna(frame.at[i, c]):
                    continue
                v = float(frame.at[i, c])
                if last is not None and 0 < last - v < min_persons:
                    mask.at[i, c] = True
                    continue
                last = v


def _apply(frame: pd.DataFrame, mask: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for c in mask.columns:
        if mask[c].any():
            if out[c].dtype == object:
                out[c] = out[c].astype(object).where(~mask[c], None)
            else:
                out[c] = out[c].where(~mask[c], np.nan)
    names = [", ".join(mask.columns[row]) for row in mask.to_numpy()]
    out["suppressed"] = names
    return out


def export_tables(
    aggregate_paths: Iterable[str | Path],
    export_dir: str | Path,
    min_persons: int,
    person_ids: np.ndarray | None = None,
    spec: str | None = None,
) -> dict[str, object]:
    """Check every aggregate and write it, suppressed, as CSV and Parquet.

    With ``spec``, every table gets a first column ``spec`` (so tables of several
    specs concatenate).

    Nothing is written unless every table passes (the run fails otherwise, naming
    the file, table and cell). Returns the disclosure log.
    """
    checked = []
    for path in aggregate_paths:
        frame, meta = read_aggregate(path)
        if spec is not None:
            # shared tables are labelled with the spec they are exported for
            frame = frame.drop(columns=["spec"], errors="ignore")
            frame.insert(0, "spec", spec)
        checked.append((meta, check_table(frame, meta, min_persons, str(path), person_ids)))
    export_dir = Path(export_dir)
    export_dir.mkdir(parents=True, exist_ok=True)
    log: dict[str, object] = {"min_persons": int(min_persons), "tables": []}
    for meta, res in checked:
        res.table.to_parquet(export_dir / f"{meta.name}.parquet", index=False)
        res.table.to_csv(export_dir / f"{meta.name}.csv", index=False, float_format="%.10g")
        log["tables"].append({**res.log, "title": meta.title, "kind": meta.kind})  # type: ignore[attr-defined]
    (export_dir / "disclosure_log.json").write_text(json.dumps(log, indent=2, sort_keys=True) + "\n")
    return log
