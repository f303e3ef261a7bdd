"""Tables as the report shows them: labelled headers, formatted cells, no codes.

A :class:`Table` is what the templates render (``templates/_macros.html.j2``) and what
the workbook writes: a title, column headers and rows of already formatted cells, plus
which columns are numbers (right-aligned). Every cell comes from a disclosure-checked
export table; a suppressed or missing cell is an en dash.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from regeval.reporting import numbers as nf
from regeval.reporting.labels import code_label, outcome_label, t, term_label


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    note: str = ""
    id: str = ""
    links: dict[int, list[str]] = field(default_factory=dict)
    """Per column index, a link target per row (the cell is rendered as a link)."""

    @property
    def n_rows(self) -> int:
        return len(self.rows)


Formatter = Callable[[Any], str]


def build(
    df: pd.DataFrame,
    spec: Sequence[tuple[str, str, Formatter, bool]],
    title: str,
    note: str = "",
    id: str = "",
) -> Table:
    """Table from ``df`` with ``spec`` = (column of df, header, formatter, numeric?) per column."""
    rows = [[fmt(rec[col]) for col, _h, fmt, _n in spec] for rec in df.to_dict("records")]
    return Table(title=title, columns=[h for _c, h, _f, _n in spec], rows=rows,
                 numeric=[n for _c, _h, _f, n in spec], note=note, id=id)


def col(key: str, language: str) -> str:
    return t(key, language, "column")


def effects_table(effects: pd.DataFrame, outcomes: Sequence[str], years: Sequence[int] | None, language: str,
                  title: str, truth: pd.DataFrame | None = None, id: str = "") -> Table:
    """Effects of ``outcomes`` (in that order) in ``years`` (all if None), each in its
    outcome's unit, with CI, p-value, stars and (synthetic data) the true effect."""
    rows = []
    truth_map = _truth_map(truth)
    dr = "dr_estimate" in effects.columns
    for outcome in outcomes:
        label, unit = outcome_label(outcome, language)
        sub = effects[effects["outcome"] == outcome].sort_values("rel_year")
        if years is not None:
            sub = sub[sub["rel_year"].isin(list(years))]
        for r in sub.to_dict("records"):
            row = [label, nf.integer(r["rel_year"], language), nf.effect(r["estimate"], unit, language),
                   ci_text(r["ci_low"], r["ci_high"], unit, language), nf.p_value(r["p"], language),
                   stars_text(r)]
            if dr:
                row.append(nf.effect(r["dr_estimate"], unit, language))
            if truth is not None:
                row.append(nf.effect(truth_map.get((outcome, int(r["rel_year"]))), unit, language))
            rows.append(row)
    columns = [col("outcome", language), col("rel_year", language), col("estimate", language),
               col("ci", language), col("p", language), col("stars", language)]
    numeric = [False, True, True, True, True, False]
    if dr:
        columns.append(col("dr_estimate", language))
        numeric.append(True)
    if truth is not None:
        columns.append(col("truth", language))
        numeric.append(True)
    return Table(title=title, columns=columns, rows=rows, numeric=numeric, id=id)


WITHHELD = "\u2020"
"""The mark of an effect whose star is withheld: too few persons with the outcome
(column ``stars_withheld``, the rule ``effects.min_events``)."""


def stars_text(row: Mapping[str, Any]) -> str:
    """The stars of an effect, or :data:`WITHHELD` where they are withheld."""
    if bool(row.get("stars_withheld") or False):
        return WITHHELD
    return str(row.get("stars") or "")


def _truth_map(truth: pd.DataFrame | None) -> dict[tuple[str, int], float]:
    if truth is None:
        return {}
    return {(str(r["outcome"]), int(r["rel_year"])): float(r["true_att"]) for r in truth.to_dict("records")}


def window_truth(truth: pd.DataFrame | None, outcome: str, first: int, last: int) -> float | None:
    """Mean of the yearly true effects over ``first``..``last`` (None without truth)."""
    if truth is None:
        return None
    sub = truth[(truth["outcome"] == outcome) & truth["rel_year"].between(first, last)]
    return float(sub["true_att"].mean()) if len(sub) else None


