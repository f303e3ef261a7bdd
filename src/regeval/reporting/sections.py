"""The sections of the evaluation report, in the order of the published KLAPjob evaluation.

Each section is a name (its template ``templates/sections/<name>.html.j2`` and its
heading, the catalogue's ``text.<name>``) and a function that builds the template's
context from a :class:`ReportData` (the spec's checked export tables and figures). A
new section is one template, one builder and one entry in :data:`SECTIONS`; a builder
returning ``None`` leaves its section out (e.g. when its tables were not exported).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from regeval.reporting import budget_view as bv
from regeval.reporting import numbers as nf
from regeval.reporting import tableview as tv
from regeval.reporting.figures import without_variation
from regeval.reporting.labels import code_label, has, outcome_label, t, term_label

MAIN_OUTCOMES = ("employed", "hours_per_week", "sel103_104", "botilbud", "sel85")
"""Outcomes shown in the body of the report (as in the published evaluation's main
figures) when the spec estimates them; the other outcomes go to the appendix."""

HEADLINE_YEARS = (1, 5)
"""Years after the start whose effects the summary states in words."""


@dataclass
class ReportData:
    tables_dir: Path
    figures_dir: Path
    spec: Mapping[str, Any]
    language: str = "en"
    control_rule: str | None = None
    truth: pd.DataFrame | None = None
    _cache: dict[str, pd.DataFrame | None] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame | None:
        """A checked export table (None if it was not exported)."""
        if name not in self._cache:
            path = self.tables_dir / f"{name}.parquet"
            self._cache[name] = pd.read_parquet(path) if path.exists() else None
        return self._cache[name]

    @property
    def disclosure(self) -> dict[str, Any]:
        return json.loads((self.tables_dir / "disclosure_log.json").read_text())

    def figure(self, name: str, caption: str, alt: str | None = None) -> dict[str, str] | None:
        """A figure of the spec as an inline image (None if it was not drawn)."""
        path = self.figures_dir / name
        if not path.exists():
            return None
        data = base64.b64encode(path.read_bytes()).decode()
        return {"src": f"data:image/png;base64,{data}", "caption": caption, "alt": alt or caption, "name": name}

    @property
    def outcomes(self) -> list[str]:
        return list(self.spec["effects"]["outcomes"])

    def without_variation(self) -> list[str]:
        """Outcomes whose levels are the same for everybody in every year."""
        means = self.table("group_means")
        if means is None:
            return []
        return [o for o in self.outcomes if without_variation(means, o)]

    def estimated(self) -> list[str]:
        eff = self.table("effects")
        present = set(eff["outcome"]) if eff is not None else set()
        flat = set(self.without_variation())
        return [o for o in self.outcomes if o in present and o not in flat]

    def main_outcomes(self) -> list[str]:
        est = self.estimated()
        main = [o for o in MAIN_OUTCOMES if o in est]
        return main or est[:4]


def _verdict(p: Any, alpha: float, language: str) -> str:
    if nf.is_missing(p):
        return ""
    return t("significant" if float(p) < alpha else "not_significant", language)


def _truth_note(value: float | None, unit: str, language: str) -> str:
    if value is None:
        return ""
    return " [" + t("truth", language, truth=nf.effect(value, unit, language)) + "]"


def summary(d: ReportData) -> dict[str, Any]:
    lang = d.language
    alpha = float(d.spec["effects"].get("alpha", 0.05))
    items: list[str] = []
    wins = d.table("effect_windows")
    if wins is not None:
        for r in wins.to_dict("records"):
            label, unit = outcome_label(r["outcome"], lang)
            items.append(t("headline_window", lang, outcome=label, estimate=nf.effect(r["estimate"], unit, lang),
                           low=nf.effect(r["ci_low"], unit, lang, sign=False),
                           high=nf.effect(r["ci_high"], unit, lang, sign=False),
                           verdict=_verdict(r["p"], alpha, lang),
                           first=int(r["year_from"]), last=int(r["year_to"]))
                         + _truth_note(tv.window_truth(d.truth, r["outcome"], int(r["year_from"]), int(r["year_to"])),
                                       unit, lang) + ".")
    eff = d.table("effects")
    truth = {(o, y): v for o, y, v in d.truth[["outcome", "rel_year", "true_att"]].itertuples(index=False)} \
        if d.truth is not None else {}
    if eff is not None:
        for outcome in d.main_outcomes():
            label, unit = outcome_label(outcome, lang)
            parts = []
            for r in eff[(eff["outcome"] == outcome) & eff["rel_year"].isin(HEADLINE_YEARS)].sort_values(
                    "rel_year").to_dict("records"):
                year = int(r["rel_year"])
                parts.append(t("headline_year", lang, year=year, estimate=nf.effect(r["estimate"], unit, lang),
                               low=nf.effect(r["ci_low"], unit, lang, sign=False),
                               high=nf.effect(r["ci_high"], unit, lang, sign=False),
                               verdict=_verdict(r["p"], alpha, lang))
                             + (_truth_note(truth.get((outcome, year)), unit, lang) if d.truth is not None else ""))
            if parts:
                items.append(f"{label}: " + "; ".join(parts) + ".")
    budget = None
    net = d.table("budget_net")
    if net is not None:
        b = d.spec["budget"]
        values = net.set_index("actor")["value_pv"]
        budget = {
            "lead": t("headline_budget", lang, total=nf.kr(values.get("total"), lang), horizon=b["horizon"],
                      price_year=b["price_year"]),
            "actors": [t("headline_budget_actor", lang, actor=code_label(a, lang), value=nf.kr(v, lang))
                       for a, v in values.items() if a != "total"],
        }
    n_treated = n_control = None
    ms = d.table("matching_summary")
    if ms is not None:
        v = ms.set_index("item")["value"]
        n_treated, n_control = v.get("treated matched", v.get("treated")), v.get("unique controls")
    return {
        "intro": t("summary_intro", lang, n_treated=nf.integer(n_treated, lang), n_control=nf.integer(n_control, lang),
                   n_char=len(d.spec["characteristics"])),
        "items": items, "budget": budget, "budget_sign": t("budget_sign", lang),
    }


def population(d: ReportData) -> dict[str, Any] | None:
    desc = d.table("descriptives")
    if desc is None:
        return None
    return {"table": tv.population_table(desc, d.language)}


def control_group(d: ReportData) -> dict[str, Any]:
    lang = d.language
    out: dict[str, Any] = {"subsections": []}
    flow = d.table("population_flow")
    if flow is not None:
        out["subsections"].append({"id": "flow", "heading": t("flow", lang), "text": "",
                                   "tables": [tv.flow_table(flow, lang)], "figures": []})
    model = d.table("propensity_model")
    auc = nf.number(model["auc"].iloc[0], 2, lang) if model is not None and len(model) else nf.MISSING
    out["subsections"].append({
        "id": "overlap", "heading": t("overlap", lang), "text": t("overlap_intro", lang, auc=auc),
        "tables": [],
        "figures": [f for f in [d.figure("propensity_overlap.png", t("figure_overlap_caption", lang))] if f],
    })
    m = d.spec["matching"]
    exact = m.get("exact") or []
    text = t("matching_intro", lang, k=m["k"],
             replace=t("with_replacement" if m["replace"] else "without_replacement", lang),
             distance=m["distance"],
             exact=t("exact_on", lang, vars=", ".join(term_label(e, None, lang) for e in exact)) if exact
             else t("no_exact", lang),
             caliper=t("caliper", lang, caliper=nf.number(m["caliper"], 2, lang)) if m.get("caliper") else "")
    ms = d.table("matching_summary")
    out["subsections"].append({"id": "matching", "heading": t("matching", lang), "text": text,
                               "tables": [tv.matching_table(ms, lang)] if ms is not None else [], "figures": []})
    bal = d.table("balance")
    if bal is not None:
        out["subsections"].append({
            "id": "balance", "heading": t("balance", lang), "text": balance_verdict(bal, lang) + " "
            + t("balance_table_note", lang),
            "tables": [], "figures": [f for f in [d.figure("love_plot.png", t("figure_love_caption", lang))] if f],
        })
    return out


def balance_verdict(bal: pd.DataFrame, language: str, limit: float = 0.1) -> str:
    after = bal["smd_after"].abs()
    before = bal["smd_before"].abs()
    bad = bal[after > limit]
    fields = {"max_after": nf.number(after.max(), 3, language), "max_before": nf.number(before.max(), 3, language)}
    if bad.empty:
        return t("balance_good", language, **fields)
    terms = ", ".join(term_label(r["variable"], r["level"], language) for r in bad.to_dict("records"))
    return t("balance_bad", language, n_bad=len(bad), n_terms=len(bal), terms=terms, **fields)


def _outcome_figures(d: ReportData, outcome: str) -> dict[str, Any]:
    label, _unit = outcome_label(outcome, d.language)
    figs = [f for f in (d.figure(f"levels_{outcome}.png", label), d.figure(f"effect_{outcome}.png", label)) if f]
    return {"label": label, "figures": figs, "caption": t("figure_effect_caption", d.language, outcome=label)}


def effects(d: ReportData) -> dict[str, Any] | None:
    eff = d.table("effects")
    if eff is None:
        return None
    lang = d.language
    main = d.main_outcomes()
    wins = d.table("effect_windows")
    years = sorted(y for y in eff["rel_year"].unique() if y >= 0)
    shown = [y for y in years if y in (0, 1, 2, 3, 5, 7)] or years
    return {
        "intro": t("effects_intro", lang),
        "outcomes": [_outcome_figures(d, o) for o in main],
        "windows": tv.windows_table(wins, lang, d.truth) if wins is not None and len(wins) else None,
        "table": tv.effects_table(eff, main, shown, lang, t("table_effects_main", lang), d.truth),
        "table_note": t("effects_table_intro", lang),
        "flat": t("no_variation", lang, outcomes=", ".join(outcome_label(o, lang)[0] for o in d.without_variation()))
        if d.without_variation() else "",
    }


def budget(d: ReportData) -> dict[str, Any] | None:
    net = d.table("budget_net")
    if net is None:
        return None
    lang = d.language
    b = d.spec["budget"]
    rule = b["effects_rule"]
    groups = d.table("budget_by_group")
    return {
        "intro": t("budget_intro", lang, price_year=b["price_year"], horizon=b["horizon"],
                   rate=nf.percent(b["discount_rate"], lang),
                   rule=t(f"rule_{rule}", lang) if has(f"rule_{rule}") else rule),
        "tables": [bv.budget_net_table(net, lang)]
        + ([bv.budget_group_table(groups, lang)] if groups is not None else []),
        "figures": [f for f in (d.figure("budget_net_by_actor.png", t("figure_net_caption", lang)),
                                d.figure("budget_by_group.png", t("figure_group_caption", lang)),
                                d.figure("budget_by_year.png", t("figure_year_caption", lang))) if f],
    }


def sensitivity(d: ReportData) -> dict[str, Any] | None:
    sens = d.table("budget_sensitivity")
    if sens is None:
        return None
    lang = d.language
    return {
        "intro": t("sensitivity_intro", lang),
        "tables": [tv.sensitivity_table(sens, lang)],
        "figures": [f for f in [d.figure("budget_sensitivity.png", t("figure_sensitivity_caption", lang))] if f],
    }


def method(d: ReportData) -> dict[str, Any]:
    lang = d.language
    paragraphs = [t("method_match", lang),
                  t("method_characteristics", lang,
                    chars=", ".join(term_label(c, None, lang) for c in d.spec["characteristics"]))]
    if d.control_rule:
        paragraphs.append(t("method_control_rule", lang, rule=d.control_rule, text=t(d.control_rule, lang)))
    paragraphs += [t("caveat_selection", lang), t("caveat_pretrend", lang), t("caveat_budget", lang),
                   t("disclosure_text", lang, min_persons=d.disclosure["min_persons"])]
    return {"paragraphs": paragraphs}


def appendix(d: ReportData) -> dict[str, Any]:
    lang = d.language
    main = set(d.main_outcomes())
    rest = [o for o in d.estimated() if o not in main]
    tables: list[tv.Table] = []
    eff = d.table("effects")
    if eff is not None:
        tables.append(tv.effects_table(eff, d.estimated(), None, lang, t("table_effects_all", lang), d.truth,
                                       id="effects-table"))
    means = d.table("group_means")
    if means is not None:
        tables.append(tv.levels_table(means, d.estimated(), lang))
    for name, make in (("balance", tv.balance_table), ("propensity_model", tv.propensity_table),
                       ("panel_counts", tv.panel_table)):
        df = d.table(name)
        if df is not None:
            tables.append(make(df, lang))
    log = d.disclosure
    titles = {e["table"]: (t(e["table"], lang, "table") if has(e["table"], "table") else e["title"])
              for e in log["tables"]}
    tables.append(tv.disclosure_table(log, titles, lang))
    return {"outcomes": [_outcome_figures(d, o) for o in rest], "tables": tables,
            "effects_heading": t("appendix_effects", lang), "tables_heading": t("appendix_tables", lang)}


Builder = Callable[[ReportData], "dict[str, Any] | None"]

SECTIONS: list[tuple[str, Builder]] = [
    ("summary", summary),
    ("population", population),
    ("control_group", control_group),
    ("effects", effects),
    ("budget", budget),
    ("sensitivity", sensitivity),
    ("method", method),
    ("appendix", appendix),
]
"""The report's sections in order: (name, builder)."""


__all__ = ["HEADLINE_YEARS", "MAIN_OUTCOMES", "SECTIONS", "ReportData", "balance_verdict"]
