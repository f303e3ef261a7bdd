"""Checks of the values of one column: missing values, allowed values, ranges, code lists,
patterns, and against the configuration (education levels, diagnosis prefixes)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from regeval.registers.contract import ColumnSpec
from regeval.registers.validate.arrow import ArrayLike, count_true, fmt, fmt_value, one_array
from regeval.registers.validate.coverage import check_years
from regeval.registers.validate.recorder import Recorder
from regeval.registers.validate.rules import CODE_LISTS, PATTERN_TEXT
from regeval.registers.validate.table import Table


def check_column(rec: Recorder, t: Table, col: ColumnSpec, arr: ArrayLike) -> None:
    floating = pa.types.is_floating(arr.type)
    n_nan = count_true(pc.is_nan(arr)) if floating else 0
    if not col.nullable and (arr.null_count or n_nan):
        mask = pc.is_null(arr, nan_is_null=True) if floating else pc.is_null(arr)
        what = f"{arr.null_count} null" + (f", {n_nan} NaN" if n_nan else "")
        rec.report_mask(t, col.name, "missing values", mask, f"{what}; the column may not be missing")

    valid = pc.is_valid(arr)
    allowed = col.allowed
    problem = "value not allowed"
    if col.kind == "bool" and pa.types.is_integer(arr.type):
        allowed, problem = (0, 1), "value not 0/1"
    if allowed is not None:
        value_set = pa.array(list(allowed)).cast(arr.type)
        bad = pc.and_(pc.invert(pc.is_in(arr, value_set=value_set)), valid)
        shown = ", ".join(fmt_value(a) for a in allowed)
        rec.report_mask(t, col.name, problem, bad, f"allowed: {shown}; seen: {{seen}}", extra={col.name: arr})

    # a code list that applies from a year on (municipalities): earlier rows are
    # checked against the range only, later rows against the list only
    list_rows = None
    year_col = t.spec.year_column
    if col.codes is not None and col.codes_from is not None and year_col in t.usable:
        list_rows = pc.greater_equal(t.read(year_col), col.codes_from)

    if col.min is not None or col.max is not None:
        lo = pc.less(arr, col.min) if col.min is not None else None
        hi = pc.greater(arr, col.max) if col.max is not None else None
        bad = lo if hi is None else hi if lo is None else pc.or_(lo, hi)
        if list_rows is not None:
            bad = pc.and_(bad, pc.invert(list_rows))
        rec.report_mask(
            t,
            col.name,
            "value out of range",
            bad,
            f"allowed range [{fmt(col.min)}, {fmt(col.max)}]"
            + (
                f" (rows before {col.codes_from}; later rows are checked against the code list)"
                if list_rows is not None
                else ""
            )
            + "; seen: {seen}",
            extra={col.name: arr},
        )

    if col.codes is not None and list_rows is not None:
        assert year_col is not None  # list_rows are only computed with a year column
        codes = pa.array(col.codes, pa.int64())
        bad = pc.and_(pc.and_(pc.invert(pc.is_in(arr.cast(pa.int64()), value_set=codes)), valid), list_rows)
        rec.report_mask(
            t,
            col.name,
            "code not in list",
            bad,
            f"from {col.codes_from} a value must be one of the {len(col.codes)} codes of "
            f"{CODE_LISTS.get((t.name, col.name), 'the code list')} (listed in docs/data_contract.md); "
            "seen: {seen}",
            extra={year_col: t.read(year_col), col.name: arr},
        )

    if col.pattern is not None:
        ok = pc.match_substring_regex(arr, col.pattern, ignore_case=True)
        rec.report_mask(
            t,
            col.name,
            "code malformed",
            pc.and_(pc.invert(ok), valid),
            f"{PATTERN_TEXT.get((t.name, col.name), 'values must match ' + col.pattern)}; seen: {{seen}}",
            extra={col.name: arr},
        )

    if col.kind == "year":
        check_years(rec, t, col, arr)
    if (t.name, col.name) == ("udda", "hfaudd"):
        check_education_levels(rec, t, arr)
    elif (t.name, col.name) == ("diag", "diag"):
        check_diagnosis_groups(rec, t, arr)


def check_education_levels(rec: Recorder, t: Table, hfaudd: ArrayLike) -> None:
    """Every education code's main level must be mapped by config education_levels."""
    if rec.education_levels is None:
        return
    arr = hfaudd.cast(pa.int64())
    main = pc.divide(arr, 100)
    covered = sorted({x for v in rec.education_levels.values() for x in v})
    in_range = pc.and_(pc.greater_equal(arr, 1000), pc.less_equal(arr, 9999))
    bad = pc.and_(pc.invert(pc.is_in(main, value_set=pa.array(covered, pa.int64()))), in_range)
    mapped = "; ".join(f"{name}: {list(v)}" for name, v in rec.education_levels.items()) or "nothing"
    rec.report_mask(
        t,
        "hfaudd",
        "education level not configured",
        bad,
        "the main level (first two digits) of these codes is in no level of config "
        f"population.education_levels ({mapped}), so they would silently count as unknown education; "
        "add each main level to a level there (e.g. unknown: [90] for 'not stated'); main levels seen: {seen}",
        values=main,
        extra={"hfaudd": arr},
    )


def check_diagnosis_groups(rec: Recorder, t: Table, diag: ArrayLike) -> None:
    """Warn about configured diagnosis prefixes that match no code of diag."""
    if rec.diagnosis_groups is None:
        return
    codes = pc.utf8_upper(one_array(pc.unique(diag)).drop_null())
    for group, prefixes in rec.diagnosis_groups.items():
        unmatched = [p for p in prefixes if not pc.any(pc.starts_with(codes, p.upper())).as_py()]
        if unmatched:
            rec.add(
                t.name,
                "diag",
                "diagnosis prefix matches no code",
                detail=f"config population.diagnosis_groups.{group}: no code of diag starts with "
                f"{', '.join(unmatched)} ({len(codes)} distinct codes); nobody gets this part of the group — "
                "check the prefixes",
                severity="warning",
            )