def ci_text(low: Any, high: Any, unit: str, language: str) -> str:
    if nf.is_missing(low) or nf.is_missing(high):
        return nf.MISSING
    return f"{nf.effect(low, unit, language, sign=False)} {'til' if language == 'da' else 'to'} " \
           f"{nf.effect(high, unit, language, sign=False)}"


def windows_table(windows: pd.DataFrame, language: str, truth: pd.DataFrame | None = None) -> Table:
    rows = []
    for r in windows.to_dict("records"):
        label, unit = outcome_label(r["outcome"], language)
        row = [label, t("years_span", language, first=int(r["year_from"]), last=int(r["year_to"])),
               nf.effect(r["estimate"], unit, language), ci_text(r["ci_low"], r["ci_high"], unit, language),
               nf.p_value(r["p"], language), str(r.get("stars") or "")]
        if truth is not None:
            row.append(nf.effect(window_truth(truth, r["outcome"], int(r["year_from"]), int(r["year_to"])),
                                 unit, language))
        rows.append(row)
    columns = [col("outcome", language), col("period", language), col("estimate", language), col("ci", language),
               col("p", language), col("stars", language)]
    numeric = [False, False, True, True, True, False]
    if truth is not None:
        columns.append(col("truth", language))
        numeric.append(True)
    return Table(title=t("table_windows", language), columns=columns, rows=rows, numeric=numeric)


def population_table(desc: pd.DataFrame, language: str) -> Table:
    """The three-column table: participants, matched controls, the whole population."""
    rows = []
    for r in desc.to_dict("records"):
        kind = r["kind"]
        if kind == "count":
            vals = [r["participants"], r["matched_controls"],
                    r["population"] if not nf.is_missing(r["population"]) else r.get("n_population")]
            cells = [nf.integer(v, language) for v in vals]
        elif kind == "share":
            cells = [nf.percent(r[c], language) for c in ("participants", "matched_controls", "population")]
        else:
            cells = [nf.auto(r[c], language) if not _is_share_mean(r["variable"]) else nf.percent(r[c], language)
                     for c in ("participants", "matched_controls", "population")]
        rows.append([term_label(r["variable"], r["level"], language), *cells])
    return Table(title=t("table_population", language),
                 columns=[col("characteristic", language), col("treated", language), col("control", language),
                          col("population", language)],
                 rows=rows, numeric=[False, True, True, True], note=t("population_intro", language),
                 id="population-table")


SHARE_MEANS = ("diag_", "botilbud", "sel85", "sel103_104", "sel_other", "somatic_hospital", "psychiatric_hospital",
               "employment_degree")


def _is_share_mean(variable: str) -> bool:
    """Means of 0/1 indicators and of degrees (0..1) are shown as percentages."""
    return str(variable).startswith(SHARE_MEANS)


def balance_table(balance: pd.DataFrame, language: str) -> Table:
    def mean(v: Any, var: str) -> str:
        return nf.percent(v, language) if (_is_share_mean(var) or binary) else nf.auto(v, language)

    rows = []
    for r in balance.to_dict("records"):
        binary = r["kind"] == "binary"
        rows.append([term_label(r["variable"], r["level"], language), mean(r["mean_treated_before"], r["variable"]),
                     mean(r["mean_control_before"], r["variable"]), nf.number(r["smd_before"], 3, language),
                     mean(r["mean_control_after"], r["variable"]), nf.number(r["smd_after"], 3, language),
                     nf.number(r["var_ratio_after"], 2, language), nf.number(r["ecdf_max_after"], 3, language),
                     t("yes" if r["balanced"] else "no", language)])
    return Table(title=t("table_balance", language),
                 columns=[col("characteristic", language), col("mean_treated", language),
                          col("mean_control_before", language), col("smd_before", language),
                          col("mean_control_after", language), col("smd_after", language),
                          col("var_ratio_after", language), col("ecdf_max_after", language),
                          col("balanced", language)],
                 rows=rows, numeric=[False, True, True, True, True, True, True, True, False], id="balance-table")


