"""The pipeline recovers the synthetic generator's true effects.

One small synthetic world (120,000 persons, ≈ 400 treated: KLAPjob's participation
rate, 2,570 per 600,000) is run in memory through
base population → propensity score → 10 nearest neighbours with replacement →
effects (``regeval.pipeline.evaluate.evaluate``, spec ``default`` of ``config/config.yaml``), and
every estimate is compared with that world's truth: the mean person-year effect
``Y1 - Y0`` over exactly the treated units in the cell (the sample ATT). The same
world is generated a second time with ``effect_scale=0`` (same seed): every check is
also run where it must fail, so that none of them passes vacuously.

The ``slow`` test runs a handful of replications (``benchmarks/simulation_study.py``
holds the full study; its results are in ``benchmarks/results_simulation.md``).
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from regeval.pipeline.config import load_yaml, resolve_spec
from regeval.pipeline.evaluate import effect_options, evaluate
from regeval.population.base import PopulationSpec, build_base_population
from regeval.registers.read import resolve_sources
from regeval.stats.effects import estimate_effect, estimate_effects, window_summary
from regeval.stats.wls import fit_wls
from regeval.synthetic import SyntheticConfig, generate

REPO = Path(__file__).resolve().parents[1]
SIZE = dict(seed=20240611, n_persons=120_000, n_participants=514, chunk_size=120_000)
POST = list(range(0, 8))
PRE = [-5, -4, -3, -2]
MAIN_OUTCOMES = ("employed", "sel103_104")
K_SE = 4.0  # "within a few SEs": |estimate - truth| <= 4 SE in every cell


def _simulation_module():
    """``benchmarks/simulation_study.py`` (one implementation of the truth and the replications)."""
    name = "regeval_simulation_study"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / "simulation_study.py")
        mod = importlib.util.module_from_spec(spec)
        assert spec.loader is not None
        sys.modules[name] = mod  # dataclasses look their module up while the file executes
        spec.loader.exec_module(mod)
    return sys.modules[name]


def _run_world(out: Path, effect_scale: float) -> dict:
    cfg = load_yaml(REPO / "config" / "config.yaml")
    spec = resolve_spec(cfg, "default")
    pspec = PopulationSpec.from_config(cfg["population"])
    generate(SyntheticConfig(**SIZE, effect_scale=effect_scale), out)
    sources = resolve_sources(out)
    units = build_base_population(sources, pspec).units
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = evaluate(sources, units, spec, list(pspec.diagnosis_groups), 2025, pspec.control_rule)
    outcomes = list(spec["effects"]["outcomes"])
    truth_effects = pd.read_parquet(out / "truth_effects.parquet", columns=["pnr", "aar", *outcomes])
    truth = _simulation_module().sample_truth(res["panel"], truth_effects, outcomes)
    table = res["effects"].merge(truth, on=["outcome", "rel_year"], how="left")
    return {"effects": table, "panel": res["panel"], "spec": spec}


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    """The world with the programme's effects."""
    return _run_world(tmp_path_factory.mktemp("world_effects"), 1.0)


@pytest.fixture(scope="module")
def null_world(tmp_path_factory) -> dict:
    """The same persons and selection without any effect (effect_scale = 0)."""
    return _run_world(tmp_path_factory.mktemp("world_null"), 0.0)


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def cells(effects: pd.DataFrame, outcome: str, years: list[int]) -> pd.DataFrame:
    c = effects[(effects["outcome"] == outcome) & effects["rel_year"].isin(years)].set_index("rel_year")
    assert list(c.index) == years, f"{outcome}: missing years {sorted(set(years) - set(c.index))}"
    assert np.isfinite(c["estimate"]).all() and (c["se"] > 0).all()
    return c


def far_from(estimates: pd.DataFrame, truth: pd.Series, k: float = K_SE) -> list[int]:
    """Years in which |estimate - truth| > k SE."""
    z = (estimates["estimate"] - truth.reindex(estimates.index)) / estimates["se"]
    return [int(r) for r in z.index[z.abs() > k]]


def window_z(world: dict, outcome: str, truth: float) -> float:
    """(average effect over years 0-7 - truth) / its SE (joint person-clustered covariance)."""
    opts = effect_options(world["panel"], world["spec"]["effects"])
    keep = ("treatment", "rel_year", "weights", "cluster", "covariates", "baseline_suffix", "categorical")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = window_summary(world["panel"], outcome, years=POST, **{k: opts[k] for k in keep}).iloc[0]
    return float((w["estimate"] - truth) / w["se"])


