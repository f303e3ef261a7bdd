"""The pieces the workflow uses to declare what each job reads and writes: the files of
a register table, the budget input files, the code digest of a step, the work-sharing
keys and the params of the keyed jobs, and the folder written complete or not at all.
(The whole workflow's reruns are checked in tests/test_dag_reruns.py.)"""

from __future__ import annotations

import inspect
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from regeval.pipeline import steps
from regeval.pipeline.config import (
    deep_merge,
    effects_choices,
    effects_key,
    load_yaml,
    match_choices,
    match_key,
    propensity_choices,
    propensity_key,
    resolve_spec,
)
from regeval.errors import RegevalError
from regeval.registers.read import TableSource, register_files, register_fingerprint, source_files

from .conftest import REPO


def test_a_dataset_folder_lists_the_files_pyarrow_reads(tmp_path):
    folder = tmp_path / "bef"
    table = pa.table({"pnr": [1], "aar": [2019]})
    for rel in ("aar=2018/part-0.parquet", "aar=2019/part-0.parquet", "part-noext", "_SUCCESS", ".hidden.parquet",
                "_tmp/part.parquet", ".git/x.parquet", "sub/deeper/part.parquet"):
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, folder / rel)
    listed = source_files(TableSource("bef", folder))
    assert listed == sorted(Path(f) for f in ds.dataset(str(folder), format="parquet").files)
    assert len(listed) == 4
    single = tmp_path / "udda.parquet"
    pq.write_table(table, single)
    assert source_files(TableSource("udda", single)) == [single]
    assert source_files(TableSource("diag", tmp_path / "missing")) == []  # validation names it
    files = register_files({"bef": TableSource("bef", folder), "udda": TableSource("udda", single)})
    assert files == [str(f) for f in listed] + [str(single)]


