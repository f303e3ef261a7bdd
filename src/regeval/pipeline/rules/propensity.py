"""Rule propensity: the propensity model of one characteristic set and control pool,
shared by every spec that agrees on them (key ``ps-…``)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from regeval.disclosure.aggregates import write_aggregate
from regeval.pipeline.evaluate import fit_scores
from regeval.pipeline.runner import Files, Params
from regeval.pipeline.spec import pool_rule
from regeval.population.base import control_pool
from regeval.stats.tables import overlap_table, propensity_model_table

log = logging.getLogger("regeval")


def propensity(input: Files, output: Files, params: Params, threads: int = 1) -> None:
    """Fit the logit of ``treated`` on params ``characteristics`` among the units of the
    control pool ``pool``; write the scores (person-level), the model and overlap
    tables and a summary of the fit (``fit.json``)."""
    units = control_pool(pd.read_parquet(input["units"]), pool_rule(params["pool"]))
    fit = fit_scores(units, list(params["characteristics"]), list(params["population"]["diagnosis_groups"]))
    scores = pd.DataFrame({"unit": units["unit"].to_numpy(), "score": fit.score, "logit": fit.logit})
    Path(output["scores"]).parent.mkdir(parents=True, exist_ok=True)
    scores.to_parquet(output["scores"], index=False)
    write_aggregate(propensity_model_table(fit), output["coefficients"])
    write_aggregate(overlap_table(fit.score, units["treated"].to_numpy()), output["overlap"])
    summary = {
        "auc": fit.auc,
        "n_obs": fit.n_obs,
        "n_treated": fit.n_treated,
        "converged": bool(fit.converged),
        "iterations": fit.iterations,
        "dropped_terms": list(fit.dropped_terms),
        "warnings": list(fit.warnings),
    }
    Path(output["fit"]).write_text(json.dumps(summary, indent=2) + "\n")
    log.info("propensity model: AUC %.3f on %d units", fit.auc, fit.n_obs)
