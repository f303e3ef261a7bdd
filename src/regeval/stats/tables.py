"""The exportable tables of the statistical stages, each with its disclosure metadata.

Every function returns an :class:`regeval.disclosure.meta.Aggregate`: the table and,
declared beside the code that computes it, which columns count the persons behind
each statistic (so the disclosure check can suppress what rests on too few). A column
added to a table here must be declared here too; :class:`Aggregate` refuses metadata
naming a column the table lacks.

The functions take the pipeline's layouts: units with ``treated`` (1/0); the outcome
panel of :func:`regeval.population.outcomes.build_outcome_panel` with ``person_id``,
``rel_year``, ``treated`` and ``weight``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from regeval.disclosure.meta import (
    HIDDEN_PREFIX,
    Aggregate,
    AggregateMeta,
    dominance_columns,
    top_contributions,
    value_columns,
)
from regeval.stats.balance import balance_table, descriptive_table
from regeval.stats.balance_check import BalanceThresholds, balance_verdict, distribution_terms
from regeval.stats.design import expand_covariates
from regeval.stats.effects import VcovType, estimate_effects, group_means, window_summary
from regeval.stats.placebo import placebo_table
from regeval.stats.robust_effects import doubly_robust_effects, honest_uncertainty
from regeval.stats.sensitivity import partial_r2, robustness_value

if TYPE_CHECKING:
    from regeval.stats.matching import MatchResult
    from regeval.stats.propensity import PropensityFit
    from regeval.stats.scores import ScoreFit

OVERLAP_BINS = 40
"""Equal-width bins of the propensity score on [0, 1] in the overlap table."""

EFFECT_COUNTS = ("n_treated", "n_control")


# ----------------------------------------------------------------------------- propensity
def propensity_model_table(fit: PropensityFit) -> Aggregate:
    """Coefficients and standard errors of the propensity model, with the numbers of
    treated and controls it was fitted on and its AUC."""
    coef = fit.coefficients.copy()
    coef.insert(0, "n_treated", fit.n_treated)
    coef.insert(1, "n_control", fit.n_control)
    coef["auc"] = fit.auc
    model = value_columns(coef, exclude=("n_treated", "n_control"))
    # residual degrees of freedom: observations minus estimated coefficients
    coef[f"{HIDDEN_PREFIX}dof"] = fit.n_treated + fit.n_control - len(coef)
    return Aggregate(
        coef,
        AggregateMeta(
            name="propensity_model",
            title="Propensity model (logit): coefficients, standard errors, AUC",
            kind="model",
            count_columns=("n_treated", "n_control"),
            counts={c: ["n_treated", "n_control"] for c in model},
            model_columns=tuple(model),
            links=(
                {"column": "n_treated", "key": "treated units"},
                {"column": "n_control", "key": "potential controls"},
            ),
        ),
    )


def score_model_table(sf: ScoreFit, units: pd.DataFrame) -> Aggregate:
    """The model table of a :class:`regeval.stats.scores.ScoreFit`: the logit's
    coefficients (:func:`propensity_model_table`), or for a model without coefficients
    (``gbm``) one row per input term with empty estimates."""
    if sf.fit is not None:
        return propensity_model_table(sf.fit)
    n_t = int((units["treated"] == 1).sum())
    coef = pd.DataFrame({"n_treated": n_t, "n_control": len(units) - n_t,
                         "term": pd.array(list(sf.terms), dtype="string"),
                         "estimate": np.nan, "std_error": np.nan, "z": np.nan, "p_value": np.nan, "auc": sf.auc})
    return Aggregate(
        coef,
        AggregateMeta(
            name="propensity_model",
            title=f"Propensity model ({sf.model}): terms and AUC (no coefficients)",
            kind="model",
            count_columns=("n_treated", "n_control"),
        ),
    )


def overlap_table(score: np.ndarray, treated: np.ndarray, bins: int = OVERLAP_BINS) -> Aggregate:
    """Binned counts of the propensity score by group (no per-person value leaves)."""
    edges = np.linspace(0, 1, bins + 1)
    score = np.asarray(score)
    treated = np.asarray(treated)
    rows = []
    for g, name in ((1, "treated"), (0, "control")):
        counts, _ = np.histogram(score[treated == g], bins=edges)
        for lo, hi, c in zip(edges[:-1], edges[1:], counts, strict=True):
            rows.append({"group": name, "bin_low": lo, "bin_high": hi, "n": int(c)})
    return Aggregate(
        pd.DataFrame(rows),
        AggregateMeta(
            name="propensity_overlap",
            title="Distribution of the propensity score by group (counts per bin)",
            kind="distribution",
            count_columns=("n",),
            # the bins of a group add up to its size (published elsewhere)
            secondary=({"by": ["group"], "cells": ["n"]},),
        ),
    )


# ----------------------------------------------------------------------------- matching
def matching_summary_table(
    result: MatchResult, *, k: int, replace: bool, exact: Sequence[str], caliper: float | None
) -> Aggregate:
    """Treated matched and unmatched (by reason), unique controls, their effective
    sample size and largest reuse; the title states the matching options."""
    unmatched = result.unmatched
    reasons = unmatched["reason"].value_counts() if len(unmatched) else pd.Series(dtype=int)
    fewer = [(r, c) for r, c in reasons.items() if str(r).startswith("fewer than k")]  # matched, fewer controls
    lost = [(r, c) for r, c in reasons.items() if not str(r).startswith("fewer than k")]
    n_c = result.n_controls_unique
    # the largest reuse is one control's value unless enough controls share it
    reuse = result.pairs["control"].value_counts() if len(result.pairs) else pd.Series(dtype=int)
    sharing_max = int((reuse == reuse.max()).sum()) if len(reuse) else 0
    summary = pd.DataFrame(
        [
            {"item": "treated", "value": float(result.n_treated), "n": result.n_treated, "part_of": ""},
            {"item": "treated matched", "value": float(result.n_treated_matched), "n": result.n_treated_matched,
             "part_of": "treated"},
            *[{"item": f"treated unmatched: {r}", "value": float(c), "n": int(c), "part_of": "treated"}
              for r, c in lost],
            {"item": "unique controls", "value": float(n_c), "n": n_c, "part_of": ""},
            {"item": "effective sample size of controls", "value": float(result.ess_control), "n": n_c, "part_of": ""},
            # n: the controls used that many times (an order statistic rests on those sharing it)
            {"item": "largest number of times a control is used", "value": float(result.max_control_reuse),
             "n": sharing_max, "part_of": ""},
            *[{"item": f"treated matched with fewer than k controls: {r}", "value": float(c), "n": int(c),
               "part_of": ""} for r, c in fewer],
        ]
    )
    return Aggregate(
        summary,
        AggregateMeta(
            name="matching_summary",
            title=f"Matching: k = {k}, {'with' if replace else 'without'} replacement, "
            f"exact on {', '.join(exact) or 'nothing'}, caliper {caliper}",
            kind="descriptive",
            counts={"value": ["n"]},
            count_columns=("n",),
            cell_sets=(("value", "n"),),
            # treated = matched + unmatched by reason
            secondary=({"by": ["part_of"], "cells": ["n"]},),
            links=(
                {"column": "n", "key": "treated units", "where": {"item": "treated"}},
                {"column": "n", "key": "matched treated", "where": {"item": "treated matched"}},
                # k = 1 without replacement: one control per matched treated
                *([{"column": "n", "key": "matched treated", "where": {"item": "unique controls"}}]
                  if k == 1 and not replace else []),
            ),
        ),
    )


def supplied_controls_summary_table(n_treated: int, matched: pd.DataFrame, source: str) -> Aggregate:
    """The summary of a user-supplied control group: treated, treated kept (those of
    cohorts with a listed control), controls and their effective sample size.
    ``matched``: units with ``treated`` and ``weight``; ``source``: the file's name."""
    n_t = int((matched["treated"] == 1).sum())
    n_c = int((matched["treated"] == 0).sum())
    w = matched.loc[matched["treated"] == 0, "weight"]
    ess = float(w.sum() ** 2 / (w**2).sum()) if len(w) else 0.0
    summary = pd.DataFrame(
        [
            {"item": "treated", "value": float(n_treated), "n": int(n_treated)},
            {"item": "treated matched", "value": float(n_t), "n": n_t},
            {"item": "unique controls", "value": float(n_c), "n": n_c},
            {"item": "effective sample size of controls", "value": ess, "n": n_c},
        ]
    )
    return Aggregate(
        summary,
        AggregateMeta(
            name="matching_summary",
            title=f"User-supplied control group from {source}",
            kind="descriptive",
            counts={"value": ["n"]},
            count_columns=("n",),
        ),
    )


