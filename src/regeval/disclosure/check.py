"""Statistical disclosure control of every exported table (method.md §5, docs/disclosure.md).

A *release* is every table exported together: the checker sees them all at once. For
each table the cell rules (:mod:`regeval.disclosure.primary`: threshold, zeros,
all-or-nothing shares, order statistics, dominance, degrees of freedom, small
differences in flows) suppress unsafe cells; cells that reveal each other are then
suppressed together (cell sets within a row, row sets, linked cells), and secondary
suppression across the release's linear relations (:mod:`regeval.disclosure.linear`)
makes sure no suppressed count can be derived to within the threshold. A suppressed
cell becomes missing (empty in CSV) and the row's ``suppressed`` column names the
suppressed columns. Where suppression would not be safe (an id column, a table
without its counts), the run fails naming file, table and cell.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from regeval.disclosure.aggregates import AggregateMeta, read_aggregate
from regeval.disclosure.linear import Model, audit, secondary
from regeval.disclosure.meta import HIDDEN_PREFIX
from regeval.disclosure.primary import FORBIDDEN, ORDER_STATISTIC, TableState, find_person_ids, primary
from regeval.disclosure.rules import Rules

CELLS_FILE = "disclosure_cells.csv"
"""Written beside every checked export: one row per table and column (cell class)."""


@dataclass(frozen=True)
class DisclosureResult:
    table: pd.DataFrame
    suppressed_cells: int
    log: dict[str, object]
    state: TableState | None = None


def _close(state: TableState) -> int:
    """Cells that reveal each other, suppressed together within one table: cell sets
    (within a row), ``reveals`` (a suppressed count suppresses what would give it
    back), values resting on a suppressed small count, row sets."""
    meta, mask, n = state.meta, state.mask, 0
    for cells in meta.cell_sets:
        cols = [c for c in cells if c in mask.columns]
        if cols:
            anym = mask[cols].any(axis=1)
            for c in cols:
                n += state.suppress(anym, c, f"cell set: revealed by the suppressed {'/'.join(cols)}")
    for col, others in meta.reveals.items():
        if col in mask.columns:
            for c in others:
                if c in mask.columns:
                    n += state.suppress(mask[col], c, f"would reveal the suppressed {col}")
    for row_set in meta.row_sets:
        by = [c for c in row_set["by"] if c in state.frame.columns]
        if not by:
            continue
        groups = state.frame[by].astype(str).agg("|".join, axis=1)
        for c in row_set["columns"]:
            if c not in mask.columns or not mask[c].any():
                continue
            hit = groups.isin(set(groups[mask[c]]))
            n += state.suppress(hit, c, f"row set: suppressed in another row of the same {', '.join(by)}")
    return n


def _derived(states: Sequence[TableState]) -> int:
    """Values computed from another table's cells (``derived_from``): suppressed when
    any of those cells is."""
    n = 0
    for st in states:
        for d in st.meta.derived_from:
            sources = [o for o in states if o.meta.name == d["table"] and o.spec == st.spec]
            for src in sources:
                col = d["column"]
                if col not in src.mask.columns:
                    continue
                hidden = src.frame[src.mask[col]]
                if hidden.empty:
                    continue
                for i in st.frame.index:
                    sel = pd.Series(True, index=hidden.index)
                    for there, here in dict(d.get("match", {})).items():
                        sel &= hidden[there].astype(str) == str(st.frame.at[i, here])
                    if d.get("between"):
                        there, lo, hi = d["between"]
                        v = pd.to_numeric(hidden[there], errors="coerce")
                        sel &= (v >= float(st.frame.at[i, lo])) & (v <= float(st.frame.at[i, hi]))
                    if sel.any():
                        for c in d["columns"]:
                            if c in st.mask.columns:
                                n += st.suppress([i], c, f"derived from suppressed {d['table']}.{col}")
    return n


def check_release(
    tables: Sequence[tuple[pd.DataFrame, AggregateMeta, str, str | None]],
    rules: Rules | int,
    person_ids: np.ndarray | None = None,
) -> tuple[list[DisclosureResult], Model | None]:
    """Check the tables of one release together: ``(frame, meta, source, spec)`` each.
    Returns the checked tables (in order) and the linear model of their linked counts."""
    rules = Rules.from_mapping(rules) if not isinstance(rules, Rules) else rules
    states = [primary(f, m, rules, src, person_ids, spec) for f, m, src, spec in tables]
    model = None
    for _ in range(20):
        changed = sum(_close(s) for s in states) + _derived(states)
        if rules.secondary:
            before = sum(int(s.mask.to_numpy().sum()) for s in states)
            model = secondary(states, rules.min_persons)
            changed += sum(int(s.mask.to_numpy().sum()) for s in states) - before
        if changed == 0:
            break
    return [_result(s, rules) for s in states], model


def _result(state: TableState, rules: Rules) -> DisclosureResult:
    mask = state.mask
    visible = [c for c in state.frame.columns if not str(c).startswith(HIDDEN_PREFIX)]
    out = state.frame[visible].copy()
    for c in visible:
        if mask[c].any():
            col = out[c]
            out[c] = col.astype(object).where(~mask[c], None) if col.dtype == object else col.where(~mask[c], np.nan)
    out["suppressed"] = [", ".join(c for c in visible if row[c]) for _, row in mask[visible].iterrows()]
    total = int(mask[visible].to_numpy().sum())
    log = {
        "table": state.meta.name,
        "rows": int(len(out)),
        "min_persons": int(rules.min_persons),
        "suppressed_cells": total,
        "primary": int(state.primary_cells),
        "secondary": total - int(state.primary_cells),
    }
    return DisclosureResult(out, total, log, state)


def check_table(
    frame: pd.DataFrame,
    meta: AggregateMeta,
    min_persons: int | Rules,
    source: str = "",
    person_ids: np.ndarray | None = None,
) -> DisclosureResult:
    """Check one aggregate on its own (a release of one table) and suppress unsafe
    cells, or raise DisclosureError. ``person_ids``: the ids of every person in the
    analysis; a cell holding one of them fails the check."""
    results, _ = check_release([(frame, meta, source, None)], min_persons, person_ids)
    return results[0]


def cell_records(results: Sequence[DisclosureResult]) -> pd.DataFrame:
    """One row per exported table and column (cell class): the persons behind its
    published cells, the rules applied and the cells suppressed by each (the
    machine-readable part of the checker's report)."""
    rows: list[dict[str, Any]] = []
    for res in results:
        st = res.state
        if st is None:
            continue
        for c in res.table.columns:
            if c == "suppressed" or c not in st.mask.columns:
                continue
            rows.append(_cell_class(st, c))
    return pd.DataFrame(rows)


def _cell_class(st: TableState, c: str) -> dict[str, Any]:
    meta = st.meta
    counts = list(meta.counts.get(c, []))
    is_count = c in meta.count_columns
    if is_count:
        behind = pd.to_numeric(st.frame[c], errors="coerce")
    elif counts:
        behind = pd.concat([pd.to_numeric(st.frame[k], errors="coerce") for k in counts], axis=1).min(axis=1)
    else:
        behind = pd.Series(np.nan, index=st.frame.index)
    published = ~st.mask[c]
    pub_behind = behind[published & behind.gt(0)]
    rules = ["person ids", "forbidden names"]
    if is_count:
        rules.append("threshold (count)")
    if counts:
        rules.append(f"threshold on {', '.join(counts)}")
    if c in meta.dominance:
        rules.append("dominance (p %, (n, k))")
    if c in meta.order_stats:
        rules.append(f"order statistic shared by ≥ threshold ({meta.order_stats[c]})")
    if c in meta.model_columns:
        rules.append("residual degrees of freedom")
    if any(c in g.get("cells", []) for g in meta.secondary) or any(c in ch for ch in meta.differences):
        rules.append("secondary suppression (linear audit)")
    reasons = st.reason.loc[st.mask[c], c].value_counts()
    valued = counts or c in meta.model_columns
    kind = "count" if is_count else ("magnitude" if c in meta.dominance else ("value" if valued else "label"))
    return {
        "spec": st.spec or "",
        "table": meta.name,
        "column": c,
        "cell_class": kind,
        "cells": int(len(st.frame)),
        "published": int(published.sum()),
        "suppressed": int(st.mask[c].sum()),
        "min_persons_behind_published": float(pub_behind.min()) if len(pub_behind) else np.nan,
        "rules": "; ".join(rules),
        "suppressed_why": "; ".join(f"{n} × {r}" for r, n in reasons.items()),
    }


def check_files(
    aggregate_paths: Iterable[str | Path],
    rules: Rules | int,
    person_ids: np.ndarray | None = None,
    spec: str | None = None,
) -> tuple[dict[str, tuple[AggregateMeta, DisclosureResult]], Model | None]:
    """Read aggregates and check them together (one release); by table name.

    With ``spec``, every table gets a first column ``spec`` (so tables of several specs
    concatenate)."""
    rules = Rules.from_mapping(rules) if not isinstance(rules, Rules) else rules
    tables = []
    for path in aggregate_paths:
        frame, meta = read_aggregate(path)
        if spec is not None:
            # shared tables are labelled with the spec they are exported for
            frame = frame.drop(columns=["spec"], errors="ignore")
            frame.insert(0, "spec", spec)
        tables.append((frame, meta, str(path), spec))
    results, model = check_release(tables, rules, person_ids)
    return {meta.name: (meta, res) for (_, meta, _, _), res in zip(tables, results, strict=True)}, model


def write_checked(
    checked: dict[str, tuple[AggregateMeta, DisclosureResult]],
    export_dir: str | Path,
    rules: Rules,
    model: Model | None = None,
) -> dict[str, object]:
    """Write checked tables as CSV and Parquet with the disclosure log (hidden columns
    were dropped by the check)."""
    export_dir = Path(export_dir)
    export_dir.mkdir(parents=True, exist_ok=True)
    tables: list[dict[str, object]] = []
    log: dict[str, object] = {"min_persons": int(rules.min_persons), "rules": rules.to_dict(), "tables": tables}
    for meta, res in checked.values():
        res.table.to_parquet(export_dir / f"{meta.name}.parquet", index=False)
        res.table.to_csv(export_dir / f"{meta.name}.csv", index=False, float_format="%.10g")
        tables.append({**res.log, "title": meta.title, "kind": meta.kind})
    if model is not None:
        rows = audit(model, model.states, rules.min_persons)
        log["audit"] = {"sensitive": len(rows), "protected": sum(bool(r["protected"]) for r in rows)}
    (export_dir / "disclosure_log.json").write_text(json.dumps(log, indent=2, sort_keys=True) + "\n")
    # the checker's cell classes (no value of a suppressed cell, no count below the threshold)
    cell_records([res for _, res in checked.values()]).to_csv(
        export_dir / CELLS_FILE, index=False, float_format="%.10g"
    )
    return log


def export_tables(
    aggregate_paths: Iterable[str | Path],
    export_dir: str | Path,
    min_persons: int | Rules,
    person_ids: np.ndarray | None = None,
    spec: str | None = None,
) -> dict[str, object]:
    """Check every aggregate together (one release) and write it, suppressed, as CSV
    and Parquet, with the disclosure log.

    Nothing is written unless every table passes (the run fails otherwise, naming
    the file, table and cell). Returns the disclosure log.
    """
    rules = Rules.from_mapping(min_persons) if not isinstance(min_persons, Rules) else min_persons
    checked, model = check_files(aggregate_paths, rules, person_ids, spec)
    return write_checked(checked, export_dir, rules, model)


__all__ = [
    "CELLS_FILE", "FORBIDDEN", "ORDER_STATISTIC", "DisclosureResult", "cell_records", "check_files",
    "check_release", "check_table", "export_tables", "find_person_ids", "write_checked",
]
