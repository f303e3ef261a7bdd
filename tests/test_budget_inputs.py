"""Loading and validating the budget inputs: the defaults load, errors name file, line and column."""

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from regeval.budget import BudgetAssumptions, load_budget_assumptions, load_budget_inputs
from regeval.budget.prices import actor_prices
from regeval.errors import BudgetError

CONFIG = Path(__file__).resolve().parents[1] / "config" / "budget"
EFFECT_OUTCOMES = [
    "employed", "fulltime_days", "hours_per_week", "sel103_104", "botilbud", "sel85", "sel_other",
    "gp_contacts", "specialist_contacts", "somatic_hospital", "psychiatric_hospital", "support_foep",
    "support_fleksjob", "support_ledighedsydelse", "support_kontanthjaelp", "support_ressourceforloeb",
    "support_dagpenge", "support_sygedagpenge", "support_su", "support_selvforsoerget", "support_oevrig",
    "taxable_income",
]


@pytest.fixture(scope="module")
def inputs():
    return load_budget_inputs(CONFIG)


@pytest.fixture
def copy(tmp_path):
    d = tmp_path / "budget"
    shutil.copytree(CONFIG, d)
    return d


def _edit_csv(path: Path, line: int, column: str, value: str) -> None:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[line - 2, column] = value
    df.to_csv(path, index=False)


def test_the_default_inputs_load_and_every_price_states_its_source(inputs):
    p = inputs.prices
    assert p["source"].str.len().min() > 10
    assert p["illustrative"].dtype == bool
    assert p.loc[p["consequence"] != "selvforsoerget", "illustrative"].all()
    assert (p["price_year"] == 2022).all()


def test_every_outcome_of_the_effect_table_is_listed_in_the_mapping(inputs):
    assert sorted(inputs.consequences["outcome"]) == sorted(EFFECT_OUTCOMES)
    unpriced = inputs.consequences.loc[inputs.consequences["consequence"] == "", "outcome"]
    assert set(unpriced) == {"employed", "fulltime_days", "hours_per_week"}


def test_actor_shares_of_every_price_sum_to_one_and_transfers_follow_the_refund_rule(inputs):
    ap = actor_prices(inputs, 2022)
    shares = ap[ap["price_total"] > 0].groupby("consequence")["share"].sum()
    assert shares.to_numpy() == pytest.approx(1.0)
    foep = ap[ap["consequence"] == "foep"].set_index("actor")["share"]
    assert foep["kommune"] == pytest.approx(0.8) and foep["stat"] == pytest.approx(0.2)
    tax = ap[ap["consequence"] == "income_tax"].set_index("actor")["price"]
    assert tax["region"] == 0.0 and tax["kommune"] == pytest.approx(0.2497)


def test_the_programme_cost_is_24900_in_year_0_borne_by_the_programme(inputs):
    pc = inputs.programme_cost
    assert pc[["rel_year", "amount", "bearer"]].values.tolist() == [[0, 24900.0, "programme"]]


def test_the_assumptions_file_matches_the_documented_defaults():
    assert load_budget_assumptions(CONFIG / "assumptions.yaml") == BudgetAssumptions()
    a = BudgetAssumptions()
    assert (a.price_year, a.discount_rate, a.horizon, a.effect_rule) == (2022, 0.035, 5, "significant")
    assert a.years == (0, 1, 2, 3, 4, 5)


def test_shares_that_do_not_sum_to_one_are_named_with_file_line_and_consequence(copy):
    _edit_csv(copy / "prices.csv", 3, "kommune", "0.9")  # botilbud: 0.9 + 0 + 0.03
    with pytest.raises(BudgetError) as e:
        load_budget_inputs(copy)
    msg = str(e.value)
    assert "prices.csv" in msg and "line 3" in msg and "botilbud" in msg and "sum to 1" in msg


def test_a_non_numeric_price_is_named_with_its_column(copy):
    _edit_csv(copy / "prices.csv", 2, "price", "150.000,00")
    with pytest.raises(BudgetError, match=r"prices.csv, line 2, consequence 'sheltered_activity', column 'price'.*not a number"):
        load_budget_inputs(copy)


def test_an_unknown_consequence_group_lists_the_valid_ones(copy):
    _edit_csv(copy / "prices.csv", 4, "consequence_group", "social")
    with pytest.raises(BudgetError, match="column 'consequence_group'.*'social' is not allowed; use 'sheltered_activity'"):
        load_budget_inputs(copy)


