"""Digest of the library code a rule runs, so that edited library code reruns its jobs.

Snakemake reruns a ``script:`` rule when its script changes (modification time), but
not when code the script imports changes. Every rule therefore carries a param
``code``: a digest of its script and of the source of every regeval module the script
imports, followed through those modules' own imports (at module level and inside
functions; a module brings the ``__init__`` of its packages). An edit of any such
source, comments included, changes the param and Snakemake reruns the job and what
depends on it. Imports under ``if TYPE_CHECKING:`` do not run and are not followed,
with one exception: a package ``__init__`` that exports names lazily (PEP 562) names
their modules under ``if TYPE_CHECKING:``, and ``from regeval.pkg import name`` follows
the module that defines ``name`` (only that one, so that the digest stays as fine as
the import). Code outside the package (pandas, numpy, Python) is not covered.

The unit is the module: the rules of one module of :mod:`regeval.pipeline.rules` share
its edits.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]
"""The folder of the regeval package whose code is digested."""


def _module_name(rel: Path) -> str:
    parts = rel.with_suffix("").parts
    return ".".join(["regeval", *(parts[:-1] if parts[-1] == "__init__" else parts)])


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_statements(
    tree: ast.AST, type_checking: list[tuple[int, str, list[str]]] | None = None
) -> list[tuple[int, str, list[str]]]:
    """``(level, module, names)`` of every import in ``tree`` except under ``if TYPE_CHECKING:``
    (those are appended to ``type_checking`` when it is given)."""
    found: list[tuple[int, str, list[str]]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            if type_checking is not None:
                type_checking.extend(_import_statements(ast.Module(body=node.body, type_ignores=[])))
            for statement in node.orelse:
                visit(statement)
            return
        if isinstance(node, ast.Import):
            found.extend((0, a.name, []) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append((node.level, node.module or "", [a.name for a in node.names]))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _absolute(package: str, level: int, target: str) -> str:
    if not level:
        return target
    base = package.rsplit(".", level - 1)[0] if level > 1 else package
    return f"{base}.{target}" if target else base


def _resolve(
    module: str,
    is_package: bool,
    statements: list[tuple[int, str, list[str]]],
    known: set[str],
    lazy: dict[str, dict[str, str]] | None = None,
) -> set[str]:
    """The regeval modules named by the import ``statements`` of ``module``, with the
    packages they are imported through and, for a name a package exports lazily
    (``lazy[package][name]``), the module that defines it."""
    package = module if is_package else module.rpartition(".")[0]
    lazy = lazy or {}
    out: set[str] = set()
    for level, target, names in statements:
        base = _absolute(package, level, target)
        for name in [base, *(f"{base}.{n}" for n in names)]:
            parts = name.split(".")
            if parts[0] == "regeval":
                out.update(p for p in (".".join(parts[:i]) for i in range(1, len(parts) + 1)) if p in known)
        out.update(lazy[base][n] for n in names if n in lazy.get(base, {}))
    return out


def _lazy_exports(package: str, statements: list[tuple[int, str, list[str]]], known: set[str]) -> dict[str, str]:
    """Name → defining module of the names a package ``__init__`` imports under ``if TYPE_CHECKING:``."""
    out: dict[str, str] = {}
    for level, target, names in statements:
        base = _absolute(package, level, target)
        for n in names:
            if f"{base}.{n}" in known:  # a submodule imported by name
                out[n] = f"{base}.{n}"
            elif base in known:
                out[n] = base
    return out


@functools.lru_cache(maxsize=4)
def _index(stamp: tuple[tuple[str, int, int], ...], package_dir: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """Per module of the package: the digest of its source and the regeval modules it imports."""
    names = {_module_name(Path(rel)): Path(rel) for rel, _, _ in stamp}
    known = set(names)
    parsed: dict[str, tuple[str, list[tuple[int, str, list[str]]]]] = {}
    lazy: dict[str, dict[str, str]] = {}
    for name, rel in names.items():
        text = (package_dir / rel).read_text(encoding="utf-8")
        type_checking: list[tuple[int, str, list[str]]] = []
        parsed[name] = (text, _import_statements(ast.parse(text, filename=str(rel)), type_checking))
        if rel.name == "__init__.py":
            lazy[name] = _lazy_exports(name, type_checking, known)
    index = {}
    for name, (text, statements) in parsed.items():
        imports = _resolve(name, names[name].name == "__init__.py", statements, known, lazy)
        index[name] = (hashlib.sha256(text.encode()).hexdigest(), frozenset(imports))
    return index


def _stamp(package_dir: Path) -> tuple[tuple[str, int, int], ...]:
    out = []
    for path in sorted(package_dir.rglob("*.py")):
        st = path.stat()
        out.append((str(path.relative_to(package_dir)), st.st_size, st.st_mtime_ns))
    return tuple(out)


@functools.lru_cache(maxsize=4)
def _lazy_maps_cached(stamp: tuple[tuple[str, int, int], ...], package_dir: Path) -> dict[str, dict[str, str]]:
    known = {_module_name(Path(rel)) for rel, _, _ in stamp}
    out = {}
    for rel, _, _ in stamp:
        if Path(rel).name == "__init__.py":
            name = _module_name(Path(rel))
            type_checking: list[tuple[int, str, list[str]]] = []
            _import_statements(ast.parse((package_dir / rel).read_text(encoding="utf-8")), type_checking)
            out[name] = _lazy_exports(name, type_checking, known)
    return out


def _lazy_maps(package_dir: Path) -> dict[str, dict[str, str]]:
    return _lazy_maps_cached(_stamp(package_dir), package_dir)


def imported_modules(script: str | Path, package_dir: Path | None = None) -> list[str]:
    """The regeval modules the script ``script`` runs: its imports, followed through the
    modules' own imports."""
    package_dir = Path(package_dir or PACKAGE_DIR)
    index = _index(_stamp(package_dir), package_dir)
    tree = ast.parse(Path(script).read_text(encoding="utf-8"), filename=str(script))
    lazy = _lazy_maps(package_dir)
    todo = set(_resolve("__script__", False, _import_statements(tree), set(index), lazy))
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo |= index[name][1] - seen
    return sorted(seen)


def code_digest(script: str | Path, package_dir: Path | None = None) -> str:
    """Digest of the script ``script`` and of the source of every regeval module it runs
    (:func:`imported_modules`), 16 hex digits."""
    package_dir = Path(package_dir or PACKAGE_DIR)
    index = _index(_stamp(package_dir), package_dir)
    h = hashlib.sha256(Path(script).read_bytes())
    for name in imported_modules(script, package_dir):
        h.update(f"{name}:{index[name][0]}".encode())
    return h.hexdigest()[:16]


__all__ = ["PACKAGE_DIR", "code_digest", "imported_modules"]
