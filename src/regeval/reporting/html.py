"""The evaluation report of a spec: a self-contained HTML file (and its Excel workbook).

Both are made only from the disclosure-checked export tables and the figures drawn
from them. The report is rendered from the Jinja2 templates in ``templates/`` (one per
section, see :mod:`regeval.reporting.sections`), in English or Danish (config
``report.language``) with every text from the translation catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from regeval.reporting.labels import t
from regeval.reporting.sections import SECTIONS, ReportData
from regeval.reporting.templating import environment, render
from regeval.reporting.workbook import write_workbook


def _children(name: str, context: Mapping[str, Any], language: str) -> list[dict[str, str]]:
    if name == "control_group":
        return [{"id": s["id"], "heading": s["heading"]} for s in context["subsections"]]
    if name == "appendix":
        out = [{"id": "appendix-effects", "heading": context["effects_heading"]}] if context["outcomes"] else []
        return out + [{"id": "appendix-tables", "heading": context["tables_heading"]}]
    return []


def report_html(data: ReportData) -> str:
    """The report of ``data`` as one HTML document (figures inline)."""
    sections = []
    for name, build in SECTIONS:
        context = build(data)
        if context is None:
            continue
        sections.append({"name": name, "id": name.replace("_", "-"), "heading": t(name, data.language),
                         "context": context, "children": _children(name, context, data.language)})
    spec = data.spec
    return render("report.html.j2", data.language, sections=sections, spec_name=spec["name"],
                  spec_label=spec.get("label") or spec["name"], synthetic=data.truth is not None)


def read_truth(path: str | Path | None) -> pd.DataFrame | None:
    """The synthetic registers' true effects (``truth_att.csv``), or None for real data."""
    if path is None:
        return None
    return pd.read_csv(path)


def write_report(
    tables_dir: Path,
    figures_dir: Path,
    spec: Mapping[str, Any],
    html_path: str | Path,
    xlsx_path: str | Path,
    language: str = "en",
    control_rule: str | None = None,
    truth: str | Path | None = None,
) -> None:
    """Write the HTML report and the Excel workbook of one spec.

    ``control_rule``: the population's control rule, stated in the method section;
    ``truth``: the synthetic registers' ``truth_att.csv`` (their known true effects,
    shown beside the estimates), None for real registers.
    """
    data = ReportData(Path(tables_dir), Path(figures_dir), spec, language, control_rule, read_truth(truth))
    Path(html_path).write_text(report_html(data), encoding="utf-8")
    write_workbook(data, Path(xlsx_path))


__all__ = ["environment", "read_truth", "render", "report_html", "write_report"]
