"""Benchmark of the control-group core: propensity fit, matching and both together.

Generates its data deterministically (seeded numpy): 2,000 treated and N potential
controls (N in 20,000 / 200,000 / 1,000,000), 17 characteristics giving 38 design
columns plus the intercept, 6 cohort years. The data are written to
``benchmarks/_data/bench_<N>.parquet`` and ``.csv`` so that the same rows can be fed
to R's MatchIt for comparison.

Run from the repository root::

    python benchmarks/bench_control_group.py            # full run, writes results
    python benchmarks/bench_control_group.py --quick    # 20k and 200k only, no file

Peak memory is measured in a fresh subprocess per configuration (``ru_maxrss`` of the
child), so the figures include the Python interpreter and the imported libraries.

The 1M run also times matching on a tie-heavy score (the fitted score rounded to 4
decimals, like a score from coded characteristics: a few thousand distinct values) with
both rules for equally distant controls (``ties="matchit"``, the default, which replays
MatchIt's search for the treated units at a tie, and ``ties="scan"``).
To compare the matching speed of two checkouts on the same data::

    python benchmarks/bench_control_group.py --match-only
    PYTHONPATH=/path/to/other/checkout/src python benchmarks/bench_control_group.py --match-only
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent
DATA_DIR = ROOT / "_data"
RESULTS = ROOT / "results_control_group.md"
N_TREATED = 2_000
SIZES = (20_000, 200_000, 1_000_000)
COHORTS = (2014, 2015, 2016, 2017, 2018, 2019)
SEED = 20230601

COVARIATES = [
    "male", "age", "education", "diag_intellectual", "diag_autism", "diag_epilepsy",
    "diag_cerebral_palsy", "diag_adhd", "diag_psychiatric", "diag_brain_injury",
    "diag_other", "n_diag_groups", "income_support", "employment_prev",
    "employment_prev2_5", "cohort", "residential", "sel85", "sel103_104",
    "other_services", "gp_contacts", "specialist_contacts", "somatic_hospital",
    "psychiatric_hospital",
]
CATEGORICAL = ["education", "income_support", "cohort"]


def make_data(n_controls: int, n_treated: int = N_TREATED, seed: int = SEED) -> pd.DataFrame:
    """Return a deterministic synthetic base population (treated first, then controls)."""
    rng = np.random.default_rng([seed, n_controls])
    n = n_treated + n_controls
    treat = np.zeros(n, dtype=np.int8)
    treat[:n_treated] = 1
    t = treat.astype(bool)
    shift = np.where(t, 1.0, 0.0)

    def bern(p_c: float, p_t: float) -> np.ndarray:
        return (rng.random(n) < np.where(t, p_t, p_c)).astype(np.int8)

    def cat(levels: list[str], p_c: list[float], p_t: list[float]) -> np.ndarray:
        u = rng.random(n)
        cp_c = np.cumsum(p_c) / np.sum(p_c)
        cp_t = np.cumsum(p_t) / np.sum(p_t)
        idx = np.where(t, np.searchsorted(cp_t, u), np.searchsorted(cp_c, u))
        return np.asarray(levels, dtype=object)[np.minimum(idx, len(levels) - 1)]

    df = pd.DataFrame({"pnr": np.arange(1, n + 1, dtype=np.int64), "treat": treat})
    df["male"] = bern(0.52, 0.62)
    df["age"] = np.clip(np.round(rng.normal(45 - 12 * shift, 11)), 18, 64).astype(np.int16)
    df["education"] = cat(
        ["grundskole", "gymnasial", "erhvervsfaglig", "kort", "mellemlang", "lang", "ukendt"],
        [40, 8, 28, 4, 10, 4, 6], [62, 4, 20, 2, 4, 1, 7])
    diag_p = [(0.10, 0.55), (0.08, 0.15), (0.10, 0.12), (0.03, 0.06),
              (0.12, 0.08), (0.35, 0.15), (0.07, 0.05), (0.20, 0.15)]
    diag_cols = COVARIATES[3:11]
    for col, (pc, pt) in zip(diag_cols, diag_p, strict=True):
        df[col] = bern(pc, pt)
    df["n_diag_groups"] = (df[diag_cols].sum(axis=1) + rng.poisson(0.3, n)).astype(np.int16)
    df["income_support"] = cat(
        ["foep", "fleksjob", "ledighedsydelse", "kontanthjaelp", "ressourceforloeb", "loen", "andet"],
        [70, 10, 4, 5, 4, 4, 3], [90, 5, 1, 1, 1, 1, 1])
    df["employment_prev"] = np.clip(rng.beta(0.5, 4, n) + 0.15 * shift * rng.random(n), 0, 1)
    df["employment_prev2_5"] = np.clip(rng.beta(0.5, 4, n) + 0.10 * shift * rng.random(n), 0, 1)
    df["cohort"] = rng.choice(np.asarray(COHORTS, dtype=np.int16), size=n)
    df["residential"] = bern(0.15, 0.12)
    df["sel85"] = bern(0.30, 0.25)
    df["sel103_104"] = bern(0.30, 0.35)
    df["other_services"] = bern(0.20, 0.20)
    df["gp_contacts"] = rng.poisson(np.where(t, 7.0, 9.0)).astype(np.int16)
    df["specialist_contacts"] = rng.poisson(np.where(t, 1.0, 1.5)).astype(np.int16)
    df["somatic_hospital"] = bern(0.35, 0.33)
    df["psychiatric_hospital"] = bern(0.10, 0.05)
    for c in ("education", "income_support"):
        df[c] = df[c].astype("str")
    return df


def write_data(df: pd.DataFrame, n_controls: int) -> None:
    """Write the data set to Parquet and CSV under benchmarks/_data/."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    stem = DATA_DIR / f"bench_{n_controls}"
    df.to_parquet(stem.with_suffix(".parquet"), index=False)
    df.to_csv(stem.with_suffix(".csv"), index=False)


