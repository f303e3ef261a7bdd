"""Joint pre-period test: size under the null, power against a pre-start difference,
and agreement with the window machinery for one year."""

import numpy as np
import pandas as pd
import pytest

from regeval.stats.effects import estimate_effects
from regeval.stats.placebo import joint_pretest


def _panel(shift: float, seed: int, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        t = int(i < n // 3)
        u = rng.normal()
        for r in (-4, -3, -2, -1, 0):
            rows.append({"person_id": i, "treated": t, "weight": 1.0, "rel_year": r,
                         "y": u + rng.normal() + shift * t * (r < 0), "x": u})
    d = pd.DataFrame(rows)
    d["y_pre"] = d["person_id"].map(d[d["rel_year"] == -1].set_index("person_id")["y"])
    return d


def test_null_passes_in_about_95_percent():
    passed = [joint_pretest(_panel(0.0, s), "y", years=[-4, -3, -2])["passed"] for s in range(80)]
    assert 0.85 <= np.mean(passed) <= 1.0  # 95 % expected; MCSE 2.4 pp


def test_pre_start_difference_fails():
    r = joint_pretest(_panel(0.5, 1), "y", years=[-4, -3, -2], baseline_suffix=None)
    assert not r["passed"] and r["p"] < 0.001 and r["df"] == 3


def test_one_year_equals_the_squared_z_of_that_years_effect():
    d = _panel(0.2, 7)
    r = joint_pretest(d, "y", years=[-3], baseline_suffix=None)
    e = estimate_effects(d, ["y"], baseline_suffix=None, years=[-3])
    # CR1 of one year: the stacked factor equals the yearly one
    assert r["chi2"] == pytest.approx((e["estimate"].iloc[0] / e["se"].iloc[0]) ** 2, rel=1e-9)
    assert r["max_abs_z"] == pytest.approx(abs(e["estimate"].iloc[0] / e["se"].iloc[0]), rel=1e-9)


def test_rare_outcomes_are_not_judged():
    from regeval.stats.tables import placebo_tests_table

    d = _panel(0.5, 1)
    t = placebo_tests_table(d, ["y"], [-4, -3, -2], rare=["y"], baseline_suffix=None).frame.iloc[0]
    assert not t["assessed"] and t["passed"] and t["note"] == "too_few_events"
    t = placebo_tests_table(d, ["y"], [-4, -3, -2], baseline_suffix=None).frame.iloc[0]
    assert t["assessed"] and not t["passed"]
