"""Opening the tables: files, columns present, column types and the kind of person id."""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa

from regeval.errors import DataContractError
from regeval.registers.contract import CONTRACT, ColumnSpec
from regeval.registers.read import open_dataset
from regeval.registers.validate.arrow import is_date, is_string_like, short_list
from regeval.registers.validate.recorder import Recorder
from regeval.registers.validate.rules import ID_KINDS, PERSON_TABLES
from regeval.registers.validate.table import Table


def kind_problem(kind: str, t: pa.DataType) -> str | None:
    """None if type ``t`` is acceptable for contract kind ``kind``, else what is needed."""
    integer = pa.types.is_integer(t)
    if kind == "id":
        return None if integer or is_string_like(t) else "an integer or string type"
    if kind in ("year", "int"):
        return None if integer else "an integer type"
    if kind == "float":
        return None if integer or pa.types.is_floating(t) or pa.types.is_decimal(t) else "a numeric type"
    if kind == "bool":
        return None if pa.types.is_boolean(t) or integer else "a boolean type (or integer 0/1)"
    if kind == "date":
        return None if is_date(t) else "a date type (date32, date64 or timestamp)"
    if kind == "str":
        return None if is_string_like(t) else "a string type (string, large_string or dictionary of strings)"
    raise AssertionError(f"unknown column kind {kind!r}")  # pragma: no cover


def id_kind(t: pa.DataType) -> str:
    """The kind of a person id column: integer or string."""
    return "integer" if pa.types.is_integer(t) else "string"


def open_table(rec: Recorder, name: str) -> Table | None:
    """Open table ``name``; record a missing or unreadable file (then None), missing
    columns and columns of a wrong type."""
    spec = CONTRACT[name]
    source = rec.sources.get(name)
    if source is None:
        rec.add(name, None, "table missing", detail="no source given for the table")
        return None
    if not source.path.exists():
        rec.add(
            name,
            None,
            "table missing",
            detail=f"file or folder {str(source.path)!r} does not exist "
            f"(set data.registers.tables.{name}.path in the config)",
        )
        return None
    try:
        dataset = open_dataset(source)
        schema = dataset.schema
        rows = dataset.count_rows()
    except DataContractError as exc:
        rec.add(
            name,
            None,
            "unreadable",
            detail=f"{str(source.path)!r} is not a readable Parquet file or dataset: {exc.__cause__ or exc}",
        )
        return None
    except (pa.ArrowException, OSError) as exc:
        rec.add(name, None, "unreadable", detail=f"{str(source.path)!r}: {exc}")
        return None

    present: dict[str, str] = {}
    types: dict[str, pa.DataType] = {}
    for col in spec.columns:
        wanted = source.source_name(col.name)
        if wanted in schema.names:
            present[col.name] = wanted
            types[col.name] = schema.field(wanted).type
            continue
        mapped = f" (mapped from contract column {col.name!r})" if wanted != col.name else ""
        hint = (
            f"fix data.registers.tables.{name}.columns.{col.name}"
            if wanted != col.name
            else f"map it with data.registers.tables.{name}.columns.{col.name}"
        )
        rec.add(
            name,
            col.name,
            "column missing",
            detail=f"looked for column {wanted!r}{mapped} in {str(source.path)!r}, which has "
            f"{short_list(schema.names)}; {hint}",
        )
    usable: set[str] = set()
    table = Table(spec, source, dataset, rows, present, types, usable, set())
    for col in spec.columns:
        if col.name not in present:
            continue
        need = kind_problem(col.kind, types[col.name])
        if need is None:
            usable.add(col.name)
        else:
            wrong_type(
                rec,
                table,
                col,
                f"column {present[col.name]!r} is {types[col.name]}; contract kind {col.kind!r} needs {need}",
            )
    keep = set(spec.key) | ({"pnr"} & set(spec.column_names))
    if spec.year_column:
        keep.add(spec.year_column)
    if name == "bef":
        keep.add("foed_dag")
    table.keep = keep
    return table


def wrong_type(rec: Recorder, t: Table, col: ColumnSpec, detail: str) -> None:
    """Record column ``col`` as of a wrong type, with the first rows as examples."""
    head = t.head(list(dict.fromkeys([*t.spec.key, col.name])), rec.k)
    reverse = {s: c for c, s in t.present.items()}
    ex = [
        ", ".join(f"{reverse.get(n, n)}={rec.show(reverse.get(n, n), v)}" for n, v in row.items())
        for row in head.to_pylist()
    ]
    rec.add(t.name, col.name, "wrong type", t.rows, detail, ex)


def check_id_kinds(rec: Recorder, tables: Mapping[str, Table]) -> None:
    """The person id must be of one kind (integer or string) in every table."""
    kinds = {
        n: id_kind(t.types["pnr"]) for n, t in tables.items() if "pnr" in t.usable and n in PERSON_TABLES
    }
    if len(set(kinds.values())) <= 1:
        return
    if "bef" in kinds:
        ref_kind, ref = kinds["bef"], "in bef"
    else:
        counts = {k: list(kinds.values()).count(k) for k in ID_KINDS}
        ref_kind = max(ID_KINDS, key=lambda k: counts[k])
        ref = "in most tables"
    for n, kind in kinds.items():
        if kind != ref_kind:
            t = tables[n]
            t.person_comparable = False
            wrong_type(
                rec,
                t,
                t.spec.column("pnr"),
                f"person id is {kind} ({t.types['pnr']}) here but {ref_kind} {ref}; every table must "
                "carry pnr as the same kind (cast the extract)",
            )