def ensure_data(n_controls: int, rewrite: bool = False) -> pd.DataFrame:
    """Generate the data set for ``n_controls`` and write it once (deterministic)."""
    df = make_data(n_controls)
    stem = DATA_DIR / f"bench_{n_controls}"
    if rewrite or not stem.with_suffix(".parquet").exists() or not stem.with_suffix(".csv").exists():
        write_data(df, n_controls)
    return df


def _median_time(fn, repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def child(n_controls: int) -> None:
    """Fit + match once in this (fresh) process; print timings and peak RSS as JSON."""
    import warnings

    from regeval.stats.matching import match_nearest
    from regeval.stats.propensity import fit_propensity

    warnings.simplefilter("ignore")
    df = pd.read_parquet(DATA_DIR / f"bench_{n_controls}.parquet")
    rss_loaded = _rss_mb()
    peak_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    fit = fit_propensity(df, "treat", COVARIATES, categorical=CATEGORICAL)
    t1 = time.perf_counter()
    m = match_nearest(df, "treat", fit.score, k=10, replace=True, exact=["cohort"])
    t2 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "n_controls": n_controls, "fit_s": t1 - t0, "match_s": t2 - t1, "total_s": t2 - t0,
        "rss_after_load_mb": rss_loaded, "peak_before_fit_mb": peak_loaded, "peak_rss_mb": peak,
        "iterations": fit.iterations, "n_controls_unique": m.n_controls_unique,
    }))


