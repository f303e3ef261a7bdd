"""Primary suppression of one aggregate table: the rules an output checker applies to
each cell on its own (docs/disclosure.md, "Rules").

:func:`primary` returns a :class:`TableState`: the table, a mask of suppressed cells
and, per suppressed cell, the rule that suppressed it. Secondary suppression across
the linked tables of a release is :mod:`regeval.disclosure.linear`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from regeval.disclosure.meta import HIDDEN_PREFIX, AggregateMeta, dominance_columns
from regeval.disclosure.rules import Rules
from regeval.errors import DisclosureError

FORBIDDEN = (
    "pnr", "cpr", "person_id", "person", "unit_id", "deltager_id", "participant_id", "subclass", "score", "ps",
    "logit", "propensity_score", "residual", "treated_id", "control_id",
)
"""Column names of person ids or per-person values: a table holding one fails."""

ORDER_STATISTIC = re.compile(r"^(.*_)?(min|max|minimum|maximum|median|p\d{1,2}|q[1-3]|percentile\w*)$", re.I)
"""Column names of order statistics (a real person's value)."""


@dataclass
class TableState:
    """One table of a release during the check: the data (hidden columns included),
    its metadata, which cells are suppressed and why."""

    frame: pd.DataFrame
    meta: AggregateMeta
    source: str
    mask: pd.DataFrame
    reason: pd.DataFrame
    spec: str | None = None
    primary_cells: int = 0
    notes: list[str] = field(default_factory=list)

    def suppress(self, rows: pd.Series | np.ndarray | list[int], column: str, why: str) -> int:
        """Suppress ``column`` in ``rows`` (a boolean mask or row positions) with reason
        ``why``; returns how many cells were newly suppressed."""
        current = self.mask[column].to_numpy()
        if isinstance(rows, (pd.Series, np.ndarray)) and np.asarray(rows).dtype == bool:
            sel = np.asarray(rows, dtype=bool)
        else:
            sel = np.zeros(len(current), dtype=bool)
            sel[list(rows)] = True
        new = sel & ~current
        n = int(new.sum())
        if n:
            self.mask[column] = current | new
            reasons = self.reason[column].to_numpy(dtype=object).copy()
            reasons[new] = why
            self.reason[column] = reasons
        return n

    def count(self, column: str) -> pd.Series:
        return pd.to_numeric(self.frame[column], errors="coerce")

    def number(self, row: int, column: str) -> float:
        """The value of a cell as a float (NaN if not a number), from a per-column cache."""
        cache = self.__dict__.setdefault("_numbers", {})
        if column not in cache:
            cache[column] = pd.to_numeric(self.frame[column], errors="coerce").to_numpy(dtype=float)
        return float(cache[column][row])


def find_person_ids(frame: pd.DataFrame, person_ids: np.ndarray | None) -> list[tuple[str, object]]:
    """Cells of ``frame`` whose value equals a person id (column, example value)."""
    if person_ids is None or len(person_ids) == 0:
        return []
    ids = pd.Index(pd.unique(np.asarray(person_ids)))
    hits = []
    for c in frame.columns:
        col = frame[c]
        if pd.api.types.is_bool_dtype(col) or str(c).startswith(HIDDEN_PREFIX):
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


def refuse_unsafe(frame: pd.DataFrame, meta: AggregateMeta, where: str, person_ids: np.ndarray | None) -> None:
    """Fail (naming table and columns) where suppression cannot make a table safe."""
    bad = [c for c in frame.columns if str(c).lower() in FORBIDDEN]
    if bad:
        raise DisclosureError(
            f"{where}: column(s) {bad} hold person ids or per-person values and may never be exported"
        )
    order_stats = [
        c for c in frame.columns
        if ORDER_STATISTIC.match(str(c)) and not str(c).startswith(HIDDEN_PREFIX) and c not in meta.order_stats
        and c not in {*meta.count_columns, *(x for v in meta.counts.values() for x in v), *meta.order_stats.values()}
    ]
    if order_stats:
        raise DisclosureError(
            f"{where}: column(s) {order_stats} look like minima, maxima, medians or percentiles, which are "
            f"real persons' values; declare the count of persons sharing each value in the table's "
            f"metadata (order_stats) or leave them out"
        )
    hits = find_person_ids(frame, person_ids)
    if hits:
        raise DisclosureError(
            f"{where}: column(s) {[h[0] for h in hits]} contain person ids "
            f"(e.g. a value of column {hits[0][0]!r} equals a person id); the table may not be exported"
        )
    if meta.kind in ("descriptive", "flow", "distribution") and not (meta.counts or meta.count_columns):
        raise DisclosureError(f"{where}: a {meta.kind} table must declare the person counts its cells rest on")


def primary(
    frame: pd.DataFrame, meta: AggregateMeta, rules: Rules, source: str = "",
    person_ids: np.ndarray | None = None, spec: str | None = None,
) -> TableState:
    """Check one table cell by cell (threshold, zeros, all-or-nothing shares, order
    statistics, dominance, degrees of freedom, small differences in flows)."""
    where = f"{source or meta.name} (table {meta.name!r})"
    refuse_unsafe(frame, meta, where, person_ids)
    out = frame.reset_index(drop=True)
    state = TableState(
        out, meta, source, pd.DataFrame(False, index=out.index, columns=out.columns),
        pd.DataFrame("", index=out.index, columns=out.columns), spec,
    )
    t = int(rules.min_persons)

    def small(v: pd.Series) -> pd.Series:
        hit = (v > 0) & (v < t)
        if rules.zeros_are_disclosive:
            hit |= v == 0
        return hit.fillna(False)

    for c in meta.count_columns:
        state.suppress(small(state.count(c)), c, f"threshold: count below {t}")
    for value_col, count_cols in meta.counts.items():
        for cc in count_cols:
            state.suppress(small(state.count(cc)), value_col, f"threshold: rests on {cc} below {t}")
    if rules.all_or_nothing:
        _all_or_nothing(state)
    for value_col, sharing in meta.order_stats.items():
        v = state.count(sharing)
        state.suppress((v < t).fillna(True), value_col, f"order statistic shared by fewer than {t} persons")
    for value_col in meta.dominance:
        _dominance(state, value_col, rules)
    if meta.model_columns:
        dof = state.count(f"{HIDDEN_PREFIX}dof")
        for c in meta.model_columns:
            why = f"fewer than {rules.min_dof} residual degrees of freedom"
            state.suppress((dof < rules.min_dof).fillna(True), c, why)
    _differences(state, t)
    _row_chains(state, t)
    state.primary_cells = int(state.mask.to_numpy().sum())
    return state


def _all_or_nothing(state: TableState) -> None:
    """A set (share, k, nk) where nobody lacks the characteristic (nk = 0 < k): every
    person of the group has it."""
    for cells in state.meta.cell_sets:
        for nk in [c for c in cells if str(c).startswith("nk") and c in state.frame]:
            k = nk[1:]
            if k not in state.frame:
                continue
            hit = ((state.count(nk) == 0) & (state.count(k) > 0)).fillna(False)
            for c in cells:
                if c in state.frame:
                    state.suppress(hit, c, "all-or-nothing: every person of the group has it")


def _dominance(state: TableState, column: str, rules: Rules) -> None:
    top1_c, top2_c, total_c = dominance_columns(column)
    top1, top2, total = state.count(top1_c).fillna(0), state.count(top2_c).fillna(0), state.count(total_c).fillna(0)
    if rules.nk_n > 2:
        raise DisclosureError(f"disclosure.nk_n = {rules.nk_n}: the tables keep the two largest contributions only")
    top_n = top1 if rules.nk_n == 1 else top1 + top2
    nk = (total > 0) & (top_n > rules.nk_k * total)
    p = (total > 0) & (total - top1 - top2 < rules.p_percent / 100.0 * top1)
    state.suppress(nk, column, f"dominance: ({rules.nk_n}, {rules.nk_k:.0%}) rule")
    state.suppress(p & ~nk, column, f"dominance: p % rule (p = {rules.p_percent:g})")


def _differences(state: TableState, t: int) -> None:
    """In a flow (each count a subset of the previous), a small difference between two
    published counts is a small cell: suppress the later count."""
    for chain in state.meta.differences:
        cols = [c for c in chain if c in state.frame.columns]
        for i in state.frame.index:
            last = None
            for c in cols:
                if state.mask.at[i, c] or pd.isna(state.frame.at[i, c]):
                    continue
                v = float(state.frame.at[i, c])
                if last is not None and 0 < last - v < t:
                    state.suppress([i], c, f"difference: fewer than {t} persons between this count and an earlier one")
                    continue
                last = v


def _row_chains(state: TableState, t: int) -> None:
    """A small change between consecutive rows of a chain (persons entering or
    leaving): suppress the later count."""
    for chain in state.meta.row_chains:
        by = [c for c in chain.get("by", []) if c in state.frame.columns]
        order = chain["order"]
        for c in chain["cells"]:
            groups = state.frame.groupby(by, sort=False).groups.values() if by else [state.frame.index]
            for idx in groups:
                last = None
                for i in state.frame.loc[list(idx)].sort_values(order).index:
                    if state.mask.at[i, c] or pd.isna(state.frame.at[i, c]):
                        continue
                    v = float(state.frame.at[i, c])
                    if last is not None and 0 < abs(v - last) < t:
                        state.suppress([i], c, f"difference: changes by fewer than {t} persons from the row before")
                        continue
                    last = v


__all__ = ["FORBIDDEN", "ORDER_STATISTIC", "TableState", "find_person_ids", "primary", "refuse_unsafe"]
