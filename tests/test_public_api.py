"""The public API: ``regeval`` and the subpackages ``pipeline`` and ``disclosure``
export their names lazily (importing ``regeval`` loads no numerical library), every
exported name resolves, and type checkers see the same names."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys

import pytest

from .conftest import REPO

PACKAGES = ("regeval", "regeval.pipeline", "regeval.disclosure")


def test_importing_regeval_loads_no_numerical_library():
    code = "import sys, regeval, regeval.pipeline, regeval.disclosure; print(sorted(sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for heavy in ("'numpy'", "'pandas'", "'matplotlib'", "'scipy'", "'pyarrow'"):
        assert heavy not in loaded


@pytest.mark.parametrize("name", PACKAGES)
def test_every_exported_name_resolves_to_the_object_of_its_module(name):
    package = importlib.import_module(name)
    exports = package._EXPORTS if hasattr(package, "_EXPORTS") else {}
    assert set(exports) <= set(package.__all__)
    for attr in package.__all__:
        value = getattr(package, attr)
        if attr in exports:
            assert value is getattr(importlib.import_module(exports[attr]), attr)
    assert set(package.__all__) <= set(dir(package))
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        package.not_a_name  # noqa: B018


@pytest.mark.parametrize("name", PACKAGES)
def test_type_checkers_see_the_lazy_names(name):
    """The ``if TYPE_CHECKING:`` imports of an ``__init__`` are its lazy names, from the same modules."""
    package = importlib.import_module(name)
    tree = ast.parse(open(package.__file__, encoding="utf-8").read())
    block = next(n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", "") == "TYPE_CHECKING")
    seen = {a.name: node.module for node in block.body if isinstance(node, ast.ImportFrom) for a in node.names}
    assert seen == package._EXPORTS


def test_the_readme_library_table_names_modules_that_exist():
    text = (REPO / "README.md").read_text()
    table = text.split("## The library", 1)[1].split("\n## ", 1)[0]
    modules = {line.split("`")[1] for line in table.splitlines() if line.startswith("| `regeval")}
    assert len(modules) >= 10
    for module in modules:
        importlib.import_module(module)
