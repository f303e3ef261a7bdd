"""The number of threads the statistics may use: the caller's, never the machine's.

The library's own thread pools (the propensity model's block-wise cross-products, the
per-stratum sorts of matching) size themselves with :func:`thread_budget`, which is 1
unless a caller set it with :func:`using_threads` (the pipeline sets it to the job's
``threads``; ``fit_propensity(..., threads=n)`` and ``match_nearest(..., threads=n)``
set it for one call). On a shared node or inside a cluster allocation the job uses
what it was given, not ``os.cpu_count()``. Every pool combines its parts in a fixed
order, so the number of threads never changes a result.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

_THREADS: contextvars.ContextVar[int] = contextvars.ContextVar("regeval_threads", default=1)


def thread_budget() -> int:
    """Threads the statistics may use in the current context (at least 1)."""
    return _THREADS.get()


@contextmanager
def using_threads(threads: int | None) -> Iterator[int]:
    """Let the statistics use ``threads`` threads inside the ``with`` block (``None``:
    keep the current budget)."""
    if threads is None:
        yield _THREADS.get()
        return
    n = int(threads)
    if n < 1:
        raise ValueError(f"threads must be at least 1, got {threads!r}")
    token = _THREADS.set(n)
    try:
        yield n
    finally:
        _THREADS.reset(token)


__all__ = ["thread_budget", "using_threads"]
