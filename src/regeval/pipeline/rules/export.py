"""Rule export_<spec>: per spec the budget, disclosure control of every aggregate,
the figures drawn from the checked tables, the HTML report and the Excel workbook.

One job per effect table: the specs that share one (a sweep's budget variants) are
exported together, the first naming the rule. Inputs and outputs named
``s<i>_<name>`` belong to the ``i``-th spec of params ``spec_names``; the others
(the shared aggregates) to every spec. The person ids for the disclosure check are
read once and the control-group and effect figures drawn once. Each spec's
``export`` folder is written complete or not at all, and everything written in it
must be a declared output.
"""

from __future__ import annotations

import logging
import re
import shutil
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from regeval.budget import BudgetAssumptions, compute_budget, load_budget_inputs, sensitivity_grid
from regeval.budget.tables import BUDGET_TABLES, budget_tables
from regeval.disclosure.aggregates import write_aggregate
from regeval.disclosure.check import check_files, write_checked
from regeval.disclosure.rules import Rules
from regeval.errors import RegevalWarning
from regeval.pipeline.files import BUDGET_INPUT_FILES, EXPORT_AGGREGATES, atomic_folder, check_declared, staged
from regeval.pipeline.runner import Files, Params
from regeval.pipeline.spec import Spec
from regeval.registers.person_codes import read_person_ids, show_ids
from regeval.reporting.figures import EFFECT_FIGURE_PREFIXES, draw_effect_figures, draw_spec_figures
from regeval.reporting.html import write_report

log = logging.getLogger("regeval")

def export(input: Files, output: Files, params: Params, threads: int = 1) -> None:
    """Params ``spec_names`` and ``specs`` (the specs' plain data, in the same order),
    ``min_persons``, ``language``. Inputs: ``units`` (for the person ids), the
    aggregates of :data:`regeval.pipeline.files.EXPORT_AGGREGATES` and per spec its budget input files."""
    person_ids = pd.read_parquet(input["units"], columns=["pnr"])["pnr"].unique()
    if input.get("persons"):
        # the register cache's person codes are small integers that any count may equal:
        # the tables are checked for the extract's ids of the persons
        person_ids = np.asarray(show_ids(list(person_ids), read_person_ids(input["persons"])), dtype=object)
    shared = {k: v for k, v in input.items() if not re.match(r"s[0-9]+_", k)}
    first_figures: Path | None = None
    for i, (name, spec) in enumerate(zip(params["spec_names"], params["specs"], strict=True)):
        if params.get("shared_keys"):
            k = params["shared_keys"][name]
            log.info(
                "spec %s: propensity %s, control group %s, effects %s (logs in results/_shared/logs/)",
                name, k["ps"], k["match"], k["effects"],
            )
        out = _part(output, i)
        export_dir = Path(out["html"]).parent
        with atomic_folder(export_dir) as tmp:
            files = staged(out, export_dir, tmp)
            export_spec(
                {**shared, **_part(input, i)}, files, spec, person_ids,
                Rules.from_mapping(params.get("disclosure") or int(params["min_persons"])),
                params["language"], shared_figures=first_figures,
            )
            check_declared(tmp, files, directories=[files["figures"]])
        first_figures = first_figures or Path(out["figures"])
        log.info("exported spec %s", name)


def _part(mapping: Mapping[str, Any], i: int) -> dict[str, Any]:
    """The entries ``s<i>_<name>`` of the rule's input or output, as ``<name>``."""
    prefix = f"s{i}_"
    return {k[len(prefix):]: v for k, v in mapping.items() if k.startswith(prefix)}


def export_spec(
    input: Mapping[str, Any],
    output: Mapping[str, Any],
    spec: Mapping[str, Any],
    person_ids: np.ndarray,
    rules: Rules | int,
    language: str,
    shared_figures: Path | None = None,
) -> None:
    """Budget, checked tables, figures, report and workbook of one spec (``spec``: its
    plain data, :meth:`regeval.pipeline.spec.Spec.to_dict`).

    ``shared_figures``: the figures folder of a spec with the same control group and
    effect table, whose control-group and effect figures are copied instead of drawn
    again."""
    typed = Spec.from_mapping(spec)
    rules = Rules.from_mapping(rules)
    # the release's tables are checked together; the budget values the checked effects only
    log.info("spec %s: disclosure control of %d tables", typed.name, len(EXPORT_AGGREGATES))
    checked, model = check_files([input[t] for t in EXPORT_AGGREGATES], rules, person_ids, spec=typed.name)
    effects = checked["effects"][1].table.drop(columns=["suppressed"])
    log.info("spec %s: budget", typed.name)
    budget(effects, {n: input[f"budget_input_{n}"] for n in BUDGET_INPUT_FILES}, typed, output)
    budget_checked, _ = check_files([output[t] for t in BUDGET_TABLES], rules, person_ids, spec=typed.name)
    tables_dir = Path(output["log"]).parent
    write_checked({**checked, **budget_checked}, tables_dir, rules, model)
    log.info("spec %s: figures", typed.name)
    figures_dir = Path(output["figures"])
    figures_dir.mkdir(parents=True, exist_ok=True)
    if shared_figures is not None:
        for png in sorted(Path(shared_figures).glob("*.png")):
            if png.name.startswith(EFFECT_FIGURE_PREFIXES):
                shutil.copyfile(png, figures_dir / png.name)
    else:
        draw_effect_figures(
            pd.read_parquet(tables_dir / "effects.parquet"), pd.read_parquet(tables_dir / "group_means.parquet"),
            list(typed.effects.outcomes), figures_dir, language,
        )
    draw_spec_figures(tables_dir, figures_dir, spec, language, shared_from=shared_figures)
    log.info("spec %s: report and workbook", typed.name)
    write_report(
        tables_dir, figures_dir, spec, output["html"], output["xlsx"], language=language,
        control_rule=typed.control_rule, truth=input.get("truth"),
    )


def budget(effects_table: pd.DataFrame, files: Mapping[str, str], spec: Spec, output: Mapping[str, Any]) -> None:
    """SØM-style budget of a spec from its checked effect table (a suppressed effect
    counts 0, as one without an estimate) and budget input ``files``: effects × prices
    by actor, year and consequence; writes the tables of
    :data:`regeval.budget.tables.BUDGET_TABLES` to ``output[<table>]``."""
    # the effect table may be shared with other specs (a sweep's budget variants): its
    # rows are this spec's effects, and the budget's tables and warnings name this spec
    effects_table = effects_table.assign(spec=spec.name)
    files = {name: str(Path(f).resolve()) for name, f in files.items()}
    inputs = load_budget_inputs(Path(files["prices"]).parent, **files)
    assumptions = BudgetAssumptions.from_mapping(
        spec.budget.assumptions() | {"alpha": spec.effects.alpha}, source=f"specs.{spec.name}.budget"
    )
    result = compute_budget(effects_table, inputs, assumptions)
    with warnings.catch_warnings():
        # the grid recomputes the same budget: its warnings are compute_budget's, given above
        warnings.simplefilter("ignore", RegevalWarning)
        grid = sensitivity_grid(effects_table, inputs, assumptions)
    for name, table in budget_tables(result, grid).items():
        write_aggregate(table, output[name])
    net = result.net.set_index("actor")["value_pv"]
    log.info("net result per participant (PV): %s", net.round(0).to_dict())