# ----------------------------------------------------------------------------- balance
def cell_counts(
    table: pd.DataFrame, groups: Mapping[str, pd.DataFrame], variables: Sequence[str], categorical: Sequence[str]
) -> pd.DataFrame:
    """``table`` (rows ``term``, optionally ``variable``) with the persons behind every
    cell per group: ``n_<g>`` (non-missing), ``k_<g>`` (with the level / value 1) and
    ``nk_<g>`` (n − k); k is missing for continuous variables (their mean rests on n).
    A level nobody in a group has gets k = 0 and n − k = everyone with a value; the row
    ``term == "n"`` gets the group's size."""
    out = table.copy()
    for g, frame in groups.items():
        n_col, k_col, nk_col = {}, {}, {}
        tops: list[dict[str, float]] = [{}, {}, {}]
        for term, _var, _level, values in expand_covariates(frame, list(variables), categorical=list(categorical)):
            ok = ~np.isnan(values)
            n = int(ok.sum())
            binary = bool(np.isin(values[ok], (0.0, 1.0)).all())
            n_col[term] = n
            k_col[term] = float(values[ok].sum()) if binary else np.nan
            nk_col[term] = n - k_col[term] if binary else np.nan
            # magnitudes: the largest contributions, for the dominance rules (never exported)
            top = (np.nan, np.nan, np.nan) if binary else top_contributions(values[ok])
            for j in range(3):
                tops[j][term] = top[j]
        out[f"n_{g}"] = out["term"].map(n_col)
        out[f"k_{g}"] = out["term"].map(k_col)
        out[f"nk_{g}"] = out["term"].map(nk_col)
        for j, name in enumerate(dominance_columns(g)):
            out[name] = out["term"].map(tops[j])
        if "variable" in out.columns:
            absent = out[f"n_{g}"].isna() & out["variable"].isin(categorical)
            n_var = out.loc[absent, "variable"].map(lambda v, f=frame: int(f[v].notna().sum()))
            out.loc[absent, f"n_{g}"] = n_var
            out.loc[absent, f"k_{g}"] = 0.0
            out.loc[absent, f"nk_{g}"] = n_var
        first = out["term"] == "n"
        out.loc[first, f"n_{g}"] = len(frame)
    return out


