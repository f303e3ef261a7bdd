"""Rule business_case: the municipal business case (counts per benefit status × the
municipality's net monthly cost per status, for an intervention and a hand-picked
control group), exported through disclosure control."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from regeval.budget import business_case as compute
from regeval.budget import load_business_case
from regeval.budget.tables import BUSINESS_CASE_TABLES, business_case_tables
from regeval.disclosure.aggregates import write_aggregate
from regeval.disclosure.check import check_files, write_checked
from regeval.disclosure.rules import Rules
from regeval.pipeline.files import atomic_folder, check_declared, staged
from regeval.pipeline.runner import Files, Params
from regeval.reporting.budget_figures import plot_business_case

log = logging.getLogger("regeval")


def business_case(input: Files, output: Files, params: Params, threads: int = 1) -> None:
    """Inputs ``table`` and ``metadata``; params ``disclosure`` (or ``min_persons``). Outputs
    ``inside_<table>`` (the aggregates), and in the export folder (written complete or
    not at all) ``<table>_csv``/``<table>_parquet``, ``log`` and ``figure``."""
    bc = load_business_case(input["table"], input.get("metadata"))
    result = compute(
        bc.table, bc.unit_costs_published, bc.investment, start=bc.start, end=bc.end,
        intervention=bc.intervention, control=bc.control,
    )
    inside = {t: output[f"inside_{t}"] for t in BUSINESS_CASE_TABLES}
    for name, table in business_case_tables(result, bc.name).items():
        write_aggregate(table, inside[name])
    export_dir = Path(output["log"]).parent
    with atomic_folder(export_dir) as tmp:
        files = staged({k: v for k, v in output.items() if not k.startswith("inside_")}, export_dir, tmp)
        tables = [inside[t] for t in sorted(BUSINESS_CASE_TABLES)]
        rules = Rules.from_mapping(params.get("disclosure") or int(params["min_persons"]))
        checked, model = check_files(tables, rules)
        write_checked(checked, Path(files["log"]).parent, rules, model)
        # the figure shows only what the checked tables publish
        published = {name: res.table.drop(columns=["suppressed"]) for name, (_, res) in checked.items()}
        shown = replace(
            result, by_status=published["business_case_by_status"], by_time=published["business_case_by_time"],
            summary=published["business_case_summary"], comparison=published["business_case_comparison"],
        )
        fig = plot_business_case(shown, title=f"Business case: {bc.name}")  # a Figure without pyplot
        Path(files["figure"]).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(files["figure"], dpi=110, bbox_inches="tight", metadata={"Software": None})
        check_declared(tmp, files)
    log.info("business case: %s", result.summary.to_dict("records"))
