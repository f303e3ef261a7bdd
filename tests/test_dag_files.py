"""The pieces the workflow uses to declare what each job reads and writes: the files of
a register table, the budget input files, each rule's script and the digest of the code
it runs, the work-sharing keys and the params of the keyed jobs, and the folder written
complete or not at all.
(The whole workflow's reruns are checked in tests/test_dag_reruns.py.)"""

from __future__ import annotations

import inspect
import re
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from regeval.errors import RegevalError
from regeval.pipeline import code, files
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
    assert files.BUDGET_INPUT_FILES == defaults
    found = files.budget_input_files("config/budget", REPO)
    assert all(Path(f).is_file() and Path(f).parent == REPO / "config" / "budget" for f in found.values())
    assert files.budget_input_files("/elsewhere", REPO)["prices"] == "/elsewhere/prices.csv"


SCRIPTS = REPO / "workflow" / "scripts"
RULES = sorted(p.stem for p in SCRIPTS.glob("*.py"))


def test_every_rule_runs_its_own_script_naming_its_function():
    """Each rule's script names its function (a reader of the rule sees what runs, and
    Snakemake's script trigger sees a file per rule)."""
    smk = "\n".join(p.read_text() for p in (REPO / "workflow" / "rules").glob("*.smk"))
    scripts = set(re.findall(r'"\.\./scripts/(\w+)\.py"', smk))
    assert scripts == set(RULES)
    for rule in RULES:
        text = (SCRIPTS / f"{rule}.py").read_text()
        assert f"from regeval.pipeline.rules.{rule} import {rule}\n" in text
        assert f"run_rule({rule}, snakemake)" in text
        assert f'code=code("{rule}")' in smk  # the rule's code param digests this script


def test_rule_code_imports_by_module_path():
    """The digest follows import statements: rule modules and scripts import what they
    use from its module (not through a package's lazy names)."""
    sources = [*SCRIPTS.glob("*.py"), *(code.PACKAGE_DIR / "pipeline" / "rules").glob("*.py")]
    for path in sources:
        text = path.read_text()
        assert not re.search(r"^\s*(import regeval\s*$|from regeval import )", text, re.M), path


@pytest.fixture
def package_copy(tmp_path):
    """A copy of the regeval sources whose digests are computed instead of the real ones."""
    copy = tmp_path / "regeval"
    shutil.copytree(code.PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _digests(package_dir: Path) -> dict[str, str]:
    return {rule: code.code_digest(SCRIPTS / f"{rule}.py", package_dir) for rule in RULES}


def _edit(path: Path) -> None:
    path.write_text(path.read_text() + "\n_EDITED = 1\n")


def _changed_by(package_dir: Path, *relative: str) -> set[str]:
    before = _digests(package_dir)
    for rel in relative:
        _edit(package_dir / rel)
    after = _digests(package_dir)
    return {r for r in RULES if before[r] != after[r]}


def test_the_code_digest_is_stable_and_follows_imports(package_copy):
    assert _digests(package_copy) == _digests(package_copy)
    assert _digests(package_copy) == _digests(code.PACKAGE_DIR)  # the same sources
    modules = code.imported_modules(SCRIPTS / "propensity.py", package_copy)
    assert {"regeval", "regeval.pipeline.rules.propensity", "regeval.stats.propensity", "regeval.errors"} <= set(modules)
    assert not any(m.startswith("regeval.budget") for m in modules)


def test_a_module_edit_changes_the_digest_of_the_rules_that_run_it(package_copy):
    assert _changed_by(package_copy, "budget/som.py") == {"export", "business_case"}
    # matching is imported by regeval.pipeline.evaluate, which the keyed rules use
    assert _changed_by(package_copy, "stats/matching.py") == {"propensity", "control_group", "effects"}
    assert _changed_by(package_copy, "synthetic/generator.py") == {"generate_synthetic"}
    assert _changed_by(package_copy, "registers/validate/values.py") == {"validate_registers"}
    assert _changed_by(package_copy, "reporting/html.py") == {"export"}


def test_a_rule_module_edit_changes_only_its_rule(package_copy):
    for rule in RULES:
        assert _changed_by(package_copy, f"pipeline/rules/{rule}.py") == {rule}
    assert _changed_by(package_copy, "pipeline/runner.py") == set(RULES)  # every rule runs through it
    assert _changed_by(package_copy, "__init__.py") == set(RULES)  # imported with every module


def test_imports_only_for_type_checking_are_not_followed(package_copy):
    module = package_copy / "pipeline" / "rules" / "effects.py"
    module.write_text(module.read_text() + "\nif TYPE_CHECKING:\n    from regeval.budget import som\n")
    assert "regeval.budget.som" not in code.imported_modules(SCRIPTS / "effects.py", package_copy)
    module.write_text(module.read_text() + "\ndef late():\n    from regeval.budget import som  # noqa: F401\n")
    assert "regeval.budget.som" in code.imported_modules(SCRIPTS / "effects.py", package_copy)


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
        with files.atomic_folder(final) as tmp:
            (tmp / "new.csv").write_text("new")
            raise RuntimeError("failed half way")
    assert sorted(p.name for p in final.iterdir()) == ["old.csv"]
    assert not (tmp_path / ".export.partial").exists()
    (tmp_path / ".export.partial").mkdir()  # left by a killed run
    (tmp_path / ".export.partial" / "stale.csv").write_text("stale")
    with files.atomic_folder(final) as tmp:
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
    files.check_declared(tmp_path, declared, directories=[declared["figures"]])
    (tmp_path / "tables" / "extra.csv").write_text("x")
    with pytest.raises(RegevalError, match="extra.csv"):
        files.check_declared(tmp_path, declared, directories=[declared["figures"]])


def test_a_name_a_package_exports_lazily_brings_its_module(package_copy):
    """``from regeval.synthetic import generate`` runs regeval.synthetic.generator (loaded
    by the package's ``__getattr__``): the digest follows it, and only it."""
    module = package_copy / "pipeline" / "rules" / "effects.py"
    module.write_text(module.read_text() + "\ndef late():\n    from regeval.synthetic import SyntheticConfig  # noqa: F401\n")
    modules = code.imported_modules(SCRIPTS / "effects.py", package_copy)
    assert "regeval.synthetic.config" in modules
    assert "regeval.synthetic.generator" not in modules
    assert _changed_by(package_copy, "synthetic/config.py") >= {"effects", "generate_synthetic"}
