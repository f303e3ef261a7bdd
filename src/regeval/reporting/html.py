"""The evaluation report of a spec: a self-contained HTML file and an Excel workbook.

Both are made only from the disclosure-checked export tables and the figures drawn
from them. Labels are English or Danish (config ``report.language``).
"""

from __future__ import annotations

import base64
import datetime
import html
import json
import re
import zipfile
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from regeval.reporting.labels import heading, outcome_label
from regeval.reporting.robustness import section_note

SECTIONS: list[tuple[str, list[str], list[str]]] = [
    # (heading key, tables, figures)
    ("flow", ["population_flow"], []),
    ("propensity", ["propensity_model", "score_selection"], ["propensity_overlap.png"]),
    ("matching", ["matching_summary"], []),
    ("balance", ["balance"], ["love_plot.png"]),
    ("descriptives", ["descriptives"], []),
    ("attrition", ["panel_counts"], []),
    ("effects", ["effects"], ["effect_*.png"]),
    ("levels", ["group_means"], ["levels_*.png"]),
    ("windows", ["effect_windows"], []),
    ("placebo", ["placebo_tests"], []),
    ("confounding", ["confounding_sensitivity"], ["confounding_sensitivity.png"]),
    ("budget", ["budget_net", "budget_by_group", "budget_by_year", "budget_by_actor"], ["budget_net_by_actor.png", "budget_by_group.png", "budget_by_year.png"]),
    ("sensitivity", ["budget_sensitivity"], ["budget_sensitivity.png"]),
]

CSS = """
body{font-family:system-ui,Arial,sans-serif;max-width:1100px;margin:2em auto;color:#222}
h1{border-bottom:2px solid #444} h2{margin-top:2em;border-bottom:1px solid #aaa}
table{border-collapse:collapse;font-size:12px;margin:0.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:right} th{background:#eee}
td:first-child,th:first-child{text-align:left}
figure{display:inline-block;margin:0.5em} figcaption{font-size:12px;color:#555;max-width:600px}
.caption{font-size:13px;color:#444} .small{font-size:11px;color:#666}
"""


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    if isinstance(v, float):
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:.4g}"
    return html.escape(str(v))


