"""Register data: the data contract, reading the tables, and validating an extract.

* :mod:`~regeval.registers.contract` — the tables, their columns, keys and allowed values
  (the one place that knows register table and column names);
* :mod:`~regeval.registers.read` — where each table is (:class:`TableSource`) and reading
  some of its columns and years under the contract's names;
* :mod:`~regeval.registers.validate` — every table checked against the contract before
  any stage reads it.

The names below load their module on first use, so that importing the light contract
does not import pandas and pyarrow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the modules that define the public names (loaded on first use below)
    from regeval.registers.contract import CONTRACT, SUPPORT_TYPES, TABLE_NAMES, ColumnSpec, TableSpec, table_spec
    from regeval.registers.read import (
        TableSource,
        open_dataset,
        read_table,
        register_files,
        register_fingerprint,
        resolve_sources,
        source_files,
    )
    from regeval.registers.validate import TableReport, ValidationReport, Violation, validate_registers

_MODULES = {
    "regeval.registers.contract": ("CONTRACT", "SUPPORT_TYPES", "TABLE_NAMES", "ColumnSpec", "TableSpec", "table_spec"),
    "regeval.registers.read": ("TableSource", "open_dataset", "read_table", "register_files", "register_fingerprint",
                               "resolve_sources", "source_files"),
    "regeval.registers.validate": ("TableReport", "ValidationReport", "Violation", "validate_registers"),
}
_WHERE = {name: module for module, names in _MODULES.items() for name in names}

__all__ = [
    "CONTRACT",
    "ColumnSpec",
    "SUPPORT_TYPES",
    "TABLE_NAMES",
    "TableReport",
    "TableSource",
    "TableSpec",
    "ValidationReport",
    "Violation",
    "open_dataset",
    "read_table",
    "register_files",
    "register_fingerprint",
    "resolve_sources",
    "source_files",
    "table_spec",
    "validate_registers",
]


def __getattr__(name: str) -> Any:
    """A public name, its module imported on first use (PEP 562)."""
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, the public names not loaded yet included."""
    return sorted(set(globals()) | set(__all__))