def _machine() -> dict[str, str]:
    cpu = "unknown"
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    import numpy
    import pandas
    import scipy

    return {
        "nproc": str(os.cpu_count()),
        "RAM": f"{mem_kb / 1024**2:.1f} GiB",
        "CPU": cpu,
        "Python": platform.python_version(),
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "scipy": scipy.__version__,
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _competitors(df: pd.DataFrame) -> dict[str, float]:
    """Time scikit-learn and statsmodels on the same 1M design (one run each)."""
    import warnings

    import statsmodels.api as sm
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    from regeval.stats.design import build_design, design_matrix
    from regeval.stats.propensity import fit_propensity

    warnings.simplefilter("ignore")
    ours = fit_propensity(df, "treat", COVARIATES, categorical=CATEGORICAL)
    design = build_design(df, COVARIATES, categorical=CATEGORICAL)
    X, _ = design_matrix(df, design)
    y = df["treat"].to_numpy(dtype=float)
    out = {}
    # one BLAS thread, as regeval's own products use: on a shared 2-core machine
    # multi-threaded BLAS is slower and erratic (see docs/matching.md)
    limiter = threadpool_limits(limits=1, user_api="blas")
    t0 = time.perf_counter()
    lr = LogisticRegression(C=np.inf, solver="newton-cholesky", fit_intercept=False, tol=1e-10, max_iter=100)
    lr.fit(X, y)
    out["sklearn_newton_cholesky_s"] = time.perf_counter() - t0
    out["sklearn_max_abs_coef_diff"] = float(np.abs(lr.coef_[0] - ours.coefficients["estimate"].to_numpy()).max())
    t0 = time.perf_counter()
    res = sm.GLM(y, X, family=sm.families.Binomial()).fit(tol=1e-10)
    out["statsmodels_glm_s"] = time.perf_counter() - t0
    out["statsmodels_max_abs_coef_diff"] = float(np.abs(res.params - ours.coefficients["estimate"].to_numpy()).max())
    out["statsmodels_max_rel_se_diff"] = float(
        np.abs(res.bse / ours.coefficients["std_error"].to_numpy() - 1).max()
    )
    limiter.restore_original_limits()
    return out


TIE_DECIMALS = 4  # the tie-heavy score: the fitted score rounded to this many decimals


def _tie_heavy(df: pd.DataFrame, score: np.ndarray, repeats: int) -> dict:
    """Matching (k = 10, with replacement, exact on cohort) on a score with many exact ties."""
    from regeval.stats.matching import match_nearest

    tied = np.round(score, TIE_DECIMALS)
    out: dict = {"distinct": int(len(np.unique(tied))), "decimals": TIE_DECIMALS}
    sets = {}
    for rule in ("matchit", "scan"):
        kwargs = {"k": 10, "replace": True, "exact": ["cohort"], "ties": rule}
        try:
            m = match_nearest(df, "treat", tied, **kwargs)
        except TypeError:  # a checkout without the ties option: its one fixed rule
            del kwargs["ties"]
            rule = "fixed rule"
            m = match_nearest(df, "treat", tied, **kwargs)
        med, times = _median_time(lambda kwargs=kwargs: match_nearest(df, "treat", tied, **kwargs), repeats)
        sets[rule] = m.pairs.groupby("treated")["control"].apply(frozenset)
        out[rule] = {"median": med, "min": min(times), "ess": m.ess_control}
        if rule == "fixed rule":
            break
    if len(sets) == 2:
        out["treated_with_other_controls"] = int((sets["matchit"] != sets["scan"]).sum())
    return out


def match_only(repeats: int) -> None:
    """Time only the matching at 1M controls (fit once); print, write nothing."""
    import regeval
    from regeval.stats.matching import match_nearest
    from regeval.stats.propensity import fit_propensity

    n_c = SIZES[-1]
    df = ensure_data(n_c)
    score = fit_propensity(df, "treat", COVARIATES, categorical=CATEGORICAL).score
    print(f"regeval from {Path(regeval.__file__).parent}; load average {os.getloadavg()}")
    for exact in (["cohort"], None):
        med, times = _median_time(
            lambda exact=exact: match_nearest(df, "treat", score, k=10, replace=True, exact=exact), repeats
        )
        print(f"match k=10, replace, exact={exact}: median {med:.3f} s (min {min(times):.3f})")
    print("tie-heavy score:", _tie_heavy(df, score, repeats))
    print(f"load average {os.getloadavg()}")


def main() -> None:
    import warnings

    from regeval.stats.matching import match_nearest
    from regeval.stats.propensity import fit_propensity

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="20k and 200k only; do not write results")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-compare", action="store_true", help="skip scikit-learn/statsmodels timing")
    ap.add_argument("--rewrite", action="store_true", help="rewrite the data files")
    ap.add_argument("--match-only", action="store_true", help="time only the matching at 1M controls; write nothing")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    warnings.simplefilter("ignore")
    if args.match_only:
        match_only(args.repeats)
        return
    sizes = SIZES[:2] if args.quick else SIZES
    load_start = os.getloadavg()
    rows = []
    fit_row = None
    extra = {}
    for n_c in sizes:
        df = ensure_data(n_c, rewrite=args.rewrite)
        fit = fit_propensity(df, "treat", COVARIATES, categorical=CATEGORICAL)
        if n_c == max(sizes):
            med, times = _median_time(
                lambda df=df: fit_propensity(df, "treat", COVARIATES, categorical=CATEGORICAL), max(3, args.repeats)
            )
            fit_row = {"n": n_c + N_TREATED, "median": med, "times": times, "iterations": fit.iterations,
                       "terms": len(fit.terms), "auc": fit.auc}
        score = fit.score
        med_x, t_x = _median_time(
            lambda df=df, score=score: match_nearest(df, "treat", score, k=10, replace=True, exact=["cohort"]),
            args.repeats,
        )
        med_n, t_n = _median_time(
            lambda df=df, score=score: match_nearest(df, "treat", score, k=10, replace=True), args.repeats
        )
        m = match_nearest(df, "treat", score, k=10, replace=True, exact=["cohort"])
        runs = []
        for _ in range(3):
            res = subprocess.run(
                [sys.executable, __file__, "--child", str(n_c)], capture_output=True, text=True, check=True
            )
            runs.append(json.loads(res.stdout.strip().splitlines()[-1]))
        rows.append({
            "n_controls": n_c, "match_exact": med_x, "match_exact_times": t_x, "match_plain": med_n,
            "match_exact_min": min(t_x), "match_plain_min": min(t_n),
            "child_total_min": min(r["total_s"] for r in runs),
            "n_controls_unique": m.n_controls_unique, "ess": m.ess_control,
            "child_total": statistics.median(r["total_s"] for r in runs),
            "child_fit": statistics.median(r["fit_s"] for r in runs),
            "peak_rss": max(r["peak_rss_mb"] for r in runs),
            "rss_loaded": statistics.median(r["rss_after_load_mb"] for r in runs),
        })
        print(rows[-1], flush=True)
        if n_c == 1_000_000:
            extra["ties"] = _tie_heavy(df, score, args.repeats)
            print(extra["ties"], flush=True)
        if n_c == 1_000_000 and not args.no_compare:
            extra.update(_competitors(df))
            print(extra, flush=True)
        del df
    load_end = os.getloadavg()
    md = _markdown(_machine(), fit_row, rows, extra, load_start, load_end)
    print(md)
    if not args.quick:
        RESULTS.write_text(md)