def _table_html(df: pd.DataFrame, max_rows: int = 400) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = []
    for rec in df.head(max_rows).itertuples(index=False):
        rows.append("<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in rec) + "</tr>")
    more = f"<p class='small'>{len(df) - max_rows} more rows in the Excel workbook.</p>" if len(df) > max_rows else ""
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>{more}"


def _img(path: Path, caption: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return (
        f"<figure><img src='data:image/png;base64,{data}' width='560' alt='{html.escape(caption)}'>"
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _caption_of(fig: Path, language: str) -> str:
    stem = fig.stem
    for prefix, what in (("effect_", "Effect by year relative to start, 95 % CI: "), ("levels_", "Participants and matched controls by year, 95 % CI: ")):
        if stem.startswith(prefix):
            label, unit = outcome_label(stem[len(prefix):], language)
            return f"{what}{label} ({unit})"
    return stem.replace("_", " ").capitalize()


def _key_results(tables_dir: Path, spec: Mapping[str, Any], language: str) -> str:
    """Headline numbers: window effects, effects in years 1 and 5, net result per actor."""
    out = [f"<h2>{'Hovedresultater' if language == 'da' else 'Key results'}</h2><ul>"]
    win_path = tables_dir / "effect_windows.parquet"
    if win_path.exists():
        for r in pd.read_parquet(win_path).itertuples(index=False):
            label, unit = outcome_label(r.outcome, language)
            out.append(
                f"<li>{html.escape(label)}, average over years {int(r.year_from)}–{int(r.year_to)}: "
                f"<b>{_fmt(r.estimate)}</b> {html.escape(unit)} (95 % CI {_fmt(r.ci_low)} to {_fmt(r.ci_high)}){html.escape(str(r.stars or ''))}</li>"
            )
    eff_path = tables_dir / "effects.parquet"
    if eff_path.exists():
        eff = pd.read_parquet(eff_path)
        for outcome in spec["effects"]["outcomes"][:6]:
            label, unit = outcome_label(outcome, language)
            rows = eff[(eff["outcome"] == outcome) & eff["rel_year"].isin([1, 5])].sort_values("rel_year")
            txt = "; ".join(
                f"year {int(r.rel_year)}: {_fmt(r.estimate)}{html.escape(str(r.stars or ''))}" for r in rows.itertuples(index=False)
            )
            if txt:
                out.append(f"<li>{html.escape(label)} ({html.escape(unit)}): {txt}</li>")
    net_path = tables_dir / "budget_net.parquet"
    if net_path.exists():
        net = pd.read_parquet(net_path).set_index("actor")["value_pv"]
        parts = ", ".join(f"{a} {_fmt(float(v))} kr" for a, v in net.items() if a != "total")
        out.append(
            f"<li>Net result per participant, present value at year 0 (years 0–{spec['budget']['horizon']}, "
            f"{spec['budget']['price_year']} prices): <b>{_fmt(float(net.get('total', float('nan'))))} kr</b> ({parts})</li>"
        )
    out.append("</ul><p class='small'>Stars: * p &lt; .05, ** p &lt; .01, *** p &lt; .001. "
               "Effects are participants minus matched controls.</p>")
    return "".join(out)


CONTROL_RULE_TEXT = {
    "censor_at_start": "people who start in a later year are potential controls of earlier cohorts until "
    "their own start; their later rows are censored and the remaining controls reweighted by the inverse "
    "probability of not having started (effect of starting against never starting).",
    "never_participated": "nobody who ever took part is a control (later participants are excluded from "
    "earlier cohorts' controls, which selects the controls on their future).",
    "not_yet_participated": "later participants are controls of earlier cohorts, also after their own start "
    "(effect of starting now against not starting now).",
}


def write_report(
    tables_dir: Path,
    figures_dir: Path,
    spec: Mapping[str, Any],
    html_path: str | Path,
    xlsx_path: str | Path,
    language: str = "en",
    control_rule: str | None = None,
) -> None:
    """Write the HTML report and the Excel workbook of one spec.

    ``control_rule``: the population's control rule, stated in the report's header.
    """
    tables_dir = Path(tables_dir)
    figures_dir = Path(figures_dir)
    disclosure = json.loads((tables_dir / "disclosure_log.json").read_text())
    titles = {t["table"]: t["title"] for t in disclosure["tables"]}
    parts = [
        f"<!doctype html><html lang='{language}'><head><meta charset='utf-8'>"
        f"<title>{heading('title', language)}: {html.escape(spec['name'])}</title><style>{CSS}</style></head><body>",
        f"<h1>{heading('title', language)} — spec <code>{html.escape(spec['name'])}</code></h1>",
        "<p class='caption'>Matching: k = {k}, {rep} replacement, exact on {ex}, caliper {cal}, distance {d}. "
        "Characteristics: {ch}.</p>".format(
            k=spec["matching"]["k"],
            rep="with" if spec["matching"]["replace"] else "without",
            ex=", ".join(spec["matching"].get("exact") or []) or "nothing",
            cal=spec["matching"].get("caliper"),
            d=spec["matching"]["distance"],
            ch=", ".join(spec["characteristics"]),
        ),
    ]
    if control_rule:
        parts.append(
            f"<p class='caption'>Control rule: <code>{html.escape(control_rule)}</code> — "
            + html.escape(CONTROL_RULE_TEXT.get(control_rule, "")) + "</p>"
        )
    parts.append(_key_results(tables_dir, spec, language))
    for key, tables, figs in SECTIONS:
        parts.append(f"<h2>{heading(key, language)}</h2>")
        parts.append(section_note(key, tables_dir, language))
        for pattern in figs:
            for fig in sorted(figures_dir.glob(pattern)):
                parts.append(_img(fig, _caption_of(fig, language)))
        for t in tables:
            path = tables_dir / f"{t}.parquet"
            if not path.exists():
                continue
            df = pd.read_parquet(path)
            parts.append(f"<p class='caption'><b>{html.escape(titles.get(t, t))}</b></p>")
            parts.append(_table_html(df))
    parts.append(f"<h2>{heading('disclosure', language)}</h2>")
    parts.append(
        f"<p class='caption'>Every table was checked before export: no cell rests on fewer than "
        f"{disclosure['min_persons']} persons; suppressed cells are empty and named in the "
        f"column <code>suppressed</code>.</p>"
    )
    parts.append(_table_html(pd.DataFrame(disclosure["tables"])))
    parts.append("</body></html>")
    Path(html_path).write_text("\n".join(parts), encoding="utf-8")

    with pd.ExcelWriter(xlsx_path, engine="openpyxl") as xl:
        for entry in disclosure["tables"]:
            df = pd.read_parquet(tables_dir / f"{entry['table']}.parquet")
            df.to_excel(xl, sheet_name=entry["table"][:31], index=False)
        xl.book.properties.created = FIXED_TIME
        xl.book.properties.modified = FIXED_TIME
        xl.book.properties.creator = "regeval"
    _normalise_zip(Path(xlsx_path))


FIXED_TIME = datetime.datetime(2000, 1, 1)


def _normalise_zip(path: Path) -> None:
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
