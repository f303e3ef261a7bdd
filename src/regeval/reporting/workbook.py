"""The Excel workbook of a spec, for the people who work on the budget.

A summary sheet and a settings sheet (price year, discount rate, horizon, effects rule,
units) come first, then the budget tables (the item-level audit trail
``budget_by_item`` in full), then the effect and population tables. Every sheet has
labelled headers in the report's language, labels instead of codes (the audit trail
keeps the codes beside them), number formats (kr without decimals, shares as per cent,
readable p-values), fitted column widths, a frozen header row and filters.

Cells hold the numbers of the checked export tables themselves (Excel formats them; a
reader can compute with them); nothing is computed here but labels.
"""

from __future__ import annotations

import datetime
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from regeval.reporting import numbers as nf
from regeval.reporting.budget_view import budget_label
from regeval.reporting.labels import code_label, has, outcome_label, t, term_label

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

    from regeval.reporting.sections import ReportData

FIXED_TIME = datetime.datetime(2000, 1, 1)

SHEET_ORDER = (
    "budget_net", "budget_by_actor", "budget_by_group", "budget_by_year", "budget_sensitivity", "budget_by_item",
    "effect_windows", "effects", "group_means", "descriptives", "population_flow", "matching_summary", "balance",
    "propensity_model", "propensity_overlap", "panel_counts", "population_means",
)
"""The table sheets after the summary and the settings; a checked table not listed here
follows them."""

KR = '#,##0;-#,##0;0'
SHARE = '0.0%'
COUNT = '#,##0'
P_VALUE = '0.000'
DECIMAL = '#,##0.000'
RATE = '0.0%'

KR_COLUMNS = re.compile(r"^(value_|net_|consequences_|programme_cost_|price$)")
COUNT_COLUMNS = re.compile(r"^(n|k|nk)(_.*)?$|^(participants|with_person_id|resident_year_before|in_base_population|"
                           r"base_population|potential_controls|matched|matched_controls|rel_year|year_from|year_to|"
                           r"cohort)$")
CODE_COLUMNS = ("actor", "outcome", "consequence_group", "consequence", "group", "item", "kind")
SHARE_OUTCOME_COLUMNS = ("estimate", "se", "ci_low", "ci_high", "mean", "mean_treated", "mean_control")

HEADER_FILL = PatternFill("solid", fgColor="DDE6EE")


def column_label(column: str, language: str) -> str:
    """Header of a table column: the catalogue's label; counts of a group by pattern."""
    if has(column, "column"):
        return t(column, language, "column")
    m = re.fullmatch(r"(k|nk|n)_(.+)", column)
    if m:
        group = m.group(2)
        glabel = t(group, language, "column") if has(group, "column") else group
        return t(f"{m.group(1)}_of", language, "column", group=glabel)
    return column


def _outcome_unit(outcome: Any) -> str:
    return outcome_label(str(outcome), "en")[1]


def _formats(name: str, df: pd.DataFrame) -> dict[str, Callable[[dict[str, Any]], str | None]]:
    """Number format per column (a function of the row, for columns whose unit varies by row)."""
    out: dict[str, Callable[[dict[str, Any]], str | None]] = {}
    for c in df.columns:
        if not pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]):
            continue
        if KR_COLUMNS.match(c) or (name == "budget_sensitivity" and c == "net_pv"):
            out[c] = lambda r: KR
        elif c in ("p", "p_value"):
            out[c] = lambda r: P_VALUE
        elif c in ("discount_rate", "cost_factor"):
            out[c] = lambda r: RATE
        elif COUNT_COLUMNS.match(c):
            out[c] = lambda r: COUNT
        elif "outcome" in df.columns and c in SHARE_OUTCOME_COLUMNS:
            out[c] = lambda r: SHARE if _outcome_unit(r.get("outcome")) == "share" else (
                KR if _outcome_unit(r.get("outcome")).startswith("kr") else DECIMAL)
        elif name == "descriptives" and c in ("participants", "matched_controls", "population"):
            out[c] = lambda r: SHARE if r.get("kind") == "share" else DECIMAL
        elif name == "balance" and c.startswith("mean_"):
            out[c] = lambda r: SHARE if r.get("kind") == "binary" else DECIMAL
        else:
            out[c] = lambda r: DECIMAL
    return out


