"""Running one rule's function: logging, error handling, no partial output.

Every rule of the workflow has a script ``workflow/scripts/<rule>.py`` of two lines
that hands its function (from :mod:`regeval.pipeline.rules`) to :func:`run_rule`. The
function gets the job's named ``input``, ``output`` and ``params`` as mappings (and
``threads``); :func:`run` calls it with the log going to the rule's log file(s) and
stderr, and turns a failure into a readable message, exit status 1 and no outputs
left behind. Tests call :func:`run` (or the function itself) without Snakemake.
"""

from __future__ import annotations

import logging
import os
import resource
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from threadpoolctl import threadpool_limits

from regeval.errors import RegevalError
from regeval.parallel import using_threads

log = logging.getLogger("regeval")

Files = Mapping[str, Any]
"""A job's named input or output files (a path, or a list of paths, per name)."""
Params = Mapping[str, Any]
"""A job's named params (plain data)."""
RuleFunction = Callable[[Files, Files, Params, int], None]
"""``function(input, output, params, threads)``: the job's named files and params."""


def configure_logging(logfiles: str | Iterable[str] | None) -> None:
    """Log to the rule's log file(s) and to stderr (so errors show without opening them)."""
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    for logfile in [logfiles] if isinstance(logfiles, str) else list(logfiles or []):
        Path(logfile).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(logfile, mode="w"))
    for h in handlers:
        h.setFormatter(fmt)
        root.addHandler(h)
    root.setLevel(logging.INFO)
    warnings.showwarning = _log_warning  # warnings (RegevalWarning …) go to the rule's log too


def _log_warning(
    message: Warning | str, category: type[Warning], filename: str, lineno: int,
    file: Any = None, line: str | None = None,
) -> None:
    logging.getLogger("regeval").warning("%s: %s", category.__name__, message)


def run(
    function: RuleFunction,
    input: Files,
    output: Files,
    params: Params,
    logfiles: str | Iterable[str] | None = None,
    threads: int = 1,
    name: str | None = None,
) -> None:
    """Run one rule's ``function``; on a failure, log a readable message, remove the
    outputs written so far and exit with status 1 (a traceback only for a bug).

    The job uses the ``threads`` it was given, not the machine's cores: the library's
    thread pools get that budget (:func:`regeval.parallel.using_threads`) and
    numerical libraries' own pools (BLAS, OpenMP) are limited to it
    (``threadpoolctl``), so jobs on a shared node or in a cluster allocation do not
    oversubscribe it."""
    name = name or function.__name__
    configure_logging(logfiles)
    os.environ.setdefault("MPLBACKEND", "Agg")
    started = time.perf_counter()
    log.info("rule %s started (%d thread%s)", name, threads, "" if threads == 1 else "s")
    try:
        with threadpool_limits(limits=threads), using_threads(threads):
            function(input, output, params, threads)
    except RegevalError as exc:  # bad input or configuration: the message names it, no traceback
        _fail(f"{name} failed: {exc}", output)
    except (OSError, MemoryError) as exc:  # the machine (disk, memory, a file removed meanwhile)
        _fail(f"{name} failed: {type(exc).__name__}: {exc}", output)
    except Exception:  # a bug: the traceback goes to the log (and stderr) once
        log.exception("%s failed with an unexpected error; please report it with this log", name)
        _remove_outputs(output)
        raise SystemExit(1) from None
    usage = resource.getrusage(resource.RUSAGE_SELF)  # the job's process, all its threads
    log.info("rule %s finished in %.1f s (%.1f CPU s, peak RSS %.0f MiB)", name, time.perf_counter() - started,
             usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def _fail(message: str, output: Mapping[str, Any]) -> None:
    log.error("%s", message)
    _remove_outputs(output)
    raise SystemExit(1) from None


def _remove_outputs(output: Mapping[str, Any]) -> None:
    """Remove what a failed rule wrote (Snakemake removes them too; a direct call relies on this)."""
    for p in output.values():
        try:
            Path(p).unlink()
        except (FileNotFoundError, IsADirectoryError, PermissionError):
            pass


def use_system_allocator() -> None:
    """Let Arrow allocate its buffers with the system allocator (``malloc``) in this
    process instead of its bundled mimalloc.

    mimalloc keeps the memory of freed buffers for reuse, so a job reading tables of
    40 million rows column by column peaked at the sum of what it had freed: the
    validation of a national extract at 3.0 GB, against 2.3–2.5 GB with ``malloc``, which
    returns large blocks to the system when they are freed (at ≈ 10–15 % more CPU time
    for validation, measured in ``benchmarks/results_registers.md``). The same effect as the environment variable
    ``ARROW_DEFAULT_MEMORY_POOL=system``, for every job of the workflow wherever it runs.
    """
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())


class SnakemakeJob(Protocol):
    """What :func:`run_rule` uses of the ``snakemake`` object of a script."""

    input: Any
    output: Any
    params: Any
    log: Any
    threads: int
    rule: str


def run_rule(function: RuleFunction, snakemake: SnakemakeJob) -> None:
    """Run ``function`` as the job of a Snakemake ``script:`` directive, Arrow's
    buffers allocated by the system allocator (:func:`use_system_allocator`)."""
    use_system_allocator()
    run(
        function,
        dict(snakemake.input.items()),
        dict(snakemake.output.items()),
        dict(snakemake.params.items()),
        [str(f) for f in snakemake.log],
        snakemake.threads,
        name=snakemake.rule,
    )


__all__ = ["Files", "Params", "RuleFunction", "configure_logging", "run", "run_rule", "use_system_allocator"]
