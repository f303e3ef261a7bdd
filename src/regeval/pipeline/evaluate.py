"""A whole evaluation in memory: base population → propensity → matching → effects.

The Snakemake rules run these stages one file at a time; this module runs them
in one process on the same functions, for simulation studies, notebooks and
tests. Every function takes DataFrames and a :class:`regeval.pipeline.spec.Spec` (or
its parts), or their plain data (as :func:`regeval.pipeline.spec.resolve_spec` gives it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from regeval.pipeline.spec import EffectsSpec, MatchingSpec, Spec, as_spec
from regeval.population import characteristics as chars_mod
from regeval.stats.matching import MatchResult, match_nearest
from regeval.stats.propensity import PropensityFit, fit_propensity


@dataclass(frozen=True)
class ControlGroup:
    """The propensity fit (None for a model without coefficients), its scores (unit,
    score, logit; the units of the spec's control pool), the match, the matched units
    (unit, pnr, cohort, treated, weight) and the name of the score model used."""

    fit: PropensityFit | None
    scores: pd.DataFrame
    match: MatchResult
    matched: pd.DataFrame
    score_model: str = "logit"


def fit_scores(units: pd.DataFrame, characteristics: list[str], diagnosis_groups: list[str]) -> PropensityFit:
    """Logit propensity model of ``treated`` on the chosen characteristics."""
    cols, cat = chars_mod.expand(characteristics, diagnosis_groups)
    return fit_propensity(units, "treated", cols, categorical=cat)


def user_controls(units: pd.DataFrame, control_ids: pd.DataFrame) -> pd.DataFrame:
    """Matched units from a user-supplied control group instead of matching.

    ``control_ids`` has columns pnr and cohort. Every treated unit of a cohort with
    at least one listed control is kept (weight 1); the listed controls of a cohort
    share the cohort's treated weight equally (weight n_treated / n_controls), and
    control weights are then scaled to sum to the number of controls, as matching
    weights are. Ids that are not potential controls of that cohort are an error.
    """
    from regeval.errors import MatchingError

    missing_cols = {"pnr", "cohort"} - set(control_ids.columns)
    if missing_cols:
        raise MatchingError(f"control_ids: columns {sorted(missing_cols)} missing (need pnr, cohort)")
    for col in ("pnr", "cohort"):
        if pd.api.types.is_numeric_dtype(units[col]) != pd.api.types.is_numeric_dtype(control_ids[col]):
            raise MatchingError(
                f"control_ids: column {col} holds {control_ids[col].dtype} values but the base population's "
                f"{col} is {units[col].dtype}; write the ids as the registers do"
            )
    ids = control_ids[["pnr", "cohort"]].drop_duplicates()
    pool = units.loc[units["treated"] == 0, ["unit", "pnr", "cohort"]]
    found = ids.merge(pool, on=["pnr", "cohort"], how="left")
    bad = found["unit"].isna()
    if bad.any():
        ex = found.loc[bad, ["pnr", "cohort"]].head(5).to_dict("records")
        raise MatchingError(
            f"control_ids: {int(bad.sum())} of {len(found)} listed (pnr, cohort) pairs are not potential "
            f"controls of the base population (e.g. {ex})"
        )
    controls = units.loc[units["unit"].isin(found["unit"]), ["unit", "pnr", "cohort", "treated"]].copy()
    n_c = controls.groupby("cohort")["unit"].transform("size")
    kept = (units["treated"] == 1) & units["cohort"].isin(controls["cohort"])
    treated = units.loc[kept, ["unit", "pnr", "cohort", "treated"]].copy()
    n_t = treated.groupby("cohort")["unit"].size()
    controls["weight"] = controls["cohort"].map(n_t).fillna(0).to_numpy() / n_c.to_numpy()
    controls["weight"] *= len(controls) / controls["weight"].sum()
    treated["weight"] = 1.0
    out = pd.concat([treated, controls], ignore_index=True)
    out = out.sort_values(["cohort", "treated", "pnr"], ascending=[True, False, True], kind="stable")
    return out.reset_index(drop=True)


def match_units(
    units: pd.DataFrame, scores: pd.DataFrame, matching: MatchingSpec | Mapping[str, Any]
) -> tuple[MatchResult, pd.DataFrame]:
    """Match treated units to controls on the score (or its logit).

    ``scores`` has columns unit, score, logit. Returns the match and the matched
    units with their ATT weights, sorted by cohort, treated first, person id.
    """
    m = matching if isinstance(matching, MatchingSpec) else MatchingSpec.from_mapping(matching)
    base_cols = [c for c in ("unit", "pnr", "cohort", "treated", "sex", "municipality", "support") if c in units]
    data = units[base_cols].merge(scores, on="unit", how="left")
    data.index = data["unit"].to_numpy()
    res = match_nearest(
        data,
        "treated",
        "logit" if m.distance == "logit" else "score",
        k=int(m.k),
        replace=bool(m.replace),
        exact=list(m.exact) or None,
        caliper=m.caliper,
    )
    w = res.weights
    matched = data.loc[w.index[w.to_numpy() > 0], ["unit", "pnr", "cohort", "treated"]].copy()
    matched["weight"] = w[matched.index].to_numpy()
    matched = matched.sort_values(["cohort", "treated", "pnr"], ascending=[True, False, True], kind="stable")
    return res, matched.reset_index(drop=True)


def control_group(units: pd.DataFrame, spec: Spec | Mapping[str, Any], diagnosis_groups: list[str]) -> ControlGroup:
    """Propensity fit and matching for one spec, on the units its ``control_rule`` allows
    (:func:`regeval.population.base.control_pool`)."""
    from regeval.pipeline.scoring import choose_score, score_frame
    from regeval.population.base import control_pool

    spec = as_spec(spec)
    units = control_pool(units, spec.control_rule)
    sf, _ = choose_score(units, list(spec.characteristics), diagnosis_groups, spec.propensity)
    scores = score_frame(units, sf)
    res, matched = match_units(units, scores, spec.matching)
    return ControlGroup(sf.fit, scores, res, matched, sf.model)


def _effects(effects: EffectsSpec | Mapping[str, Any]) -> EffectsSpec:
    return effects if isinstance(effects, EffectsSpec) else EffectsSpec.from_mapping(effects)


def effect_options(panel: pd.DataFrame, effects: EffectsSpec | Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments of the effect functions for a spec's ``effects`` section."""
    e = _effects(effects)
    covs = list(e.covariates)
    cat = [c for c in covs if not pd.api.types.is_numeric_dtype(panel[c])]
    return dict(
        treatment="treated",
        rel_year="rel_year",
        weights="weight",
        cluster="person_id",
        covariates=covs,
        baseline_suffix="_pre" if e.adjust_for_baseline else None,
        alpha=float(e.alpha),
        categorical=cat,
    )


def panel_inputs(units: pd.DataFrame, matched: pd.DataFrame, effects: EffectsSpec | Mapping[str, Any]) -> pd.DataFrame:
    """Matched units with their baseline outcomes (values in t − 1) and covariates."""
    e = _effects(effects)
    keep = ["unit", *e.outcomes, *[c for c in unit_columns(e) if c not in e.outcomes]]
    return matched.merge(units[keep], on="unit", how="left")


def unit_columns(effects: EffectsSpec | Mapping[str, Any]) -> list[str]:
    """The unit columns the outcome panel carries: the covariates, then the extra
    characteristics of the doubly robust estimate."""
    e = _effects(effects)
    return [*e.covariates, *[c for c in e.dr_covariates if c not in e.covariates]]


def evaluate(
    sources: Mapping[str, Any],
    units: pd.DataFrame,
    spec: Spec | Mapping[str, Any],
    diagnosis_groups: list[str],
    last_data_year: int,
    control_rule: str | None = None,
) -> dict[str, Any]:
    """Control group, outcome panel and effect table of one spec, in memory.

    ``control_rule`` (default: the spec's) chooses the potential controls
    (:func:`regeval.population.base.control_pool`); with ``censor_at_start`` the panel's
    later participants are censored at their start and the remaining controls
    reweighted (:func:`apply_control_rule`).
    """
    from regeval.population.outcomes import build_outcome_panel, person_year_outcomes
    from regeval.stats.tables import effects_table

    spec = as_spec(spec)
    if control_rule is not None:
        spec = replace(spec, control_rule=control_rule)
    cg = control_group(units, spec, diagnosis_groups)
    eff = spec.effects
    lo, hi = eff.rel_years
    cohorts = cg.matched["cohort"]
    years = range(int(cohorts.min()) + lo, min(int(cohorts.max()) + hi, last_data_year) + 1)
    person_years = person_year_outcomes(sources, cg.matched["pnr"].unique(), years, list(eff.outcomes))
    panel = build_outcome_panel(
        person_years,
        panel_inputs(units, cg.matched, eff),
        list(eff.outcomes),
        eff.rel_years,
        last_data_year,
        unit_columns=unit_columns(eff),
    )
    panel, censoring = apply_control_rule(panel, units, cg.scores, spec.control_rule)
    table = effects_table(panel, list(eff.outcomes), vcov=eff.vcov, min_events=eff.min_events,
                          dr_covariates=list(eff.dr_covariates), **effect_options(panel, eff)).frame
    return {"control_group": cg, "panel": panel, "effects": table, "censoring": censoring}


def apply_control_rule(
    panel: pd.DataFrame, units: pd.DataFrame, scores: pd.DataFrame, control_rule: str
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The panel as the control rule wants it (unchanged unless ``censor_at_start``).

    ``units`` needs columns unit, pnr, cohort and first_start; ``scores`` unit and score
    (the propensity scores of every unit, used as start hazards).
    """
    from regeval.errors import ConfigError
    from regeval.population.outcomes import censor_at_start

    if control_rule != "censor_at_start":
        return panel, None
    if "first_start" not in units:
        raise ConfigError(
            "population.control_rule: censor_at_start needs the units' first_start column; "
            "rebuild the base population with this version"
        )
    first = units.loc[units["first_start"].notna()].drop_duplicates("pnr")
    first_start = pd.Series(first["first_start"].astype("int64").to_numpy(), index=first["pnr"].to_numpy())
    hazards = units[["unit", "pnr", "cohort"]].merge(scores[["unit", "score"]], on="unit", how="inner")
    return censor_at_start(panel, first_start, hazards)
