"""Simulation study: does the pipeline recover the synthetic generator's true effects?

Each replication ``r`` generates a synthetic register set with seed ``base_seed + r``
(:func:`regeval.synthetic.generator.generate`, written to a temporary folder that is deleted
afterwards) and runs the default spec of ``config/config.yaml`` in memory through
base population -> propensity score -> 10 nearest neighbours with replacement ->
weighted regression per outcome x relative year (:func:`regeval.pipeline.evaluate.evaluate`;
no Snakemake). Every estimate is compared with the replication's truth:

* ``truth`` (the estimand): the mean of the person-year effects ``Y1 - Y0``
  (``truth_effects.parquet``) over exactly the treated units that entered that
  cell's regression -- the *sample* ATT of the analysis' treated group;
* ``truth_att``: the generator's ``truth_att.csv``, the mean over its own
  definition of the analysis-eligible participants.

The estimates are also given every standard error in ``--vcov`` (the point estimate
does not depend on it), so that several variance estimators are judged on the same
replications. The summary per (confounding, outcome, relative year, vcov) has the
mean estimate, mean truth, bias, RMSE, mean SE, the SD of the estimates and of the
errors, the coverage of the 95 % interval and |bias| / mean SE, with Monte Carlo
standard errors. It is written to a markdown report and a CSV beside it.

Run (the numbers in ``benchmarks/results_simulation.md``)::

    python benchmarks/simulation_study.py --replications 200 \\
        --confounding-replications 50 --confounding 0 0.5 1.0 --workers 2

Each worker process runs one replication at a time with single-threaded BLAS, so
``--workers`` is the number of busy cores; the result of a replication depends only
on its seed.
"""

from __future__ import annotations

import os

# one BLAS thread per worker process: set before numpy is imported
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import datetime as dt  # noqa: E402
import multiprocessing as mp  # noqa: E402
import platform  # noqa: E402
import shlex  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "config" / "config.yaml"
LAST_DATA_YEAR = 2025
Z95 = 1.959963984540054

#: Outcomes shown in the headline tables (all outcomes are in the CSV).
KEY_OUTCOMES = ("employed", "fulltime_days", "hours_per_week", "sel103_104", "botilbud", "sel85")


#: Study labels: the main study (and confounding), and the two arms of the experiment on
#: the control rule (one analysed cohort, 2016, with and without later participants).
MAIN = "main"
ONE_START = "one start year"
LATER_STARTS = "later starts ({rule})"  # arm b of the control-rule experiment, per rule


@dataclass(frozen=True)
class Job:
    rep: int
    seed: int
    n_persons: int
    n_participants: int
    confounding: float
    effect_scale: float
    vcovs: tuple[str, ...]
    tmp_root: str | None
    chunk_size: int = 125_000
    start_years: tuple[int, ...] | None = None  # generator's start years (None: its default)
    cohorts: tuple[int, ...] | None = None  # analysed cohorts (None: the config's)
    estimate_cohorts: tuple[int, ...] | None = None  # cohorts whose effects are reported (None: all analysed)
    control_rule: str | None = None  # population.control_rule (None: the config's)
    design: str = MAIN  # label of the study the replication belongs to


def default_participants(n_persons: int) -> int:
    """KLAPjob's 2,570 participants per 600,000 persons, scaled to ``n_persons``."""
    return max(1, int(round(2570 * n_persons / 600_000)))


# --------------------------------------------------------------------------------------
# one replication
# --------------------------------------------------------------------------------------


def _setup() -> tuple[dict[str, Any], Any]:
    from regeval.pipeline.config import load_yaml, resolve_spec
    from regeval.population.base import PopulationSpec

    cfg = load_yaml(CONFIG)
    spec = resolve_spec(cfg, "default")
    return spec, PopulationSpec.from_config(cfg["population"])


def sample_truth(panel: pd.DataFrame, truth_effects: pd.DataFrame, outcomes: list[str]) -> pd.DataFrame:
    """Mean true effect over the treated rows of each (outcome, rel_year) cell.

    A treated panel row (person, cohort, rel_year) is matched to the person-year
    ``aar = cohort + rel_year`` of ``truth_effects``; only rows with a non-missing
    outcome (those that enter the regression) count. Raises if a treated row has no
    truth (the generator records every resident person-year of a participant).
    """
    tr = panel.loc[panel["treated"] == 1, ["person_id", "cohort", "rel_year", *outcomes]].copy()
    tr["aar"] = (tr["cohort"] + tr["rel_year"]).astype(np.int64)
    te = truth_effects[["pnr", "aar", *outcomes]].rename(columns={o: f"{o}__true" for o in outcomes})
    te = te.assign(aar=te["aar"].astype(np.int64))
    m = tr.merge(te, left_on=["person_id", "aar"], right_on=["pnr", "aar"], how="left", validate="one_to_one")
    if m["pnr"].isna().any():
        raise RuntimeError(f"{int(m['pnr'].isna().sum())} treated panel rows have no truth")
    rows = []
    for o in outcomes:
        ok = m[o].notna()
        g = m.loc[ok].groupby("rel_year")[f"{o}__true"].agg(["mean", "size"])
        rows.append(pd.DataFrame({"outcome": o, "rel_year": g.index.to_numpy(), "truth": g["mean"].to_numpy(),
                                  "n_truth": g["size"].to_numpy()}))
    return pd.concat(rows, ignore_index=True)


def run_replication(job: Job) -> pd.DataFrame:
    """Generate, evaluate and compare one replication; one row per (outcome, rel_year)."""
    from regeval.pipeline.evaluate import effect_options, evaluate
    from regeval.population.base import build_base_population
    from regeval.registers.read import resolve_sources
    from regeval.stats import _logit
    from regeval.stats.effects import estimate_effects
    from regeval.synthetic import SyntheticConfig, generate

    if hasattr(_logit, "_N_WORKERS"):  # one thread per worker (results do not depend on it)
        _logit._N_WORKERS = 1
    spec, pspec = _setup()
    if job.cohorts is not None:
        pspec = dataclasses.replace(pspec, cohorts=tuple(job.cohorts))
    if job.control_rule is not None:
        pspec = dataclasses.replace(pspec, control_rule=job.control_rule)
    starts = {}
    if job.start_years is not None:
        starts = {"start_years": tuple(job.start_years), "start_year_weights": tuple(1.0 for _ in job.start_years)}
    eff = spec["effects"]
    outcomes = list(eff["outcomes"])
    t0 = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f"regeval_sim_{job.seed}_", dir=job.tmp_root))
    try:
        generate(
            SyntheticConfig(
                seed=job.seed,
                n_persons=job.n_persons,
                n_participants=job.n_participants,
                confounding=job.confounding,
                effect_scale=job.effect_scale,
                chunk_size=job.chunk_size,
                **starts,
            ),
            tmp,
        )
        t_gen = time.perf_counter() - t0
        sources = resolve_sources(tmp)
        units = build_base_population(sources, pspec).units
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = evaluate(sources, units, spec, list(pspec.diagnosis_groups), LAST_DATA_YEAR, pspec.control_rule)
            if job.estimate_cohorts is not None:  # same pipeline, effects of some cohorts only
                sub = res["panel"][res["panel"]["cohort"].isin(job.estimate_cohorts)].reset_index(drop=True)
                res["panel"] = sub
                res["effects"] = estimate_effects(sub, outcomes, vcov=eff.get("vcov", "CR1"), **effect_options(sub, eff))
        panel = res["panel"]
        truth_effects = pd.read_parquet(tmp / "truth_effects.parquet", columns=["pnr", "aar", *outcomes])
        truth_att = pd.read_csv(tmp / "truth_att.csv")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    first = res["effects"]
    table = first[["outcome", "rel_year", "estimate", "se", "n_treated", "n_control", "note"]].rename(
        columns={"se": f"se_{eff.get('vcov', 'CR1')}"}
    )
    opts = effect_options(panel, eff)
    for v in job.vcovs:
        if f"se_{v}" in table:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            other = estimate_effects(panel, outcomes, vcov=v, **opts)
        if not np.allclose(other["estimate"], first["estimate"], rtol=1e-9, atol=1e-12, equal_nan=True):
            raise RuntimeError(f"vcov={v} changed a point estimate")
        table[f"se_{v}"] = other["se"].to_numpy()
    table = table[[c for c in table.columns if not c.startswith("se_") or c[3:] in job.vcovs]]
    table = table.merge(sample_truth(panel, truth_effects, outcomes), on=["outcome", "rel_year"], how="left")
    ta = truth_att.rename(columns={"true_att": "truth_att", "n_treated": "n_truth_att"})
    table = table.merge(ta, on=["outcome", "rel_year"], how="left")
    table.insert(0, "design", job.design)
    table.insert(1, "rep", job.rep)
    table.insert(2, "seed", job.seed)
    table.insert(3, "confounding", job.confounding)
    table.insert(4, "effect_scale", job.effect_scale)
    cg = res["control_group"]
    table["n_treated_units"] = int(cg.match.n_treated)
    table["n_controls_unique"] = int(cg.match.n_controls_unique)
    table["seconds"] = time.perf_counter() - t0
    table["seconds_generate"] = t_gen
    return table