def _labelled(name: str, df: pd.DataFrame, language: str) -> pd.DataFrame:
    """Codes replaced by labels (the audit trail keeps its codes in extra columns)."""
    df = df.drop(columns=["spec"], errors="ignore").copy()
    keep_codes = name == "budget_by_item"
    labelled = {}
    if "variable" in df.columns and "level" in df.columns:
        labelled["characteristic"] = [term_label(v, lv, language) for v, lv in zip(df["variable"], df["level"],
                                                                                   strict=True)]
    if "term" in df.columns and "variable" not in df.columns:
        from regeval.reporting.tableview import model_term_label

        labelled["term"] = [model_term_label(str(v), language) for v in df["term"]]
    for c in CODE_COLUMNS:
        if c in df.columns:
            lab = budget_label if (name.startswith("budget_") and c != "outcome") else code_label
            labelled[c] = [lab(v, language) if isinstance(v, str) and v else v for v in df[c]]
    for c, values in labelled.items():
        if c in df.columns:
            if keep_codes:
                df[f"{c}__code"] = df[c]
            df[c] = values
        else:
            df.insert(0, c, values)
    if not keep_codes:
        df = df.drop(columns=[c for c in ("term", "variable", "level") if "characteristic" in df.columns and c in df],
                     errors="ignore")
    return df


def _header(column: str, language: str) -> str:
    if column.endswith("__code"):
        return t("code", language, "column", column=column_label(column[:-6], language))
    return column_label(column, language)


def _write_frame(ws: Worksheet, df: pd.DataFrame, formats: dict[str, Callable[[dict[str, Any]], str | None]],
                 original: list[dict[str, Any]], language: str) -> None:
    """``df`` (labelled) with the number formats chosen on the ``original`` rows (codes)."""
    headers = [_header(c, language) for c in df.columns]
    ws.append(headers)
    records = df.to_dict("records")
    for rec in records:
        ws.append([_cell(rec[c], language) for c in df.columns])
    for j, c in enumerate(df.columns, start=1):
        fmt = formats.get(c)
        if fmt is not None:
            for i, rec in enumerate(original, start=2):
                f = fmt(rec)
                if f:
                    ws.cell(row=i, column=j).number_format = f
    _finish(ws, headers, [[_shown(rec[c]) for c in df.columns] for rec in records[:200]])


def _cell(v: Any, language: str) -> Any:
    if nf.is_missing(v):
        return None
    if isinstance(v, bool):
        return t("yes" if v else "no", language)
    if hasattr(v, "item"):
        return v.item()
    return v


def _shown(v: Any) -> str:
    if nf.is_missing(v):
        return ""
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 1e6 else f"{v:,.0f}"
    return str(v)


def _finish(ws: Worksheet, headers: list[str], sample: list[list[str]]) -> None:
    """Bold wrapped header, frozen header row and first column, filters, fitted widths."""
    for j, h in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=j)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        width = max([min(len(h), 28)] + [len(r[j - 1]) for r in sample]) + 2
        ws.column_dimensions[get_column_letter(j)].width = min(max(width, 8), 60)
    ws.freeze_panes = "B2"
    if ws.max_row > 1:
        ws.auto_filter.ref = ws.dimensions


