"""The outcome panel and the control rule ``censor_at_start``, checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from regeval.pipeline.evaluate import apply_control_rule
from regeval.population.outcomes import build_outcome_panel, censor_at_start, panel_counts


def _matched() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit": [1, 2, 3, 4],
            "pnr": [10, 20, 30, 40],
            "cohort": [2016, 2016, 2016, 2016],
            "treated": [1, 0, 0, 0],
            "weight": [1.0, 2.0, 1.0, 1.0],
            "y": [0.0, 0.0, 1.0, 0.0],
        }
    )


def _person_years(persons=(10, 20, 30, 40), years=range(2011, 2021)) -> pd.DataFrame:
    rows = [(p, y, float((p + y) % 2)) for p in persons for y in years]
    return pd.DataFrame(rows, columns=["pnr", "year", "y"])


def test_data_end_death_and_window_rules():
    py = _person_years()
    # person 40 is not resident in 2018 (emigrated) and back in 2019: the panel ends at 2018
    py = py[~((py["pnr"] == 40) & (py["year"] == 2018))]
    # person 30 immigrated in 2013: no rows before, but the panel goes on
    py = py[~((py["pnr"] == 30) & (py["year"] < 2013))]
    panel = build_outcome_panel(py, _matched(), ["y"], (-5, 7), last_data_year=2019)
    years = panel.groupby("unit")["rel_year"].agg(["min", "max", "size"])
    assert years.loc[1].tolist() == [-5, 3, 9]  # data end 2019 = rel year 3: missing, not zero
    assert years.loc[3].tolist() == [-3, 3, 7]
    assert years.loc[4].tolist() == [-5, 1, 7]  # 2018 gone: 2019 not used either
    assert (panel.loc[panel["unit"] == 3, "y_pre"] == 1.0).all()


def _panel() -> pd.DataFrame:
    return build_outcome_panel(_person_years(), _matched(), ["y"], (0, 3), last_data_year=2020)


def test_censor_at_start_ends_rows_at_the_own_start_and_reweights_by_the_survival():
    panel = _panel()
    first_start = pd.Series({10: 2016, 30: 2018, 40: 2019})
    hazards = pd.DataFrame(
        {
            "pnr": [20, 20, 30, 30, 10],
            "cohort": [2017, 2018, 2017, 2018, 2016],
            "score": [0.1, 0.2, 0.5, 0.4, 0.3],
        }
    )
    out, cens = censor_at_start(panel, first_start, hazards)
    w = out.set_index(["unit", "rel_year"])["weight"]
    # treated rows are untouched
    assert [w[(1, r)] for r in range(4)] == [1.0] * 4
    # person 20: hazards 0.1 (2017), 0.2 (2018), none in 2019 (outside the base population: 0)
    assert w[(2, 0)] == 2.0
    assert w[(2, 1)] == pytest.approx(2 / 0.9)
    assert w[(2, 2)] == pytest.approx(2 / (0.9 * 0.8))
    assert w[(2, 3)] == pytest.approx(2 / (0.9 * 0.8))
    # person 30 starts in 2018: rows from rel year 2 on are gone; 2017 reweighted by 1/(1-0.5)
    assert sorted(out.loc[out["unit"] == 3, "rel_year"]) == [0, 1]
    assert w[(3, 1)] == pytest.approx(2.0)
    # person 40 starts in 2019 without a unit (hazard) in 2019: censored, counted as unmodelled
    assert sorted(out.loc[out["unit"] == 4, "rel_year"]) == [0, 1, 2]
    c = cens.set_index("rel_year")
    assert c["n_control_censored"].tolist() == [0, 0, 1, 1]
    assert c["n_censored_unmodelled"].tolist() == [0, 0, 0, 1]
    assert c.loc[1, "weight_factor_mean"] == pytest.approx((1 / 0.9 + 2 + 1) / 3)
    counts = panel_counts(out, cens).set_index("rel_year")
    assert counts["n_control"].tolist() == [3, 3, 2, 1]
    assert counts["n_control_censored"].tolist() == [0, 0, 1, 1]


def test_ipcw_recovers_the_never_started_mean_when_starting_depends_on_the_outcome():
    """Simulated truth: controls start with a hazard that depends on last year's
    outcome; dropping later starters biases the control mean, censoring with the
    inverse survival weights does not."""
    rng = np.random.default_rng(7)
    n = 200_000
    cohort = 2016
    y_prev = rng.random(n) < 0.5
    alive = np.ones(n, dtype=bool)
    first = np.full(n, np.nan)
    rows = [pd.DataFrame({"pnr": np.arange(n), "year": cohort - 1, "y": y_prev.astype(float)})]
    haz = []
    for r, year in enumerate(range(cohort, cohort + 4)):
        y = np.where(y_prev, rng.random(n) < 0.8, rng.random(n) < 0.3)  # untreated outcome
        rows.append(pd.DataFrame({"pnr": np.arange(n), "year": year, "y": y.astype(float)}))
        if r < 3:  # hazard of starting next year, known from this year's outcome
            h = np.where(y, 0.30, 0.05)
            haz.append(pd.DataFrame({"pnr": np.arange(n), "cohort": year + 1, "score": h}))
            start = alive & (rng.random(n) < h)
            first[start] = year + 1
            alive &= ~start
        y_prev = y
    py = pd.concat(rows, ignore_index=True)
    truth = py[py["year"] >= cohort].groupby("year")["y"].mean().to_numpy()  # never treated: everybody's Y0
    matched = pd.DataFrame({"unit": np.arange(n), "pnr": np.arange(n), "cohort": cohort, "treated": 0,
                            "weight": 1.0, "y": 0.0})
    panel = build_outcome_panel(py, matched, ["y"], (0, 3), last_data_year=cohort + 3)
    fs = pd.Series(first, index=np.arange(n)).dropna().astype(int)
    hazards = pd.concat(haz, ignore_index=True)
    out, _ = censor_at_start(panel, fs, hazards)
    ipcw = out.groupby("rel_year").apply(lambda d: np.average(d["y"], weights=d["weight"])).to_numpy()
    dropped = panel[~panel["person_id"].isin(fs.index)]
    naive = dropped.groupby("rel_year")["y"].mean().to_numpy()
    se = np.sqrt(0.25 / n) * 3
    assert np.abs(ipcw - truth).max() < 4 * se
    assert np.abs(naive[1:] - truth[1:]).min() > 10 * se  # the rule it replaces is biased here


def test_apply_control_rule_leaves_other_rules_alone_and_needs_first_start():
    panel = _panel()
    units = _matched()[["unit", "pnr", "cohort"]]
    scores = pd.DataFrame({"unit": [1, 2, 3, 4], "score": 0.1})
    for rule in ("never_participated", "not_yet_participated"):
        out, cens = apply_control_rule(panel, units, scores, rule)
        assert out is panel and cens is None
    with pytest.raises(Exception, match="first_start"):
        apply_control_rule(panel, units, scores, "censor_at_start")
    units = units.assign(first_start=[2016.0, np.nan, 2018.0, np.nan])
    out, cens = apply_control_rule(panel, units, scores, "censor_at_start")
    assert sorted(out.loc[out["unit"] == 3, "rel_year"]) == [0, 1]


def test_control_pool_of_never_participated_drops_every_later_participant():
    from regeval.population.base import control_pool

    units = pd.DataFrame({
        "unit": [1, 2, 3, 4], "pnr": [10, 20, 30, 10], "cohort": [2016, 2016, 2016, 2018],
        "treated": [0, 0, 0, 1], "first_start": [2018.0, np.nan, 2020.0, 2018.0],
    })
    assert control_pool(units, "censor_at_start") is units
    assert control_pool(units, "not_yet_participated") is units
    # person 10 stays as the treated of 2018 but not as a control of 2016; person 30 goes too
    assert control_pool(units, "never_participated")["unit"].tolist() == [2, 4]
    with pytest.raises(Exception, match="control_rule"):
        control_pool(units, "nobody")