def _run_job(job: Job) -> tuple[Job, pd.DataFrame | None, str]:
    """A replication's rows, or the error that stopped the pipeline (e.g. separation in
    the propensity model: a characteristic level without treated units)."""
    from simulation_worlds import WORLDS, run_world_replication

    try:
        if job.design in WORLDS:
            return job, run_world_replication(job), ""
        return job, run_replication(job), ""
    except Exception as exc:  # recorded and reported, never silently dropped
        return job, None, f"{type(exc).__name__}: {exc}"


def preload() -> None:
    """Import every module a replication uses before the worker processes are forked,
    so that all replications run the same code even if files change during a run."""
    import importlib

    for m in ("population.characteristics", "pipeline.config", "stats.effects", "pipeline.evaluate",
              "stats.matching", "population.outcomes", "population.panel", "population.base",
              "stats.propensity", "stats._logit", "registers.read", "synthetic.generator"):
        importlib.import_module(f"regeval.{m}")


FAILURE_COLUMNS = ["design", "rep", "seed", "confounding", "error"]


def _read_checkpoint(path: Path) -> pd.DataFrame:
    d = pd.read_csv(path, low_memory=False)
    if "design" not in d:
        d.insert(0, "design", MAIN)
    d["design"] = d["design"].fillna(MAIN)
    return d


def _append_csv(path: Path, frame: pd.DataFrame) -> None:
    """Append rows to a checkpoint CSV. Rows lacking some of the file's columns (e.g. no
    ``error``) are appended with those empty; only rows with a new column rewrite the
    file, through a temporary file, so that a run stopped at any moment keeps every row
    written before."""
    if not path.exists():
        frame.to_csv(path, index=False)
        return
    with open(path, encoding="utf-8") as fh:
        header = fh.readline().rstrip("\n").split(",")
    if set(map(str, frame.columns)) <= set(header):
        frame.reindex(columns=header).to_csv(path, mode="a", header=False, index=False)
    else:
        tmp = path.with_name(path.name + ".tmp")
        pd.concat([_read_checkpoint(path), frame], ignore_index=True).to_csv(tmp, index=False)
        tmp.replace(path)


def _key(design: str, confounding: float, rep: int) -> tuple[str, float, int]:
    return (str(design), float(confounding), int(rep))


def failures_path(checkpoint: Path) -> Path:
    return checkpoint.with_name(checkpoint.stem + "_failures.csv")


