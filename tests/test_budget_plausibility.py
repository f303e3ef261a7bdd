"""Plausibility of the default (illustrative) prices against the published KLAPjob result.

An effect table in the published shape (method.md §1; regeval.budget.examples) valued with
the default inputs must give a positive net result, in total and for municipalities, of the
published order of magnitude, driven by less sheltered employment/activity and botilbud.
Published (kr per participant, 2022 prices, PV, years 0-5): total ≈ 100,900, municipalities
≈ 113,600, state ≈ 7,200, regions ≈ 5,000, programme ≈ -24,900; sheltered employment/activity
≈ 69,700, botilbud ≈ 67,300, §85 ≈ -14,400, tax ≈ 8,600, transfers ≈ -15,900.
"""

import warnings
from pathlib import Path

import pytest

from regeval.budget import (
    compute_budget,
    load_budget_assumptions,
    load_budget_inputs,
    published_shape_effects,
)

CONFIG = Path(__file__).resolve().parents[1] / "config" / "budget"


@pytest.fixture(scope="module")
def result():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the example covers every outcome of the contract
        return compute_budget(published_shape_effects(), load_budget_inputs(CONFIG),
                              load_budget_assumptions(CONFIG / "assumptions.yaml"))


def test_the_net_result_is_positive_in_total_and_for_municipalities(result):
    net = result.net.set_index("actor")["value_pv"]
    assert 50_000 < net["total"] < 200_000
    assert 50_000 < net["kommune"] < 200_000
    assert net["programme"] == pytest.approx(-24_900)
    assert net["total"] == pytest.approx(100_900, rel=0.15)
    assert net["kommune"] == pytest.approx(113_600, rel=0.15)


def test_it_is_driven_by_sheltered_employment_and_botilbud_as_published(result):
    g = result.by_group.set_index("consequence_group")["value_pv"]
    largest = g.sort_values(ascending=False).index[:2]
    assert set(largest) == {"sheltered_activity", "botilbud"}
    assert g["sheltered_activity"] == pytest.approx(69_700, rel=0.15)
    assert g["botilbud"] == pytest.approx(67_300, rel=0.15)
    assert g["sel85"] == pytest.approx(-14_400, rel=0.15)
    assert g["tax_on_income"] == pytest.approx(8_600, rel=0.5)
    social = result.by_group.query("group == 'social_services'")["value_pv"].sum()
    assert social == pytest.approx(125_500, rel=0.15)


def test_the_yearly_profile_rises_from_about_10000_to_about_29000(result):
    y = result.by_item.query("group != 'programme_cost'").groupby("rel_year")["value_undiscounted"].sum()
    assert y[0] == pytest.approx(9_800, rel=0.2)
    for t in (2, 3, 4, 5):
        assert y[t] == pytest.approx(29_000, rel=0.15)
