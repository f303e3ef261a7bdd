"""Cross-spec summary of a sensitivity sweep.

Reads only the specs' checked export tables (effect windows and the budget's net
result), so the summary is itself an aggregate of exportable numbers; it is checked
again with the same threshold before it is written. The HTML page is styled like the
report (same stylesheet and catalogue), lists the specs base first and then in natural
order of their names (k1, k5, k10, k20), labels each by the settings it varies and
links to its full report.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from regeval.disclosure.aggregates import AggregateMeta
from regeval.disclosure.check import check_table
from regeval.reporting import numbers as nf
from regeval.reporting.labels import code_label, has, outcome_label, t
from regeval.reporting.plotting import format_axis, new_figure, wrap
from regeval.reporting.tableview import Table
from regeval.reporting.templating import render

SUMMARY_META = AggregateMeta(
    name="sweep_summary",
    title="Key effects and net result per participant for every spec of the sweep",
    kind="regression",
    counts={"estimate": ["n_treated", "n_control"], "ci_low": ["n_treated", "n_control"],
            "ci_high": ["n_treated", "n_control"]},
    count_columns=("n_treated", "n_control"),
)


def natural_key(name: str) -> list[Any]:
    """Sort key that orders the numbers in a name by value (``k5`` before ``k10``)."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def spec_order(specs: Sequence[str], base: str) -> list[str]:
    return [base] + sorted((s for s in specs if s != base), key=natural_key)


def summarise(spec_dirs: Mapping[str, Path], base: str, labels: Mapping[str, str]) -> pd.DataFrame:
    """One row per (spec, item): window effects with CIs and net results per actor."""
    rows = []
    for spec in spec_order(list(spec_dirs), base):
        tables = Path(spec_dirs[spec])
        win = pd.read_parquet(tables / "effect_windows.parquet")
        net = pd.read_parquet(tables / "budget_net.parquet")
        eff = pd.read_parquet(tables / "effects.parquet")
        n_t = int(eff["n_treated"].max()) if len(eff) else 0
        n_c = int(eff["n_control"].max()) if len(eff) else 0
        common = {"spec": spec, "label": labels.get(spec, spec), "base": spec == base}
        for r in win.itertuples(index=False):
            rows.append({**common, "kind": "effect", "item": f"{r.outcome}:{int(r.year_from)}-{int(r.year_to)}",
                         "outcome": r.outcome, "year_from": int(r.year_from), "year_to": int(r.year_to),
                         "actor": None, "estimate": float(r.estimate), "ci_low": float(r.ci_low),
                         "ci_high": float(r.ci_high), "n_treated": int(r.n_treated), "n_control": int(r.n_control)})
        for r in net.itertuples(index=False):
            rows.append({**common, "kind": "net_pv", "item": str(r.actor), "outcome": None, "year_from": None,
                         "year_to": None, "actor": str(r.actor), "estimate": float(r.value_pv),
                         "ci_low": float("nan"), "ci_high": float("nan"), "n_treated": n_t, "n_control": n_c})
    out = pd.DataFrame(rows)
    return out.astype({"year_from": "Int64", "year_to": "Int64"})


def setting_label(key: str, value: Any, language: str) -> str:
    """``matching.k`` = 5 -> "Number of controls (k): 5" (catalogue section ``setting``)."""
    name = t(key, language, "setting") if has(key, "setting") else key
    if isinstance(value, bool):
        shown = t("yes" if value else "no", language)
    elif isinstance(value, float):
        shown = nf.auto(value, language)
    elif isinstance(value, str) and has(f"short_{value}"):
        shown = t(f"short_{value}", language)
    elif isinstance(value, (list, tuple)):
        shown = ", ".join(str(v) for v in value)
    else:
        shown = str(value)
    return f"{name}: {shown}"


def spec_labels(settings: Mapping[str, Mapping[str, Any]], base: str, language: str) -> dict[str, str]:
    out = {}
    for spec, values in settings.items():
        text = "; ".join(setting_label(k, v, language) for k, v in values.items())
        out[spec] = f"{text} ({t('sweep_base', language)})" if spec == base else text
    return out


def _effect_rows(summary: pd.DataFrame, labels: Mapping[str, str], budget_keys: set[str],
                 settings: Mapping[str, Mapping[str, Any]], language: str) -> pd.DataFrame:
    """Effect rows with one row per distinct estimate: specs that differ only in their
    budget settings share the effect table, and are shown once (labelled without them)."""
    eff = summary[summary["kind"] == "effect"].copy()
    if eff.empty:
        return eff
    eff["row_label"] = [
        "; ".join(setting_label(k, v, language) for k, v in settings.get(s, {}).items() if k not in budget_keys)
        or labels.get(s, s) for s in eff["spec"]]
    eff["row_label"] = [f"{lab} ({t('sweep_base', language)})" if b else lab
                        for lab, b in zip(eff["row_label"], eff["base"], strict=True)]
    return eff.drop_duplicates(subset=["item", "estimate", "ci_low", "ci_high"], keep="first")