def balance_with_counts(
    units: pd.DataFrame,
    weights: np.ndarray,
    variables: Sequence[str],
    categorical: Sequence[str],
    thresholds: BalanceThresholds | None = None,
) -> Aggregate:
    """Balance of ``variables`` before and after matching (:func:`balance_table`), with
    the numbers of treated and controls before and after and the persons behind every
    cell. ``weights``: the matching weight of every row of ``units`` (0 = not matched).

    Continuous variables also get their distribution terms
    (:func:`regeval.stats.balance_check.distribution_terms`), and every row its verdict
    against ``thresholds`` (columns ``smd_ok``, ``var_ratio_ok``, ``ecdf_ok``,
    ``balanced``; :func:`regeval.stats.balance_check.balance_verdict`)."""
    units, extra = distribution_terms(units, [v for v in variables if v not in set(categorical)])
    variables = [*variables, *extra]
    units = units.assign(_w=np.asarray(weights, dtype=float))
    treated, control, matched = units["treated"] == 1, units["treated"] == 0, units["_w"] > 0
    bal = balance_table(units, "treated", list(variables), weights="_w", categorical=list(categorical))
    bal.insert(0, "n_treated_before", int(treated.sum()))
    bal.insert(1, "n_control_before", int(control.sum()))
    bal.insert(2, "n_treated_after", int((treated & matched).sum()))
    bal.insert(3, "n_control_after", int((control & matched).sum()))
    cells = cell_counts(
        pd.DataFrame({"term": bal["term"], "variable": bal["variable"]}),
        {"treated": units[treated], "control_before": units[control], "control_after": units[control & matched]},
        variables,
        categorical,
    )
    cells = cells.drop(columns=["variable", *[c for c in cells.columns if c.startswith("n_")]])
    cells = cells.rename(columns={
        old: new
        for g, mean in (("treated", "mean_treated_before"), ("control_before", "mean_control_before"),
                        ("control_after", "mean_control_after"))
        for old, new in zip(dominance_columns(g), dominance_columns(mean), strict=True)
    })
    bal = bal.merge(cells, on="term", how="left")
    for old, new in zip(dominance_columns("mean_treated_before"), dominance_columns("mean_treated_after"), strict=True):
        bal[new] = bal[old]  # the treated are the same persons before and after (all matched treated: a bound)
    bal = balance_verdict(bal, thresholds or BalanceThresholds())
    k_t = ["k_treated", "nk_treated"]
    both_before = ["n_treated_before", "n_control_before", *k_t, "k_control_before", "nk_control_before"]
    both_after = ["n_treated_after", "n_control_after", *k_t, "k_control_after", "nk_control_after"]
    counts = {
        "mean_treated_before": ["n_treated_before", *k_t],
        "mean_treated_after": ["n_treated_after", *k_t],
        "mean_control_before": ["n_control_before", "k_control_before", "nk_control_before"],
        "mean_control_after": ["n_control_after", "k_control_after", "nk_control_after"],
    }
    for c in bal.columns:
        if (c not in counts and pd.api.types.is_numeric_dtype(bal[c]) and not c.startswith(("n_", "k_", "nk_"))
                and not c.startswith(HIDDEN_PREFIX)):
            counts[c] = both_before if c.endswith("_before") else both_after
    return Aggregate(
        bal,
        AggregateMeta(
            name="balance",
            title="Balance of the matching characteristics before and after matching",
            kind="descriptive",
            counts=counts,
            count_columns=(
                "n_treated_before", "n_control_before", "n_treated_after", "n_control_after",
                "k_treated", "nk_treated", "k_control_before", "nk_control_before",
                "k_control_after", "nk_control_after",
            ),
            dominance=tuple(counts)[:4],
            # a mean beside its n gives k; the standardised difference and the two means of a
            # row give each other
            reveals={
                "mean_treated_before": k_t, "mean_treated_after": k_t,
                "mean_control_before": ["k_control_before", "nk_control_before"],
                "mean_control_after": ["k_control_after", "nk_control_after"],
            },
            cell_sets=(
                tuple(c for c in counts if c.endswith("_before")), tuple(c for c in counts if c.endswith("_after")),
            ),
            secondary=({"by": ["variable"], "cells": ["k_treated", "k_control_before", "k_control_after"]},),
            links=(
                {"column": "n_treated_before", "key": "treated units"},
                {"column": "n_treated_after", "key": "matched treated"},
                {"column": "n_control_after", "key": "matched control units"},
                {"column": "k_treated", "key": "treated units", "by": {"cohort": "level"},
                 "where": {"variable": "cohort_year"}},
            ),
        ),
    )