def run_all(jobs: list[Job], workers: int, log=print,
            checkpoint: Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the jobs on ``workers`` processes (one replication per task).

    Returns the rows of the replications that ran through and one row per replication
    that the pipeline stopped (with the error). With ``checkpoint`` (a CSV), each
    finished replication is appended to it at once (failures to ``*_failures.csv``
    beside it), and replications already there (same confounding and rep) are not run
    again.
    """
    out: list[pd.DataFrame] = []
    failed: list[dict[str, Any]] = []
    if checkpoint is not None:
        have: set[tuple[str, float, int]] = set()
        if checkpoint.exists():
            done = _read_checkpoint(checkpoint)
            out.append(done)
            have |= set(map(_key, done["design"], done["confounding"], done["rep"]))
        fp = failures_path(checkpoint)
        if fp.exists():
            prev = _read_checkpoint(fp)
            failed += prev.to_dict("records")
            have |= set(map(_key, prev["design"], prev["confounding"], prev["rep"]))
        jobs = [j for j in jobs if _key(j.design, j.confounding, j.rep) not in have]
        if log is not None and have:
            log(f"{len(have)} replications read from {checkpoint}; {len(jobs)} to run", flush=True)
    preload()
    t0 = time.perf_counter()
    pool = None
    if workers <= 1 or len(jobs) <= 1:
        it = map(_run_job, jobs)
    else:
        pool = mp.get_context("fork").Pool(workers, maxtasksperchild=1)
        it = pool.imap_unordered(_run_job, jobs)
    ok = False
    try:
        for i, (job, tab, err) in enumerate(it, 1):
            if tab is not None:
                out.append(tab)
                if checkpoint is not None:
                    _append_csv(checkpoint, tab)
            else:
                row = {"design": job.design, "rep": job.rep, "seed": job.seed, "confounding": job.confounding,
                       "error": err}
                failed.append(row)
                if checkpoint is not None:
                    _append_csv(failures_path(checkpoint), pd.DataFrame([row], columns=FAILURE_COLUMNS))
                if log is not None:
                    log(f"{job.design} replication {job.rep} (seed {job.seed}, confounding {job.confounding:g}) stopped: "
                        f"{err[:200]}", flush=True)
            if log is not None and (i % 10 == 0 or i == len(jobs)):
                log(f"[{time.perf_counter() - t0:7.0f} s] {i}/{len(jobs)} replications done", flush=True)
        ok = True
    finally:
        if pool is not None:
            if ok:
                pool.close()
            else:  # interrupted: do not wait for the queued replications
                pool.terminate()
            pool.join()
    if not out:
        raise RuntimeError("no replication ran through: " + "; ".join(f["error"] for f in failed[:3]))
    raw = pd.concat(out, ignore_index=True)
    if checkpoint is None or checkpoint.exists():  # rows read back get the same dtypes as fresh ones
        raw["design"] = raw["design"].astype(str)
    raw = raw.sort_values(["design", "confounding", "rep", "outcome", "rel_year"],
                          kind="stable").reset_index(drop=True)
    return raw, pd.DataFrame(failed, columns=FAILURE_COLUMNS)


# --------------------------------------------------------------------------------------
# summaries
# --------------------------------------------------------------------------------------


def summarise(raw: pd.DataFrame, vcovs: list[str], truth: str = "truth") -> pd.DataFrame:
    """Per (confounding, outcome, rel_year, vcov): bias, RMSE, SEs, coverage (vs ``truth``)."""
    rows = []
    keys = ["confounding", "outcome", "rel_year"]
    for key, g in raw.groupby(keys, sort=False):
        g = g[np.isfinite(g["estimate"]) & np.isfinite(g[truth])]
        if g.empty:
            continue
        err = g["estimate"] - g[truth]
        R = len(g)
        bias = float(err.mean())
        for v in vcovs:
            se = g[f"se_{v}"]
            cover = (err.abs() <= Z95 * se).to_numpy()
            mean_se = float(se.mean())
            rows.append(
                dict(
                    zip(keys, key, strict=False),
                    vcov=v,
                    R=R,
                    mean_estimate=float(g["estimate"].mean()),
                    mean_truth=float(g[truth].mean()),
                    bias=bias,
                    mcse_bias=float(err.std(ddof=1) / np.sqrt(R)) if R > 1 else np.nan,
                    rmse=float(np.sqrt((err**2).mean())),
                    mean_se=mean_se,
                    sd_estimate=float(g["estimate"].std(ddof=1)),
                    sd_error=float(err.std(ddof=1)),
                    se_ratio=mean_se / float(err.std(ddof=1)) if R > 1 and err.std(ddof=1) > 0 else np.nan,
                    coverage=float(cover.mean()),
                    abs_bias_over_se=abs(bias) / mean_se if mean_se > 0 else np.nan,
                    mean_n_treated=float(g["n_treated"].mean()),
                    mean_n_control=float(g["n_control"].mean()),
                    degenerate=bool(mean_se == 0 and float(g["estimate"].abs().max()) == 0),
                )
            )
    out = pd.DataFrame(rows)
    order = {o: i for i, o in enumerate(outcome_order(raw))}
    out["_o"] = out["outcome"].map(order)
    out = out.sort_values(["confounding", "vcov", "_o", "rel_year"], kind="stable").drop(columns="_o")
    return out.reset_index(drop=True)


def outcome_order(raw: pd.DataFrame) -> list[str]:
    """The outcomes in the spec's order (key outcomes first), then any others."""
    try:
        spec, _ = _setup()
        listed = list(spec["effects"]["outcomes"])
    except Exception:  # pragma: no cover - report from a raw file without the config
        listed = []
    present = list(pd.unique(raw["outcome"]))
    return [o for o in listed if o in present] + [o for o in present if o not in listed]


def pooled(summary: pd.DataFrame, raw: pd.DataFrame, vcov: str, confounding: float, truth: str = "truth") -> pd.DataFrame:
    """Per outcome: the pre-period (−5…−2) and post-period (0…7) cells pooled."""
    rows = []
    s = summary[(summary["vcov"] == vcov) & (summary["confounding"] == confounding)]
    r = raw[raw["confounding"] == confounding]
    for o in pd.unique(s["outcome"]):
        for label, lo, hi in (("pre −5…−2", -5, -2), ("post 0…7", 0, 7)):
            c = s[(s["outcome"] == o) & s["rel_year"].between(lo, hi) & ~s["degenerate"]]
            if c.empty:
                continue
            g = r[(r["outcome"] == o) & r["rel_year"].isin(c["rel_year"])]
            g = g[np.isfinite(g["estimate"]) & np.isfinite(g[truth])]
            err = g["estimate"] - g[truth]
            cov = float((err.abs() <= Z95 * g[f"se_{vcov}"]).mean())
            rows.append(
                {
                    "outcome": o,
                    "period": label,
                    "cells": len(c),
                    "mean_truth": float(c["mean_truth"].mean()),
                    "max_abs_bias_over_se": float(c["abs_bias_over_se"].max()),
                    "mean_abs_bias_over_se": float(c["abs_bias_over_se"].mean()),
                    "mean_se_ratio": float(c["se_ratio"].mean()),
                    "coverage": cov,
                    "min_coverage": float(c["coverage"].min()),
                    "max_coverage": float(c["coverage"].max()),
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------


def _fmt(x: float, digits: int = 4) -> str:
    if x is None or not np.isfinite(x):
        return ""
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:.1f}"
    return f"{x:.{digits}g}" if abs(x) < 1e-3 and x != 0 else f"{x:.{digits}f}".rstrip("0").rstrip(".") if "." in f"{x:.{digits}f}" else f"{x:.{digits}f}"


def _md(df: pd.DataFrame, fmts: dict[str, Any] | None = None) -> str:
    fmts = fmts or {}
    cols = list(df.columns)
    head = [str(c).replace("|", "\\|") for c in cols]
    align = ["---:" if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) else "---"
             for c in cols]
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join(align) + " |"]
    for _, row in df.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            if c in fmts:
                cells.append(fmts[c](v))
            elif isinstance(v, (float, np.floating)):
                cells.append(_fmt(float(v)))
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _pct(x: float) -> str:
    return "" if not np.isfinite(x) else f"{100 * x:.1f} %"


