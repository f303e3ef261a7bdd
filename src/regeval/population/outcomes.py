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

from regeval.population.panel import yearly_variables
from regeval.registers.read import TableSource


def person_year_outcomes(
    sources: Mapping[str, TableSource], persons: np.ndarray, years: Sequence[int], outcomes: Sequence[str] | None = None
) -> pd.DataFrame:
    """Yearly outcomes (pnr, year, outcomes…) of ``persons`` for resident person-years."""
    from regeval.population.panel import YEARLY_OUTCOMES

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
    # death/emigration ends the panel: first non-resident year after t-1 (also when
    # the window starts after t-1)
    present = rows[(rows["rel_year"] >= -1) & (rows["rel_year"] <= hi)][["unit", "rel_year"]]
    rows = rows[(rows["rel_year"] >= lo) & (rows["rel_year"] <= hi)]
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


def panel_counts(panel: pd.DataFrame, censoring: pd.DataFrame | None = None) -> pd.DataFrame:
    """Persons remaining in each group per relative year (attrition table).

    With ``censoring`` (from :func:`censor_at_start`) the table also counts the
    control persons whose rows end at their own start in that year.
    """
    g = panel.groupby(["rel_year", "treated"])["person_id"].nunique().unstack(fill_value=0)
    g = g.rename(columns={0: "n_control", 1: "n_treated"}).reset_index()
    for c in ("n_treated", "n_control"):
        if c not in g:
            g[c] = 0
    cols = ["rel_year", "n_treated", "n_control"]
    if censoring is not None:
        g = g.merge(censoring[["rel_year", *CENSOR_COUNTS]], on="rel_year", how="left")
        g[list(CENSOR_COUNTS)] = g[list(CENSOR_COUNTS)].fillna(0).astype(np.int64)
        cols += list(CENSOR_COUNTS)
    return g[cols]


CENSOR_COUNTS = ("n_control_censored", "n_censored_unmodelled")


def censor_at_start(
    panel: pd.DataFrame,
    first_start: pd.Series,
    hazards: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """End later participants' control rows at their own start; reweight the rest.

    The control rule ``censor_at_start`` (docs/effects.md, "Later participants")
    keeps people who start in a later year in the control pools of earlier cohorts,
    so that no control is selected on its future. A control's outcomes from its own
    start year on would contain the programme's effect, so those rows are removed
    (censored), and the controls still uncensored in relative year ``r`` stand in
    for the censored ones: each control row's weight is multiplied by
    ``1 / S``, with ``S = prod_{s = c+1}^{c+r} (1 - h_s)`` the estimated
    probability of not having started in any year after the cohort ``c`` up to
    ``c + r``, and ``h_s`` the person's start hazard in year ``s``: its propensity
    score as a unit of cohort ``s`` (under this rule the propensity model is a
    discrete-time hazard model: the controls of cohort ``s`` are exactly those at
    risk of starting in ``s``). A person-year outside the base population (no unit)
    has hazard 0. This is inverse probability of censoring weighting; it estimates
    the effect of starting against never starting, as ``never_participated`` aims
    to, under selection on what the registers show in the year before each start.

    Parameters
    ----------
    panel
        Output of :func:`build_outcome_panel` (unit, person_id, cohort, treated,
        weight, rel_year, …).
    first_start
        First start year per person id (participants only).
    hazards
        Columns pnr, cohort, score: the start hazard of every base-population unit.

    Returns
    -------
    (panel, censoring)
        The panel without censored rows and with reweighted control rows, and a
        table per relative year: control persons censored in that year
        (``n_control_censored``), censored without a modelled hazard
        (``n_censored_unmodelled``: they started outside the base population or
        outside the cohort years) and the mean and largest weight factor ``1/S``.
    """
    out = panel.copy()
    if out.empty:
        return out, pd.DataFrame(columns=["rel_year", *CENSOR_COUNTS, "weight_factor_mean", "weight_factor_max"])
    ctrl = out["treated"].to_numpy() == 0
    cal = (out["cohort"] + out["rel_year"]).to_numpy()
    fs = out["person_id"].map(first_start).to_numpy(dtype=float)
    censored = ctrl & (cal >= fs)
    # first censored row of each control unit (the rows of that unit from then on go)
    cens_rows = out.loc[censored, ["unit", "person_id", "cohort", "rel_year"]]
    first_cens = cens_rows.sort_values(["unit", "rel_year"], kind="stable").drop_duplicates("unit")

    # cumulative log survival per person and calendar year, over modelled start years
    # positions of the persons by hash lookup (linear for string ids too)
    persons = pd.Index(np.sort(out.loc[ctrl, "person_id"].unique()))
    hz = hazards[hazards["pnr"].isin(persons)]
    years = np.arange(int(out["cohort"].min()), int(cal.max()) + 1)
    grid = np.zeros((persons.size, years.size))
    pi = persons.get_indexer(hz["pnr"].to_numpy())
    inside = (hz["cohort"].to_numpy() >= years[0]) & (hz["cohort"].to_numpy() <= years[-1])
    yi = hz["cohort"].to_numpy()[inside] - years[0]
    h = np.clip(hz["score"].to_numpy(dtype=float)[inside], 0.0, 1.0 - 1e-12)
    grid[pi[inside], yi] = np.log1p(-h)
    cum = np.cumsum(grid, axis=1)
    factor = np.ones(len(out))
    use = ctrl & ~censored & (out["rel_year"].to_numpy() > 0)
    rp = persons.get_indexer(out.loc[use, "person_id"].to_numpy())
    log_s = cum[rp, cal[use] - years[0]] - cum[rp, out.loc[use, "cohort"].to_numpy() - years[0]]
    factor[use] = np.exp(-log_s)
    out["weight"] = out["weight"].to_numpy() * factor

    # hazard of the start year itself: modelled if the person had a unit in that year
    has_unit = pd.MultiIndex.from_frame(hazards[["pnr", "cohort"]].astype({"cohort": np.int64}))
    fc = first_cens.assign(start=(first_cens["person_id"].map(first_start)).astype(np.int64))
    modelled = pd.MultiIndex.from_arrays([fc["person_id"], fc["start"]]).isin(has_unit)
    fc = fc.assign(unmodelled=~modelled)
    out = out.loc[~censored].reset_index(drop=True)

    rel = np.arange(int(panel["rel_year"].min()), int(panel["rel_year"].max()) + 1)
    ncens = fc.groupby("rel_year")["person_id"].nunique().reindex(rel, fill_value=0)
    nun = fc[fc["unmodelled"]].groupby("rel_year")["person_id"].nunique().reindex(rel, fill_value=0)
    kept = ctrl & ~censored
    f_ctrl = pd.DataFrame({"rel_year": panel.loc[kept, "rel_year"].to_numpy(), "f": factor[kept]})
    fstat = f_ctrl.groupby("rel_year")["f"].agg(["mean", "max"]).reindex(rel)
    censoring = pd.DataFrame(
        {
            "rel_year": rel,
            "n_control_censored": ncens.to_numpy(dtype=np.int64),
            "n_censored_unmodelled": nun.to_numpy(dtype=np.int64),
            "weight_factor_mean": fstat["mean"].to_numpy(),
            "weight_factor_max": fstat["max"].to_numpy(),
        }
    )
    return out, censoring
