"""Configuration validation: a mistake stops the run and names its key."""

from __future__ import annotations

import copy

import pytest

from regeval.errors import ConfigError
from regeval.pipeline.config import deep_merge, load_config, load_yaml, propensity_key, resolve_spec, validate_config

from .conftest import REPO


@pytest.fixture()
def config():
    return load_yaml(REPO / "config" / "config.yaml")


def test_default_config_is_valid(config):
    validate_config(config, base_dir=REPO)


def test_the_defaults_are_the_schemas_and_give_the_reports_design(config):
    """Every default is the schema's (config.yaml sets none of them); the default spec is
    the KLAPjob report's design (method.md §1-2)."""
    from regeval.pipeline.schema import load_schema, spec_defaults
    from regeval.pipeline.spec import Spec

    assert not {"spec_defaults", "disclosure", "report"} & set(config)
    assert "control_rule" not in config["population"]
    full = load_config(config, base_dir=REPO)
    assert full["disclosure"] == {"min_persons": 5} and full["report"] == {"language": "en"}
    assert full["spec_defaults"] == spec_defaults()
    spec = Spec.from_config(full, "default")
    assert len(spec.characteristics) == 17 and spec.control_rule == "censor_at_start"
    assert (spec.matching.k, spec.matching.replace, spec.matching.exact, spec.matching.caliper) == (10, True, ("cohort",), None)
    assert spec.effects.rel_years == (-5, 7) and len(spec.effects.outcomes) == 22 and spec.effects.vcov == "CR1"
    assert (spec.budget.price_year, spec.budget.discount_rate, spec.budget.horizon) == (2022, 0.035, 5)
    # the defaults themselves pass the schema, and a spec's plain data round-trips
    assert Spec.from_mapping(spec.to_dict()) == spec
    import jsonschema

    jsonschema.Draft7Validator(load_schema()).validate(full)


def test_a_default_is_overridden_by_spec_defaults_and_then_by_the_spec(config):
    from regeval.pipeline.spec import Spec

    cfg = deep_merge(config, {"spec_defaults": {"matching": {"k": 5}},
                              "specs": {"k20": {"matching": {"k": 20}}, "caliper": {"matching": {"caliper": 1}}}})
    full = load_config(cfg, base_dir=REPO)
    assert Spec.from_config(full, "default").matching.k == 5
    assert Spec.from_config(full, "k20").matching.k == 20
    assert Spec.from_config(full, "caliper").matching == Spec.from_config(full, "default").matching.__class__(
        k=5, replace=True, exact=("cohort",), caliper=1, distance="logit"
    )


def test_the_keys_of_the_default_spec_do_not_change(config):
    """The keys name the folders of shared work: a change would orphan every earlier result.
    (The effects key changed once on purpose: the default outcomes gained the transfers the
    budget mapping prices, support_dagpenge, _sygedagpenge, _su and _oevrig.)"""
    from regeval.pipeline.spec import Spec

    keys = Spec.from_config(load_config(config, base_dir=REPO), "default").keys()
    assert keys == {"ps": "ps-8495d5e502", "match": "m-91baf698c8", "effects": "e-d514ac5a4b"}


def test_typo_in_a_key_is_named_with_its_path(config):
    bad = deep_merge(config, {"spec_defaults": {"matching": {"replacment": False}}})
    with pytest.raises(ConfigError, match=r"spec_defaults\.matching.*replacment"):
        validate_config(bad)


def test_wrong_value_is_named(config):
    bad = deep_merge(config, {"spec_defaults": {"matching": {"distance": "mahalanobis"}}})
    with pytest.raises(ConfigError, match=r"spec_defaults\.matching\.distance"):
        validate_config(bad)


def test_unknown_spec_in_run_specs(config):
    bad = copy.deepcopy(config)
    bad["run_specs"] = ["default", "nope"]
    with pytest.raises(ConfigError, match="nope"):
        validate_config(bad)


def test_unknown_outcome_is_named(config):
    bad = copy.deepcopy(config)
    bad["specs"]["default"] = {"effects": {"outcomes": ["employed", "happiness"]}}
    with pytest.raises(ConfigError, match="happiness"):
        validate_config(bad)


def test_real_registers_need_a_directory(config):
    bad = copy.deepcopy(config)
    bad["data"]["source"] = "registers"
    with pytest.raises(ConfigError, match="data.registers.directory"):
        validate_config(bad)


def test_spec_is_defaults_deep_merged_with_overrides(config):
    cfg = deep_merge(config, {"specs": {"k5": {"matching": {"k": 5}}}})
    spec = resolve_spec(cfg, "k5")
    assert spec["matching"]["k"] == 5
    assert spec["matching"]["replace"] is True  # kept from the defaults
    assert spec["name"] == "k5"