def test_the_register_stamp_changes_when_a_file_is_replaced_by_an_older_copy(tmp_path):
    import os

    path = tmp_path / "bef.parquet"
    pq.write_table(pa.table({"pnr": [1, 2]}), path)
    sources = {"bef": TableSource("bef", path)}
    before = register_fingerprint(sources)
    st = path.stat()
    pq.write_table(pa.table({"pnr": [1, 2, 3]}), path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # as `cp -p` of an older file leaves it
    assert path.stat().st_mtime_ns == st.st_mtime_ns
    assert register_fingerprint(sources) != before


def test_the_declared_budget_files_are_the_ones_the_budget_reads():
    from regeval.budget import load_budget_inputs

    defaults = {
        name: p.default for name, p in inspect.signature(load_budget_inputs).parameters.items() if name != "directory"
    }
    assert steps.BUDGET_INPUT_FILES == defaults
    files = steps.budget_input_files({"inputs": "config/budget"}, REPO)
    assert all(Path(f).is_file() and Path(f).parent == REPO / "config" / "budget" for f in files.values())
    assert steps.budget_input_files({"inputs": "/elsewhere"}, REPO)["prices"] == "/elsewhere/prices.csv"


@pytest.fixture
def package_copy(tmp_path, monkeypatch):
    """A copy of the regeval sources that code_digest reads instead of the real ones."""
    copy = tmp_path / "regeval"
    shutil.copytree(steps.PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(steps, "PACKAGE_DIR", copy)
    return copy


def _digests() -> dict[str, str]:
    return {s: steps.code_digest(s) for s in steps.STEPS}


def _changed(before: dict[str, str]) -> set[str]:
    after = _digests()
    return {s for s in before if before[s] != after[s]}


RULE_STEPS = {"generate", "validate", "base_population", "population_means", "person_years", "propensity",
              "control_group", "effects_stage", "export_group", "business_case", "sweep_summary"}


def test_a_module_edit_changes_the_digest_of_the_steps_that_import_it(package_copy):
    before = _digests()
    assert _changed(before) == set()  # stable
    som = package_copy / "budget" / "som.py"
    som.write_text(som.read_text() + "\n_EDITED = 1\n")
    assert _changed(before) & RULE_STEPS == {"export_group", "business_case"}
    before = _digests()
    matching = package_copy / "stats" / "matching.py"
    matching.write_text(matching.read_text() + "\n_EDITED = 1\n")
    # matching is imported by regeval.pipeline.evaluate, which the keyed steps use
    assert _changed(before) & RULE_STEPS == {"propensity", "control_group", "effects_stage"}
    before = _digests()
    synthetic = package_copy / "synthetic" / "generator.py"
    synthetic.write_text(synthetic.read_text() + "\n_EDITED = 1\n")
    assert _changed(before) & RULE_STEPS == {"generate"}


def test_a_steps_function_edit_changes_only_the_steps_that_run_it(package_copy):
    before = _digests()
    source = package_copy / "pipeline" / "steps.py"
    text = source.read_text()
    marker = '    """SØM-style budget: effects × prices by actor, year and consequence."""\n'
    assert marker in text
    source.write_text(text.replace(marker, marker + "    _edited = 1  # noqa: F841\n"))
    assert _changed(before) & RULE_STEPS == {"export_group"}
    before = _digests()
    text = source.read_text()
    source.write_text(text.replace('log = logging.getLogger("regeval")', 'log = logging.getLogger("regeval")\n_X = 1'))
    assert _changed(before) == set(steps.STEPS)  # module-level statements belong to every step


def test_specs_that_share_a_key_get_the_same_params_and_the_budget_is_in_none(tmp_path):
    cfg = load_yaml(REPO / "config" / "config.yaml")
    cfg = deep_merge(cfg, {"specs": {
        "cheap": {"budget": {"discount_rate": 0.0, "cost_multiplier": 0.5}, "label": "x"},
        "k5": {"matching": {"k": 5}},
        "reordered": {"characteristics": ["age", "sex"]},
        "ordered": {"characteristics": ["sex", "age"]},
    }})
    base, cheap, k5 = (resolve_spec(cfg, s) for s in ("default", "cheap", "k5"))
    for choices, key in ((propensity_choices, propensity_key), (match_choices, match_key), (effects_choices, effects_key)):
        assert choices(base) == choices(cheap) and key(base) == key(cheap)
        assert "budget" not in repr(choices(base)) and "label" not in choices(base)
    assert propensity_key(k5) == propensity_key(base) and match_key(k5) != match_key(base)
    assert propensity_choices(k5) == propensity_choices(base)
    # the order of the characteristics is the order of the model's terms: no sharing
    a, b = resolve_spec(cfg, "reordered"), resolve_spec(cfg, "ordered")
    assert propensity_key(a) != propensity_key(b)
    # params compare by repr: the order of keys in the config does not matter
    flipped = dict(reversed(list(base["matching"].items())))
    assert repr(match_choices({**base, "matching": flipped})) == repr(match_choices(base))


def test_a_folder_is_written_complete_or_not_at_all(tmp_path):
    final = tmp_path / "export"
    final.mkdir()
    (final / "old.csv").write_text("old")
    with pytest.raises(RuntimeError):
        with steps.atomic_folder(final) as tmp:
            (tmp / "new.csv").write_text("new")
            raise RuntimeError("failed half way")
    assert sorted(p.name for p in final.iterdir()) == ["old.csv"]
    assert not (tmp_path / ".export.partial").exists()
    (tmp_path / ".export.partial").mkdir()  # left by a killed run
    (tmp_path / ".export.partial" / "stale.csv").write_text("stale")
    with steps.atomic_folder(final) as tmp:
        (tmp / "new.csv").write_text("new")
        assert not (final / "new.csv").exists()
    assert sorted(p.name for p in final.iterdir()) == ["new.csv"]
    assert not (tmp_path / ".export.partial").exists()


def test_an_undeclared_file_in_an_export_fails_the_step(tmp_path):
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "effects.csv").write_text("x")
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "a.png").write_text("x")
    declared = {"effects": str(tmp_path / "tables" / "effects.csv"), "figures": str(tmp_path / "figures")}
    steps._check_declared(tmp_path, declared, directories=[declared["figures"]])
    (tmp_path / "tables" / "extra.csv").write_text("x")
    with pytest.raises(RegevalError, match="extra.csv"):
        steps._check_declared(tmp_path, declared, directories=[declared["figures"]])