def flow_table(flow: pd.DataFrame, language: str) -> Table:
    """Steps as rows, cohorts as columns (no totals: a total over suppressed cells would
    be a new, unchecked number)."""
    steps = [c for c in ("participants", "with_person_id", "resident_year_before", "in_base_population", "matched",
                         "base_population", "potential_controls", "matched_controls") if c in flow.columns]
    cohorts = flow.sort_values("cohort")
    rows = [[code_label(s, language), *(nf.integer(v, language) for v in cohorts[s])] for s in steps]
    return Table(title=t("table_flow", language),
                 columns=[col("step", language), *(str(int(c)) for c in cohorts["cohort"])],
                 rows=rows, numeric=[False] + [True] * len(cohorts), note=t("flow_intro", language))


def matching_table(summary: pd.DataFrame, language: str) -> Table:
    rows = [[code_label(r["item"], language), nf.auto(r["value"], language)] for r in summary.to_dict("records")]
    return Table(title=t("table_matching", language), columns=[col("item", language), col("n", language)],
                 rows=rows, numeric=[False, True])


def propensity_table(model: pd.DataFrame, language: str, name: str = "logit") -> Table:
    """The fitted propensity model ``name``: coefficients, or only its terms for a model
    without coefficients (the flexible logit's penalised fit, boosted trees)."""
    title = t("table_propensity", language, model=code_label(name, language))
    if model["estimate"].isna().all():
        return Table(title=title, columns=[col("term", language)],
                     rows=[[model_term_label(r, language)] for r in model["term"]], numeric=[False],
                     note=t("propensity_no_coefficients", language))
    rows = [[model_term_label(r["term"], language), nf.number(r["estimate"], 3, language),
             nf.number(r["std_error"], 3, language), nf.p_value(r["p_value"], language)]
            for r in model.to_dict("records")]
    return Table(title=title,
                 columns=[col("term", language), col("coef", language), col("se", language), col("p", language)],
                 rows=rows, numeric=[False, True, True, True])


def score_selection_table(selection: pd.DataFrame, language: str) -> Table:
    """The candidate score models: AUC, the balance of their reference matching, which was chosen."""
    rows = [[code_label(r["model"], language), nf.number(r["auc"], 3, language),
             nf.integer(r["n_unbalanced"], language), nf.number(r["max_abs_smd"], 3, language),
             nf.number(r["max_ecdf"], 3, language),
             t("yes" if r["chosen"] else "no", language) if not r.get("note") else code_label(r["note"], language)]
            for r in selection.to_dict("records")]
    return Table(title=t("table_score_selection", language),
                 columns=[col("model", language), col("auc", language), col("n_unbalanced", language),
                          col("max_abs_smd", language), col("max_ecdf", language), col("chosen", language)],
                 rows=rows, numeric=[False, True, True, True, True, False])


def placebo_table(placebo: pd.DataFrame, language: str) -> Table:
    """The joint test of the years before the start, per outcome."""
    rows = []
    for r in placebo.to_dict("records"):
        verdict = ("placebo_unjudged" if not r["assessed"] else "placebo_passed" if r["passed"] else "placebo_failed")
        rows.append([outcome_label(r["outcome"], language)[0],
                     t("years_to", language, first=nf.integer(r["year_from"], language),
                       last=nf.integer(r["year_to"], language)),
                     nf.number(r["chi2"], 2, language), nf.integer(r["df"], language), nf.p_value(r["p"], language),
                     t(verdict, language)])
    return Table(title=t("table_placebo", language),
                 columns=[col("outcome", language), col("period", language), col("chi2", language),
                          col("df", language), col("p", language), col("verdict", language)],
                 rows=rows, numeric=[False, False, True, True, True, False])