def test_actor_columns_must_be_blank_when_the_split_comes_from_refunds(copy):
    _edit_csv(copy / "prices.csv", 6, "kommune", "0.8")  # foep, split benefit_refund
    with pytest.raises(BudgetError, match="foep.*derived from refund_rates.yaml"):
        load_budget_inputs(copy)


def test_a_missing_price_column_is_named(copy):
    df = pd.read_csv(copy / "prices.csv", dtype=str, keep_default_na=False).drop(columns="illustrative")
    df.to_csv(copy / "prices.csv", index=False)
    with pytest.raises(BudgetError, match="missing column.*illustrative"):
        load_budget_inputs(copy)


def test_a_mapping_to_an_unknown_consequence_is_named(copy):
    _edit_csv(copy / "outcome_consequences.csv", 5, "consequence", "botilbudd")
    with pytest.raises(BudgetError, match=r"outcome_consequences.csv, line 5, outcome 'sel103_104', column 'consequence'.*'botilbudd'"):
        load_budget_inputs(copy)


def test_price_index_and_programme_cost_errors_are_named(copy, tmp_path):
    _edit_csv(copy / "price_index.csv", 4, "year", "2015")
    with pytest.raises(BudgetError, match="price_index.csv, line 4.*2015 repeats line 3"):
        load_budget_inputs(copy)
    shutil.copy(CONFIG / "price_index.csv", copy / "price_index.csv")
    _edit_csv(copy / "programme_cost.csv", 2, "bearer", "lev")
    with pytest.raises(BudgetError, match="programme_cost.csv, line 2, column 'bearer'.*'programme'"):
        load_budget_inputs(copy)


def test_a_missing_file_is_named(copy):
    (copy / "price_index.csv").unlink()
    with pytest.raises(BudgetError, match="not found.*price_index.csv"):
        load_budget_inputs(copy)


def test_a_local_price_table_can_be_substituted_by_name(copy):
    df = pd.read_csv(copy / "prices.csv", dtype=str, keep_default_na=False)
    df.loc[df["consequence"] == "botilbud", "price"] = "600000"
    df.to_csv(copy / "local_prices.csv", index=False)
    local = load_budget_inputs(copy, prices="local_prices.csv")
    assert local.prices.set_index("consequence").loc["botilbud", "price"] == 600_000


def test_unknown_assumption_keys_and_bad_values_are_refused(tmp_path):
    p = tmp_path / "a.yaml"
    p.write_text(yaml.safe_dump({"discount_rat": 0.03}))
    with pytest.raises(BudgetError, match="unknown assumption 'discount_rat'; valid keys are"):
        load_budget_assumptions(p)
    p.write_text(yaml.safe_dump({"effect_rule": "significance"}))
    with pytest.raises(BudgetError, match="'significance' is not known; use 'significant', 'all', 'ci_low', 'ci_high', 'pessimistic' or 'optimistic'"):
        load_budget_assumptions(p)
    p.write_text(yaml.safe_dump({"discount_rate": 3.5}))
    with pytest.raises(BudgetError, match="fraction"):
        load_budget_assumptions(p)
    p.write_text(yaml.safe_dump({"sensitivity": {"cost_factor": [1]}}))
    with pytest.raises(BudgetError, match="sensitivity.cost_factor"):
        load_budget_assumptions(p)


def test_assumptions_from_a_pipeline_config_mapping():
    a = BudgetAssumptions.from_mapping({"horizon": 9, "discount_rate": 0.04, "sensitivity": {"cost_factors": [1, 2]}})
    assert a.years[-1] == 9 and a.discount_rate == 0.04 and a.sensitivity_cost_factors == (1.0, 2.0)


def test_the_pipeline_config_section_overrides_the_assumptions_file():
    from regeval.budget import load_budget_config

    section = {"inputs": str(CONFIG), "price_year": 2022, "discount_rate": 0.04, "horizon": 5,
               "effects_rule": "all", "cost_multiplier": 1.25}
    inputs, a = load_budget_config(section)
    assert a.effect_rule == "all" and a.programme_cost_factor == 1.25 and a.discount_rate == 0.04
    assert a.sensitivity_cost_factors == (0.5, 0.75, 1.0, 1.25, 1.5)  # from assumptions.yaml
    assert len(inputs.prices) > 10


def test_numpy_scalars_from_a_parameter_sweep_are_accepted_as_plain_numbers():
    import numpy as np

    a = BudgetAssumptions(price_year=np.int64(2022), horizon=np.int64(3), discount_rate=np.float64(0.02),
                          programme_cost_factor=np.int64(2))
    assert type(a.price_year) is int and type(a.horizon) is int and a.years == (0, 1, 2, 3)
    assert type(a.programme_cost_factor) is float and a.programme_cost_factor == 2.0
