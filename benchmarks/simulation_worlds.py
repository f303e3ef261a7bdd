"""Simulation study, misspecified worlds: which estimator stays right when the report's
logit is not the true selection model?

Run through ``benchmarks/simulation_study.py --worlds ...`` (same workers, checkpoint and
resume). Each replication of a world generates the synthetic registers with the world's
knobs (:data:`WORLDS`; :class:`regeval.synthetic.config.SyntheticConfig`), builds the base
population once and evaluates two specs in memory on it:

* ``klapjob_2023`` -- the published method (logit score, CR1 stars for every cell);
* ``default`` -- the default spec (score chosen by balance, rare-event rule), whose effect
  table also holds the doubly robust estimate (``dr``).

Per (world, estimator) the report gives, pooled over the headline outcomes' post-start
cells, the bias in SE units and the coverage of the 95 % interval against the sample ATT
of the analysed participants (the generator's person-level truth), and the false-star
rate on cells whose true effect is exactly zero (pre-start cells and outcomes without
effect, among them the rare support status of the ``rare_support_rate`` knob).
"""

from __future__ import annotations

import shutil
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: The worlds: generator knobs on top of the defaults ("correct" is the generator as it is).
WORLDS: dict[str, dict[str, float]] = {
    "correct": {},
    "nonlinear_age": {"selection_age_curve": 1.0, "outcome_age_curve": 0.6, "rare_support_rate": 0.004},
    "interactions": {"selection_interaction": 1.0, "outcome_age_curve": 0.6, "rare_support_rate": 0.004},
    "poor_overlap": {"overlap": 1.8, "selection_age_curve": 0.5, "outcome_age_curve": 0.6,
                     "rare_support_rate": 0.004},
}

#: The headline outcomes (bias and coverage targets).
HEADLINE = ("employed", "fulltime_days", "hours_per_week", "taxable_income")
ESTIMATORS = ("klapjob_2023", "default", "dr")


def _specs() -> tuple[dict[str, Any], dict[str, Any], Any]:
    from regeval.pipeline.config import load_yaml, resolve_spec
    from regeval.pipeline.spec import deep_merge
    from regeval.population.base import PopulationSpec

    repo = Path(__file__).resolve().parents[1]
    cfg = load_yaml(repo / "config" / "config.yaml")
    klap = deep_merge(cfg, load_yaml(repo / "config" / "specs" / "klapjob_2023.yaml"))
    return resolve_spec(cfg, "default"), resolve_spec(klap, "klapjob_2023"), PopulationSpec.from_config(cfg["population"])


