"""Configuration validation: a mistake stops the run and names its key."""

from __future__ import annotations

import copy

import pytest

from regeval.config import deep_merge, load_yaml, propensity_key, resolve_spec, validate_config
from regeval.errors import ConfigError

from .conftest import REPO


@pytest.fixture()
def config():
    return load_yaml(REPO / "config" / "config.yaml")


def test_default_config_is_valid(config):
    validate_config(config)


def test_typo_in_a_key_is_named_with_its_path(config):
    bad = copy.deepcopy(config)
    bad["spec_defaults"]["matching"]["replacment"] = False
    with pytest.raises(ConfigError, match=r"spec_defaults\.matching.*replacment"):
        validate_config(bad)


def test_wrong_value_is_named(config):
    bad = copy.deepcopy(config)
    bad["spec_defaults"]["matching"]["distance"] = "mahalanobis"
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
    from regeval.config import effects_key, match_key

    cfg = copy.deepcopy(config)
    cfg["specs"]["never"] = {"control_rule": "never_participated"}
    cfg["specs"]["not_yet"] = {"control_rule": "not_yet_participated"}
    validate_config(cfg)
    base, never, not_yet = (resolve_spec(cfg, s) for s in ("default", "never", "not_yet"))
    assert base["control_rule"] == cfg["population"]["control_rule"] == "censor_at_start"
    # censor_at_start and not_yet_participated use the same pool: one fit, one matching
    assert propensity_key(base) == propensity_key(not_yet) and match_key(base) == match_key(not_yet)
    assert effects_key(base) != effects_key(not_yet)  # but the censoring differs
    # never_participated has a smaller pool: its own fit
    assert propensity_key(base) != propensity_key(never)
    cfg["specs"]["bad"] = {"control_rule": "nobody"}
    with pytest.raises(ConfigError, match="control_rule"):
        validate_config(cfg)