MATCHIT = {  # MatchIt 4.7.1, 2,000 treated and 1,000,000 controls (measured elsewhere)
    "fit": (26.0, 30.0), "match_plain": (0.6, 0.8), "match_exact": (1.5, 1.9), "peak_gb": 2.6,
}


def _ratio(lo_hi: tuple[float, float], ours: float) -> str:
    return f"{lo_hi[0] / ours:.1f}-{lo_hi[1] / ours:.1f}x" if ours > 0 else "n/a"


def _markdown(machine, fit_row, rows, extra, load_start, load_end) -> str:
    lines = ["# Control-group benchmark (propensity fit and matching)", ""]
    lines.append("Generated by `python benchmarks/bench_control_group.py`; data: 2,000 treated, "
                 "N potential controls, 17 characteristics (38 design columns + intercept), "
                 "6 cohort years, written to `benchmarks/_data/bench_<N>.{parquet,csv}`.")
    lines.append("")
    lines.append("## Machine")
    lines.append("")
    lines.append("| item | value |")
    lines.append("| --- | --- |")
    for k, v in machine.items():
        lines.append(f"| {k} | {v} |")
    lines.append(f"| load average at start / end (1, 5, 15 min) | "
                 f"{', '.join(f'{x:.1f}' for x in load_start)} / {', '.join(f'{x:.1f}' for x in load_end)} |")
    lines.append("")
    lines.append("The machine is shared with other jobs; a 1-minute load average above the "
                 "number of cores means the figures below include waiting for the CPU.")
    lines.append("")
    if fit_row:
        lines.append("## Propensity fit")
        lines.append("")
        lines.append(f"`fit_propensity` on {fit_row['n']:,} rows x {fit_row['terms']} estimated terms: "
                     f"median **{fit_row['median']:.2f} s** (minimum {min(fit_row['times']):.2f} s) "
                     f"over {len(fit_row['times'])} runs "
                     f"({', '.join(f'{t:.2f}' for t in fit_row['times'])} s), "
                     f"{fit_row['iterations']} IRLS iterations, AUC {fit_row['auc']:.3f}.")
        lines.append("")
    lines.append("## Matching (k = 10, with replacement) and fit + match in a fresh process")
    lines.append("")
    lines.append("Times are median (minimum) over the repeats, in seconds.")
    lines.append("")
    lines.append("| potential controls | match, exact on cohort | match, no exact "
                 "| distinct controls | control ESS | fit + match, fresh process | peak RSS (MB) | RSS after loading data (MB) |")
    lines.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        lines.append(
            f"| {r['n_controls']:,} | {r['match_exact']:.3f} ({r['match_exact_min']:.3f}) | "
            f"{r['match_plain']:.3f} ({r['match_plain_min']:.3f}) | "
            f"{r['n_controls_unique']:,} | {r['ess']:.0f} | {r['child_total']:.2f} ({r['child_total_min']:.2f}) | "
            f"{r['peak_rss']:.0f} | {r['rss_loaded']:.0f} |"
        )
    lines.append("")
    big = next((r for r in rows if r["n_controls"] == 1_000_000), None)
    if big and fit_row:
        lines.append("## Beside MatchIt 4.7.1 (2,000 treated, 1,000,000 controls)")
        lines.append("")
        lines.append("regeval: median of the repeats above; MatchIt 4.7.1: range of its runs on "
                     "2,000 treated and 1,000,000 controls.")
        lines.append("")
        lines.append("| step | MatchIt 4.7.1 | regeval | MatchIt / regeval |")
        lines.append("| --- | ---: | ---: | ---: |")
        lines.append(f"| logit fit (R `glm`) | 26-30 s | {fit_row['median']:.2f} s | "
                     f"{_ratio(MATCHIT['fit'], fit_row['median'])} |")
        lines.append(f"| matching on a given score | 0.6-0.8 s | {big['match_plain']:.3f} s | "
                     f"{_ratio(MATCHIT['match_plain'], big['match_plain'])} |")
        lines.append(f"| matching, exact on start year | 1.5-1.9 s | {big['match_exact']:.3f} s | "
                     f"{_ratio(MATCHIT['match_exact'], big['match_exact'])} |")
        lines.append(f"| peak memory, fit + match | 2.6 GB | {big['peak_rss'] / 1024:.2f} GB | "
                     f"{MATCHIT['peak_gb'] * 1024 / big['peak_rss']:.1f}x |")
        lines.append("")
        lines.append("Peak RSS is the whole Python process (interpreter, libraries, the data "
                     "frame read from Parquet, the 1M x 39 float64 design matrix and the matching).")
        lines.append("")
    ties = extra.get("ties")
    if ties:
        lines.append("## Matching on a tie-heavy score (1,000,000 controls, k = 10, exact on cohort)")
        lines.append("")
        lines.append(f"The fitted score rounded to {ties['decimals']} decimals: {ties['distinct']:,} distinct "
                     "values, so most treated units have several controls at exactly the same distance. "
                     "`ties=\"matchit\"` replays MatchIt's search for every treated unit with a tie among "
                     "its 11 nearest candidates; `ties=\"scan\"` is the vectorised search alone.")
        lines.append("")
        lines.append("| rule | median (min), s | control ESS |")
        lines.append("| --- | ---: | ---: |")
        for rule in ("matchit", "scan"):
            if rule in ties:
                lines.append(f"| `{rule}` | {ties[rule]['median']:.3f} ({ties[rule]['min']:.3f}) | {ties[rule]['ess']:.0f} |")
        lines.append("")
        if "treated_with_other_controls" in ties:
            lines.append(f"{ties['treated_with_other_controls']:,} of 2,000 treated get another set of controls "
                         "under the two rules.")
            lines.append("")
    if "sklearn_newton_cholesky_s" in extra:
        lines.append("## Other solvers on the same 1M design (one run each, one BLAS thread)")
        lines.append("")
        lines.append("| solver | time (s) | max abs coefficient difference to regeval |")
        lines.append("| --- | ---: | ---: |")
        lines.append(f"| scikit-learn `LogisticRegression(C=inf, solver='newton-cholesky')` | "
                     f"{extra['sklearn_newton_cholesky_s']:.2f} | {extra['sklearn_max_abs_coef_diff']:.1e} |")
        lines.append(f"| statsmodels `GLM(Binomial)` (IRLS) | {extra['statsmodels_glm_s']:.2f} | "
                     f"{extra['statsmodels_max_abs_coef_diff']:.1e} (SE rel. diff "
                     f"{extra['statsmodels_max_rel_se_diff']:.1e}) |")
        lines.append("")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
