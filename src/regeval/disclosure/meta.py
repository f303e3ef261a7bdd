"""What an aggregate table is and which person counts its cells rest on.

Plain data with no dependency but :mod:`regeval.errors`, so that every layer that
computes a statistic meant for export (stats, population, budget) declares its
disclosure metadata right where it builds the table, and returns the two together as
an :class:`Aggregate`. Reading and writing them is :mod:`regeval.disclosure.aggregates`;
checking them before export is :mod:`regeval.disclosure.check`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from regeval.errors import DisclosureError

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
        Groups of rows whose counts add up to a total a reader may know: ``{"by":
        [columns identifying the group], "cells": [count columns]}`` (rows with an empty
        key belong to no group); optional ``"weights": [published columns]`` (the cells
        also add up weighted, e.g. citizens × unit cost) and ``"total": link key`` (the
        total is known only where a linked cell publishes it; without, it is assumed
        known). Secondary suppression
        (:mod:`regeval.disclosure.linear`) makes sure no suppressed count can be
        derived from the total and the published rest.
    differences
        Chains of count columns where each is a subset of the previous one (a flow):
        a difference between two published counts below the threshold suppresses
        the later count.
    row_chains
        Count columns that form a chain along ordered rows (``{"by": [group columns],
        "order": column, "cells": [count columns]}``; e.g. persons with data in each
        year relative to start): the change from one row to the next counts persons
        (who entered or left), so it is a cell like any other.
    links
        The same count in several tables of a release (``{"column": count column,
        "key": name, "by": {name: column}, "where": {column: value}}``): cells with the
        same key and key values, and the same value, are one cell, suppressed in every
        table or in none.
    row_sets
        Rows that reveal each other (``{"by": ["outcome", "rel_year"], "columns":
        ["mean"]}``: the treated and control rows of one effect): a listed column
        suppressed in one row of a set is suppressed in every row of it.
    derived_from
        Values computed from cells of another table of the release (``{"table":
        "effects", "column": "estimate", "match": {column there: column here},
        "between": [column there, first, last], "columns": [columns here]}``: a window's
        average of yearly effects): suppressed when any cell they are computed from is.
    row_sums
        ``[count, [parts]]``: within a row the count equals the sum of the parts
        (``["n_treated", ["k_treated", "nk_treated"]]``).
    reveals
        Column -> columns that would reveal it (with the table's other cells) and are
        suppressed whenever it is (``n_treated`` -> ``k_treated``, ``nk_treated``: the
        mean is k / n).
    order_stats
        Value column -> the column counting the persons who share that value (a
        maximum, minimum, median or percentile is a real person's value).
    dominance
        Magnitude value columns (sums or means of kr, hours ...) checked with the
        dominance rules; the table carries hidden columns ``_sdc_top1_<col>``,
        ``_sdc_top2_<col>`` and ``_sdc_total_<col>`` (largest, second-largest and total
        contribution), which never leave the machine.
    model_columns
        Columns of model output checked against the residual degrees of freedom in
        the hidden column ``_sdc_dof``.
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
    row_chains: Sequence[Mapping[str, Any]] = ()
    links: Sequence[Mapping[str, Any]] = ()
    row_sets: Sequence[Mapping[str, Sequence[str]]] = ()
    derived_from: Sequence[Mapping[str, Any]] = ()
    row_sums: Sequence[Sequence[Any]] = ()
    reveals: Mapping[str, Sequence[str]] = field(default_factory=dict)
    order_stats: Mapping[str, str] = field(default_factory=dict)
    dominance: Sequence[str] = ()
    model_columns: Sequence[str] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise DisclosureError(f"aggregate {self.name!r}: kind {self.kind!r} not in {KINDS}")

    def named_columns(self) -> list[str]:
        """Every column the metadata names as a value or a count."""
        return [
            *self.counts, *(c for v in self.counts.values() for c in v), *self.count_columns,
            *self.order_stats, *self.order_stats.values(), *self.dominance, *self.model_columns,
            *(c for d in self.dominance for c in dominance_columns(d)),
            *(["_sdc_dof"] if self.model_columns else []),
        ]

    def check_columns(self, columns: Iterable[Any]) -> None:
        """Raise :class:`DisclosureError` if the metadata names a column the table lacks."""
        have = list(columns)
        missing = sorted(set(self.named_columns()) - set(have))
        if missing:
            raise DisclosureError(
                f"aggregate {self.name!r}: metadata names column(s) {missing} "
                f"that the table does not have ({have})"
            )


@dataclass(frozen=True)
class Aggregate:
    """A table meant for export (a pandas DataFrame) with its disclosure metadata.

    Library functions that compute an exportable statistic return one; the metadata is
    checked against the table's columns when it is made, so a column named in the
    metadata cannot go missing unnoticed.
    """

    frame: Any  # pandas.DataFrame (not imported: this module has no dependencies)
    meta: AggregateMeta

    def __post_init__(self) -> None:
        self.meta.check_columns(self.frame.columns)

    @property
    def name(self) -> str:
        return self.meta.name


HIDDEN_PREFIX = "_sdc_"
"""Columns starting with this stay inside: they serve the check (largest contributions,
degrees of freedom) and are dropped before a table is exported."""


def dominance_columns(column: str) -> tuple[str, str, str]:
    """The hidden columns of a magnitude column: largest and second-largest contribution
    and the total of the absolute contributions."""
    return (f"{HIDDEN_PREFIX}top1_{column}", f"{HIDDEN_PREFIX}top2_{column}", f"{HIDDEN_PREFIX}total_{column}")


def top_contributions(values: Any, weights: Any = None) -> tuple[float, float, float]:
    """Largest, second-largest and total absolute contribution ``|weight × value|`` of
    the persons behind a magnitude cell (NaN values left out)."""
    import numpy as np

    v = np.abs(np.asarray(values, dtype=float))
    if weights is not None:
        v = v * np.abs(np.asarray(weights, dtype=float))
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return 0.0, 0.0, 0.0
    top = np.sort(v)[::-1]
    return float(top[0]), float(top[1]) if len(top) > 1 else 0.0, float(v.sum())


def value_columns(frame: Any, exclude: Iterable[str] = (), prefixes: tuple[str, ...] = ()) -> list[str]:
    """The numeric, non-boolean columns of ``frame`` (the values whose counts are
    checked), except those in ``exclude`` or starting with one of ``prefixes``."""
    skip = set(exclude)
    return [
        c
        for c, dtype in zip(frame.columns, frame.dtypes, strict=True)
        if getattr(dtype, "kind", "O") in "iufc" and c not in skip and not str(c).startswith((*prefixes, HIDDEN_PREFIX))
    ]


__all__ = [
    "HIDDEN_PREFIX", "KINDS", "Aggregate", "AggregateMeta", "dominance_columns", "top_contributions", "value_columns",
]