DESCRIPTIVE_GROUPS = ("participants", "matched_controls", "population")


def descriptives_with_counts(
    units: pd.DataFrame,
    weights: np.ndarray,
    variables: Sequence[str],
    categorical: Sequence[str],
    population: pd.DataFrame,
) -> Aggregate:
    """The report's three-column table: participants, matched controls (weighted) and
    the whole population (``population``: rows ``variable``, ``level`` with columns
    ``population``, ``n_population``, ``k_population``, ``nk_population``), with the
    persons behind every cell."""
    units = units.assign(_w=np.asarray(weights, dtype=float))
    treated = units[units["treated"] == 1]
    controls = units[(units["treated"] == 0) & (units["_w"] > 0)]
    groups = {"participants": treated, "matched_controls": controls}
    desc = descriptive_table(
        groups, list(variables), weights={"participants": None, "matched_controls": controls["_w"]},
        categorical=list(categorical),
    )
    desc = cell_counts(desc, groups, variables, categorical)
    desc = _with_population(desc, population)
    names = DESCRIPTIVE_GROUPS
    return Aggregate(
        desc,
        AggregateMeta(
            name="descriptives",
            title="Participants, matched controls and the whole population aged 18–64",
            kind="descriptive",
            counts={g: [f"n_{g}", f"k_{g}", f"nk_{g}"] for g in names},
            count_columns=tuple(f"{p}_{g}" for g in names for p in ("n", "k", "nk")),
            cell_sets=tuple((g, f"k_{g}", f"nk_{g}") for g in names),
            # the levels of a characteristic add up to the group
            secondary=({"by": ["variable"], "cells": [f"k_{g}" for g in names]},),
            dominance=("participants", "matched_controls"),
            links=(
                {"column": "k_participants", "key": "treated units", "by": {"cohort": "level"},
                 "where": {"variable": "cohort_year"}},
                {"column": "k_matched_controls", "key": "matched control units", "by": {"cohort": "level"},
                 "where": {"variable": "cohort_year"}},
            ),
        ),
    )