def confounding_table(sens: pd.DataFrame, language: str) -> Table:
    """Robustness values of the headline effects (window averages first, then each year)."""
    rows = []
    for r in sens.to_dict("records"):
        label, unit = outcome_label(r["outcome"], language)
        period = (t("years_span", language, first=int(r["year_from"]), last=int(r["year_to"]))
                  if r["kind"] == "window" else t("year_n", language, t=int(r["year_from"])))
        rows.append([label, period, nf.effect(r["estimate"], unit, language), nf.percent(r["partial_r2"], language),
                     nf.percent(r["rv"], language), nf.percent(r["rv_alpha"], language)])
    return Table(title=t("table_confounding", language),
                 columns=[col("outcome", language), col("period", language), col("estimate", language),
                          col("partial_r2", language), col("rv", language), col("rv_alpha", language)],
                 rows=rows, numeric=[False, False, True, True, True, True])


def model_term_label(term: str, language: str) -> str:
    """Label of a model term named as R names it (column + level, e.g. ``educationlang``)."""
    from regeval.reporting.labels import catalogue, has

    if has(term, "variable"):
        return t(term, language, "variable")
    spline = re.fullmatch(r"(.+)_s(\d+)", term)  # a spline term of the flexible logit (age_s3)
    if spline and has(spline.group(1), "variable"):
        return t("term_spline", language, name=t(spline.group(1), language, "variable"), i=spline.group(2))
    variables = sorted(catalogue()["variable"], key=len, reverse=True)
    for var in variables:
        if term.startswith(var):
            level = term[len(var):]
            if level == "TRUE":
                return term_label(var, None, language)
            return term_label(var, level or None, language)
    return term


def panel_table(panel: pd.DataFrame, language: str) -> Table:
    cols = [c for c in ("n_treated", "n_control", "n_control_censored", "n_censored_unmodelled") if c in panel.columns]
    spec = [("rel_year", col("rel_year", language), lambda v: nf.integer(v, language), True)]
    spec += [(c, code_label(c, language), lambda v: nf.integer(v, language), True) for c in cols]
    return build(panel.sort_values("rel_year"), spec, t("table_panel", language))


def levels_table(means: pd.DataFrame, outcomes: Sequence[str], language: str) -> Table:
    rows = []
    for outcome in outcomes:
        label, unit = outcome_label(outcome, language)
        sub = means[means["outcome"] == outcome]
        wide = sub.pivot(index="rel_year", columns="group", values="mean").sort_index()
        for year, r in wide.iterrows():
            rows.append([label, nf.integer(year, language), nf.level(r.get("treated"), unit, language),
                         nf.level(r.get("control"), unit, language)])
    return Table(title=t("table_levels", language),
                 columns=[col("outcome", language), col("rel_year", language), col("treated", language),
                          col("control", language)],
                 rows=rows, numeric=[False, True, True, True])


def sensitivity_table(sens: pd.DataFrame, language: str) -> Table:
    total = sens[sens["actor"] == "total"]
    wide = total.pivot(index="cost_factor", columns="discount_rate", values="net_pv").sort_index()
    rows = [[nf.percent(cf, language, 0), *(nf.kr(v, language) for v in r)] for cf, r in wide.iterrows()]
    return Table(title=t("table_sensitivity", language),
                 columns=[col("cost_factor", language),
                          *(f"{col('discount_rate', language)} {nf.percent(d, language)}" for d in wide.columns)],
                 rows=rows, numeric=[True] * (1 + len(wide.columns)))


def disclosure_table(log: dict[str, Any], titles: dict[str, str], language: str) -> Table:
    rows = [[titles.get(e["table"], e["table"]), nf.integer(e["rows"], language),
             nf.integer(e["suppressed_cells"], language)] for e in log["tables"]]
    return Table(title=t("table_disclosure", language),
                 columns=[col("title", language), col("rows", language), col("suppressed_cells", language)],
                 rows=rows, numeric=[False, True, True])


__all__ = ["WITHHELD", "Table", "balance_table", "build", "ci_text", "confounding_table",
           "disclosure_table", "effects_table", "flow_table", "levels_table", "matching_table", "panel_table",
           "placebo_table", "population_table", "propensity_table", "score_selection_table", "sensitivity_table",
           "stars_text", "window_truth", "windows_table"]
