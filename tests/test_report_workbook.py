"""The workbook for the budget people: summary and settings first, labels, number
formats, widths, frozen headers, filters, the audit trail kept; byte-identical."""

from __future__ import annotations

import hashlib
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from regeval.reporting.html import read_truth
from regeval.reporting.sections import ReportData
from regeval.reporting.workbook import write_workbook

from .report_tables import SPEC, write_tables


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> Path:
    return write_tables(tmp_path_factory.mktemp("wb"), draw=False)[0]


def _book(tables: Path, folder: Path, language: str) -> Path:
    path = folder / f"tables_{language}.xlsx"
    write_workbook(ReportData(tables, tables.parent / "figures", SPEC, language, "censor_at_start",
                              read_truth(None)), path)
    return path


def test_summary_and_settings_come_first_and_state_the_assumptions(tables, tmp_path):
    wb = openpyxl.load_workbook(_book(tables, tmp_path, "en"))
    assert wb.sheetnames[:4] == ["Summary", "Settings", "Net result", "Budget by actor"]
    assert "Budget items (audit trail)" in wb.sheetnames
    settings = {r[0]: r[1] for r in wb["Settings"].iter_rows(min_row=2, values_only=True)}
    b = SPEC["budget"]
    assert settings["Price year"] == b["price_year"] and settings["Discount rate a year"] == b["discount_rate"]
    assert settings["Horizon (last year after the start)"] == b["horizon"]
    assert settings["Effects counted"].startswith("only effects significant")
    assert "kr per participant" in settings["Unit"]
    assert wb["Settings"]["B4"].number_format == "0.0%"
    summary = {r[0]: (r[1], r[2]) for r in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Net result per participant, present value: All public actors"] == (26493.78, "kr per participant")


def test_sheets_have_labels_formats_frozen_headers_and_filters(tables, tmp_path):
    wb = openpyxl.load_workbook(_book(tables, tmp_path, "da"))
    net = wb["Nettoresultat"]
    assert [c.value for c in net[1]] == ["Aktør", "Ikke tilbagediskonteret", "Nutidsværdi", "Undertrykte celler"]
    assert net["A2"].value == "Kommuner" and net["C2"].number_format == "#,##0;-#,##0;0"
    for ws in wb.worksheets:
        assert ws.freeze_panes == "B2", ws.title
        assert ws["A1"].font.bold, ws.title
        if ws.max_row > 1:
            assert ws.auto_filter.ref == ws.dimensions, ws.title
        assert all(d.width and 8 <= d.width <= 60 for d in ws.column_dimensions.values()), ws.title
    eff = wb["Effekter pr. år"]
    header = [c.value for c in eff[1]]
    first = {h: c for h, c in zip(header, eff[2], strict=True)}
    assert first["Udfald"].value == "Andel i støttet eller ustøttet beskæftigelse"
    assert first["Effekt"].number_format == "0.0%" and first["p-værdi"].number_format == "0.000"
    hours = next(r for r in eff.iter_rows(min_row=2) if r[0].value == "Timer pr. uge i beskæftigelse")
    assert hours[header.index("Effekt")].number_format == "#,##0.000"
    bal = wb["Balance"]
    assert bal["A2"].value == "Køn: mand"
    texts = [c.value for ws in wb.worksheets if "revisionsspor" not in ws.title  # the audit trail keeps codes
             for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not any(v in ("kommune", "educationkort_videregaaende", "cohort_year2014") for v in texts)


def test_the_audit_trail_keeps_every_item_and_its_codes(tables, tmp_path):
    wb = openpyxl.load_workbook(_book(tables, tmp_path, "en"))
    ws = wb["Budget items (audit trail)"]
    header = [c.value for c in ws[1]]
    items = pd.read_parquet(tables / "budget_by_item.parquet")
    assert ws.max_row - 1 == len(items)
    assert "Outcome (code)" in header and "Actor (code)" in header
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert [r[header.index("Outcome (code)")] for r in rows] == items["outcome"].tolist()
    assert [r[header.index("Present value")] for r in rows] == pytest.approx(items["value_pv"].tolist())


def test_the_workbook_is_byte_identical_for_the_same_tables(tables, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = _book(tables, tmp_path / "a", "en")
    b = _book(tables, tmp_path / "b", "en")
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()


def test_the_robustness_tables_have_labelled_sheets_and_formats(tables, tmp_path):
    wb = openpyxl.load_workbook(_book(tables, tmp_path, "da"))
    for sheet in ("Placebotests", "Ikke-observerede forskelle", "Scoremodeller"):
        assert sheet in wb.sheetnames, sheet
    names = wb.sheetnames
    assert names.index("Niveauer pr. år") < names.index("Placebotests") < names.index("Population")
    conf = wb["Ikke-observerede forskelle"]
    header = [c.value for c in conf[1]]
    assert {"Robusthedsværdi RV", "Robusthedsværdi RV_α", "Partiel R² for deltagelse", "Art"} <= set(header)
    row = {h: c for h, c in zip(header, conf[2], strict=True)}
    assert row["Robusthedsværdi RV"].number_format == "0.0%" and row["Art"].value == "gennemsnit over en periode"
    eff = wb["Effekter pr. år"]
    header = [c.value for c in eff[1]]
    assert {"Dobbelt robust", "Dobbelt robust, p-værdi", "Stjerne udeladt (for få med udfaldet)"} <= set(header)
    first = {h: c for h, c in zip(header, eff[2], strict=True)}
    assert first["Dobbelt robust"].number_format == "0.0%"
    assert first["Dobbelt robust, p-værdi"].number_format == "0.000"
    placebo = wb["Placebotests"]
    notes = [c.value for c in placebo[placebo.max_row]]
    assert "ikke bedømt: for få personer med udfaldet før start" in notes
    score = wb["Scoremodeller"]
    model = [c.value for c in score[1]].index("Model")
    assert [r[model].value for r in score.iter_rows(min_row=2)] == ["logit (den offentliggjorte model)",
                                                "fleksibel logit (splines for alder og beskæftigelse)",
                                                "gradient-boostede træer"]
