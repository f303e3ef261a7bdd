"""Rule effects: the outcome panel around each cohort's start year and the effects,
group means and window averages, for one control group × effects options shared by
every spec that agrees on them (key ``e-…``). The effect figures carry the report's
language and are drawn by the export."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from regeval.disclosure.aggregates import write_aggregate
from regeval.pipeline.evaluate import apply_control_rule, effect_options, panel_inputs, unit_columns
from regeval.pipeline.runner import Files, Params
from regeval.pipeline.spec import EffectsSpec
from regeval.population.outcomes import build_outcome_panel
from regeval.population.tables import panel_counts_table
from regeval.stats.tables import (
    confounding_table,
    effects_table,
    group_means_table,
    outcome_cell_counts,
    placebo_tests_table,
    windows_table,
)

log = logging.getLogger("regeval")


def effects(input: Files, output: Files, params: Params, threads: int = 1) -> None:
    """Params ``spec``: the ``effects`` section and the ``control_rule``; ``data.years``.
    Writes the outcome panel (person-level) and the panel counts, effects, group means
    and window tables."""
    eff = EffectsSpec.from_mapping(params["spec"]["effects"])
    rule = params["spec"]["control_rule"]
    outcomes = list(eff.outcomes)
    units = pd.read_parquet(input["units"])
    matched = pd.read_parquet(input["matched"])
    person_years = pd.read_parquet(input["person_years"], columns=["pnr", "year", *outcomes])
    person_years = person_years[person_years["pnr"].isin(matched["pnr"].unique())]
    panel = build_outcome_panel(
        person_years,
        panel_inputs(units, matched, eff),
        outcomes,
        eff.rel_years,
        int(params["data"]["years"][1]),
        unit_columns=unit_columns(eff),
    )
    scores = pd.read_parquet(input["scores"], columns=["unit", "score"]) if rule == "censor_at_start" else None
    panel, censoring = apply_control_rule(panel, units, scores, rule)
    if censoring is not None:
        _log_censoring(censoring)
    Path(output["panel"]).parent.mkdir(parents=True, exist_ok=True)
    panel.to_parquet(output["panel"], index=False)
    write_aggregate(panel_counts_table(panel, censoring), output["counts"])

    panel = pd.read_parquet(output["panel"])  # the estimates rest on the panel as written
    options = effect_options(panel, eff)
    cells = outcome_cell_counts(panel, outcomes)
    table = effects_table(panel, outcomes, vcov=eff.vcov, cells=cells, min_events=eff.min_events,
                          dr_covariates=list(eff.dr_covariates), **options)
    write_aggregate(table, output["effects"])
    write_aggregate(group_means_table(panel, outcomes, alpha=eff.alpha, cells=cells), output["means"])
    windows = windows_table(panel, eff.windows_of_outcomes(), **options)
    write_aggregate(windows, output["windows"])
    log.info("estimated %d effects", len(table.frame))
    _log_robustness(table.frame)
    frame = table.frame
    pre = frame["rel_year"].isin(eff.placebo_years()) & frame["stars_withheld"]
    placebo = placebo_tests_table(panel, outcomes, eff.placebo_years(), rare=sorted(set(frame.loc[pre, "outcome"])),
                                  **options)
    write_aggregate(placebo, output["placebo"])
    for r in placebo.frame.loc[~placebo.frame["passed"]].itertuples(index=False):
        log.warning("placebo test fails for %s: participants and controls differed before start "
                    "(joint test of years %d to %d, p = %.3g)", r.outcome, r.year_from, r.year_to, r.p)
    headline = sorted({w[0] for w in eff.windows_of_outcomes()}, key=outcomes.index)
    write_aggregate(confounding_table(table.frame, windows.frame, headline, eff.alpha), output["confounding"])


def _log_robustness(table: pd.DataFrame) -> None:
    withheld = table.loc[table["stars_withheld"], ["outcome", "rel_year"]]
    if len(withheld):
        log.info("rare outcomes: stars withheld in %d cell(s) with too few persons with the event (%s)",
                 len(withheld), ", ".join(f"{o}@{r}" for o, r in withheld.head(10).itertuples(index=False)))
    if "dr_estimate" in table:
        diff = (table["estimate"] - table["dr_estimate"]).abs() / table["se"]
        big = table.loc[diff > 1.0, ["outcome", "rel_year"]]
        if len(big):
            log.warning("the doubly robust estimate differs from the matched estimate by more than one SE in "
                        "%d cell(s) (%s): the score or the outcome model may be wrong", len(big),
                        ", ".join(f"{o}@{r}" for o, r in big.head(10).itertuples(index=False)))


def _log_censoring(censoring: pd.DataFrame) -> None:
    log.info(
        "control rule censor_at_start: %d control persons censored at their own start "
        "(%d without a modelled hazard); weight factor 1/S mean %.3f, largest %.3f",
        int(censoring["n_control_censored"].sum()), int(censoring["n_censored_unmodelled"].sum()),
        float(np.nanmean(censoring["weight_factor_mean"])), float(np.nanmax(censoring["weight_factor_max"])),
    )
    unmodelled = int(censoring["n_censored_unmodelled"].sum())
    if unmodelled:
        log.warning(
            "%d control persons started in a year without a modelled start hazard (outside the base "
            "population or outside population.cohorts) and are censored without reweighting; list every "
            "start year of the data in population.cohorts so that their hazards are estimated",
            unmodelled,
        )
