"""Rule propensity: the propensity model of one characteristic set and control pool,
shared by every spec that agrees on them (key ``ps-…``)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from regeval.disclosure.aggregates import write_aggregate
from regeval.pipeline.runner import Files, Params
from regeval.pipeline.scoring import choose_score, score_frame
from regeval.pipeline.spec import PropensitySpec, pool_rule
from regeval.population.base import control_pool
from regeval.stats.tables import overlap_table, score_model_table

log = logging.getLogger("regeval")


def propensity(input: Files, output: Files, params: Params, threads: int = 1) -> None:
    """Fit the propensity score of ``treated`` on params ``characteristics`` among the
    units of the control pool ``pool`` with the model of params ``score`` (default: the
    report's logit; ``auto``: the model whose reference matching balances best);
    write the scores (person-level), the model, overlap and score-selection tables and
    a summary of the fit (``fit.json``)."""
    units = control_pool(pd.read_parquet(input["units"]), pool_rule(params["pool"]))
    ps = PropensitySpec.from_mapping(params.get("score") or {"model": "logit", "seed": 0})
    sf, selection = choose_score(
        units, list(params["characteristics"]), list(params["population"]["diagnosis_groups"]), ps,
        threads=threads,
    )
    Path(output["scores"]).parent.mkdir(parents=True, exist_ok=True)
    score_frame(units, sf).to_parquet(output["scores"], index=False)
    write_aggregate(score_model_table(sf, units), output["coefficients"])
    write_aggregate(overlap_table(sf.score, units["treated"].to_numpy()), output["overlap"])
    write_aggregate(selection, output["selection"])
    fit = sf.fit
    summary = {
        "model": sf.model,
        "auc": sf.auc,
        "n_obs": len(units),
        "n_treated": int((units["treated"] == 1).sum()),
        "converged": bool(fit.converged) if fit is not None else True,
        "iterations": fit.iterations if fit is not None else None,
        "dropped_terms": list(fit.dropped_terms) if fit is not None else [],
        "warnings": list(fit.warnings) if fit is not None else [],
    }
    Path(output["fit"]).write_text(json.dumps(summary, indent=2) + "\n")
    log.info("propensity model %s: AUC %.3f on %d units", sf.model, sf.auc, len(units))
