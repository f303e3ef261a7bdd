"""State refunds: the job-centre examples of method.md §4 (seeds/004, 2022 rates).

The note rounds each monthly amount to the krone, half up (round_kr); the monthly saving
is the difference of the rounded amounts.
"""

from pathlib import Path

import pytest

from regeval.budget import (
    average_refund_rate,
    benefit_shares,
    handicap_compensation_flows,
    handicap_compensation_shares,
    load_refund_rates,
    municipal_net_cost,
    personal_assistance_gross,
    refund_rate,
    round_kr,
    split_benefit_payment,
)
from regeval.budget.inputs import refund_rates_from_mapping
from regeval.errors import BudgetError

CONFIG = Path(__file__).resolve().parents[1] / "config" / "budget"


@pytest.fixture(scope="module")
def rates():
    return load_refund_rates(CONFIG / "refund_rates.yaml")


def test_the_staircase_gives_80_40_30_20_percent_by_cumulative_week(rates):
    expected = {1: 0.8, 4: 0.8, 5: 0.4, 26: 0.4, 27: 0.3, 52: 0.3, 53: 0.2, 400: 0.2}
    assert {w: refund_rate(w, rates) for w in expected} == expected


def test_benefit_shares_split_a_payment_between_municipality_and_state(rates):
    assert benefit_shares(3, rates) == {"kommune": pytest.approx(0.2), "region": 0.0, "stat": 0.8}
    split = split_benefit_payment(10_000, 60, rates)
    assert split["kommune"] == pytest.approx(8_000) and split["stat"] == pytest.approx(2_000)


def test_youth_education_benefit_at_20_percent_refund_costs_6042_a_month(rates):
    # 7,552 kr/month, citizen on benefits for more than a year -> week 53+ -> 20 % refund
    net = municipal_net_cost(7_552, refund_rate(60, rates))
    assert net == pytest.approx(6_041.6)
    assert round_kr(net) == 6_042


def test_seven_hours_of_personal_assistance_cost_3875_gross_and_1938_net(rates):
    gross = personal_assistance_gross(7, rates)  # 7 × 127.86 × 4.33
    assert gross == pytest.approx(3_875.4366)
    assert round_kr(gross) == 3_875
    net = municipal_net_cost(gross, rates.handicap_direct)  # 50 % direct refund to the job centre
    assert round_kr(net) == 1_938


def test_the_monthly_saving_is_4104(rates):
    before = round_kr(municipal_net_cost(7_552, refund_rate(60, rates)))
    after = round_kr(municipal_net_cost(personal_assistance_gross(7, rates), rates.handicap_direct))
    assert before - after == 4_104


def test_flex_wage_subsidy_net_of_refund_and_special_flex_contribution_is_7491(rates):
    net = municipal_net_cost(13_542, refund_rate(53, rates), contribution=3_343)
    assert net == pytest.approx(7_490.6)
    assert round_kr(net) == 7_491


def test_dagpenge_at_the_38_percent_first_year_average_refund_is_11998(rates):
    avg = average_refund_rate(1, 52, rates)
    assert avg == pytest.approx((4 * 0.8 + 22 * 0.4 + 26 * 0.3) / 52)  # 38.08 %
    assert round(avg, 2) == 0.38  # the note uses the rounded 38 %
    assert round_kr(municipal_net_cost(19_351, round(avg, 2))) == 11_998
    # with the unrounded average the amount would be 11,983 kr
    assert round_kr(municipal_net_cost(19_351, avg)) == 11_983


def test_the_other_job_centre_examples_are_reproduced_as_well(rates):
    assert round_kr(municipal_net_cost(11_716, 0.2)) == 9_373          # kontanthjælp
    assert round_kr(municipal_net_cost(15_570, 0.2)) == 12_456         # ressourceforløbsydelse
    assert round_kr(municipal_net_cost(10_292, 0.2, 2_693)) == 5_541   # flex subsidy, 18 h/week
    assert round_kr(personal_assistance_gross(20, rates) * 0.5) == 5_536
    assert round_kr(personal_assistance_gross(4, rates)) == 2_215


def test_handicap_compensation_is_refunded_in_full_half_through_the_block_grant_two_years_later(rates):
    assert handicap_compensation_shares(rates) == {"kommune": 0.0, "region": 0.0, "stat": 1.0}
    flows = handicap_compensation_flows(3_875.0, rates)
    net = flows.groupby("actor")["expenditure"].sum()
    assert net["kommune"] == pytest.approx(0.0) and net["stat"] == pytest.approx(3_875.0)
    year0 = flows[flows["year_offset"] == 0].groupby("actor")["expenditure"].sum()
    assert year0["kommune"] == pytest.approx(1_937.5)  # what the job centre sees
    assert set(flows.loc[flows["channel"] == "block_grant", "year_offset"]) == {2}


def test_round_kr_rounds_half_up_unlike_python_round():
    assert round_kr(2.5) == 3 and round(2.5) == 2
    assert round_kr(1_937.5) == 1_938


def test_a_staircase_with_a_gap_or_without_an_open_end_is_refused():
    base = {"benefit_staircase": [{"from_week": 1, "to_week": 4, "rate": 0.8},
                                  {"from_week": 6, "to_week": None, "rate": 0.2}]}
    with pytest.raises(BudgetError, match="gap or overlap"):
        refund_rates_from_mapping(base)
    closed = {"benefit_staircase": [{"from_week": 1, "to_week": 4, "rate": 0.8}]}
    with pytest.raises(BudgetError, match="open-ended"):
        refund_rates_from_mapping(closed)
    percent = {"benefit_staircase": [{"from_week": 1, "to_week": None, "rate": 80}]}
    with pytest.raises(BudgetError, match="rate"):
        refund_rates_from_mapping(percent)


def test_refund_rate_refuses_week_zero(rates):
    with pytest.raises(BudgetError, match=">= 1"):
        refund_rate(0, rates)
