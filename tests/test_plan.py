"""The plan of a run (regeval.pipeline.plan): specs, shared keys, export jobs and their
readable names, and the files the rules declare."""

from __future__ import annotations

import pytest

from regeval.errors import ConfigError
from regeval.pipeline.config import deep_merge, load_yaml
from regeval.pipeline.plan import EXPORT_TABLES, Plan, export_rule_name

from .conftest import REPO


def _plan(extra: dict) -> Plan:
    return Plan.from_config(deep_merge(load_yaml(REPO / "config" / "config.yaml"), extra), base_dir=REPO)


def test_specs_sharing_an_effect_table_are_exported_by_one_job_named_after_the_first():
    plan = _plan({
        "specs": {"cheap": {"budget": {"discount_rate": 0.0}}, "k20": {"matching": {"k": 20}}},
        "run_specs": ["default", "k20", "cheap"],
        "sweep": {"name": "sw", "grid": {"budget.effects_rule": ["all", "ci_low"]}},
    })
    groups = {g.rule: g.specs for g in plan.exports}
    assert groups == {
        "export_default": ("default", "cheap", "sw-effects_ruleall", "sw-effects_ruleci_low"),
        "export_k20": ("k20",),
    }
    assert plan.run_specs == ("default", "k20", "cheap", "sw-effects_ruleall", "sw-effects_ruleci_low")
    assert plan.sweep == "sw" and plan.sweep_specs[0] == "default"
    # every spec of a group has the group's keys; the budget variant shares everything upstream
    assert plan.keys["cheap"] == plan.keys["default"]
    assert plan.keys["k20"]["ps"] == plan.keys["default"]["ps"] != plan.keys["k20"]["match"]
    assert plan.upstream_key(plan.keys["k20"]["effects"], "match") == plan.keys["k20"]["match"]


def test_a_sweep_spec_gives_a_valid_rule_name():
    assert export_rule_name("sweep-effects_rulepessimistic-k10") == "export_sweep_effects_rulepessimistic_k10"
    assert export_rule_name("sweep-effects_rulepessimistic-k10").isidentifier()


def test_two_specs_with_the_same_rule_name_are_refused():
    with pytest.raises(ConfigError, match="same export rule name 'export_a_b'"):
        _plan({"specs": {"a-b": {"matching": {"k": 3}}, "a_b": {"matching": {"k": 4}}}, "run_specs": ["a-b", "a_b"]})


def test_the_aggregates_a_spec_exports_come_from_its_keyed_folders():
    plan = _plan({})
    files = plan.aggregates("default")
    k = plan.keys["default"]
    assert list(files) == list(EXPORT_TABLES[: len(files)])
    assert files["effects"].endswith(f"effects/{k['effects']}/aggregates/effects.parquet")
    assert files["balance"].endswith(f"matching/{k['match']}/aggregates/balance.parquet")
    assert files["propensity_model"].endswith(f"propensity/{k['ps']}/aggregates/propensity_model.parquet")
    assert plan.budget_files("default")["prices"] == str(REPO / "config" / "budget" / "prices.csv")
    assert plan.business_case_files() == {
        "table": str(REPO / "config" / "budget" / "business_case_ishoej.csv"),
        "metadata": str(REPO / "config" / "budget" / "business_case_ishoej.yaml"),
    }


def test_snakemake_lint_finds_nothing_but_the_missing_software_environments(tmp_path):
    """``snakemake --lint`` (with a sweep, so that every rule is defined): the only lint
    left is that the rules name no conda environment or container (the project is
    installed with pip; docs/architecture.md)."""
    import os
    import re
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(tmp_path), "--lint",
         "--configfile", str(REPO / "config" / "specs" / "sweep.yaml")],
        capture_output=True, text=True, timeout=300, env={**os.environ, "MPLBACKEND": "Agg"},
    )
    output = proc.stdout + proc.stderr
    lints = set(re.findall(r"^\s+\* (.+)$", output, re.M))
    assert lints == {"Specify a conda environment or container for each rule.:"}, output[-3000:]
    linted = set(re.findall(r"^Lints for rule (\w+)", output, re.M))
    assert {"sweep_summary", "export_default", "business_case", "generate_synthetic"} <= linted
