"""Robustness values against sensemakr's published Darfur numbers (its test suite:
estimate 0.09731582, SE 0.02325654, dof 783)."""

import math

import pytest
from scipy import stats

from regeval.stats.sensitivity import adjusted_estimate, partial_r2, robustness_value

EST, SE, DOF = 0.09731582, 0.02325654, 783
T = EST / SE


def test_darfur_partial_r2_and_robustness_values():
    assert partial_r2(T, DOF) == pytest.approx(0.02187309, abs=1e-6)
    assert robustness_value(T, DOF) == pytest.approx(0.1387764, abs=1e-6)
    assert robustness_value(T, DOF, alpha=0.05) == pytest.approx(0.07625797, abs=1e-6)


def test_a_confounder_of_strength_rv_removes_the_estimate_or_its_significance():
    rv = robustness_value(T, DOF)
    assert adjusted_estimate(EST, SE, DOF, rv, rv) == pytest.approx(0.0, abs=1e-12)
    r2 = partial_r2(T, DOF)
    assert adjusted_estimate(EST, SE, DOF, r2, 1.0) == pytest.approx(0.0, abs=1e-12)
    rva = robustness_value(T, DOF, alpha=0.05)
    # sensemakr: adjusted t at RV_{q,alpha} is the critical t with dof - 1
    adj = adjusted_estimate(EST, SE, DOF, rva, rva)
    adj_se = SE * math.sqrt((1 - rva) / (1 - rva)) * math.sqrt(DOF / (DOF - 1))
    assert adj / adj_se == pytest.approx(stats.t.ppf(0.975, DOF - 1), rel=1e-6)
    half = robustness_value(T, DOF, q=0.5)
    assert adjusted_estimate(EST, SE, DOF, half, half) == pytest.approx(EST / 2, rel=1e-9)


def test_not_significant_gives_zero_and_sign_does_not_matter():
    assert robustness_value(1.0, 500, alpha=0.05) == 0.0
    assert robustness_value(-T, DOF) == robustness_value(T, DOF)
    assert math.isnan(robustness_value(float("nan"), DOF))
