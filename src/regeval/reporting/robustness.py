"""The report's robustness checks, in words and tables: the balance verdict, the choice
of the propensity score, rare outcomes and the doubly robust estimate (beside the
effects), and the section on robustness (the placebo test before the start and the
sensitivity to an unobserved confounder).

Every builder reads a checked export table of :class:`regeval.reporting.sections.ReportData`
and returns texts from the translation catalogue (``catalogue.yaml``), in the report's
language; a check whose table was not exported says nothing. A warning is a
:class:`Note` with ``warning`` set (the templates mark it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from regeval.reporting import numbers as nf
from regeval.reporting import tableview as tv
from regeval.reporting.figures import CONFOUNDING_FIGURE
from regeval.reporting.labels import code_label, outcome_label, t, term_label

if TYPE_CHECKING:
    from regeval.reporting.sections import ReportData

MAX_NAMED = 8
"""At most this many cells or terms are named in a sentence; the rest are counted."""


@dataclass(frozen=True)
class Note:
    """A paragraph of the report; ``warning`` marks a check that failed."""

    text: str
    warning: bool = False


def _listed(names: list[str], language: str) -> str:
    shown = ", ".join(names[:MAX_NAMED])
    if len(names) > MAX_NAMED:
        shown += " " + t("and_more", language, n=len(names) - MAX_NAMED)
    return shown


# --- the control group -----------------------------------------------------------------

def score_model(d: ReportData) -> str:
    """The score model the spec's control group rests on (``logit`` when not recorded)."""
    sel = d.table("score_selection")
    if sel is None or not sel["chosen"].astype(bool).any():
        return "logit"
    return str(sel.loc[sel["chosen"].astype(bool), "model"].iloc[0])


def score_choice(d: ReportData) -> tuple[list[Note], list[tv.Table]]:
    """Which score model was used and why; the candidates' table when several were tried."""
    sel = d.table("score_selection")
    if sel is None or sel.empty:
        return [], []
    lang = d.language
    model = code_label(score_model(d), lang)
    if len(sel) == 1:
        return [Note(t("score_named", lang, model=model))], []
    notes = [Note(t("score_auto", lang, model=model,
                    models=", ".join(code_label(m, lang) for m in sel["model"].astype(str))))]
    failed = sel.loc[sel["note"].astype(str) == "not_fitted", "model"].astype(str).tolist()
    if failed:
        notes.append(Note(t("score_not_fitted", lang, models=", ".join(code_label(m, lang) for m in failed))))
    return notes, [tv.score_selection_table(sel, lang)]


def _failed_criteria(r: dict[str, Any], language: str) -> str:
    parts = []
    if not r["smd_ok"]:
        parts.append(t("balance_smd", language, value=nf.number(r["smd_after"], 3, language)))
    if not r["var_ratio_ok"]:
        parts.append(t("balance_var_ratio", language, value=nf.number(r["var_ratio_after"], 2, language)))
    if not r["ecdf_ok"]:
        parts.append(t("balance_ecdf", language, value=nf.number(r["ecdf_max_after"], 3, language)))
    return ", ".join(parts)


def balance_verdict(bal: pd.DataFrame, language: str) -> Note:
    """The balance after matching in words: every term balanced by the three criteria
    (:mod:`regeval.stats.balance_check`, columns ``smd_ok``, ``var_ratio_ok``, ``ecdf_ok``,
    ``balanced``), or a warning naming each term that is not and what failed."""
    fields = {"max_after": nf.number(bal["smd_after"].abs().max(), 3, language),
              "max_before": nf.number(bal["smd_before"].abs().max(), 3, language)}
    bad = bal[~bal["balanced"].astype(bool)]
    if bad.empty:
        return Note(t("balance_good", language, **fields))
    terms = [f"{term_label(r['variable'], r['level'], language)} ({_failed_criteria(r, language)})"
             for r in bad.to_dict("records")]
    return Note(t("balance_bad", language, n_bad=len(bad), n_terms=len(bal), terms=_listed(terms, language),
                  **fields), warning=True)


# --- the effects -----------------------------------------------------------------------

