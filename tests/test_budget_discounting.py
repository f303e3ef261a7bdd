"""Discounting convention: year 0 = start year, undiscounted; year t divided by (1 + r)^t."""

import numpy as np
import pytest

from regeval.budget import discount_factors, present_value
from regeval.errors import BudgetError


def test_present_value_of_a_small_stream_matches_the_hand_computation():
    # 1000 in year 0, 2000 in year 1, -500 in year 3 at 3.5 %:
    # 1000 + 2000 / 1.035 - 500 / 1.035^3 = 1000 + 1932.3671 - 450.9714 = 2481.3958
    # (1.035^3 = 1.108717875)
    assert present_value([1000, 2000, -500], [0, 1, 3], 0.035) == pytest.approx(2481.3958, abs=1e-4)


def test_year_zero_is_not_discounted_and_a_zero_rate_gives_the_plain_sum():
    assert discount_factors([0], 0.035)[0] == 1.0
    assert present_value([5.0, 6.0, 7.0], [0, 1, 2], 0.0) == 18.0


def test_discount_factors_follow_one_over_one_plus_r_to_the_t():
    f = discount_factors([0, 1, 2, 5], 0.04)
    np.testing.assert_allclose(f, [1, 1 / 1.04, 1 / 1.04**2, 1 / 1.04**5])


@pytest.mark.parametrize("rate", [-1.0, float("nan"), 3.5, "x"])
def test_a_rate_that_is_not_a_fraction_above_minus_one_is_refused(rate):
    with pytest.raises(BudgetError, match="rate"):
        present_value([1.0], [0], rate)


def test_negative_years_and_mismatched_lengths_are_refused():
    with pytest.raises(BudgetError, match=">= 0"):
        discount_factors([-1, 0], 0.035)
    with pytest.raises(BudgetError, match="same length"):
        present_value([1.0, 2.0], [0], 0.035)
