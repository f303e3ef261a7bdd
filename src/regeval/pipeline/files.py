"""Files of the workflow: where inputs named in the configuration are, and writing a
folder complete or not at all.

Nothing here knows where the repository is: a relative path in the configuration is
resolved against a base folder the caller passes (the workflow passes its own folder,
``workflow.basedir``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from regeval.errors import RegevalError

EXPORT_AGGREGATES = (
    "population_means", "propensity_model", "propensity_overlap", "score_selection", "population_flow",
    "matching_summary", "balance", "descriptives", "panel_counts", "effects", "group_means", "effect_windows",
    "placebo_tests", "confounding_sensitivity",
)
"""The shared aggregates every spec exports (after checking), in the order of its
disclosure log and workbook; its budget tables follow."""

BUDGET_INPUT_FILES = {
    "prices": "prices.csv",
    "consequences": "outcome_consequences.csv",
    "price_index": "price_index.csv",
    "programme_cost": "programme_cost.csv",
    "refund_rates": "refund_rates.yaml",
}
"""The files the budget reads from a spec's ``budget.inputs`` folder (the file names
:func:`regeval.budget.load_budget_inputs` reads by default). The folder's
``assumptions.yaml`` is not read by the pipeline: a spec's ``budget`` section gives
the assumptions."""


def budget_input_files(inputs: str | Path, base_dir: str | Path) -> dict[str, str]:
    """The budget input files of a spec's ``budget.inputs`` folder; a relative folder is
    taken relative to ``base_dir``."""
    directory = Path(inputs)
    if not directory.is_absolute():
        directory = Path(base_dir) / directory
    return {name: str(directory / file) for name, file in BUDGET_INPUT_FILES.items()}


def control_ids_file(path: str | Path, base_dir: str | Path) -> Path:
    """A spec's ``control_ids`` file: relative to the working directory if it exists
    there, else relative to ``base_dir``."""
    path = Path(path)
    if not path.is_absolute() and not path.exists():
        path = Path(base_dir) / path
    return path


def relative_to(path: str | Path, base_dir: str | Path) -> Path:
    """``path``, relative to ``base_dir`` unless it is absolute."""
    path = Path(path)
    return path if path.is_absolute() else Path(base_dir) / path


@contextmanager
def atomic_folder(final: str | Path) -> Iterator[Path]:
    """Write the folder ``final`` complete or not at all.

    Yields an empty temporary sibling folder (``.<name>.partial``) to write into; when
    the block completes, ``final`` is replaced by it (removed, then the temporary folder
    renamed into place). On an error, or if the process is killed, ``final`` keeps no
    partial content: a reader finds the complete new folder or none (Snakemake removes a
    job's declared outputs before it runs it). A leftover temporary folder from a killed
    run is removed when the rule runs again.
    """
    final = Path(final)
    tmp = final.parent / f".{final.name}.partial"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)


def staged(output: Mapping[str, Any], final: Path, tmp: Path) -> dict[str, str]:
    """``output`` with the paths inside the folder ``final`` moved into ``tmp``."""
    out = {}
    for k, v in output.items():
        path = Path(v)
        try:
            out[k] = str(tmp / path.relative_to(final))
        except ValueError:  # outside the folder (e.g. the spec's inside/ budget tables)
            out[k] = str(v)
    return out


def check_declared(folder: Path, declared: Mapping[str, str], directories: Iterable[str] = ()) -> None:
    """Every file written in ``folder`` is a declared output (or inside a declared folder)."""
    allowed = {Path(v) for v in declared.values()}
    dirs = [Path(d) for d in directories]
    extra = [
        f for f in sorted(folder.rglob("*"))
        if f.is_file() and f not in allowed and not any(d in f.parents for d in dirs)
    ]
    if extra:
        raise RegevalError(
            f"{len(extra)} file(s) written but not declared as outputs of the rule "
            f"(declare them in workflow/rules): {[str(f.relative_to(folder)) for f in extra[:10]]}"
        )


__all__ = [
    "BUDGET_INPUT_FILES", "EXPORT_AGGREGATES", "atomic_folder", "budget_input_files", "check_declared",
    "control_ids_file", "relative_to", "staged",
]
