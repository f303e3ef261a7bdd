"""The public API of the data layers (regeval.registers, regeval.population,
regeval.synthetic): what each package exports, that importing it stays light, and that
their modules import only the layers below them."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "regeval"
PACKAGES = ("registers", "population", "synthetic")


def _type_checking_imports(package: str) -> dict[str, str]:
    """Public name -> defining module, from the ``if TYPE_CHECKING:`` block of the package."""
    tree = ast.parse((SRC / package / "__init__.py").read_text(encoding="utf-8"))
    block = next(n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", None) == "TYPE_CHECKING")
    return {a.name: node.module for node in block.body if isinstance(node, ast.ImportFrom) for a in node.names}


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_is_declared_once_and_resolves_to_its_module(package):
    pkg = importlib.import_module(f"regeval.{package}")
    declared = _type_checking_imports(package)
    assert sorted(pkg.__all__) == pkg.__all__ == sorted(declared)
    assert pkg._WHERE == declared  # the lazy loader and the type checkers agree
    for name, module in declared.items():
        assert getattr(pkg, name) is getattr(importlib.import_module(module), name)
        assert name in dir(pkg)
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        pkg.nonexistent  # noqa: B018


def test_importing_the_packages_and_the_contract_does_not_import_pandas_or_pyarrow():
    code = (
        "import sys, regeval.registers, regeval.population, regeval.synthetic, regeval.registers.contract\n"
        "print(sorted(m for m in ('pandas', 'pyarrow', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# the imports each layer may make are checked by tests/test_architecture.py