def machine_info() -> list[str]:
    import numpy
    import scipy

    lines = [f"- date: {dt.date.today().isoformat()}", f"- nproc: {os.cpu_count()}"]
    try:
        mem = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
        lines.append(f"- RAM: {int(mem) / 1024**2:.1f} GiB")
    except OSError:  # pragma: no cover
        pass
    try:
        cpu = [ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("model name")]
        if cpu:
            lines.append(f"- CPU: {cpu[0]}")
    except OSError:  # pragma: no cover
        pass
    lines += [
        f"- Python: {platform.python_version()}; numpy {numpy.__version__}; pandas {pd.__version__}; scipy {scipy.__version__}",
        f"- platform: {platform.platform()}",
    ]
    try:
        lines.append("- load average at the end (1/5/15 min; the machine is shared): " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    except OSError:  # pragma: no cover
        pass
    return lines


def _targets_line(summary: pd.DataFrame, vcov: str, confounding: float, outcomes: tuple[str, ...]) -> dict[str, Any]:
    """Counts of cells meeting the two targets (|bias| <= 0.1 SE; coverage 93-97 %)."""
    s = summary[(summary["vcov"] == vcov) & (summary["confounding"] == confounding) & summary["outcome"].isin(outcomes)
                & (summary["rel_year"] != -1) & ~summary["degenerate"]]
    ok_bias = s["abs_bias_over_se"] <= 0.1
    # Monte Carlo: is the bias distinguishable from 0 (|bias| > 2.58 MCSE)?
    sig_bias = (s["bias"].abs() > 2.576 * s["mcse_bias"])
    ok_cov = s["coverage"].between(0.93, 0.97)
    return {"cells": len(s), "bias_ok": int(ok_bias.sum()), "bias_significant": int(sig_bias.sum()),
            "coverage_ok": int(ok_cov.sum()), "coverage_min": float(s["coverage"].min()),
            "coverage_max": float(s["coverage"].max()), "coverage_mean": float(s["coverage"].mean())}


def write_report(path: Path, raw: pd.DataFrame, summary: pd.DataFrame, args: argparse.Namespace, n_part: int,
                 vcovs: tuple[str, ...], elapsed: float, argv: list[str] | None,
                 failed: pd.DataFrame | None = None) -> None:
    conf0 = float(args.confounding[0])
    all_raw = raw
    experiment = raw[raw["design"] != MAIN]
    raw = raw[raw["design"] == MAIN]
    main_raw = raw[raw["confounding"] == conf0]
    R = int(main_raw["rep"].nunique())
    seeds = sorted(main_raw["seed"].unique())
    reps = main_raw.groupby("rep").first()
    given = list(sys.argv[1:] if argv is None else argv)
    shown: list[str] = []
    skip = False
    for a in given:  # the command that reproduces the numbers (not the report-only call, not the cache)
        if skip:
            skip = False
            continue
        if a in ("--report-only",):
            continue
        if a in ("--raw", "--output", "--csv", "--tmp-dir"):
            skip = True
            continue
        if a.startswith(("--raw=", "--output=", "--csv=", "--tmp-dir=")):
            continue
        shown.append(a)
    cmd = "python benchmarks/simulation_study.py " + " ".join(shlex.quote(a) for a in shown)
    primary = vcovs[0]
    L: list[str] = []
    L.append("# Simulation study: recovery of the synthetic truth\n")
    L.append(f"Generated by `benchmarks/simulation_study.py`. Command:\n\n    {cmd}\n\n"
             "(`--raw FILE` keeps the per-replication rows and lets an interrupted run resume; "
             "`--report-only` rewrites this file from them.)\n")
    L.append("## Design\n")
    L.append(
        f"- {R} replications (main study, confounding {conf0:g}); replication r uses seed "
        f"{args.base_seed} + r (seeds {seeds[0]}–{seeds[-1]}).\n"
        f"- Each: `regeval.synthetic.generator.generate` with {args.n_persons:,} persons, {n_part:,} participants "
        f"(KLAPjob's 2,570 per 600,000), effect_scale {args.effect_scale:g}, chunk size {args.chunk_size:,}; "
        f"then base population → logit propensity score on the 17 characteristics → 10 nearest neighbours "
        f"with replacement on the logit, exact on cohort, control rule "
        f"`{args.control_rule or _setup()[1].control_rule}` → WLS per outcome × relative year with background "
        f"covariates and the outcome in t−1 (`config/config.yaml`, spec `default`), all in memory "
        f"(`regeval.pipeline.evaluate.evaluate`). Registers are written to a temporary folder and deleted.\n"
        f"- Per replication: {reps['n_treated_units'].mean():.0f} treated units on average "
        f"({reps['n_treated_units'].min()}–{reps['n_treated_units'].max()}), "
        f"{reps['n_controls_unique'].mean():,.0f} distinct matched control units.\n"
        + _runtime_line(all_raw, reps, args, elapsed)
        + _failure_line(failed, conf0)
    )
    L.append(
        "**Truth.** `truth` is the estimand of each cell: the mean of the person-year effects "
        "Y1 − Y0 (`truth_effects.parquet`) over exactly the treated units in that cell's regression "
        "(treated panel rows with a non-missing outcome, joined on person and calendar year = cohort + "
        "relative year), i.e. the *sample* ATT of the analysis' treated group. `truth_att` "
        "(`truth_att.csv`) is the generator's own mean over its analysis-eligible participants "
        "(linked, resident at the end of the year before start, 18–64, on FØP/flex job, with a "
        "cognitive diagnosis by then), per relative year over their resident person-years."
    )
    d = (main_raw["truth"] - main_raw["truth_att"]).abs()
    # truth_att.csv is written with 10 significant digits
    n_diff = int((d > 1e-8 * np.maximum(1.0, main_raw["truth"].abs())).sum())
    ntd = (main_raw["n_truth"] - main_raw["n_truth_att"]).abs()
    L.append(
        f"The two are two definitions of the same group, and here they coincide: over all "
        f"{len(main_raw):,} (replication, outcome, year) cells the largest |truth − truth_att| is "
        f"{d.max():.2g} (the rounding of `truth_att.csv` to 10 digits; {n_diff} cells differ beyond it, and the "
        f"number of treated person-years differs in "
        f"{int((ntd > 0).sum())} cells). They would differ if the pipeline dropped treated units "
        "(no control in a cohort, a caliper, a different base-population rule or control rule than "
        "the generator's eligibility) or cut a panel differently from residence; the estimand of a "
        "run is always the former, the mean over the treated actually analysed. Neither is the "
        "population ATT (the expectation over replications): each replication draws new "
        "participants with new individual effects, so the sample ATT varies between replications "
        "(column `sd_truth`), and a variance for the population ATT would have to add that "
        "variation.\n"
    )
    L.append("**Columns.** mean estimate / mean truth over replications; bias = mean(estimate − truth) "
             "with its Monte Carlo SE (MCSE = SD(error)/√R); RMSE = √mean((estimate − truth)²); SD estimate "
             "and SD error = SD(estimate − truth) across replications; mean SE and coverage of the 95 % "
             "Wald interval (|estimate − truth| ≤ 1.96 SE) per variance; SE ratio = mean SE / SD error; "
             "|bias|/SE = |bias| / mean SE of the first variance. Targets: |bias| ≤ 0.1 × mean SE and coverage 93–97 %. "
             f"With R = {R} the Monte Carlo SE of a coverage near 95 % is "
             f"{100 * np.sqrt(0.95 * 0.05 / R):.1f} pp and that of the bias is SD/√R ≈ {1 / np.sqrt(R):.2f} SE, so "
             "single cells miss the targets by chance (|bias|/SE > 0.1 has probability "
             f"{100 * 2 * (1 - _norm_cdf(0.1 * np.sqrt(R))):.0f} % for an unbiased estimator); pooled "
             "rows and the count of cells whose bias is significant at 1 % are more telling.\n")

    # headline
    L.append("## Headline: pooled over the pre-period (−5…−2) and the post-period (0…7)\n")
    for v in vcovs:
        pk = pooled(summary, raw, v, conf0)
        pk = pk[pk["outcome"].isin(KEY_OUTCOMES)]
        L.append(f"### vcov = `{v}`\n")
        L.append(_md(pk.rename(columns={"mean_se_ratio": "mean SE/SD", "max_abs_bias_over_se": "max |bias|/SE",
                                        "mean_abs_bias_over_se": "mean |bias|/SE"}),
                     {"coverage": _pct, "min_coverage": _pct, "max_coverage": _pct}))
        L.append("")
    L.append("Targets met per variance, over all 18 outcomes × 13 years and over the key outcomes:\n")
    trows = []
    for v in vcovs:
        for label, outs in (("all outcomes", tuple(pd.unique(summary["outcome"]))), ("key outcomes", KEY_OUTCOMES)):
            t = _targets_line(summary, v, conf0, outs)
            trows.append({"vcov": v, "outcomes": label, "cells": t["cells"],
                          "|bias| ≤ 0.1 SE": t["bias_ok"], "bias ≠ 0 at 1 % (MC)": t["bias_significant"],
                          "coverage 93–97 %": t["coverage_ok"], "coverage mean": _pct(t["coverage_mean"]),
                          "coverage min–max": f"{_pct(t['coverage_min'])} – {_pct(t['coverage_max'])}"})
    L.append(_md(pd.DataFrame(trows)))
    L.append("")
    L.append(reading(summary, main_raw, vcovs, conf0))

    # full table
    L.append("## Per outcome × relative year\n")
    L.append(f"Main study (confounding {conf0:g}, R = {R}). The CSV beside this file "
             f"(`{Path(args.csv or path.with_suffix('.csv')).name}`) has the same per variance and confounding value.\n")
    s0 = summary[summary["confounding"] == conf0]
    base = s0[s0["vcov"] == primary].set_index(["outcome", "rel_year"])
    sd_truth = main_raw.groupby(["outcome", "rel_year"])["truth"].std(ddof=1)
    cols = pd.DataFrame({
        "outcome": base.index.get_level_values(0), "rel_year": base.index.get_level_values(1),
        "mean est.": base["mean_estimate"].to_numpy(), "mean truth": base["mean_truth"].to_numpy(),
        "sd_truth": sd_truth.reindex(base.index).to_numpy(),
        "bias": base["bias"].to_numpy(), "MCSE": base["mcse_bias"].to_numpy(), "RMSE": base["rmse"].to_numpy(),
        "SD est.": base["sd_estimate"].to_numpy(), "SD error": base["sd_error"].to_numpy(),
    })
    for v in vcovs:
        sv = s0[s0["vcov"] == v].set_index(["outcome", "rel_year"]).reindex(base.index)
        cols[f"SE {v}"] = sv["mean_se"].to_numpy()
        cols[f"cov. {v}"] = sv["coverage"].to_numpy()
    cols[f"|bias|/SE {primary}"] = base["abs_bias_over_se"].to_numpy()
    L.append(_md(cols, {f"cov. {v}": _pct for v in vcovs}))
    L.append("")

    # confounding
    confs = sorted(raw["confounding"].unique())
    if len(confs) > 1:
        L.append("## Unobserved confounding\n")
        Rc = raw[raw["confounding"] != conf0].groupby("confounding")["rep"].nunique()
        L.append(
            "The generator's `confounding` is the coefficient of an unobserved 'motivation' (standard normal) "
            "in both the selection into the programme and the employment model of people on FØP; matching "
            "cannot see it. Replications per value: "
            + ", ".join(f"{c:g}: {int(raw[raw['confounding'] == c]['rep'].nunique())}" for c in confs)
            + f" (the value {conf0:g} uses the first {int(Rc.max()) if len(Rc) else R} replications of the main study, "
            "the same seeds as the other values, so the rows are paired). Bias = mean(estimate − truth) pooled over "
            f"the post-period years 0…7 and over the pre-period −5…−2, with `{primary}` coverage.\n"
        )
        nmax = int(Rc.max()) if len(Rc) else R
        sub = raw[raw["rep"] < nmax]
        crow = []
        for o in ("employed", "fulltime_days", "hours_per_week", "taxable_income", "sel103_104", "sel85"):
            for c in confs:
                g = sub[(sub["outcome"] == o) & (sub["confounding"] == c)]
                for label, lo, hi in (("post 0…7", 0, 7), ("pre −5…−2", -5, -2), ("year −1", -1, -1)):
                    h = g[g["rel_year"].between(lo, hi)]
                    err = h["estimate"] - h["truth"]
                    per_rep = err.groupby(h["rep"]).mean()
                    crow.append({"outcome": o, "confounding": c, "period": label, "R": int(h["rep"].nunique()),
                                 "mean truth": float(h["truth"].mean()), "mean estimate": float(h["estimate"].mean()),
                                 "bias": float(err.mean()),
                                 "MCSE": float(per_rep.std(ddof=1) / np.sqrt(len(per_rep))),
                                 "bias / mean SE": float(err.mean() / h[f"se_{primary}"].mean()),
                                 "bias / truth": float(err.mean() / h["truth"].mean()) if abs(h["truth"].mean()) > 1e-12 else float("nan"),
                                 f"coverage {primary}": float((err.abs() <= Z95 * h[f"se_{primary}"]).mean())})
        L.append(_md(pd.DataFrame(crow), {f"coverage {primary}": _pct, "confounding": lambda x: f"{x:g}",
                                          "bias / truth": lambda x: "" if not np.isfinite(x) else f"{100 * x:.0f} %"}))
        L.append("")
        L.append(confounding_reading(sub, confs, primary))
    if not experiment.empty:
        L.append(exclusion_section(experiment, primary))
    L.append("## Machine\n")
    L += machine_info()
    L.append("")
    path.write_text("\n".join(L) + "\n", encoding="utf-8")


def _runtime_line(raw: pd.DataFrame, reps: pd.DataFrame, args: argparse.Namespace, elapsed: float) -> str:
    keys = ["design", "confounding", "rep"]
    n_all = raw.groupby(keys).ngroups
    total = float(raw.groupby(keys)["seconds"].first().sum())
    line = (f"- Runtime: one replication takes {reps['seconds'].median():.0f} s (median over the main study; "
            f"{reps['seconds_generate'].median():.0f} s of it generating the registers) in one worker process; "
            f"the {n_all} replications took {total / 3600:.2f} h of worker time in all, "
            f"{total / 60 / max(args.workers, 1):.0f} min on {args.workers} workers")
    if np.isfinite(elapsed):
        line += f"; wall clock of the call that wrote this report: {elapsed / 60:.1f} min"
        if getattr(args, "resumed", 0):
            line += f" (it resumed from {args.resumed} replications already in the --raw file)"
    return line + ". The machine is shared with other jobs, so times vary.\n"


def _failure_line(failed: pd.DataFrame | None, conf0: float) -> str:
    if failed is None or failed.empty:
        return "- Every replication ran through the pipeline.\n"
    f = failed
    parts = []
    for (d, c), g in f.groupby(["design", "confounding"]):
        parts.append(f"{d}, confounding {c:g}: {len(g)} (reps {', '.join(str(int(r)) for r in sorted(g['rep']))})")
    return ("- Replications the pipeline stopped, excluded from the tables: " + "; ".join(parts) + ". Reason: "
            + "; ".join(sorted(set(f["error"].str.split(r" occurs| for \d|\(", regex=True).str[0].str.strip())))
            + ". The pipeline refuses a propensity model "
            "with separation (a characteristic level without treated units) instead of matching on meaningless "
            "scores; at this population size a rare level (e.g. long higher education) sometimes has no "
            "participant.\n")


def exclusion_section(exp: pd.DataFrame, vcov: str) -> str:
    """Paired comparison of each later-starts arm of the control-rule experiment with arm a."""
    k = ["rep", "outcome", "rel_year"]
    a = exp[exp["design"] == ONE_START]
    arms = sorted(d for d in exp["design"].unique() if d != ONE_START)
    rows = []
    counts = [f"{a.groupby('rep')['n_control'].max().mean():,.0f} in arm a ({ONE_START})"]
    R = int(a["rep"].nunique())
    for arm in arms:
        b = exp[exp["design"] == arm]
        counts.append(f"{b.groupby('rep')['n_control'].max().mean():,.0f} in arm \"{arm}\"")
        m = a[k + ["estimate", "truth", f"se_{vcov}"]].merge(b[k + ["estimate", "truth"]], on=k, suffixes=("_a", "_b"))
        m["err_a"] = m["estimate_a"] - m["truth_a"]
        m["err_b"] = m["estimate_b"] - m["truth_b"]
        for o in ("employed", "fulltime_days", "hours_per_week", "taxable_income", "sel103_104", "botilbud",
                  "sel85", "psychiatric_hospital", "support_foep", "support_fleksjob"):
            for label, lo, hi in (("pre −5…−2", -5, -2), ("post 0…7", 0, 7)):
                g = m[(m["outcome"] == o) & m["rel_year"].between(lo, hi)]
                if g.empty:
                    continue
                per = g.groupby("rep")[["err_a", "err_b"]].mean()
                d = per["err_b"] - per["err_a"]
                se = float(g[f"se_{vcov}"].mean())
                rows.append({"arm b": arm, "outcome": o, "period": label,
                             "bias a (one start year)": float(per["err_a"].mean()),
                             "MCSE a": float(per["err_a"].std(ddof=1) / np.sqrt(len(per))),
                             "bias b": float(per["err_b"].mean()),
                             "MCSE b": float(per["err_b"].std(ddof=1) / np.sqrt(len(per))),
                             "b − a": float(d.mean()), "MCSE b − a": float(d.std(ddof=1) / np.sqrt(len(d))),
                             "(b − a) / SE": float(d.mean()) / se})
    table = pd.DataFrame(rows)
    return (
        "## Experiment: later participants and the control rule\n\n"
        + EXCLUSION_NOTE.format(R=R)
        + "Matched control persons per replication (largest cell): " + ", ".join(counts) + ".\n\n"
        + _md(table) + "\n\n" + exclusion_reading(table) + "\n"
    )


def exclusion_reading(table: pd.DataFrame) -> str:
    """What the experiment shows, from its numbers."""
    out = []
    post = table[table["period"] == "post 0…7"]
    for arm, g in post.groupby("arm b", sort=True):
        sig = g[(g["b − a"].abs() > 2.576 * g["MCSE b − a"])]
        worst = g.loc[g["(b − a) / SE"].abs().idxmax()]
        out.append(
            f"- **{arm}**: after start, {len(sig)} of {len(g)} outcomes differ from arm a by more than 2.58 "
            "Monte Carlo SEs"
            + (" (" + ", ".join(f"{r['outcome']} {r['b − a']:+.4g}" for r in sig.to_dict("records")) + ")"
               if len(sig) else "")
            + f"; largest difference {worst['(b − a) / SE']:+.2f} SE ({worst['outcome']})."
        )
    return (
        "Reading (differences b − a, paired by replication; arm a has no later participants, so no rule "
        "can matter there):\n\n" + "\n".join(out) + "\n\n" + EXCLUSION_READING
    )


def _norm_cdf(x: float) -> float:
    from scipy.stats import norm

    return float(norm.cdf(x))


def _pooled_value(summary: pd.DataFrame, vcov: str, conf: float, outcomes: tuple[str, ...], years: tuple[int, int],
                  column: str, how: str = "mean") -> float:
    s = summary[(summary["vcov"] == vcov) & (summary["confounding"] == conf) & summary["outcome"].isin(outcomes)
                & summary["rel_year"].between(*years) & ~summary["degenerate"]]
    return float(getattr(s[column], how)())


def reading(summary: pd.DataFrame, main_raw: pd.DataFrame, vcovs: tuple[str, ...], conf0: float) -> str:
    """The interpretation of the main study, with its numbers."""
    v0 = vcovs[0]
    emp = ("employed", "fulltime_days", "hours_per_week")
    serv = ("sel103_104", "botilbud", "gp_contacts", "specialist_contacts")
    P = lambda o, y, c, h="mean", v=v0: _pooled_value(summary, v, conf0, o, y, c, h)  # noqa: E731
    s_all = summary[(summary["vcov"] == v0) & (summary["confounding"] == conf0) & (summary["rel_year"] != -1)
                    & ~summary["degenerate"]]
    ym1 = summary[(summary["vcov"] == v0) & (summary["confounding"] == conf0) & (summary["rel_year"] == -1)
                  & ~summary["degenerate"]]
    emp_post = main_raw[main_raw["outcome"].isin(emp) & main_raw["rel_year"].between(0, 7)]
    rel_bias = (emp_post.groupby("outcome").apply(
        lambda g: (g["estimate"] - g["truth"]).mean() / g["truth"].mean(), include_groups=False))
    lines = [
        "## Reading the results\n",
        f"**Coverage.** With `{v0}` the 95 % intervals cover the sample ATT in "
        f"{_pct(s_all['coverage'].mean())} of the replications on average over the {len(s_all)} effect cells "
        f"(years −5…−2 and 0…7 of every outcome, without the cells of the support outcomes that nobody has "
        f"after start, whose estimate is exactly 0), {int(s_all['coverage'].between(0.93, 0.97).sum())} cells "
        f"within 93–97 % (a procedure with exactly 95 % coverage would put about "
        f"{100 * (2 * _norm_cdf(0.02 / np.sqrt(0.95 * 0.05 / max(int(s_all['R'].min()), 1))) - 1):.0f} % of the cells "
        "there by Monte Carlo error alone). The mean SE is close to the SD of the errors after start (SE/SD "
        f"{P(emp, (0, 7), 'se_ratio', 'min'):.2f}–{P(emp, (0, 7), 'se_ratio', 'max'):.2f} for the employment "
        f"outcomes, {P(serv, (0, 7), 'se_ratio', 'min'):.2f}–{P(serv, (0, 7), 'se_ratio', 'max'):.2f} for "
        "services and health contacts). Departures:\n",
        "- *Before start the employment SEs are too large* (SE/SD "
        f"{P(emp, (-5, -2), 'se_ratio', 'min'):.2f}–{P(emp, (-5, -2), 'se_ratio', 'max'):.2f}, coverage about "
        f"{_pct(P(emp, (-5, -2), 'coverage'))}), and in year −1 the SE is "
        f"{ym1['se_ratio'].min():.1f}–{ym1['se_ratio'].max():.1f} times the SD for every outcome (coverage "
        + (_pct(ym1['coverage'].min()) if ym1['coverage'].min() == ym1['coverage'].max()
           else f"{_pct(ym1['coverage'].min())}–{_pct(ym1['coverage'].max())}")
        + "; year −1 is left out of the counts above). "
        "The propensity model includes the employment degree in t−1 and t−5…t−2 and the t−1 values of the "
        "service and health outcomes, so matching balances exactly these quantities, and their treated–control "
        "difference varies much less across samples than the residuals of the effect regression (which adjusts "
        "for background characteristics and the t−1 value only) suggest: the sandwich counts variation as noise "
        "that the matching has removed (the variance of a matching estimator depends on the variance of the "
        "outcome given all matched covariates, Abadie & Imbens 2006, 2016). Conservative, and confined to the "
        "placebo years: after start the baseline adjustment absorbs most of it.\n",
        "- *A few cells after start under-cover* (lowest: "
        + ", ".join(f"{r.outcome} year {int(r.rel_year)} {_pct(r.coverage)}" for r in
                    s_all[s_all["rel_year"] >= 0].nsmallest(3, "coverage").itertuples())
        + "), where the bias below adds to a SE slightly below the SD.\n",
    ]
    if "CR1-SATT" in vcovs and v0 != "CR1-SATT":
        Q = lambda o, y, c: _pooled_value(summary, "CR1-SATT", conf0, o, y, c)  # noqa: E731
        sat = summary[(summary["vcov"] == "CR1-SATT") & (summary["confounding"] == conf0)
                      & (summary["rel_year"] != -1) & ~summary["degenerate"]]
        post0, post1 = s_all[s_all["rel_year"] >= 0], sat[sat["rel_year"] >= 0]
        dev = lambda d: float(np.abs(np.log(d["se_ratio"])).mean())  # noqa: E731
        lines.append(
            f"**`{v0}` against `CR1-SATT`.** `CR1-SATT` replaces the treated units' squared residuals by the "
            "controls' matching-weighted mean squared residual, i.e. it leaves the spread of the individual "
            "effects out of the variance, as the sample ATT requires (docs/effects.md). Its SEs are smaller "
            "where effects are most heterogeneous: for the employment outcomes after start SE/SD "
            f"{P(emp, (0, 7), 'se_ratio'):.3f} → {Q(emp, (0, 7), 'se_ratio'):.3f}; for sel85 "
            f"{P(('sel85',), (0, 7), 'se_ratio'):.3f} → {Q(('sel85',), (0, 7), 'se_ratio'):.3f} (coverage "
            f"{_pct(P(('sel85',), (0, 7), 'coverage'))} → {_pct(Q(('sel85',), (0, 7), 'coverage'))}). After "
            f"start the mean |log(SE/SD)| is {dev(post0):.3f} for `{v0}` and {dev(post1):.3f} for `CR1-SATT`, "
            f"with {int(post0['coverage'].between(0.93, 0.97).sum())} and "
            f"{int(post1['coverage'].between(0.93, 0.97).sum())} of {len(post0)} cells within 93–97 %; over all "
            f"effect cells the mean coverage is {_pct(s_all['coverage'].mean())} against {_pct(_satt_cov(summary, conf0))}"
            " (year −1 included in neither). Both reach the coverage target on average, and differ by a few "
            f"per cent of the SE. `{v0}` by person stays the default (the R `sandwich` definition, and the more "
            "conservative one for the employment effects); `CR1-SATT` answers the narrower question \"the effect "
            "on exactly these participants\" and is selected with `effects.vcov: CR1-SATT`.\n"
        )
    sig = s_all[s_all["bias"].abs() > 2.576 * s_all["mcse_bias"]]
    by_outcome = sig.groupby("outcome", sort=False)["rel_year"].apply(lambda y: ", ".join(str(int(v)) for v in y))
    others = [o for o in ("sel103_104", "botilbud", "gp_contacts", "specialist_contacts", "somatic_hospital",
                          "psychiatric_hospital") if o in set(s_all["outcome"])]
    post_sig = set(sig.loc[sig["rel_year"] >= 0, "outcome"])
    clean = [o for o in others if o not in post_sig]
    emp_abs = [P((o,), (0, 7), 'abs_bias_over_se', 'max') for o in emp]
    met = s_all[s_all["rel_year"] >= 0]
    n_ok = int((met["abs_bias_over_se"] <= 0.1).sum())
    n_ok_sig = int(((met["abs_bias_over_se"] <= 0.1) | (met["bias"].abs() <= 2.576 * met["mcse_bias"])).sum())
    lines.append(
        f"**Bias.** {len(sig)} of the {len(s_all)} effect cells have a bias significant at 1 % (Monte Carlo), "
        f"where about {0.01 * len(s_all):.0f} would by chance"
        + (": " + "; ".join(f"{o} (years {ys})" for o, ys in by_outcome.items()) if len(sig) else "")
        + ". Relative bias of the employment outcomes after start (mean over years 0…7 of estimate − truth, "
        "divided by the mean truth): "
        + ", ".join(f"{100 * v:+.1f} % ({o})" for o, v in rel_bias.items())
        + f"; per year at most {max(emp_abs):.2f} SE"
        + f"; sel85 {P(('sel85',), (0, 7), 'bias'):+.4f} on average ({P(('sel85',), (0, 7), 'abs_bias_over_se'):.2f} SE)"
        + (f"; {', '.join(clean)} show no significant bias after start" if clean else "")
        + f". Target |bias| ≤ 0.1 × SE: met in {n_ok} of {len(met)} cells after start; in {n_ok_sig} the bias "
        "is either that small or not distinguishable from 0 at 1 % (a cell's Monte Carlo SE of the bias is "
        f"about SD/√R = {float(met['mcse_bias'].div(met['mean_se']).median()):.2f} SE, so smaller "
        "biases cannot be resolved with R replications). The control rule matters here (experiment below).\n"
    )
    return "\n".join(lines)


def _satt_cov(summary: pd.DataFrame, conf0: float) -> float:
    s = summary[(summary["vcov"] == "CR1-SATT") & (summary["confounding"] == conf0) & (summary["rel_year"] != -1)
                & ~summary["degenerate"]]
    return float(s["coverage"].mean())


def confounding_reading(sub: pd.DataFrame, confs: list[float], vcov: str) -> str:
    def bias(o: str, c: float, lo: int, hi: int) -> tuple[float, float]:
        g = sub[(sub["outcome"] == o) & (sub["confounding"] == c) & sub["rel_year"].between(lo, hi)]
        return float((g["estimate"] - g["truth"]).mean()), float(g["truth"].mean())

    parts = []
    for c in confs:
        b, t = bias("employed", c, 0, 7)
        parts.append(f"{c:g}: {b:+.3f} ({100 * b / t:.0f} % of the effect)")
    pre = [bias("employed", c, -1, -1)[0] for c in confs]
    return (
        "Motivation raises both the chance of taking part and the chance of employment on FØP, so the "
        "employment effects are overstated, the more the stronger the confounding (bias of the employment "
        "share after start, confounding " + "; ".join(parts) + "); coverage collapses accordingly. Outcomes "
        "that motivation does not drive (§103/104, §85, contacts) stay where they were. The pre-period rows are "
        "the pipeline's own warning: the employment difference in year −1 (placebo, not adjusted for itself) "
        "grows with the confounding (" + ", ".join(f"{x:+.3f}" for x in pre) + "), because motivated "
        "participants were more often employed before start than their matched controls with the same "
        "employment degree. Matching on observables cannot remove this bias; only the placebo years can hint "
        "at it.\n"
    )


EXCLUSION_NOTE = (
    "Does the control rule bias the estimates when people start in later years? Who starts in a later year "
    "depends on their situation in the year before (the generator selects on employment, support type, §85, "
    "§103/104, residential care and psychiatric hospital contact then), which lies in the post-period of "
    "earlier cohorts. Test, {R} paired replications per arm, same seeds, only cohort 2016 analysed: (a) one "
    "start year, 2016, 642 participants — nobody starts later, so the control rule has nothing to act on; "
    "(b) start years 2016–2019 with 4 × 642 participants — the 2016 draw of the generator is then identical "
    "to arm a (same persons, same untreated outcomes, same 2016 participants), and about 3 × as many later "
    "participants are in the 2016 control pool as in the main study. Arm b analyses all four cohorts (the "
    "propensity model, which `censor_at_start` also uses as the start hazard, is fitted on all of them) and "
    "reports the effects of cohort 2016, and is run with each control rule named. Bias = mean(estimate − "
    "sample ATT), pooled over years; b − a paired by replication.\n\n"
)

EXCLUSION_READING = (
    "`never_participated` removes later participants from the earlier cohort's controls and so selects the "
    "controls on their future (later participants had more employment and §103/104 and less §85, "
    "residential care and psychiatric contact in the year before their own start); `censor_at_start` keeps "
    "them until their own start and reweights the remaining controls by the inverse of their estimated "
    "probability of not having started (docs/effects.md, \"Later participants\"), which uses only what "
    "the registers show before each start."
)


# --------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------


def make_jobs(R: int, base_seed: int, n_persons: int, n_participants: int, confounding: float,
              effect_scale: float, vcovs: tuple[str, ...], tmp_root: str | None = None,
              chunk_size: int = 125_000, **design: Any) -> list[Job]:
    """Replications 0..R-1 (seed ``base_seed + r``); ``design``: start_years, cohorts, control_rule."""
    return [Job(r, base_seed + r, n_persons, n_participants, float(confounding), float(effect_scale), vcovs,
                tmp_root, chunk_size, **design) for r in range(R)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-R", "--replications", type=int, default=200, help="replications of the main study (default 200)")
    ap.add_argument("--n-persons", type=int, default=200_000, help="persons per replication (default 200,000)")
    ap.add_argument("--n-participants", type=int, default=None,
                    help="participants per replication (default: 2,570 per 600,000 persons)")
    ap.add_argument("--confounding", type=float, nargs="+", default=[0.0],
                    help="values of the unobserved confounding; the first is the main study's (default 0)")
    ap.add_argument("--confounding-replications", type=int, default=50,
                    help="replications per further confounding value (default 50)")
    ap.add_argument("--effect-scale", type=float, default=1.0)
    ap.add_argument("--chunk-size", type=int, default=125_000, help="generator chunk size (changes the draws)")
    ap.add_argument("--start-years", type=int, nargs="+", default=None,
                    help="the generator's programme start years, equally weighted (default: its own)")
    ap.add_argument("--cohorts", type=int, nargs="+", default=None, help="cohorts analysed (default: the config's)")
    ap.add_argument("--exclusion-experiment", type=int, default=0, metavar="R",
                    help="also run the experiment on excluding later participants from the controls with R "
                         "paired replications per arm (default 0: not run)")
    ap.add_argument("--control-rule", default=None, choices=["never_participated", "not_yet_participated", "censor_at_start"],
                    help="population.control_rule (default: the config's)")
    ap.add_argument("--base-seed", type=int, default=20_240_000, help="replication r uses seed base + r")
    ap.add_argument("--vcov", nargs="+", default=["CR1", "HC3"], help="standard errors to evaluate")
    ap.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--tmp-dir", default=None, help="where the temporary registers are written")
    ap.add_argument("--output", default=str(REPO / "benchmarks" / "results_simulation.md"))
    ap.add_argument("--csv", default=None, help="summary CSV (default: the output with .csv)")
    ap.add_argument("--raw", default=None,
                    help="CSV of the per-replication rows, appended to as replications finish; replications "
                         "already in it are not run again (resume)")
    ap.add_argument("--report-only", action="store_true", help="only write the report from the --raw file")
    ap.add_argument("--worlds", nargs="+", default=None,
                    help="run the misspecified-worlds study instead (benchmarks/simulation_worlds.py): "
                         "-R replications of each named world (correct, nonlinear_age, interactions, "
                         "poor_overlap); report to --output (default benchmarks/results_worlds.md)")
    args = ap.parse_args(argv)
    if args.worlds:
        return worlds_main(args, argv)

    n_part = args.n_participants or default_participants(args.n_persons)
    vcovs = tuple(dict.fromkeys(args.vcov))
    t0 = time.perf_counter()
    design = {
        "start_years": tuple(args.start_years) if args.start_years else None,
        "cohorts": tuple(args.cohorts) if args.cohorts else None,
        "control_rule": args.control_rule,
    }
    jobs = make_jobs(args.replications, args.base_seed, args.n_persons, n_part, args.confounding[0],
                     args.effect_scale, vcovs, args.tmp_dir, args.chunk_size, **design)
    for c in args.confounding[1:]:
        jobs += make_jobs(args.confounding_replications, args.base_seed, args.n_persons, n_part, c,
                          args.effect_scale, vcovs, args.tmp_dir, args.chunk_size, **design)
    if args.exclusion_experiment:
        rule = args.control_rule or _setup()[1].control_rule
        jobs += make_jobs(args.exclusion_experiment, args.base_seed, args.n_persons, n_part, args.confounding[0],
                          args.effect_scale, vcovs, args.tmp_dir, args.chunk_size, start_years=(2016,),
                          design=ONE_START, cohorts=(2016,), control_rule=rule)
        for r in dict.fromkeys([rule, "never_participated"]):
            # every start year is analysed (the hazards of censor_at_start need them), the effects
            # of cohort 2016 are compared
            jobs += make_jobs(args.exclusion_experiment, args.base_seed, args.n_persons, 4 * n_part,
                              args.confounding[0], args.effect_scale, vcovs, args.tmp_dir, args.chunk_size,
                              start_years=(2016, 2017, 2018, 2019), design=LATER_STARTS.format(rule=r),
                              cohorts=(2016, 2017, 2018, 2019), estimate_cohorts=(2016,), control_rule=r)
    checkpoint = Path(args.raw) if args.raw else None
    csv = Path(args.csv or Path(args.output).with_suffix(".csv"))
    if checkpoint is not None and checkpoint.resolve() == csv.resolve():
        ap.error(f"--raw {checkpoint} is also the summary CSV; give another --raw or --csv")
    n_before = 0
    if checkpoint is not None and checkpoint.exists() and not args.report_only:
        n_before = int(_read_checkpoint(checkpoint)[["design", "confounding", "rep"]].drop_duplicates().shape[0])
    args.resumed = n_before
    if args.report_only:
        if checkpoint is None or not checkpoint.exists():
            ap.error("--report-only needs an existing --raw file")
        raw = _read_checkpoint(checkpoint)
        fp = failures_path(checkpoint)
        failed = _read_checkpoint(fp) if fp.exists() else pd.DataFrame(columns=FAILURE_COLUMNS)
        elapsed = float("nan")
    else:
        print(f"{len(jobs)} replications of {args.n_persons:,} persons / {n_part:,} participants on "
              f"{args.workers} worker(s)", flush=True)
        raw, failed = run_all(jobs, args.workers, checkpoint=checkpoint)
        elapsed = time.perf_counter() - t0
    missing = [v for v in vcovs if f"se_{v}" not in raw]
    if missing:
        raise SystemExit(f"the replications lack standard errors {missing}")
    summary = summarise(raw[raw["design"] == MAIN], list(vcovs))
    summary.to_csv(csv, index=False, float_format="%.6g")
    write_report(Path(args.output), raw, summary, args, n_part, vcovs, elapsed, argv, failed)
    print(f"wrote {args.output} and {csv} ({elapsed:.0f} s)")
    return 0


def worlds_main(args: argparse.Namespace, argv: list[str] | None) -> int:
    """The misspecified-worlds study (``--worlds``)."""
    from simulation_worlds import WORLDS, summarise_worlds, write_worlds_report

    unknown = sorted(set(args.worlds) - set(WORLDS))
    if unknown:
        raise SystemExit(f"unknown world(s) {unknown}; known: {sorted(WORLDS)}")
    n_part = args.n_participants or default_participants(args.n_persons)
    out = Path(args.output if args.output != str(REPO / "benchmarks" / "results_simulation.md")
               else REPO / "benchmarks" / "results_worlds.md")
    checkpoint = Path(args.raw) if args.raw else None
    t0 = time.perf_counter()
    if args.report_only:
        if checkpoint is None or not checkpoint.exists():
            raise SystemExit("--report-only needs an existing --raw file")
        raw = _read_checkpoint(checkpoint)
        fp = failures_path(checkpoint)
        failed = _read_checkpoint(fp) if fp.exists() else pd.DataFrame(columns=FAILURE_COLUMNS)
    else:
        jobs = [j for w in args.worlds for j in make_jobs(args.replications, args.base_seed, args.n_persons, n_part,
                                                         0.0, 1.0, ("CR1",), args.tmp_dir, args.chunk_size, design=w)]
        # interleave the worlds, so that an interrupted run has every world
        jobs.sort(key=lambda j: (j.rep, args.worlds.index(j.design)))
        print(f"{len(jobs)} replications ({len(args.worlds)} worlds) of {args.n_persons:,} persons / {n_part:,} "
              f"participants on {args.workers} worker(s)", flush=True)
        raw, failed = run_all(jobs, args.workers, checkpoint=checkpoint)
    raw = raw[raw["design"].isin(args.worlds)]
    summary = summarise_worlds(raw)
    summary.to_csv(out.with_suffix(".csv"), index=False, float_format="%.6g")
    command = "python benchmarks/simulation_study.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    write_worlds_report(out, raw, summary, command, failed, time.perf_counter() - t0)
    print(f"wrote {out} and {out.with_suffix('.csv')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
