"""Helpers on Arrow arrays (types, counting, positions, integer views) and on message text."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:  # pyarrow ships no type information: for the type checker its arrays are Any
    ArrayLike: TypeAlias = Any
else:
    ArrayLike = pa.Array | pa.ChunkedArray


def is_string(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def is_string_like(t: pa.DataType) -> bool:
    return is_string(t) or (pa.types.is_dictionary(t) and is_string(t.value_type))


def is_date(t: pa.DataType) -> bool:
    return pa.types.is_date32(t) or pa.types.is_date64(t) or pa.types.is_timestamp(t)


def count_true(mask: ArrayLike) -> int:
    """Number of true values (nulls count as false)."""
    if len(mask) == 0:
        return 0
    return int(pc.sum(mask.fill_null(False)).as_py() or 0)


def array_chunks(arr: ArrayLike) -> list[pa.Array]:
    return list(arr.chunks) if isinstance(arr, pa.ChunkedArray) else [arr]


def first_true(mask: ArrayLike, k: int) -> np.ndarray:
    """Row positions of the first ``k`` true values of ``mask``."""
    out: list[np.ndarray] = []
    need, offset = k, 0
    for chunk in array_chunks(mask):
        if need <= 0:
            break
        if chunk.null_count:
            chunk = chunk.fill_null(False)
        idx = np.flatnonzero(chunk.to_numpy(zero_copy_only=False))[:need]
        out.append(idx + offset)
        need -= len(idx)
        offset += len(chunk)
    return np.concatenate(out).astype(np.int64) if out else np.zeros(0, np.int64)


def fmt(value: object) -> str:
    if value is None:
        return "missing"
    if isinstance(value, _dt.datetime):
        return value.date().isoformat() if value.time() == _dt.time() else value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    return str(value)


def fmt_value(value: object) -> str:
    """A value in a list of bad values (strings quoted so blanks are visible)."""
    return repr(value) if isinstance(value, str) else fmt(value)


def value_counts(values: ArrayLike, limit: int = 10) -> str:
    """'9 ×2, 0 ×1' for the most frequent values (most frequent first)."""
    if len(values) == 0:
        return ""
    vc = pc.value_counts(values)
    if isinstance(vc, pa.ChunkedArray):
        vc = vc.combine_chunks()
    vals = vc.field("values").to_pylist()
    counts = vc.field("counts").to_pylist()
    order = sorted(range(len(vals)), key=lambda i: (-counts[i], fmt_value(vals[i])))
    parts = [f"{fmt_value(vals[i])} ×{counts[i]}" for i in order[:limit]]
    if len(order) > limit:
        parts.append(f"… {len(order) - limit} more value(s)")
    return ", ".join(parts)


def as_int(arr: ArrayLike) -> ArrayLike:
    """Integer view of an integer, date or timestamp array (days / time units)."""
    t = arr.type
    if pa.types.is_date32(t):
        return arr.cast(pa.int32())
    if pa.types.is_date64(t) or pa.types.is_timestamp(t):
        return arr.cast(pa.int64())
    return arr


def one_array(arr: ArrayLike) -> pa.Array:
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def ints_to_type(values: np.ndarray, t: pa.DataType, mask: np.ndarray | None = None) -> pa.Array:
    """Inverse of :func:`as_int` for an array (``mask`` marks nulls)."""
    if pa.types.is_date32(t):
        return pa.array(values.astype(np.int32, copy=False) if mask is None else
                        np.where(mask, 0, values).astype(np.int32), mask=mask).cast(t)
    ints = pa.array(values if mask is None else np.where(mask, 0, values), mask=mask)
    return ints.cast(t) if (pa.types.is_date64(t) or pa.types.is_timestamp(t)) else ints


def from_int(value: int, t: pa.DataType) -> object:
    """Inverse of :func:`as_int` for one value."""
    if pa.types.is_date32(t):
        return pa.array([value], pa.int32()).cast(t)[0].as_py()
    if pa.types.is_date64(t) or pa.types.is_timestamp(t):
        return pa.array([value], pa.int64()).cast(t)[0].as_py()
    return value


def short_list(names: Sequence[str], limit: int = 20) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return f"[{shown}{', …' if len(names) > limit else ''}]" if names else "no columns"


def year_list(years: Sequence[int]) -> str:
    return ", ".join(str(y) for y in years)