def run_world_replication(job: Any) -> pd.DataFrame:
    """One replication of world ``job.design``: one row per (estimator, outcome, rel_year)."""
    from simulation_study import LAST_DATA_YEAR, sample_truth

    from regeval.pipeline.evaluate import evaluate
    from regeval.population.base import build_base_population
    from regeval.registers.read import resolve_sources
    from regeval.synthetic import SyntheticConfig, generate

    default, klap, pspec = _specs()
    outcomes = list(default["effects"]["outcomes"])
    knobs = WORLDS[job.design]
    t0 = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f"regeval_world_{job.seed}_", dir=job.tmp_root))
    rows = []
    try:
        generate(SyntheticConfig(seed=job.seed, n_persons=job.n_persons, n_participants=job.n_participants,
                                 chunk_size=job.chunk_size, **knobs), tmp)
        sources = resolve_sources(tmp)
        units = build_base_population(sources, pspec).units
        truth_effects = pd.read_parquet(tmp / "truth_effects.parquet", columns=["pnr", "aar", *outcomes])
        for name, spec in (("klapjob_2023", klap), ("default", default)):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = evaluate(sources, units, spec, list(pspec.diagnosis_groups), LAST_DATA_YEAR,
                                   pspec.control_rule)
            except Exception as exc:  # recorded per estimator: the other spec may still run
                rows.append(pd.DataFrame({"estimator": [name], "error": [f"{type(exc).__name__}: {exc}"[:300]]}))
                continue
            eff = res["effects"]
            truth = sample_truth(res["panel"], truth_effects, outcomes)
            base = eff[["outcome", "rel_year", "estimate", "se", "p", "stars", "n_treated", "k_treated",
                        "k_control"]].merge(truth, on=["outcome", "rel_year"], how="left")
            base.insert(0, "estimator", name)
            base["score_model"] = res["control_group"].score_model
            rows.append(base)
            if name == "default" and "dr_estimate" in eff:
                dr = base.copy()
                dr["estimator"] = "dr"
                dr["estimate"] = eff["dr_estimate"].to_numpy()
                dr["se"] = eff["dr_se"].to_numpy()
                dr["p"] = eff["dr_p"].to_numpy()
                withheld = eff["stars_withheld"].to_numpy(dtype=bool)
                dr["stars"] = np.where(withheld | ~(dr["p"] < 0.05), "", "*")
                rows.append(dr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = pd.concat(rows, ignore_index=True)
    out.insert(0, "design", job.design)
    out.insert(1, "rep", job.rep)
    out.insert(2, "seed", job.seed)
    out.insert(3, "confounding", job.confounding)
    out["seconds"] = time.perf_counter() - t0
    return out


def summarise_worlds(raw: pd.DataFrame) -> pd.DataFrame:
    """Per (world, estimator): headline post-start bias/SE and coverage, pre-start
    coverage, false-star rates on zero-effect cells, with Monte Carlo SEs."""
    if "error" in raw:
        err = raw[raw["error"].notna()].groupby(["design", "estimator"])["rep"].nunique()
    else:
        err = pd.Series(dtype=int)
    d = raw[raw["estimate"].notna() & raw["se"].notna() & raw["truth"].notna()].copy()
    d["err"] = d["estimate"] - d["truth"]
    d["covered"] = (d["err"].abs() <= 1.959963984540054 * d["se"]).astype(float)
    d["star"] = d["stars"].fillna("").astype(str).str.len() > 0
    out = []
    pooled_of: dict[tuple[str, str], pd.Series] = {}
    for (world, est), g in d.groupby(["design", "estimator"], sort=False):
        reps = g["rep"].nunique()
        post = g[g["outcome"].isin(HEADLINE) & (g["rel_year"] >= 0)]
        cell = post.groupby(["outcome", "rel_year"]).agg(bias=("err", "mean"), se=("se", "mean"),
                                                         sd=("err", "std"), cov=("covered", "mean"))
        z = cell["bias"] / cell["se"]
        # the pooled bias of each replication (its errors over the cells' mean SEs): its SD
        # over replications is the Monte Carlo SE of the pooled bias, which the per-cell
        # bound below overstates (errors of different cells partly average out)
        scaled = post.join(cell["se"].rename("cell_se"), on=["outcome", "rel_year"])
        pooled = (scaled["err"] / scaled["cell_se"]).groupby(scaled["rep"]).mean()
        pooled_of[(str(world), str(est))] = pooled
        null_post = g[(g["truth"] == 0) & (g["rel_year"] >= 0)]
        null_pre = g[(g["truth"] == 0) & (g["rel_year"] <= -2)]
        rare = null_post[null_post["outcome"] == "support_kontanthjaelp"]
        per_out = post.groupby("outcome").apply(
            lambda x: (x.groupby("rel_year")["err"].mean() / x.groupby("rel_year")["se"].mean()).mean(),
            include_groups=False)
        out.append({
            "world": world, "estimator": est, "replications": reps,
            "stopped": int(err.get((world, est), 0)) + (int(err.get((world, "default"), 0)) if est == "dr" else 0),
            "score_models": ", ".join(f"{k} {v}" for k, v in
                                      g.drop_duplicates("rep")["score_model"].value_counts().items()),
            "headline_mean_bias_se": float(z.mean()),
            "headline_max_abs_bias_se": float(per_out.abs().max()),
            "mcse_bias_se": float((cell["sd"] / cell["se"]).mean() / np.sqrt(reps)),
            "mcse_pooled_bias_se": float(pooled.std() / np.sqrt(len(pooled))) if len(pooled) > 1 else np.nan,
            "headline_coverage": float(post["covered"].mean()),
            "min_cell_coverage": float(cell["cov"].min()),
            "mcse_coverage": float(np.sqrt(0.95 * 0.05 / max(len(post), 1) * len(cell))),
            "pre_coverage": float(g.loc[g["rel_year"] <= -2, "covered"].mean()),
            "false_star_post_null": float(null_post["star"].mean()) if len(null_post) else np.nan,
            "n_post_null_cells": int(len(null_post)),
            "false_star_pre": float(null_pre["star"].mean()) if len(null_pre) else np.nan,
            "false_star_rare_null": float(rare["star"].mean()) if len(rare) else np.nan,
            "n_rare_null_cells": int(len(rare)),
            "per_outcome_bias_se": "; ".join(f"{o} {v:+.2f}" for o, v in per_out.items()),
        })
    table = pd.DataFrame(out)
    # the pooled bias minus the report's logit's on the same replications: far more precise
    # than either alone (both estimators see the same draws)
    diff, mcse = [], []
    for r in table.itertuples(index=False):
        ref = pooled_of.get((str(r.world), "klapjob_2023"), pd.Series(dtype=float))
        delta = (pooled_of[(str(r.world), str(r.estimator))] - ref).dropna()  # aligned on the replication
        diff.append(float(delta.mean()) if len(delta) else np.nan)
        mcse.append(float(delta.std() / np.sqrt(len(delta))) if len(delta) > 1 else np.nan)
    at = table.columns.get_loc("mcse_pooled_bias_se") + 1
    table.insert(at, "minus_logit_bias_se", diff)
    table.insert(at + 1, "mcse_minus_logit", mcse)
    return table


def write_worlds_report(path: Path, raw: pd.DataFrame, summary: pd.DataFrame, command: str,
                        failed: pd.DataFrame, elapsed: float) -> None:
    from simulation_study import _md, machine_info

    fmt = {c: (lambda v: "" if pd.isna(v) else f"{v:.3f}") for c in summary.columns if summary[c].dtype.kind == "f"}
    secs = raw.drop_duplicates(["design", "rep"])["seconds"]
    lines = [
        "# Simulation study: misspecified worlds", "",
        "Generated by `benchmarks/simulation_study.py --worlds`. Command:", "", f"    {command}", "",
        "(`--raw FILE` keeps the per-replication rows and lets an interrupted run resume; `--report-only` "
        "rewrites this file from them.)", "",
        "## Worlds", "",
        *[f"- `{w}`: {', '.join(f'{k} = {v:g}' for k, v in knobs.items()) or 'the generator as it is'}"
          for w, knobs in WORLDS.items() if w in set(raw['design'])],
        "",
        "Estimators: `klapjob_2023` (the report's logit score, CR1, a star wherever p < 0.05), `default` "
        "(the default spec: the score model chosen by balance, the rare-event rule), `dr` (the default "
        "spec's doubly robust estimate: the same matched sample, the outcome model with age groups, "
        "support and employment history added).", "",
        "Columns: `headline_*` pool the post-start cells (years 0–7) of "
        f"{', '.join(HEADLINE)}: mean over cells of bias / mean SE, the largest |bias / SE| of an "
        "outcome (mean over its years), and the coverage of the 95 % interval of the sample ATT; "
        "`mcse_*` are Monte Carlo SEs (`mcse_bias_se`: mean SD(error)/SE / √R, the bound of one "
        "cell; `mcse_pooled_bias_se`: SD over replications of each replication's pooled bias / √R, "
        "the MCSE of `headline_mean_bias_se`; `minus_logit_bias_se`: the pooled bias minus that of "
        "`klapjob_2023` on the same replications, with its MCSE `mcse_minus_logit`, far more precise "
        "than either bias alone; coverage: binomial, pooled cells counted as "
        "independent, i.e. a lower bound). `stopped`: replications in which the "
        "estimator's pipeline refused the data (e.g. separation in the report's logit: a characteristic "
        "level without participants), left out of its rows. `false_star_*`: share of cells with a star "
        "among cells whose true effect is exactly 0, after start (`post_null`: outcomes without "
        "effect), before start (`pre`, years −5…−2) and for the rare support status "
        "(`rare_null`: cash benefit, a few events per cell).", "",
        "## Results", "",
        _md(summary, fmt), "",
        f"Replications that stopped: {len(failed)}"
        + ("" if failed.empty else " (" + "; ".join(f"{r.design} rep {r.rep}: {str(r.error)[:120]}"
                                                   for r in failed.itertuples()) + ")"),
        "",
        f"Runtime: median {secs.median():.0f} s per replication (both specs); wall clock {elapsed / 60:.0f} min.",
        "", "## Machine", "", *machine_info(), "",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
