"""Cost-level × discount-rate sensitivity grid, and the figures."""

import warnings
from pathlib import Path

import matplotlib
import pytest

from regeval.budget import (
    business_case,
    compute_budget,
    implied_unit_costs,
    load_budget_assumptions,
    load_budget_inputs,
    load_business_case,
    published_shape_effects,
    sensitivity_grid,
)
from regeval.errors import BudgetError
from regeval.reporting.budget_figures import budget_figures, plot_business_case, plot_by_year

matplotlib.use("Agg")
CONFIG = Path(__file__).resolve().parents[1] / "config" / "budget"


@pytest.fixture(scope="module")
def setup():
    inputs = load_budget_inputs(CONFIG)
    a = load_budget_assumptions(CONFIG / "assumptions.yaml")
    eff = published_shape_effects()
    return eff, inputs, a


@pytest.fixture(scope="module")
def grid(setup):
    return sensitivity_grid(*setup)


def test_the_grid_covers_five_cost_levels_times_four_discount_rates(grid):
    assert list(grid.columns) == ["spec", "cost_factor", "discount_rate", "actor", "net_pv"]
    total = grid[grid["actor"] == "total"]
    assert sorted(total["cost_factor"].unique()) == [0.5, 0.75, 1.0, 1.25, 1.5]
    assert sorted(total["discount_rate"].unique()) == [0.0, 0.025, 0.035, 0.04]
    assert len(total) == 20


def test_the_base_point_equals_the_main_result_and_the_cost_moves_the_total_linearly(setup, grid):
    eff, inputs, a = setup
    base = compute_budget(eff, inputs, a).net_pv()
    total = grid[grid["actor"] == "total"].set_index(["cost_factor", "discount_rate"])["net_pv"]
    assert total[(1.0, 0.035)] == pytest.approx(base)
    # cost all in year 0: each +25 % of the cost lowers the total by 0.25 × 24,900 at every rate
    for r in (0.0, 0.025, 0.035, 0.04):
        assert total[(0.5, r)] - total[(1.5, r)] == pytest.approx(24_900)
    # the consequences are savings later on: a higher discount rate lowers the total
    assert total[(1.0, 0.0)] > total[(1.0, 0.025)] > total[(1.0, 0.035)] > total[(1.0, 0.04)]
    # only the programme's own cost changes with the cost level
    kommune = grid[grid["actor"] == "kommune"].set_index(["cost_factor", "discount_rate"])["net_pv"]
    assert kommune[(0.5, 0.035)] == pytest.approx(kommune[(1.5, 0.035)])


def test_every_grid_point_equals_the_budget_computed_at_that_point(setup, grid):
    eff, inputs, a = setup
    for (f, r), g in grid.groupby(["cost_factor", "discount_rate"]):
        net = compute_budget(eff, inputs, a.with_(discount_rate=r, programme_cost_factor=f)).net
        got = g.set_index("actor")["net_pv"]
        want = net.set_index("actor")["value_pv"]
        assert list(got.index) == list(want.index)
        assert got.to_numpy() == pytest.approx(want.to_numpy(), rel=1e-12, abs=1e-6)


@pytest.mark.parametrize("rule, pick", [("pessimistic", min), ("optimistic", max)])
def test_pessimistic_and_optimistic_take_per_effect_the_bound_that_moves_the_net_result(setup, rule, pick):
    """Independent expectation from the itemised ci_low and ci_high results: per outcome
    and year the bound whose value (all consequences and actors) is smaller / larger."""
    eff, inputs, a = setup
    res = {r: compute_budget(eff, inputs, a.with_(effect_rule=r)) for r in ("ci_low", "ci_high", "all", rule)}

    def per_cell(r):
        items = res[r].by_item
        return items[items["outcome"] != ""].groupby(["outcome", "rel_year"])["value_pv"].sum()

    lo, hi = per_cell("ci_low"), per_cell("ci_high")
    cost = res["all"].by_item.loc[res["all"].by_item["outcome"] == "", "value_pv"].sum()
    expected = sum(pick(x, y) for x, y in zip(lo, hi, strict=True)) + cost
    assert res[rule].net_pv() == pytest.approx(expected, rel=1e-12)
    others = [res[r].net_pv() for r in ("ci_low", "ci_high", "all")]
    assert res[rule].net_pv() == pytest.approx(pick([res[rule].net_pv(), *others]))


def test_the_standard_figures_are_drawn_with_labelled_axes(setup, grid):
    eff, inputs, a = setup
    figs = budget_figures(compute_budget(eff, inputs, a), grid)
    assert set(figs) == {"net_by_actor", "by_year", "by_group", "sensitivity"}
    for name, fig in figs.items():
        ax = fig.axes[0]
        label = ax.get_xlabel() + ax.get_ylabel()
        assert "kr per participant" in label, name
        fig.canvas.draw()  # renders without error
    assert "2022 prices" in figs["net_by_actor"].axes[0].get_xlabel()
    ticks = [t.get_text() for t in figs["by_group"].axes[0].get_yticklabels()]
    assert any("SEL §103" in t for t in ticks) and any("Tax on income" in t for t in ticks)


def test_the_figures_can_be_labelled_in_danish(setup, grid):
    eff, inputs, a = setup
    figs = budget_figures(compute_budget(eff, inputs, a), grid, language="da")
    for name, fig in figs.items():
        ax = fig.axes[0]
        assert "kr. pr. deltager" in ax.get_xlabel() + ax.get_ylabel(), name
        assert "participant" not in ax.get_xlabel() + ax.get_ylabel() + ax.get_title(), name
    ticks = [t.get_text() for t in figs["net_by_actor"].axes[0].get_yticklabels()]
    assert "Kommuner" in ticks and "Staten" in ticks


def test_figures_need_a_spec_when_the_result_holds_several(setup):
    import pandas as pd

    eff, inputs, a = setup
    two = pd.concat([eff, eff.assign(spec="other")], ignore_index=True)
    r = compute_budget(two, inputs, a)
    with pytest.raises(BudgetError, match="several specs"):
        plot_by_year(r)
    plot_by_year(r, spec="other", value="value_pv").canvas.draw()


def test_the_business_case_figure_is_drawn():
    case = load_business_case(CONFIG / "business_case_ishoej.csv")
    u = implied_unit_costs(case.table, case.published, investment=case.investment)
    res = business_case(case.table, u.set_index("cost_category")["unit_cost_month"], case.investment)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plot_business_case(res, case.name)
        fig.canvas.draw()
    assert "kr per year" in fig.axes[0].get_ylabel()
