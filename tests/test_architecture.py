"""The allowed imports between the layers of the package (docs/architecture.md): each
module imports only from its own layer and the layers listed for it, and the
dependency-free modules import nothing of the package."""

from __future__ import annotations

import pytest

from regeval.pipeline import code

ALLOWED: dict[str, tuple[str, ...]] = {
    # layer: the modules (or layers, as "regeval.<layer>") it may import besides its own
    "": ("regeval.errors",),  # regeval/__init__.py (its names are lazy)
    "errors": (),
    "_lazy": (),
    "parallel": (),
    "stats": ("regeval.errors", "regeval.parallel", "regeval.disclosure.meta"),
    "registers": ("regeval.errors",),
    "population": ("regeval.errors", "regeval.registers", "regeval.disclosure.meta"),
    "synthetic": ("regeval.errors", "regeval.registers.contract", "regeval.registers.read", "regeval.population"),
    "budget": ("regeval.errors", "regeval.disclosure.meta"),
    "disclosure": ("regeval.errors",),
    "reporting": ("regeval.errors", "regeval.stats", "regeval.budget", "regeval.disclosure", "regeval.population"),
    "pipeline": ("regeval",),  # everything
}
"""A package (its ``__init__``) counts as imported through the module imported from it."""

KNOWN = {
    # moves with the figures of the effects into regeval.reporting
    ("regeval.stats.effects", "regeval.reporting.labels"),
    ("regeval.stats.effects", "regeval.reporting"),
}

INDEX = code._index(code._stamp(code.PACKAGE_DIR), code.PACKAGE_DIR)
PACKAGES = {name for name in INDEX if (code.PACKAGE_DIR / name.replace("regeval.", "", 1).replace(".", "/")).is_dir()}
PACKAGES.add("regeval")


def _layer(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def _allowed(importer: str, target: str, imports: frozenset[str]) -> bool:
    if target == "regeval" or _layer(target) == _layer(importer) or target == "regeval._lazy":
        return True
    if any(target == a or target.startswith(a + ".") for a in ALLOWED[_layer(importer)]):
        return True
    # a package imported as the parent of an allowed module
    return target in PACKAGES and any(
        t.startswith(target + ".") and t not in PACKAGES and _allowed(importer, t, imports) for t in imports
    )


@pytest.mark.parametrize("module", sorted(INDEX))
def test_a_module_imports_only_from_the_layers_it_may_use(module):
    imports = INDEX[module][1]
    bad = sorted(t for t in imports if not _allowed(module, t, imports) and (module, t) not in KNOWN)
    assert not bad, f"{module} imports {bad}; allowed besides its own layer: {ALLOWED.get(_layer(module))}"


@pytest.mark.parametrize("package", ["regeval", "regeval.pipeline", "regeval.disclosure"])
def test_the_lazy_package_inits_run_no_module_of_the_package(package):
    assert INDEX[package][1] <= {"regeval", "regeval._lazy", "regeval.errors"}


def test_the_metadata_module_has_no_dependencies():
    assert INDEX["regeval.disclosure.meta"][1] <= {"regeval", "regeval.disclosure", "regeval.errors"}
    assert INDEX["regeval.pipeline.spec"][1] <= {"regeval", "regeval.pipeline", "regeval.errors",
                                                 "regeval.pipeline.schema"}
