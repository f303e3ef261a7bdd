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

from typing import TYPE_CHECKING

from regeval._lazy import lazy_exports

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


__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())
