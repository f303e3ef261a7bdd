"""Digest of the library code a rule runs, so that edited library code reruns its jobs.

Snakemake reruns a ``script:`` rule when its script changes (modification time), but
not when code the script imports changes. Every rule therefore carries a param
``code``: a digest of its script and of the source of every regeval module the script
imports, followed through those modules' own imports (at module level and inside
functions; a module brings the ``__init__`` of its packages). An edit of any such
source, comments included, changes the param and Snakemake reruns the job and what
depends on it. Imports under ``if TYPE_CHECKING:`` do not run and are not followed;
code outside the package (pandas, numpy, Python) is not covered.

The unit is the module: the rules of one module of :mod:`regeval.pipeline.rules` share
its edits. Rule modules import what they use by module path (not through the lazy
names of a package ``__init__``), so that the imports name the code that runs.
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


def _import_statements(tree: ast.AST) -> list[tuple[int, str, list[str]]]:
    """``(level, module, names)`` of every import in ``tree`` except under ``if TYPE_CHECKING:``."""
    found: list[tuple[int, str, list[str]]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
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


def _resolve(module: str, is_package: bool, statements: list[tuple[int, str, list[str]]], known: set[str]) -> set[str]:
    """The regeval modules named by the import ``statements`` of ``module``, with the
    packages they are imported through."""
    package = module if is_package else module.rpartition(".")[0]
    out: set[str] = set()
    for level, target, names in statements:
        if level:
            base = package.rsplit(".", level - 1)[0] if level > 1 else package
            base = f"{base}.{target}" if target else base
        else:
            base = target
        for name in [base, *(f"{base}.{n}" for n in names)]:
            parts = name.split(".")
            if parts[0] == "regeval":
                out.update(p for p in (".".join(parts[:i]) for i in range(1, len(parts) + 1)) if p in known)
    return out


@functools.lru_cache(maxsize=4)
def _index(stamp: tuple[tuple[str, int, int], ...], package_dir: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """Per module of the package: the digest of its source and the regeval modules it imports."""
    names = {_module_name(Path(rel)): Path(rel) for rel, _, _ in stamp}
    known = set(names)
    index = {}
    for name, rel in names.items():
        text = (package_dir / rel).read_text(encoding="utf-8")
        statements = _import_statements(ast.parse(text, filename=str(rel)))
        imports = _resolve(name, rel.name == "__init__.py", statements, known)
        index[name] = (hashlib.sha256(text.encode()).hexdigest(), frozenset(imports))
    return index


def _stamp(package_dir: Path) -> tuple[tuple[str, int, int], ...]:
    out = []
    for path in sorted(package_dir.rglob("*.py")):
        st = path.stat()
        out.append((str(path.relative_to(package_dir)), st.st_size, st.st_mtime_ns))
    return tuple(out)


def imported_modules(script: str | Path, package_dir: Path | None = None) -> list[str]:
    """The regeval modules the script ``script`` runs: its imports, followed through the
    modules' own imports."""
    package_dir = Path(package_dir or PACKAGE_DIR)
    index = _index(_stamp(package_dir), package_dir)
    tree = ast.parse(Path(script).read_text(encoding="utf-8"), filename=str(script))
    todo = set(_resolve("__script__", False, _import_statements(tree), set(index)))
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