def _summary_rows(data: ReportData) -> list[tuple[str, Any, str, str]]:
    """(item, value, unit, number format) of the summary sheet."""
    lang = data.language
    rows: list[tuple[str, Any, str, str]] = []
    net = data.table("budget_net")
    kr_unit = t("kr_per_participant", lang)
    if net is not None:
        for r in net.to_dict("records"):
            rows.append((f"{t('wb_net', lang)}: {code_label(r['actor'], lang)}", r["value_pv"], kr_unit, KR))
    wins = data.table("effect_windows")
    if wins is not None:
        for r in wins.to_dict("records"):
            label, unit = outcome_label(r["outcome"], lang)
            span = t("years_span", lang, first=int(r["year_from"]), last=int(r["year_to"]))
            fmt = SHARE if unit == "share" else DECIMAL
            rows.append((t("wb_effect_window", lang, outcome=label, span=span), r["estimate"],
                         t(unit, lang, "unit") if has(unit, "unit") else unit, fmt))
    ms = data.table("matching_summary")
    if ms is not None:
        for r in ms.to_dict("records"):
            rows.append((code_label(r["item"], lang), r["value"], "", COUNT))
    return rows


def _settings_rows(data: ReportData, min_persons: int) -> list[tuple[str, Any, str]]:
    lang = data.language
    b = data.spec["budget"]
    rule = b["effects_rule"]
    return [
        (t("wb_spec", lang), data.spec["name"], "@"),
        (t("wb_price_year", lang), int(b["price_year"]), "0"),
        (t("wb_discount_rate", lang), float(b["discount_rate"]), RATE),
        (t("wb_horizon", lang), int(b["horizon"]), "0"),
        (t("wb_effects_rule", lang), t(f"rule_{rule}", lang) if has(f"rule_{rule}") else rule, "@"),
        (t("wb_cost_multiplier", lang), float(b.get("cost_multiplier", 1.0)), "0.00"),
        (t("wb_alpha", lang), float(data.spec["effects"].get("alpha", 0.05)), "0.00"),
        (t("wb_min_persons", lang), int(min_persons), "0"),
        (t("wb_unit", lang), t("wb_units", lang), "@"),
        (t("wb_sign_item", lang), t("wb_sign", lang), "@"),
    ]


def write_workbook(data: ReportData, path: Path) -> None:
    """Write the spec's workbook to ``path`` (byte-identical for the same tables)."""
    lang = data.language
    log = data.disclosure
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = t("summary", lang, "sheet")
    ws.append([t("wb_item", lang), t("wb_value", lang), t("wb_unit", lang)])
    for item, value, unit, fmt in _summary_rows(data):
        ws.append([item, _cell(value, lang), unit])
        ws.cell(row=ws.max_row, column=2).number_format = fmt
    _finish(ws, [t("wb_item", lang), t("wb_value", lang), t("wb_unit", lang)],
            [[r[0], "0" * 12, r[2]] for r in _summary_rows(data)])
    ws = wb.create_sheet(t("settings", lang, "sheet"))
    ws.append([t("wb_item", lang), t("wb_value", lang)])
    settings = _settings_rows(data, int(log["min_persons"]))
    for item, value, fmt in settings:
        ws.append([item, value])
        ws.cell(row=ws.max_row, column=2).number_format = fmt
    _finish(ws, [t("wb_item", lang), t("wb_value", lang)], [[r[0], str(r[1])[:60]] for r in settings])
    names = [e["table"] for e in log["tables"]]
    for name in [n for n in SHEET_ORDER if n in names] + [n for n in names if n not in SHEET_ORDER]:
        df = data.table(name)
        if df is None:
            continue
        sheet = t(name, lang, "sheet") if has(name, "sheet") else name[:31]
        ws = wb.create_sheet(sheet[:31])
        _write_frame(ws, _labelled(name, df, lang), _formats(name, df), df.to_dict("records"), lang)
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    wb.properties.creator = "regeval"
    wb.save(path)
    normalise_zip(path)


def normalise_zip(path: Path) -> None:
    """Rewrite a zip file (xlsx) with fixed entry timestamps, so that the same
    tables give a byte-identical workbook."""
    with zipfile.ZipFile(path) as zin:
        entries = [(info, zin.read(info.filename)) for info in zin.infolist()]
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w") as zout:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                # openpyxl stamps the save time into the document properties
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2000-01-01T00:00:00Z", data)
            fixed = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            zout.writestr(fixed, data)
    tmp.replace(path)


__all__ = ["SHEET_ORDER", "column_label", "normalise_zip", "write_workbook"]
