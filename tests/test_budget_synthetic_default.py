"""The budget on the synthetic default (issue: budget economics, reproduction tests).

At the default size (600,000 persons, ≈ 2,000 treated) the pipeline's own estimates,
valued with the default prices under SØM's rule (only significant effects count),
must give the published sign and order of magnitude (method.md §2): positive in total
and for the municipalities, tens of thousands of kr per participant, driven by
sheltered employment/activity and botilbud. About a minute: marked slow.
"""

from __future__ import annotations

import warnings

import pytest

from regeval.budget import BudgetAssumptions, compute_budget, load_budget_inputs
from regeval.pipeline.config import load_yaml, resolve_spec
from regeval.pipeline.evaluate import evaluate
from regeval.population.base import PopulationSpec, build_base_population
from regeval.registers.read import resolve_sources
from regeval.synthetic import SyntheticConfig, generate

from .conftest import REPO


@pytest.mark.slow
def test_net_result_on_the_synthetic_default_has_the_published_sign_and_size(tmp_path):
    cfg = load_yaml(REPO / "config" / "config.yaml")
    generate(SyntheticConfig.from_dict(cfg["synthetic"]), tmp_path)
    sources = resolve_sources(tmp_path)
    pop = PopulationSpec.from_config(cfg["population"])
    units = build_base_population(sources, pop).units
    spec = resolve_spec(cfg, "default")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        effects = evaluate(sources, units, spec, list(pop.diagnosis_groups), cfg["data"]["years"][1], pop.control_rule)["effects"]
    b = spec["budget"]
    result = compute_budget(
        effects,
        load_budget_inputs(REPO / b["inputs"]),
        BudgetAssumptions.from_mapping({k: b[k] for k in ("price_year", "discount_rate", "horizon", "effects_rule")}),
    )
    net = result.net.set_index("actor")["value_pv"]
    assert 20_000 < net["total"] < 500_000  # published ≈ 100,900
    assert net["kommune"] > 0  # published ≈ 113,600
    groups = result.by_group.set_index("consequence_group")["value_pv"]
    top2 = groups.drop("programme_cost").nlargest(2).index
    assert set(top2) == {"sheltered_activity", "botilbud"}
