"""The release: everything one run exports, audited together, and the checker's report
(docs/disclosure.md, "Release model").

Each spec's export (and the business case's) is checked as one release of its own
tables (:func:`regeval.disclosure.check.check_release`). :func:`audit_release` then
looks at all of them at once, as a reader of the whole ``export/`` tree would: it reads
every exported table beside the aggregate it was made from (which stays inside),
treats the same cell in several specs (same table, row and column, same value) as one
cell, and verifies that

* no exported count is a small cell, and no exported table has a column of hidden
  contributions or person ids (the per-table rules were applied), and
* no suppressed small count, and no small difference in a flow or chain, can be
  derived to within the threshold from everything published in the release, by any
  linear combination of the relations a reader knows (:mod:`regeval.disclosure.linear`),
  across tables and across specs.

It fails, naming the cells, if either does not hold. :func:`write_report` writes the
checker's report: one row per exported table and column (cell class) with the persons
behind its published cells, the rules applied and what was suppressed and why, and
the audit of every sensitive quantity (its derivable range, never its value).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from regeval.disclosure.aggregates import read_aggregate
from regeval.disclosure.linear import audit, build_model
from regeval.disclosure.meta import HIDDEN_PREFIX, AggregateMeta
from regeval.disclosure.primary import TableState
from regeval.disclosure.rules import Rules
from regeval.errors import DisclosureError

NOT_KEYS = {"spec", "suppressed", "stars", "note", "baseline_note", "dropped", "vcov", "reason", "title"}
"""Columns that do not identify a row (for finding the same cell in several specs)."""


def _mask(exported: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    mask = pd.DataFrame(False, index=exported.index, columns=list(columns))
    for i, names in exported.get("suppressed", pd.Series("", index=exported.index)).fillna("").items():
        for name in [n.strip() for n in str(names).split(",") if n.strip()]:
            if name in mask.columns:
                mask.at[i, name] = True
    return mask


def _row_key(frame: pd.DataFrame, meta: AggregateMeta) -> list[str]:
    named = set(meta.named_columns())
    return [
        c for c in frame.columns
        if c not in named and c not in NOT_KEYS and not str(c).startswith(HIDDEN_PREFIX)
    ]


def load_state(inside: str | Path, exported: str | Path, spec: str | None) -> TableState:
    """A table of the release as published: the aggregate (inside) with the mask of the
    cells its export left empty."""
    frame, meta = read_aggregate(inside)
    frame = frame.drop(columns=["spec"], errors="ignore").reset_index(drop=True)
    if spec is not None:
        frame.insert(0, "spec", spec)
    out = pd.read_parquet(exported)
    if len(out) != len(frame):
        raise DisclosureError(f"{exported}: {len(out)} rows but its aggregate {inside} has {len(frame)}")
    visible_hidden = [c for c in out.columns if str(c).startswith(HIDDEN_PREFIX)]
    if visible_hidden:
        raise DisclosureError(f"{exported}: exports hidden column(s) {visible_hidden}")
    mask = _mask(out, frame.columns)
    # the same cell in several specs is one cell: link every count by table, row and column
    key = _row_key(frame, meta)
    links = [*meta.links, *({"column": c, "key": f"{meta.name}.{c}", "by": {k: k for k in key}}
                           for c in meta.count_columns)]
    meta = replace(meta, links=tuple(links))
    reasons = pd.DataFrame("", index=frame.index, columns=frame.columns)
    return TableState(frame, meta, str(exported), mask, reasons, spec)


def audit_release(states: Sequence[TableState], rules: Rules) -> pd.DataFrame:
    """Audit a release (see the module's docstring); returns one row per sensitive
    quantity (its derivable range, whether it is protected) and raises
    :class:`DisclosureError` naming what is not."""
    t = rules.min_persons
    small = []
    for st in states:
        for c in st.meta.count_columns:
            v = st.count(c)
            hit = (v > 0) & (v < t) & ~st.mask[c]
            if hit.any():
                small.append(f"{st.source}: {c} = {v[hit].iloc[0]:g}")
    if small:
        raise DisclosureError(f"release: {len(small)} published count(s) below {t}, e.g. {small[:5]}")
    model = build_model(states, t)
    rows = audit(model, states, t) if rules.secondary else []
    bad = [r for r in rows if not r["protected"]]
    if bad:
        raise DisclosureError(
            f"release: {len(bad)} suppressed quantity(ies) can be derived to within {t} persons from the "
            f"published tables of the release, e.g. {[r['quantity'] for r in bad[:5]]}"
        )
    table = pd.DataFrame(rows, columns=["quantity", "persons", "derivable_from", "derivable_to", "protected"])
    # the report names the quantity and what a reader can derive, never its value
    return table.drop(columns=["persons"])


def write_report(
    cells: pd.DataFrame, audit_table: pd.DataFrame, rules: Rules, html_path: str | Path, csv_path: str | Path,
    audit_path: str | Path, title: str = "Disclosure control of the release",
) -> None:
    """The checker's report: ``cells`` (one row per exported table and column, from the
    exports' ``disclosure_cells.csv``) and the release audit, as HTML and CSV."""
    cells.to_csv(csv_path, index=False, float_format="%.10g")
    audit_table.to_csv(audit_path, index=False, float_format="%.10g")
    by_table = (
        cells.groupby(["spec", "table"], sort=False)
        .agg(columns=("column", "size"), cells=("cells", "sum"), suppressed=("suppressed", "sum"))
        .reset_index()
    )
    rule_text = _rules_text(rules)
    protected = int(audit_table["protected"].sum()) if len(audit_table) else 0
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        "<p>Everything under <code>results/*/export/</code> of this run is one release. Every exported "
        "table was checked cell by cell and then with all tables of its spec together; this report "
        "covers all specs, the sweep summary and the business case together.</p>",
        "<h2>Rules applied</h2>", rule_text,
        "<h2>Audit of the release</h2>",
        f"<p>{len(audit_table)} suppressed small counts and small differences (in flows and year-to-year "
        f"chains) were checked by linear programming against every relation a reader knows (margins, totals, "
        f"flows, the same count in several tables and specs, citizens × unit cost): {protected} of them "
        f"cannot be narrowed to fewer than {rules.min_persons} persons. No published count is below "
        f"{rules.min_persons}. The smallest derivable range of each is listed in "
        f"<code>{Path(audit_path).name}</code>.</p>",
        "<h2>Tables</h2>", _html_table(by_table),
        "<h2>Cell classes</h2>",
        "<p>One row per exported table and column: the smallest number of persons behind a published cell, "
        "the rules applied and the cells suppressed by each rule (machine-readable: "
        f"<code>{Path(csv_path).name}</code>).</p>",
        _html_table(cells),
    ]
    style = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto}table{border-collapse:collapse;"
             "font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}")
    Path(html_path).write_text(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body>{''.join(parts)}</body></html>\n"
    )


