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

    def named_columns(self) -> list[str]:
        """Every column the metadata names as a value or a count."""
        return [*self.counts, *(c for v in self.counts.values() for c in v), *self.count_columns]

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


def value_columns(frame: Any, exclude: Iterable[str] = (), prefixes: tuple[str, ...] = ()) -> list[str]:
    """The numeric, non-boolean columns of ``frame`` (the values whose counts are
    checked), except those in ``exclude`` or starting with one of ``prefixes``."""
    skip = set(exclude)
    return [
        c
        for c, dtype in zip(frame.columns, frame.dtypes, strict=True)
        if getattr(dtype, "kind", "O") in "iufc" and c not in skip and not str(c).startswith(prefixes)
    ]


__all__ = ["KINDS", "Aggregate", "AggregateMeta", "value_columns"]