def forest_figure(summary: pd.DataFrame, base: str, labels: Mapping[str, str] | None = None,
                  settings: Mapping[str, Mapping[str, Any]] | None = None, language: str = "en") -> Figure:
    """Window effects (with CIs; one row per distinct estimate) and the total net result
    per spec."""
    labels = labels or {}
    settings = settings or {}
    budget_keys = {k for v in settings.values() for k in v if k.startswith("budget.")}
    eff = _effect_rows(summary, labels, budget_keys, settings, language)
    items = list(dict.fromkeys(eff["item"])) if len(eff) else []
    net = summary[(summary["kind"] == "net_pv") & (summary["item"] == "total")]
    n_rows = max([len(eff[eff["item"] == i]) for i in items] + [len(net), 1])
    fig = new_figure((11.0, max(3.2, 0.32 * n_rows + 2.2)))
    axes = fig.subplots(1, len(items) + 1, squeeze=False)[0]
    for ax, item in zip(axes, items, strict=False):
        d = eff[eff["item"] == item].reset_index(drop=True)
        y = np.arange(len(d))[::-1]
        for yi, r in zip(y, d.itertuples(index=False), strict=True):
            colour = "tab:red" if r.base else "tab:blue"
            ax.errorbar(r.estimate, yi, xerr=[[r.estimate - r.ci_low], [r.ci_high - r.estimate]], fmt="o",
                        color=colour, capsize=2)
        ax.axvline(0, color="grey", lw=0.8)
        label, unit = outcome_label(str(d["outcome"].iloc[0]), language)
        span = t("years_span", language, first=int(d["year_from"].iloc[0]), last=int(d["year_to"].iloc[0]))
        ax.set_title(wrap(f"{label}, {span}", 40), fontsize=9)
        ax.set_xlabel(_ft("sweep_effect", language), fontsize=8)
        ax.set_yticks(y, [wrap(s, 45) for s in d["row_label"]], fontsize=7)
        format_axis(ax.xaxis, language, scale=100.0 if unit == "share" else 1.0)
    ax = axes[-1]
    d = net.reset_index(drop=True)
    y = np.arange(len(d))[::-1]
    ax.barh(y, d["estimate"] / 1000, color=["tab:red" if b else "tab:blue" for b in d["base"]])
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(y, [wrap(labels.get(s, s), 45) for s in d["spec"]], fontsize=7)
    ax.set_title(_ft("sweep_net", language), fontsize=9)
    ax.set_xlabel(_ft("sweep_net_x", language), fontsize=8)
    format_axis(ax.xaxis, language)
    fig.suptitle(_ft("sweep_title", language), fontsize=11)
    return fig


def _ft(key: str, language: str) -> str:
    return t(key, language, "figure")


def summary_table(summary: pd.DataFrame, base: str, labels: Mapping[str, str], reports: Mapping[str, str],
                  language: str) -> Table:
    """One row per spec: its label (a link to its report), the window effects with their
    CIs and the net result per actor."""
    specs = list(dict.fromkeys(summary["spec"]))
    eff = summary[summary["kind"] == "effect"]
    net = summary[summary["kind"] == "net_pv"]
    items = list(dict.fromkeys(eff["item"]))
    actors = list(dict.fromkeys(net["actor"]))
    columns = [t("spec", language, "column")]
    for item in items:
        first = eff[eff["item"] == item].iloc[0]
        label, _unit = outcome_label(str(first["outcome"]), language)
        span = t("years_span", language, first=int(first["year_from"]), last=int(first["year_to"]))
        columns += [f"{label}, {span}", t("ci", language, "column")]
    columns += [f"{code_label(a, language)}" for a in actors]
    rows = []
    for s in specs:
        row = [labels.get(s, s)]
        for item in items:
            r = eff[(eff["spec"] == s) & (eff["item"] == item)]
            unit = outcome_label(item.split(":")[0], language)[1]
            if r.empty:
                row += [nf.MISSING, nf.MISSING]
                continue
            r0 = r.iloc[0]
            row += [nf.effect(r0["estimate"], unit, language),
                    f"{nf.effect(r0['ci_low'], unit, language, sign=False)} – "
                    f"{nf.effect(r0['ci_high'], unit, language, sign=False)}"]
        for a in actors:
            v = net[(net["spec"] == s) & (net["actor"] == a)]["estimate"]
            row.append(nf.kr(v.iloc[0], language) if len(v) else nf.MISSING)
        rows.append(row)
    table = Table(title=t("sweep_net", language), columns=columns, rows=rows,
                  numeric=[False] + [True] * (len(columns) - 1), id="sweep-table")
    table.links = {0: [reports.get(s, "") for s in specs]}
    return table


def write_summary(
    spec_dirs: Mapping[str, Path],
    base: str,
    labels: Mapping[str, str],
    min_persons: int,
    csv: str | Path,
    parquet: str | Path,
    figure: str | Path,
    html_path: str | Path,
    language: str = "en",
    settings: Mapping[str, Mapping[str, Any]] | None = None,
    reports: Mapping[str, str] | None = None,
    name: str = "sweep",
) -> pd.DataFrame:
    """Summarise, check and write the sweep's table, figure and HTML page.

    ``settings``: per spec the values of the sweep's grid keys (for its label);
    ``reports``: per spec the link to its report (relative to the page)."""
    settings = settings or {}
    shown = spec_labels(settings, base, language) if settings else dict(labels)
    summary = summarise(spec_dirs, base, labels)
    checked = check_table(summary, SUMMARY_META, min_persons, "sweep summary").table
    Path(csv).parent.mkdir(parents=True, exist_ok=True)
    checked.to_csv(csv, index=False, float_format="%.10g")
    checked.to_parquet(parquet, index=False)
    fig = forest_figure(checked, base, shown, settings, language)
    fig.savefig(figure, dpi=100, bbox_inches="tight", metadata={"Software": None})
    data = base64.b64encode(Path(figure).read_bytes()).decode()
    page = render("sweep.html.j2", language, name=name,
                  table=summary_table(checked, base, shown, dict(reports or {}), language),
                  figure={"src": f"data:image/png;base64,{data}", "caption": t("sweep_figure_caption", language),
                          "alt": t("sweep_figure_caption", language)})
    Path(html_path).write_text(page, encoding="utf-8")
    return checked


__all__ = ["SUMMARY_META", "forest_figure", "natural_key", "setting_label", "spec_labels", "spec_order",
           "summarise", "summary_table", "write_summary"]