def stacked_treatment_effects(panel: pd.DataFrame, outcome: str, years: list[int],
                              covariates: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The yearly treatment coefficients and their joint covariance.

    One regression with every coefficient interacted with the year (block-diagonal
    design: each year has its own intercept, treatment, covariates and baseline) and
    CR1 clustered by person across years -- the same point estimates as the
    year-by-year fits, with the covariance between years that the person's repeated
    outcomes create.
    """
    blocks, ys, ws, ids, treat_names = [], [], [], [], []
    for r in years:
        d = panel[(panel["rel_year"] == r) & panel[outcome].notna() & (panel["weight"] > 0)]
        Z = pd.get_dummies(d[covariates], drop_first=True, dtype=float)
        Z = Z.loc[:, Z.abs().sum() > 0]
        parts = [np.ones(len(d)), d["treated"].to_numpy(float), Z.to_numpy(float)]
        names = [f"c@{r}", f"treated@{r}", *[f"{z}@{r}" for z in Z.columns]]
        if r != -1:
            parts.append(d[f"{outcome}_pre"].to_numpy(float))
            names.append(f"pre@{r}")
        blocks.append((np.column_stack(parts), names))
        ys.append(d[outcome].to_numpy(float))
        ws.append(d["weight"].to_numpy(float))
        ids.append(d["person_id"].to_numpy())
        treat_names.append(f"treated@{r}")
    n = sum(len(y) for y in ys)
    k = sum(b[0].shape[1] for b in blocks)
    X = np.zeros((n, k))
    names: list[str] = []
    i = j = 0
    for B, nm in blocks:
        X[i:i + B.shape[0], j:j + B.shape[1]] = B
        names += nm
        i += B.shape[0]
        j += B.shape[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_wls(np.concatenate(ys), X, np.concatenate(ws), vcov="CR1", cluster=np.concatenate(ids),
                      names=names, protect=treat_names)
    pos = [fit.index(t) for t in treat_names]
    return fit.params[pos], fit.vcov[np.ix_(pos, pos)]


def joint_wald_p(panel: pd.DataFrame, effects: pd.DataFrame, outcome: str, years: list[int],
                 covariates: list[str]) -> float:
    """p-value of the joint Wald test that the yearly effects in ``years`` are all 0."""
    b, V = stacked_treatment_effects(panel, outcome, years, covariates)
    # the stacked fit reproduces the pipeline's yearly estimates
    np.testing.assert_allclose(b, cells(effects, outcome, years)["estimate"].to_numpy(), rtol=1e-7, atol=1e-10)
    stat = float(b @ np.linalg.solve(V, b))
    return float(stats.chi2.sf(stat, df=len(years)))


# --------------------------------------------------------------------------------------
# one world
# --------------------------------------------------------------------------------------


def test_the_truth_is_the_mean_effect_of_the_analysed_treated(world, null_world):
    eff = world["effects"]
    # every estimable cell has a truth over as many treated person-years as it used
    used = eff[np.isfinite(eff["estimate"])]
    assert used["truth"].notna().all()
    assert (used["n_truth"] == used["n_treated"]).all()
    pre = used[used["rel_year"] < 0]
    assert (pre["truth"] == 0).all(), "no effect before start"
    assert cells(eff, "employed", POST)["truth"].min() > 0.15
    assert (null_world["effects"]["truth"].fillna(0) == 0).all()


@pytest.mark.parametrize("outcome", MAIN_OUTCOMES)
def test_post_period_estimates_are_within_a_few_ses_of_the_truth(world, null_world, outcome):
    c = cells(world["effects"], outcome, POST)
    truth_window = float(c["truth"].mean())  # the window estimate is the plain mean of the years
    # every year, and the average over years 0-7, within 4 SE of this world's truth
    assert far_from(c, c["truth"]) == [], c[["estimate", "se", "truth"]]
    assert abs(window_z(world, outcome, truth_window)) <= K_SE
    # the world without effects: estimates near its truth (0)
    c0 = cells(null_world["effects"], outcome, POST)
    assert (c0["truth"] == 0).all()
    assert far_from(c0, c0["truth"]) == []
    assert abs(window_z(null_world, outcome, 0.0)) <= K_SE
    # the same checks fail when a pipeline result without effects is held against the
    # truth of the world with effects, and when the effects are held against 0
    assert len(far_from(c0, c["truth"])) >= 1
    assert abs(window_z(null_world, outcome, truth_window)) > K_SE
    assert abs(window_z(world, outcome, 0.0)) > K_SE


@pytest.mark.parametrize("outcome", MAIN_OUTCOMES)
def test_pre_period_estimates_are_jointly_not_different_from_zero(world, outcome):
    covs = list(world["spec"]["effects"]["covariates"])
    p_pre = joint_wald_p(world["panel"], world["effects"], outcome, PRE, covs)
    assert p_pre > 0.01, f"{outcome}: joint test of years -5..-2 rejects (p = {p_pre:.2g})"
    # the same test rejects where there are effects (years 1-4)
    p_post = joint_wald_p(world["panel"], world["effects"], outcome, [1, 2, 3, 4], covs)
    assert p_post < 1e-3, f"{outcome}: joint test of years 1..4 does not see the effect (p = {p_post:.2g})"


def test_satt_variance_is_selectable_and_keeps_the_estimates(world):
    """``CR1-SATT`` changes only the standard errors, and only a little here."""
    panel, spec = world["panel"], world["spec"]
    opts = effect_options(panel, spec["effects"])
    outcomes = list(MAIN_OUTCOMES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = estimate_effects(panel, outcomes, vcov="CR1", **opts)
        b = estimate_effects(panel, outcomes, vcov="CR1-SATT", **opts)
    np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=1e-12)
    assert (b["vcov"] == "CR1-SATT").all()
    assert (b["n_clusters"] == a["n_clusters"]).all()
    ratio = (b["se"] / a["se"]).to_numpy()
    assert np.all((ratio > 0.8) & (ratio < 1.2)), ratio
    assert not np.allclose(ratio, 1.0)


# --------------------------------------------------------------------------------------
# the CR1-SATT variance by hand
# --------------------------------------------------------------------------------------


def _hand_satt(y, X, w, g, tcol):
    n, k = X.shape
    W = np.diag(w)
    bread = np.linalg.inv(X.T @ W @ X)
    e = y - X @ (bread @ X.T @ W @ y)
    t = X[:, tcol] == 1
    s0 = np.sum(w[~t] * e[~t] ** 2) / np.sum(w[~t])
    meat = np.zeros((k, k))
    for gg in np.unique(g):
        m = (g == gg)
        # treated rows enter with s0 in place of their own e^2 (cross terms as observed)
        u = (X[m] * (w[m] * e[m])[:, None]).sum(axis=0)
        meat += np.outer(u, u)
        for i in np.flatnonzero(m & t):
            meat += w[i] ** 2 * (s0 - e[i] ** 2) * np.outer(X[i], X[i])
    G = len(np.unique(g))
    return bread @ meat @ bread * G / (G - 1) * (n - 1) / (n - k)


def test_cr1_satt_equals_its_definition():
    rng = np.random.default_rng(5)
    n = 400
    t = (rng.random(n) < 0.3).astype(float)
    x = rng.normal(size=n)
    w = np.where(t == 1, 1.0, rng.integers(1, 5, n) / 4)
    g = np.where(t == 1, np.arange(n), rng.integers(0, 120, n) + n)  # controls repeat
    g[:5] = g[-5:]  # a few clusters mix a treated and a control row
    y = 1 + (0.5 + rng.normal(size=n)) * t + x + rng.normal(size=n) * (1 + t)
    X = np.column_stack([np.ones(n), t, x])
    fit = fit_wls(y, X, w, vcov="CR1-SATT", cluster=g, names=["c", "t", "x"], treatment="t")
    V = _hand_satt(y, X, w, g, 1)
    np.testing.assert_allclose(fit.vcov, V, rtol=1e-10)
    assert fit.vcov_type == "CR1-SATT" and fit.n_clusters == len(np.unique(g))
    # it is not CR1: the treated have a larger error variance here than the controls
    cr1 = fit_wls(y, X, w, vcov="CR1", cluster=g, names=["c", "t", "x"])
    assert fit.se("t") < 0.9 * cr1.se("t")
    np.testing.assert_allclose(fit.params, cr1.params)
    # without clusters each row is its own cluster
    fit1 = fit_wls(y, X, w, vcov="CR1-SATT", names=["c", "t", "x"], treatment="t")
    np.testing.assert_allclose(fit1.vcov, _hand_satt(y, X, w, np.arange(n), 1), rtol=1e-10)
    # estimate_effect gives the same on a DataFrame
    d = pd.DataFrame({"y": y, "t": t, "x": x, "w": w, "g": g})
    est = estimate_effect(d, "y", "t", covariates=["x"], weights="w", cluster="g", vcov="CR1-SATT")
    assert est.se == pytest.approx(np.sqrt(V[1, 1]), rel=1e-10)


def test_cr1_satt_equals_cr1_when_treated_residuals_match_the_controls():
    # homoskedastic outcome with a constant effect: the two agree up to noise
    rng = np.random.default_rng(8)
    n = 20_000
    t = (rng.random(n) < 0.5).astype(float)
    x = rng.normal(size=n)
    y = 2 + 0.3 * t + x + rng.normal(size=n)
    X = np.column_stack([np.ones(n), t, x])
    a = fit_wls(y, X, vcov="CR1", names=["c", "t", "x"])
    b = fit_wls(y, X, vcov="CR1-SATT", names=["c", "t", "x"], treatment="t")
    assert b.se("t") == pytest.approx(a.se("t"), rel=0.03)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"vcov": "CR1-SATT"}, "needs treatment="),
        ({"vcov": "CR1-SATT", "treatment": "nope"}, "needs treatment="),
        ({"vcov": "CR1-SATT", "treatment": "x"}, "0/1 treatment"),
        ({"vcov": "CR1-SATT", "treatment": "t", "cluster": np.arange(6), "cluster2": np.arange(6)}, "one way"),
    ],
)
def test_cr1_satt_rejects_what_it_cannot_do(kwargs, match):
    from regeval.errors import EstimationError

    X = np.column_stack([np.ones(6), [0, 0, 0, 1, 1, 1], [0.1, 0.5, 0.2, 0.9, 0.4, 0.3]])
    with pytest.raises(EstimationError, match=match):
        fit_wls(np.array([1.0, 2, 3, 4, 6, 5]), X, names=["c", "t", "x"], **kwargs)


# --------------------------------------------------------------------------------------
# a handful of replications
# --------------------------------------------------------------------------------------

SLOW_OUTCOMES = ("employed", "fulltime_days", "hours_per_week", "sel103_104", "botilbud", "sel85")


@pytest.mark.slow
def test_a_handful_of_replications_cover_the_truth(tmp_path):
    sim = _simulation_module()
    jobs = sim.make_jobs(8, 7_000, 60_000, 600, 0.0, 1.0, ("CR1", "CR1-SATT"), str(tmp_path), chunk_size=60_000)
    raw, failed = sim.run_all(jobs, workers=1, log=None)
    assert failed.empty, failed["error"].tolist()
    assert raw["rep"].nunique() == 8
    r = raw[raw["outcome"].isin(SLOW_OUTCOMES)]
    post = r[r["rel_year"].between(0, 7)]
    pre = r[r["rel_year"].between(-5, -2)]
    assert (pre["truth"] == 0).all()
    for v in ("CR1", "CR1-SATT"):
        se = post[f"se_{v}"]
        cover = ((post["estimate"] - post["truth"]).abs() <= 1.96 * se).mean()
        assert cover >= 0.85, f"{v}: coverage {cover:.2f} of the sample ATT"
        cover_pre = ((pre["estimate"]).abs() <= 1.96 * pre[f"se_{v}"]).mean()
        assert cover_pre >= 0.85, f"{v}: pre-period coverage of 0 {cover_pre:.2f}"
    # standardised errors are centred on 0, per outcome, before and after start
    for o in SLOW_OUTCOMES:
        for part in (post, pre):
            g = part[part["outcome"] == o]
            z = ((g["estimate"] - g["truth"]) / g["se_CR1"]).groupby(g["rep"]).mean()
            assert abs(z.mean()) < 1.3, f"{o}: mean standardised error {z.mean():.2f}"
    # the checks can fail: intervals around the employment estimates do not cover 0
    emp = post[post["outcome"].isin(["employed", "fulltime_days", "hours_per_week"])]
    assert (emp["estimate"].abs() <= 1.96 * emp["se_CR1"]).mean() < 0.2
    z0 = (emp["estimate"] / emp["se_CR1"]).mean()
    assert z0 > 1.3