def effects_notes(d: ReportData) -> list[Note]:
    """Rare outcomes (stars withheld) and the doubly robust check, from the effect table."""
    eff = d.table("effects")
    if eff is None:
        return []
    lang = d.language
    notes = []
    withheld = eff["stars_withheld"].fillna(False).astype(bool) if "stars_withheld" in eff else None
    if withheld is not None and withheld.any():
        notes.append(Note(t("rare_events", lang, n=int(withheld.sum()), total=len(eff),
                            min_events=int(d.spec["effects"].get("min_events", 0)))))
    if "dr_estimate" in eff.columns:
        post = eff[eff["rel_year"] >= 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            gap = ((post["estimate"] - post["dr_estimate"]).abs() / post["se"]).to_numpy(dtype=float)
        big = post[gap > 1.0]
        if len(big):
            cells = [t("cell", lang, outcome=outcome_label(o, lang)[0], year=int(y))
                     for o, y in big[["outcome", "rel_year"]].itertuples(index=False)]
            notes.append(Note(t("dr_differ", lang, n=len(big), total=len(post), cells=_listed(cells, lang)),
                              warning=True))
        else:
            notes.append(Note(t("dr_agree", lang)))
    return notes


def dr_table_note(d: ReportData) -> str:
    """What the doubly robust column of the effect tables is ('' without one)."""
    eff = d.table("effects")
    covs = list(d.spec["effects"].get("doubly_robust_covariates") or [])
    if eff is None or "dr_estimate" not in eff.columns or not covs:
        return ""
    return t("effects_table_dr", d.language, chars="; ".join(term_label(c, None, d.language) for c in covs))


# --- the section on robustness ---------------------------------------------------------

def _placebo(d: ReportData) -> dict[str, Any] | None:
    pl = d.table("placebo_tests")
    if pl is None or pl.empty:
        return None
    lang = d.language
    alpha = nf.number(float(d.spec["effects"].get("alpha", 0.05)), 2, lang)
    assessed = pl["assessed"].astype(bool)
    failed = pl.loc[assessed & ~pl["passed"].astype(bool), "outcome"].astype(str).tolist()
    unjudged = pl.loc[~assessed, "outcome"].astype(str).tolist()
    notes = [Note(t("placebo_fail", lang, alpha=alpha, outcomes=_listed([outcome_label(o, lang)[0] for o in failed],
                                                                         lang)), warning=True)
             if failed else Note(t("placebo_ok", lang, alpha=alpha))]
    if unjudged:
        notes.append(Note(t("placebo_not_judged", lang, outcomes=", ".join(outcome_label(o, lang)[0]
                                                                          for o in unjudged))))
    return {"id": "placebo", "heading": t("placebo", lang),
            "text": t("placebo_intro", lang, first=nf.integer(pl["year_from"].min(), lang),
                      last=nf.integer(pl["year_to"].max(), lang)),
            "notes": notes, "tables": [tv.placebo_table(pl, lang)], "figures": []}


def _confounding(d: ReportData) -> dict[str, Any] | None:
    cs = d.table("confounding_sensitivity")
    if cs is None or cs.empty:
        return None
    lang = d.language
    notes = []
    for r in cs[cs["kind"] == "window"].to_dict("records"):
        if nf.is_missing(r["rv"]):
            continue
        fields: dict[str, Any] = {"outcome": outcome_label(r["outcome"], lang)[0], "first": int(r["year_from"]),
                  "last": int(r["year_to"]), "rv": nf.percent(r["rv"], lang)}
        significant = not nf.is_missing(r["rv_alpha"]) and float(r["rv_alpha"]) > 0  # 0: not significant
        notes.append(Note(t("confounding_window", lang, rv_alpha=nf.percent(r["rv_alpha"], lang), **fields)
                          if significant else t("confounding_window_ns", lang, **fields)))
    figure = d.figure(CONFOUNDING_FIGURE, t("figure_confounding_caption", lang))
    return {"id": "confounding", "heading": t("confounding", lang), "text": t("confounding_intro", lang),
            "notes": notes, "tables": [tv.confounding_table(cs, lang)], "figures": [figure] if figure else []}


def robustness(d: ReportData) -> dict[str, Any] | None:
    """The section on robustness: the placebo test and unobserved differences (None when
    neither table was exported)."""
    subsections = [s for s in (_placebo(d), _confounding(d)) if s is not None]
    if not subsections:
        return None
    return {"intro": t("robustness_intro", d.language), "subsections": subsections}


__all__ = ["Note", "balance_verdict", "dr_table_note", "effects_notes", "robustness", "score_choice", "score_model"]
