"""The outcome panel: yearly outcomes of matched units around their start year.

For every matched unit (a treated person, or a control in the cohort of the
treated it was matched to) the panel holds one row per year relative to the
cohort's start year (``rel_year`` = calendar year − cohort; 0 = start year), for
the configured window (default −5 … +7).

Rules (documented in docs/effects.md):

* A year after the last data year has no row (missing, not zero).
* Death or emigration ends a person's panel: from the first year after the year
  before start in which the person is not resident at year end, no later rows.
* Before start, a year in which the person was not resident (e.g. immigrated later)
  has no row.
* ``<outcome>_pre`` is the outcome in the year before start (rel_year −1), a
  time-invariant column used as a control in the effect regressions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .panel import yearly_variables
from .registers import TableSource


def person_year_outcomes(
    sources: Mapping[str, TableSource], persons: np.ndarray, years: Sequence[int], outcomes: Sequence[str] | None = None
) -> pd.DataFrame:
    """Yearly outcomes (pnr, year, outcomes…) of ``persons`` for resident person-years."""
    from .panel import YEARLY_OUTCOMES

    yv = yearly_variables(sources, years, persons=persons, background=False)
    return yv[["pnr", "year", *(outcomes or YEARLY_OUTCOMES)]]


def build_outcome_panel(
    person_years: pd.DataFrame,
    matched: pd.DataFrame,
    outcomes: Sequence[str],
    rel_years: tuple[int, int],
    last_data_year: int,
    unit_columns: Sequence[str] = (),
) -> pd.DataFrame:
    """Long panel (unit × rel_year) of outcomes for the matched units.

    Parameters
    ----------
    person_years
        Yearly outcomes per resident person-year (pnr, year, outcomes), e.g. from
        :func:`person_year_outcomes`.
    matched
        One row per matched unit with columns unit, pnr, cohort, treated, weight,
        the baseline outcomes (outcome values in the year before start, same
        names as ``outcomes``) and ``unit_columns`` (covariates) to carry along.
    """
    lo, hi = rel_years
    yv = person_years[["pnr", "year", *outcomes]]
    yv = yv[yv["year"] <= last_data_year]
    units = matched[["unit", "pnr", "cohort", "treated", "weight"]]
    rows = units.merge(yv, on="pnr", how="inner")
    rows["rel_year"] = rows["year"] - rows["cohort"]
    rows = rows[(rows["rel_year"] >= lo) & (rows["rel_year"] <= hi)]
    # death/emigration ends the panel: first non-resident year after t-1
    present = rows[rows["rel_year"] >= -1][["unit", "rel_year"]]
    first_gap = _first_gap(present, hi, matched, last_data_year)
    end = rows["unit"].map(first_gap)
    rows = rows[rows["rel_year"] < end.to_numpy()]
    base = matched[["unit", *outcomes, *unit_columns]].rename(columns={o: f"{o}_pre" for o in outcomes})
    panel = rows.merge(base, on="unit", how="left").drop(columns=["year"])
    panel = panel.rename(columns={"pnr": "person_id"})
    return panel.sort_values(["unit", "rel_year"], kind="stable").reset_index(drop=True)


def _first_gap(present: pd.DataFrame, hi: int, matched: pd.DataFrame, last_data_year: int) -> pd.Series:
    """Per unit, the first relative year >= -1 without a row (hi + 1 if none).

    Rows that stop because the data end are not gaps: they simply have no later
    rows, and the panel is not cut.
    """
    present = present.sort_values(["unit", "rel_year"], kind="stable")
    expected = present.groupby("unit", sort=False).cumcount().to_numpy() - 1
    gap = present["rel_year"].to_numpy() != expected
    first = (
        pd.Series(expected[gap], index=present["unit"].to_numpy()[gap]).groupby(level=0).min()
    )
    out = pd.Series(hi + 1, index=matched["unit"].to_numpy(), dtype=np.int64)
    out.loc[first.index] = first.to_numpy()
    out[~out.index.isin(present["unit"].unique())] = -1
    return out


def panel_counts(panel: pd.DataFrame) -> pd.DataFrame:
    """Persons remaining in each group per relative year (attrition table)."""
    g = panel.groupby(["rel_year", "treated"])["person_id"].nunique().unstack(fill_value=0)
    g = g.rename(columns={0: "n_control", 1: "n_treated"}).reset_index()
    for c in ("n_treated", "n_control"):
        if c not in g:
            g[c] = 0
    return g[["rel_year", "n_treated", "n_control"]]