def _rules_text(rules: Rules) -> str:
    items = [
        f"Threshold: a count of 1–{rules.min_persons - 1} persons, and any statistic resting on one, is suppressed"
        + ("; so is a count of zero" if rules.zeros_are_disclosive else "; zeros are published"),
        f"Dominance of magnitudes (kr, hours, contacts): p % rule with p = {rules.p_percent:g} and "
        f"({rules.nk_n}, {rules.nk_k:.0%}) rule, from the largest contributions (kept inside)",
        f"Order statistics (maxima, minima, medians, percentiles): published only when at least "
        f"{rules.min_persons} persons share the value",
        f"Model output: at least {rules.min_dof} residual degrees of freedom",
        "All-or-nothing shares (everyone in a group has the characteristic): "
        + ("suppressed" if rules.all_or_nothing else "published"),
        "Secondary suppression: linked cells (margins, flows, the same count in several tables and specs, "
        "means beside their estimate, citizens × unit cost) so that no suppressed count can be derived to "
        f"within {rules.min_persons} persons",
        "Person ids and per-person values never leave; a table holding one fails the run",
    ]
    return "<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>"


def _html_table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "" if np.isnan(v) else f"{v:.6g}"
    return str(v)


def release_states(
    parts: Mapping[str | None, Mapping[str, tuple[str | Path, str | Path]]],
) -> list[TableState]:
    """The tables of a release: per spec (``None`` for the business case) table
    name -> (aggregate inside, exported Parquet)."""
    return [
        load_state(inside, exported, spec) for spec, tables in parts.items() for inside, exported in tables.values()
    ]


__all__ = ["audit_release", "load_state", "release_states", "write_report"]
