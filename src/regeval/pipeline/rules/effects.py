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
from regeval.pipeline.evaluate import apply_control_rule, effect_options, panel_inputs
from regeval.pipeline.runner import Files, Params
from regeval.pipeline.spec import EffectsSpec
from regeval.population.outcomes import build_outcome_panel
from regeval.population.tables import panel_counts_table
from regeval.stats.tables import effects_table, group_means_table, outcome_cell_counts, windows_table

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
        unit_columns=list(eff.covariates),
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
    table = effects_table(panel, outcomes, vcov=eff.vcov, cells=cells, **options)
    write_aggregate(table, output["effects"])
    write_aggregate(group_means_table(panel, outcomes, alpha=eff.alpha, cells=cells), output["means"])
    write_aggregate(windows_table(panel, eff.windows_of_outcomes(), **options), output["windows"])
    log.info("estimated %d effects", len(table.frame))


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
