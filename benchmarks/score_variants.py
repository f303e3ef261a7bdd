"""Which terms of the flexible score remove bias, and which amplify it?

For each replication of a world of the simulation study (``simulation_worlds.WORLDS``),
generate the synthetic registers, build the base population once and evaluate the
default spec with the score model forced to each variant below (the rest of the spec,
the matching and the effect model, unchanged). Per replication and variant the output
holds the mean error of the headline effects after start (years 0–7) and before start
(years −5…−2), in SE units, against the sample ATT of the analysed participants:

* ``logit`` -- the report's logit;
* ``splines`` -- ``logit_flex`` as it is: age and the employment degrees as splines;
* ``splines_age_x_sex`` -- plus age × sex;
* ``splines_both`` -- plus age × sex and age × employment degree of the year before
  (the first version of ``logit_flex``);
* ``age_spline_both`` -- age alone as splines, plus both interactions;
* ``both_no_splines`` -- both interactions, no splines.

Usage (25 replications of the ``interactions`` world, about 50 s each on a free core)::

    python benchmarks/score_variants.py --world interactions -R 25 --out benchmarks/results_score_variants.csv

The summary printed at the end (and in ``docs/matching.md``, 3b) is the mean over
replications of each variant's error minus the logit's on the same replication, with
its Monte Carlo SE.
"""

from __future__ import annotations

import argparse
import copy
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

VARIANTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # name: (columns entered as splines, interactions added)
    "logit": ((), ()),
    "splines": (("age", "employment_degree_1", "employment_degree_2_5"), ()),
    "splines_age_x_sex": (("age", "employment_degree_1", "employment_degree_2_5"), ("sex",)),
    "splines_both": (("age", "employment_degree_1", "employment_degree_2_5"), ("sex", "employment_degree_1")),
    "age_spline_both": (("age",), ("sex", "employment_degree_1")),
    "both_no_splines": ((), ("sex", "employment_degree_1")),
}


def _columns_of(splines: tuple[str, ...], inter: tuple[str, ...]) -> Callable[..., tuple[pd.DataFrame, list[str]]]:
    """A replacement of ``flexible_columns``: the given splines, plus age × ``inter``."""
    import regeval.stats.scores as scores

    original = scores.flexible_columns

    def columns(units: pd.DataFrame, cols: Sequence[str], categorical: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
        saved = scores.SPLINE_COLUMNS
        scores.SPLINE_COLUMNS = splines
        try:
            data, out = original(units, cols, categorical)
        finally:
            scores.SPLINE_COLUMNS = saved
        a = units["age"].to_numpy(dtype=float)
        za = (a - a.mean()) / (a.std() or 1.0)
        new = {}
        for c in inter:
            other = (pd.factorize(units[c], sort=True)[0].astype(float) if c == "sex"
                     else units[c].to_numpy(dtype=float))
            new[f"age_x_{c}"] = za * other
        return data.assign(**new), [*out, *new]

    return columns


def one_replication(world: str, seed: int, n_persons: int, n_participants: int) -> pd.DataFrame:
    from simulation_study import LAST_DATA_YEAR, sample_truth
    from simulation_worlds import HEADLINE, WORLDS, _specs

    import regeval.stats.scores as scores
    from regeval.pipeline.evaluate import evaluate
    from regeval.population.base import build_base_population
    from regeval.registers.read import resolve_sources
    from regeval.synthetic import SyntheticConfig, generate

    default, _, pspec = _specs()
    outcomes = list(default["effects"]["outcomes"])
    tmp = Path(tempfile.mkdtemp(prefix=f"regeval_variants_{seed}_"))
    rows: list[dict[str, Any]] = []
    try:
        generate(SyntheticConfig(seed=seed, n_persons=n_persons, n_participants=n_participants, **WORLDS[world]), tmp)
        sources = resolve_sources(tmp)
        units = build_base_population(sources, pspec).units
        truth_effects = pd.read_parquet(tmp / "truth_effects.parquet", columns=["pnr", "aar", *outcomes])
        original = scores.flexible_columns
        for name, (splines, inter) in VARIANTS.items():
            spec = copy.deepcopy(default)
            spec["propensity"] = {**spec["propensity"], "model": "logit" if name == "logit" else "logit_flex"}
            scores.flexible_columns = _columns_of(splines, inter)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = evaluate(sources, units, spec, list(pspec.diagnosis_groups), LAST_DATA_YEAR,
                                   pspec.control_rule)
            finally:
                scores.flexible_columns = original
            truth = sample_truth(res["panel"], truth_effects, outcomes)
            eff = res["effects"][["outcome", "rel_year", "estimate", "se"]].merge(truth, on=["outcome", "rel_year"])
            eff = eff[eff["outcome"].isin(HEADLINE)]
            z = (eff["estimate"] - eff["truth"]) / eff["se"]
            rows.append({"world": world, "seed": seed, "variant": name, "post": float(z[eff["rel_year"] >= 0].mean()),
                         "pre": float(z[eff["rel_year"] < -1].mean())})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return pd.DataFrame(rows)


def summarise(raw: pd.DataFrame) -> pd.DataFrame:
    """Per world and variant: mean error minus the logit's (post, pre) and its MCSE."""
    out = []
    for world, g in raw.groupby("world"):
        for k in ("post", "pre"):
            p = g.pivot(index="seed", columns="variant", values=k)
            gap = p.sub(p["logit"], axis=0)
            for v in p.columns:
                out.append({"world": world, "cells": k, "variant": v, "replications": int(p[v].notna().sum()),
                            "mean_error_se": p[v].mean(), "minus_logit": gap[v].mean(),
                            "mcse": gap[v].std(ddof=1) / np.sqrt(gap[v].notna().sum())})
    return pd.DataFrame(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--world", default="interactions")
    ap.add_argument("-R", "--replications", type=int, default=25)
    ap.add_argument("--base-seed", type=int, default=20240000)
    ap.add_argument("--n-persons", type=int, default=100_000)
    ap.add_argument("--out", default="benchmarks/results_score_variants.csv",
                    help="rows per replication and variant (appended; replications already there are skipped)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    done = pd.read_csv(out) if out.exists() else pd.DataFrame(columns=["world", "seed"])
    have = set(zip(done["world"], done["seed"], strict=True))
    from simulation_study import default_participants

    n_part = default_participants(args.n_persons)
    for r in range(args.replications):
        seed = args.base_seed + r
        if (args.world, seed) in have:
            continue
        rows = one_replication(args.world, seed, args.n_persons, n_part)
        rows.to_csv(out, mode="a", header=not out.exists(), index=False, float_format="%.6g")
        print(rows.round(3).to_string(index=False), flush=True)
    raw = pd.read_csv(out)
    print(summarise(raw[raw["world"] == args.world]).round(3).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