def _with_population(desc: pd.DataFrame, population: pd.DataFrame) -> pd.DataFrame:
    key_cols = [c for c in ("variable", "level") if c in desc.columns]
    pm = population.copy()
    pm["level"] = pm["level"].fillna("").astype(str)
    if "level" in desc.columns:
        desc = desc.assign(level=desc["level"].fillna("").astype(str))
    cols = ["variable", "level", "population", "n_population", "k_population", "nk_population"]
    return desc.merge(pm[[c for c in cols if c in pm.columns]], on=key_cols, how="left")


# ----------------------------------------------------------------------------- effects
def outcome_cell_counts(panel: pd.DataFrame, outcomes: Sequence[str]) -> pd.DataFrame:
    """Persons with a non-zero value (``k``) and, for 0/1 outcomes, with zero (``nk``),
    per outcome, relative year and group: the cells behind every mean and share; for
    other outcomes (magnitudes) also the largest, second-largest and total weighted
    contribution (hidden columns ``_sdc_top1``, ``_sdc_top2``, ``_sdc_total``, for the
    dominance rules; they never leave the machine)."""
    rows = []
    for o in outcomes:
        cols = ["person_id", "rel_year", "treated", o, *(["weight"] if "weight" in panel.columns else [])]
        d = panel.loc[panel[o].notna(), cols]
        binary = bool(d[o].isin([0.0, 1.0]).all())
        nonzero = d[d[o] != 0].groupby(["rel_year", "treated"])["person_id"].nunique()
        zero = d[d[o] == 0].groupby(["rel_year", "treated"])["person_id"].nunique()
        for (r, t), cell in d.groupby(["rel_year", "treated"]):
            row = {
                "outcome": o,
                "rel_year": int(r),
                "group": "treated" if t == 1 else "control",
                "k": int(nonzero.get((r, t), 0)),
                "nk": int(zero.get((r, t), 0)) if binary else np.nan,
            }
            # a person's contribution: the sum of its weighted values in the cell
            weighted = cell[o] * (cell["weight"] if "weight" in cell else 1.0)
            contrib = weighted.groupby(cell["person_id"]).sum()
            top = top_contributions(contrib.to_numpy()) if not binary else (np.nan, np.nan, np.nan)
            names = (f"{HIDDEN_PREFIX}top1", f"{HIDDEN_PREFIX}top2", f"{HIDDEN_PREFIX}total")
            row.update(dict(zip(names, top, strict=True)))
            rows.append(row)
    return pd.DataFrame(rows)


