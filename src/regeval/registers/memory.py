"""Handing freed memory back to the system between the steps of a job.

A register job at national scale builds and frees frames and Arrow tables of several
hundred megabytes, step after step (a table of 40 million rows, a year of 3 million
persons). The C allocator keeps much of what is freed for reuse (memory below its
``mmap`` threshold, which it raises as large blocks are freed), so the job's resident
memory grows with every step although the data it holds do not. Returning it after
each large step keeps the peak at what a step needs: the base-population job at
national scale peaked at 2.7 GB without and at 2.4 GB with it, for the same CPU time
(``benchmarks/results_registers.md``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from functools import cache

import pyarrow as pa


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim  # glibc only
        return trim
    except (OSError, AttributeError):
        return None


def release_freed_memory() -> None:
    """Return the memory freed so far to the system: Arrow's pool's unused memory and
    the C heap's free pages (``malloc_trim``, glibc; nothing elsewhere). Only costs the
    time of walking the free lists (milliseconds)."""
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


__all__ = ["release_freed_memory"]