def test_specs_with_the_same_characteristics_share_the_propensity_fit(config):
    cfg = deep_merge(
        config,
        {"specs": {"k5": {"matching": {"k": 5}}, "fewer": {"characteristics": ["sex", "age", "support"]}}},
    )
    assert propensity_key(resolve_spec(cfg, "k5")) == propensity_key(resolve_spec(cfg, "default"))
    assert propensity_key(resolve_spec(cfg, "fewer")) != propensity_key(resolve_spec(cfg, "default"))


def test_the_control_rule_is_the_populations_unless_a_spec_sets_its_own(config):
    from regeval.pipeline.config import effects_key, match_key

    cfg = copy.deepcopy(config)
    cfg["specs"]["never"] = {"control_rule": "never_participated"}
    cfg["specs"]["not_yet"] = {"control_rule": "not_yet_participated"}
    validate_config(cfg)
    base, never, not_yet = (resolve_spec(cfg, s) for s in ("default", "never", "not_yet"))
    assert base["control_rule"] == load_config(cfg)["population"]["control_rule"] == "censor_at_start"
    # censor_at_start and not_yet_participated use the same pool: one fit, one matching
    assert propensity_key(base) == propensity_key(not_yet) and match_key(base) == match_key(not_yet)
    assert effects_key(base) != effects_key(not_yet)  # but the censoring differs
    # never_participated has a smaller pool: its own fit
    assert propensity_key(base) != propensity_key(never)
    cfg["specs"]["bad"] = {"control_rule": "nobody"}
    with pytest.raises(ConfigError, match="control_rule"):
        validate_config(cfg)


def test_a_bad_value_in_a_spec_is_named_inside_the_spec(config):
    bad = copy.deepcopy(config)
    bad["specs"]["k0"] = {"matching": {"k": 0}}
    with pytest.raises(ConfigError, match=r"specs\.k0\.matching\.k: 0 is less than the minimum of 1"):
        validate_config(bad)


def test_a_bad_sweep_value_is_named_as_coming_from_the_sweep(config):
    from regeval.pipeline.config import expand_sweep

    cfg = copy.deepcopy(config)
    cfg["sweep"] = {"name": "sw", "grid": {"matching.k": [5, "a"]}}
    validate_config(cfg)  # the grid's values are checked once they are specs
    expanded, _ = expand_sweep(cfg)
    with pytest.raises(ConfigError) as info:
        validate_config(expanded)
    assert "specs.sw-ka.matching.k (a spec made by sweep.grid: check its values): 'a' is not of type 'integer'" in str(info.value)


def test_the_covariates_a_config_may_name_are_the_columns_of_the_base_population(tmp_path):
    """config.unit_columns (checked at config time) agrees with the units the base
    population step really writes."""
    import sys
    import warnings

    from regeval.pipeline.config import unit_columns
    from regeval.population.base import PopulationSpec, build_base_population
    from regeval.registers.read import resolve_sources

    sys.path.insert(0, str(REPO / "tests"))
    from register_factory import write_registers

    years = (2012, 2019)
    cfg = load_yaml(REPO / "config" / "config.yaml")["population"]
    cfg = {**cfg, "cohorts": [2017, 2018, 2019]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        units = build_base_population(resolve_sources(write_registers(tmp_path, years=years)), PopulationSpec.from_config(cfg)).units
    own = {"unit", "pnr", "treated", "first_start"}
    assert set(unit_columns(list(cfg["diagnosis_groups"]))) == set(units.columns) - own


@pytest.mark.parametrize("specfile", sorted(p.name for p in (REPO / "config" / "specs").glob("*.yaml")))
def test_every_shipped_spec_file_passes_the_config_checks(config, specfile):
    from regeval.pipeline.config import expand_sweep

    cfg = deep_merge(config, load_yaml(REPO / "config" / "specs" / specfile))
    validate_config(cfg)
    expanded, _ = expand_sweep(cfg)
    validate_config(expanded)


def test_the_documented_spec_defaults_are_the_schemas():
    """config/README.md restates the simple defaults of a spec; they are the schema's."""
    import re

    from regeval.pipeline.schema import spec_defaults

    defaults = spec_defaults()
    text = (REPO / "config" / "README.md").read_text()
    checked = 0
    for key, cell in re.findall(r"^\| `([a-z_.]+)` \| ([^|]+) \|", text, re.M):
        node = defaults
        for part in key.split("."):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        cell = cell.strip().strip("`")
        if isinstance(node, (bool, int, float, str)) or node is None:
            written = {"true": True, "false": False, "null": None}.get(cell, cell)
            assert str(written) == str(node), (key, cell, node)
            checked += 1
    assert checked >= 7