def _hidden_contributions(cells: pd.DataFrame, column: str) -> dict[str, str]:
    """Names of the hidden contribution columns of ``cells`` for the value ``column``."""
    return dict(zip((f"{HIDDEN_PREFIX}top1", f"{HIDDEN_PREFIX}top2", f"{HIDDEN_PREFIX}total"),
                    dominance_columns(column), strict=True))


def effects_table(
    panel: pd.DataFrame,
    outcomes: Sequence[str],
    *,
    vcov: VcovType,
    cells: pd.DataFrame | None = None,
    min_events: int = 0,
    dr_covariates: Sequence[str] = (),
    **options: Any,
) -> Aggregate:
    """Effects per outcome and relative year (:func:`estimate_effects` with ``vcov`` and
    ``options``), with the persons behind the group means. ``cells``: the panel's
    :func:`outcome_cell_counts`, if already computed.

    ``min_events``: the rare-event rule (:func:`regeval.stats.robust_effects.honest_uncertainty`;
    0 = off, the published method); ``dr_covariates``: the extra characteristics of the
    doubly robust estimate shown beside (columns ``dr_*``; none = no such columns)."""
    table = estimate_effects(panel, list(outcomes), vcov=vcov, **options)
    cells = outcome_cell_counts(panel, outcomes) if cells is None else cells
    hidden = [c for c in cells.columns if c.startswith(HIDDEN_PREFIX)]
    wide = cells.pivot(index=["outcome", "rel_year"], columns="group", values=["k", "nk", *hidden])
    wide.columns = [f"{a}_{b}" for a, b in wide.columns]
    wide = wide.rename(columns={f"{h}_{g}": dominance_columns(f"mean_{g}")[i]
                                for g in ("treated", "control") for i, h in enumerate(hidden)})
    table = table.merge(wide.reset_index(), on=["outcome", "rel_year"], how="left")
    table = honest_uncertainty(panel, outcomes, table, min_events=min_events, vcov=vcov, **options)
    if dr_covariates:
        dr = doubly_robust_effects(panel, outcomes, dr_covariates, vcov=vcov, **options)
        table = table.merge(dr, on=["outcome", "rel_year"], how="left")
    model = value_columns(table, exclude=("rel_year", *EFFECT_COUNTS, "mean_treated", "mean_control"),
                          prefixes=("k_", "nk_", "n_"))
    # an effect is a difference of the two group means: it rests on the persons with and
    # without the outcome in both groups (estimate + the control mean give the treated mean);
    # so do the doubly robust estimate and the rare-event columns beside it
    cells_behind = [*EFFECT_COUNTS, "k_treated", "nk_treated", "k_control", "nk_control"]
    counts: dict[str, list[str]] = {c: cells_behind for c in model}
    counts["mean_treated"] = ["n_treated", "k_treated", "nk_treated"]
    counts["mean_control"] = ["n_control", "k_control", "nk_control"]
    table[f"{HIDDEN_PREFIX}dof"] = table["n_treated"] + table["n_control"] - 2
    binary = table["nk_treated"].notna() & table["nk_control"].notna()
    return Aggregate(
        table,
        AggregateMeta(
            name="effects",
            title="Effects per outcome and year relative to start (weighted OLS, 95 % CI)",
            kind="regression",
            counts=counts,
            count_columns=(
                "n_treated", "n_control", "n_obs", "n_clusters", "n_missing_outcome",
                "k_treated", "nk_treated", "k_control", "nk_control",
            ),
            # either mean with the estimate (and its CI) gives the other
            cell_sets=(("mean_treated", "mean_control", *model,
                        *[c for c in ("stars", "stars_withheld", "se_rule") if c in table]),),
            # a published mean with n gives k (and n − k); a published k and nk give n
            reveals={
                "mean_treated": ["k_treated", "nk_treated"], "mean_control": ["k_control", "nk_control"],
                "n_treated": ["k_treated", "nk_treated"], "n_control": ["k_control", "nk_control"],
            },
            # n = k + nk for the treated where the outcome is 0/1 (rows of other outcomes have no
            # nk; a control person can be in several matched sets, so k + nk may exceed n_control)
            row_sums=(["n_treated", ["k_treated", "nk_treated"]],),
            dominance=("mean_treated", "mean_control") if not bool(binary.all()) else (),
            model_columns=tuple(model),
            links=(
                {"column": "n_treated", "key": "treated with data", "by": {"rel_year": "rel_year"}},
                {"column": "n_control", "key": "controls with data", "by": {"rel_year": "rel_year"}},
            ),
        ),
    )


def group_means_table(
    panel: pd.DataFrame, outcomes: Sequence[str], *, alpha: float, cells: pd.DataFrame | None = None
) -> Aggregate:
    """Weighted means of each outcome for participants and matched controls per
    relative year (:func:`group_means`, clustered on person), with their cells."""
    means = group_means(
        panel, list(outcomes), treatment="treated", rel_year="rel_year", weights="weight",
        cluster="person_id", alpha=float(alpha),
    )
    cells = outcome_cell_counts(panel, outcomes) if cells is None else cells
    means = means.merge(cells.rename(columns=_hidden_contributions(cells, "mean")), on=["outcome", "rel_year", "group"],
                        how="left")
    magnitude = means[dominance_columns("mean")[2]].notna().any() if dominance_columns("mean")[2] in means else False
    return Aggregate(
        means,
        AggregateMeta(
            name="group_means",
            title="Levels of each outcome for participants and matched controls (weighted means, 95 % CI)",
            kind="descriptive",
            counts={c: ["n", "k", "nk"] for c in value_columns(means, exclude=("rel_year", "n", "k", "nk", "n_obs"))},
            count_columns=("n", "k", "nk", "n_obs"),
            cell_sets=(("mean", "se", "ci_low", "ci_high"),),
            # the treated and control rows of a year: the effect (published) and one mean give the other
            row_sets=({"by": ["outcome", "rel_year"], "columns": ["mean", "se", "ci_low", "ci_high"]},),
            reveals={"mean": ["k", "nk"], "n": ["k", "nk"]},
            dominance=("mean",) if magnitude else (),
            links=(
                {"column": "n", "key": "treated with data", "by": {"rel_year": "rel_year"},
                 "where": {"group": "treated"}},
                {"column": "n", "key": "controls with data", "by": {"rel_year": "rel_year"},
                 "where": {"group": "control"}},
            ),
        ),
    )


def windows_table(
    panel: pd.DataFrame, windows: Sequence[tuple[str, int, int]], **options: Any
) -> Aggregate:
    """Average effects over windows ``(outcome, first, last relative year)``
    (:func:`window_summary` with ``options``)."""
    rows = [window_summary(panel, outcome, years=range(int(lo), int(hi) + 1), **options) for outcome, lo, hi in windows]
    win = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        {"outcome": [], "estimate": [], "n_treated": [], "n_control": []}
    )
    values = value_columns(win, exclude=(*EFFECT_COUNTS, "year_from", "year_to", "n_years"))
    return Aggregate(
        win,
        AggregateMeta(
            name="effect_windows",
            title="Average effects over windows of years relative to start",
            kind="regression",
            counts={c: list(EFFECT_COUNTS) for c in values},
            count_columns=(*EFFECT_COUNTS, *(c for c in ("n_obs", "n_clusters") if c in win.columns)),
            # an average of the yearly effects: published only if every year's effect is
            derived_from=({"table": "effects", "column": "estimate", "match": {"outcome": "outcome"},
                           "between": ["rel_year", "year_from", "year_to"], "columns": list(values)},),
        ),
    )


def placebo_tests_table(
    panel: pd.DataFrame, outcomes: Sequence[str], years: Sequence[int], rare: Sequence[str] = (), **options: Any
) -> Aggregate:
    """The joint pre-period test per outcome (:func:`regeval.stats.placebo.joint_pretest`
    over ``years``), with the persons it rests on. Outcomes in ``rare`` (too few persons
    with the event in a pre-period year, where the clustered covariance collapses) are
    not judged: ``assessed`` false, ``passed`` true, note ``too_few_events``."""
    table = placebo_table(panel, list(outcomes), years, **options)
    table["assessed"] = ~table["outcome"].isin(list(rare))
    table.loc[~table["assessed"], "passed"] = True
    table.loc[~table["assessed"], "note"] = "too_few_events"  # not judged: too few persons with the event
    return Aggregate(
        table,
        AggregateMeta(
            name="placebo_tests",
            title="Placebo: joint test of zero effects before start, per outcome",
            kind="regression",
            counts={c: list(EFFECT_COUNTS) for c in ("chi2", "df", "p", "max_abs_z")},
            count_columns=EFFECT_COUNTS,
            # computed from the yearly effects before start (the largest |z| is one of them):
            # published only if every year's effect is
            derived_from=({"table": "effects", "column": "estimate", "match": {"outcome": "outcome"},
                           "between": ["rel_year", "year_from", "year_to"],
                           "columns": ["chi2", "df", "p", "max_abs_z", "passed"]},),
        ),
    )


def confounding_table(effects: pd.DataFrame, windows: pd.DataFrame, outcomes: Sequence[str], alpha: float) -> Aggregate:
    """How strong an unobserved confounder would have to be to explain each headline
    effect away: for every window average and every year from start of ``outcomes``, the
    partial R^2 of participation with the outcome and the robustness values ``rv`` (to
    remove the estimate) and ``rv_alpha`` (to make it not significant at ``alpha``) of
    :mod:`regeval.stats.sensitivity`, with ``dof`` the number of persons minus one."""
    rows = []
    parts = [("window", windows)]
    eff = effects[effects["outcome"].isin(list(outcomes)) & (effects["rel_year"] >= 0)]
    parts.append(("year", eff))
    for kind, frame in parts:
        for r in frame.itertuples(index=False):
            t = float(r.estimate) / float(r.se) if float(r.se) > 0 else float("nan")
            dof = float(r.n_clusters) - 1 if pd.notna(r.n_clusters) else float("nan")
            rows.append({
                "outcome": r.outcome, "kind": kind,
                "year_from": int(getattr(r, "year_from", getattr(r, "rel_year", 0))),
                "year_to": int(getattr(r, "year_to", getattr(r, "rel_year", 0))),
                "estimate": float(r.estimate), "se": float(r.se), "t": t, "dof": dof,
                "partial_r2": partial_r2(t, dof), "rv": robustness_value(t, dof),
                "rv_alpha": robustness_value(t, dof, alpha=alpha),
                "n_treated": int(r.n_treated), "n_control": int(r.n_control),
            })
    cols = ["outcome", "kind", "year_from", "year_to", "estimate", "se", "t", "dof", "partial_r2", "rv", "rv_alpha",
            "n_treated", "n_control"]
    table = pd.DataFrame(rows, columns=cols)
    return Aggregate(
        table,
        AggregateMeta(
            name="confounding_sensitivity",
            title="Unobserved confounding: how strong a hidden confounder would have to be to explain each effect away",
            kind="regression",
            counts={c: list(EFFECT_COUNTS) for c in ("estimate", "se", "t", "dof", "partial_r2", "rv", "rv_alpha")},
            count_columns=EFFECT_COUNTS,
            # copies of yearly effects and of window averages of them: published only if
            # every year's effect is
            derived_from=({"table": "effects", "column": "estimate", "match": {"outcome": "outcome"},
                           "between": ["rel_year", "year_from", "year_to"],
                           "columns": ["estimate", "se", "t", "dof", "partial_r2", "rv", "rv_alpha"]},),
        ),
    )


__all__ = [
    "confounding_table", "placebo_tests_table",
    "DESCRIPTIVE_GROUPS", "OVERLAP_BINS", "balance_with_counts", "cell_counts", "descriptives_with_counts",
    "effects_table", "group_means_table", "matching_summary_table", "outcome_cell_counts", "overlap_table",
    "propensity_model_table", "score_model_table", "supplied_controls_summary_table", "windows_table",
]
