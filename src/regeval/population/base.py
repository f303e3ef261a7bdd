"""Base population, treated group and matching characteristics per cohort year.

Definitions (method.md §1, configurable in ``population`` of the config):

* **Cohort year** ``t``: the calendar year of a participant's first start.
* **Base population** of cohort ``t``: persons resident at the end of ``t − 1``,
  aged ``age_min``–``age_max`` in ``t − 1``, whose primary income support in
  ``t − 1`` is one of ``support_types`` (default FØP, flex job, flex-job
  unemployment benefit = visited to flex job), and with a diagnosis in one of the
  ``base_diagnosis_groups`` first registered in ``t − 1`` or earlier.
* **Treated** of cohort ``t``: participants with a person id whose first start year
  is ``t``, resident at the end of ``t − 1`` and in the base population of ``t``.
  Each participant is treated once, in the first year.
* **Potential controls** of cohort ``t``: base-population members of ``t`` who are not
  treated and have not started by ``t`` (later participants may be controls before
  they start). A spec's ``control_rule`` (default ``population.control_rule``) decides
  which of them it uses (:func:`control_pool`): ``not_yet_participated`` and
  ``censor_at_start`` (default) all of them, ``never_participated`` only those who never
  appear in the participant file with a person id. ``censor_at_start`` in addition ends a later
  participant's control rows at its own start and reweights the controls who remain
  by the inverse probability of not having started
  (:func:`regeval.population.outcomes.censor_at_start`). A person may be a potential control in
  several cohort years. Every unit carries ``first_start``, the person's first start
  year over all its participant numbers (missing if never).

All characteristics are measured in ``t − 1`` (employment degree 2–5 years before
from ``t − 5`` … ``t − 2``). A *unit* is a (person, cohort) pair.

The **population flow** counts, per cohort, the participants, those with a person id,
resident at the end of ``t − 1``, in the base population, and the base population and
potential controls. Participants whose first start year is not one of the cohorts are
not analysed but counted too, in rows with ``analysed`` false (with a warning), so the
flow adds up to the participant file. A base population without any treated unit or
without any potential control is an error (:class:`regeval.errors.PopulationError`)
that names where everybody was lost and the config key to check.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from regeval.errors import ConfigError, PopulationError, RegevalWarning
from regeval.population.panel import diagnosis_groups, participants_first_year, yearly_variables
from regeval.registers.memory import release_freed_memory
from regeval.registers.read import TableSource, read_table

CONTROL_RULES = ("never_participated", "not_yet_participated", "censor_at_start")


@dataclass(frozen=True)
class PopulationSpec:
    """The base-population definition (config section ``population``)."""

    cohorts: tuple[int, ...]
    age_min: int
    age_max: int
    support_types: tuple[str, ...]
    diagnosis_groups: Mapping[str, tuple[str, ...]]
    base_diagnosis_groups: tuple[str, ...]
    education_levels: Mapping[str, tuple[int, ...]]
    control_rule: str = "censor_at_start"

    def __post_init__(self) -> None:
        if self.control_rule not in CONTROL_RULES:
            raise ConfigError(
                f"population.control_rule: {self.control_rule!r} is not one of {list(CONTROL_RULES)}"
            )
        unknown = sorted(set(self.base_diagnosis_groups) - set(self.diagnosis_groups))
        if unknown:
            raise ConfigError(
                f"population.base_diagnosis_groups: {unknown} are not defined in "
                f"population.diagnosis_groups ({sorted(self.diagnosis_groups)})"
            )
        if self.age_min > self.age_max:
            raise ConfigError("population.age_min is larger than population.age_max")

    @classmethod
    def from_config(cls, cfg: Mapping[str, object]) -> PopulationSpec:
        groups = {str(k): tuple(str(c) for c in v) for k, v in dict(cfg["diagnosis_groups"]).items()}  # type: ignore[call-overload]
        base = cfg.get("base_diagnosis_groups") or list(groups)
        return cls(
            cohorts=tuple(int(c) for c in cfg["cohorts"]),  # type: ignore[attr-defined]
            age_min=int(cfg["age_min"]),  # type: ignore[call-overload]
            age_max=int(cfg["age_max"]),  # type: ignore[call-overload]
            support_types=tuple(str(s) for s in cfg["support_types"]),  # type: ignore[attr-defined]
            diagnosis_groups=groups,
            base_diagnosis_groups=tuple(str(g) for g in base),  # type: ignore[attr-defined]
            education_levels={
                str(k): tuple(int(x) for x in v) for k, v in dict(cfg["education_levels"]).items()  # type: ignore[call-overload]
            },
            control_rule=str(cfg.get("control_rule", "censor_at_start")),
        )


@dataclass(frozen=True)
class BasePopulation:
    """Units (person × cohort) with characteristics, and the population flow."""

    units: pd.DataFrame
    flow: pd.DataFrame


def _member(values: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Boolean mask: which elements of ``values`` are in ``allowed``.

    A hash lookup (linear in the number of elements, for integer and string person ids
    alike); never ``np.isin``, which compares object arrays pairwise.
    """
    return pd.Index(np.asarray(allowed)).unique().get_indexer(np.asarray(values)) >= 0


def _keep(values: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Sorted unique elements of ``values`` that are in ``allowed``."""
    values = pd.unique(np.asarray(values))
    return np.sort(values[_member(values, allowed)])


def _age_group(age: pd.Series) -> pd.Series:
    bins = [-1, 24, 29, 39, 49, 200]
    labels = ["18-24", "25-29", "30-39", "40-49", "50-64"]
    return pd.cut(age, bins=bins, labels=labels).astype(str)


def _employment_history(
    sources: Mapping[str, TableSource], years: Sequence[int], persons: np.ndarray | None
) -> pd.DataFrame:
    """Full-time days per person and year (only person-years with employment)."""
    return read_table(sources["beskaeftigelse"], ["pnr", "aar", "fuldtid_dage"], years=years, persons=persons)


def _degree_2_5(employment: pd.DataFrame, cohort: int) -> pd.Series:
    """Employment degree 2–5 years before start, per person (only persons with employment)."""
    hist = employment[(employment["aar"] >= cohort - 5) & (employment["aar"] <= cohort - 2)]
    return hist.groupby("pnr")["fuldtid_dage"].sum() / (4 * 365.0)


def _diagnosis_indicator(pnr: pd.Series, diagnoses: pd.DataFrame, group: str) -> pd.Series:
    """1.0 for the persons of ``pnr`` with a diagnosis of ``group`` (``diagnoses`` already
    restricted to the years before the cohort), else 0.0."""
    return pnr.isin(diagnoses.loc[diagnoses["group"] == group, "pnr"].to_numpy()).astype(float)


def _n_diagnosis_label(n_diag: pd.Series) -> np.ndarray:
    return np.where(n_diag >= 3, "3+", n_diag.astype(str))


def _characteristics_of_cohort(
    units: pd.DataFrame,
    cohort: int,
    before: pd.DataFrame,
    deg25: pd.Series,
    diagnoses: pd.DataFrame,
    spec: PopulationSpec,
) -> pd.DataFrame:
    """The characteristics of the cohort's ``units``: ``before`` (the yearly variables of
    the year before start), ``deg25`` (:func:`_degree_2_5` of the cohort) and the diagnoses."""
    u = units.merge(before.drop(columns=["year"]), on="pnr", how="left")
    u["employment_degree_1"] = u["fulltime_days"] / 365.0
    u["employment_degree_2_5"] = u["pnr"].map(deg25).fillna(0.0).to_numpy()
    d = diagnoses[diagnoses["first_year"] <= cohort - 1]
    for g in spec.diagnosis_groups:
        u[f"diag_{g}"] = _diagnosis_indicator(u["pnr"], d, g)
    diag_cols = [f"diag_{g}" for g in spec.diagnosis_groups]
    n_diag = u[diag_cols].sum(axis=1).astype(int)
    u["n_diagnosis_groups"] = _n_diagnosis_label(n_diag)
    u["age_group"] = _age_group(u["age"])
    u["cohort_year"] = u["cohort"].astype(str)
    return u


class _PopulationColumns:
    """The characteristics of everybody aged ``age_min``–``age_max`` (rows ``aged`` of
    ``before``), as :func:`_characteristics_of_cohort` computes them for units of all
    these persons, but one column at a time and only when asked for: the population
    means never hold the whole population's characteristics at once (at national scale
    that is a copy of every variable of 3 million persons). The columns hold the same
    values in the same order (the units' rows follow ``before``'s; the person is the
    key of one year of bef), so every mean is the same sum of the same numbers."""

    def __init__(
        self,
        before: pd.DataFrame,
        aged: np.ndarray,
        cohort: int,
        deg25: pd.Series,
        diagnoses: pd.DataFrame,
        spec: PopulationSpec,
    ) -> None:
        self.before, self.aged, self.cohort, self.spec = before, aged, cohort, spec
        self.pnr = self.base("pnr")
        self.n = len(self.pnr)
        self.deg25 = deg25
        self.diagnoses = diagnoses[diagnoses["first_year"] <= cohort - 1]

    def __len__(self) -> int:
        return self.n

    def base(self, name: str) -> pd.Series:
        """A variable of ``before`` for the persons of the age range."""
        return pd.Series(self.before[name].to_numpy()[self.aged], name=name)

    def __getitem__(self, name: str) -> pd.Series:
        if name == "employment_degree_1":
            return self.base("fulltime_days") / 365.0
        if name == "employment_degree_2_5":
            return pd.Series(self.pnr.map(self.deg25).fillna(0.0).to_numpy())
        if name.startswith("diag_") and name[5:] in self.spec.diagnosis_groups:
            return _diagnosis_indicator(self.pnr, self.diagnoses, name[5:])
        if name == "n_diagnosis_groups":
            n_diag = pd.Series(np.zeros(self.n, dtype=np.int64))
            for g in self.spec.diagnosis_groups:  # sums of 0/1: exact in any order
                n_diag += _diagnosis_indicator(self.pnr, self.diagnoses, g).astype(int)
            return pd.Series(_n_diagnosis_label(n_diag))
        if name == "age_group":
            return _age_group(self.base("age"))
        if name == "cohort_year":
            return pd.Series(np.full(self.n, str(self.cohort), dtype=object))
        return self.base(name)


POPULATION_CHECKS: tuple[str, ...] = (
    "participants outside cohorts",
    "no treated unit",
    "no potential control",
    "cohort without potential controls",
    "nobody in the age range",
)
"""The checks of the base-population steps (errors and warnings), in the order of their
table in ``docs/data_contract.md`` (a test keeps the two in agreement)."""

FLOW_COLUMNS: tuple[str, ...] = (
    "cohort",
    "analysed",
    "participants",
    "with_person_id",
    "resident_year_before",
    "in_base_population",
    "base_population",
    "potential_controls",
)
"""Columns of the population flow. A row per analysed cohort (``analysed`` true) and per
other year in which participants first started (``analysed`` false: they are counted,
not analysed; the later steps of the flow are missing for them)."""


def build_base_population(
    sources: Mapping[str, TableSource], spec: PopulationSpec
) -> BasePopulation:
    """Build the units table (treated and potential controls) and the flow table.

    Raises
    ------
    PopulationError
        If no cohort has a treated unit, or no cohort a potential control: the message
        names the step of the flow where everybody was lost and the config key to check.

    Warns
    -----
    RegevalWarning
        If participants first started in years outside ``population.cohorts`` (they are
        counted in the flow, not analysed), or a cohort has treated but no potential
        controls.
    """
    return build_population(sources, spec)[0]


def build_population(
    sources: Mapping[str, TableSource],
    spec: PopulationSpec,
    means_of: tuple[Sequence[str], Sequence[str]] | None = None,
) -> tuple[BasePopulation, pd.DataFrame | None]:
    """The base population (:func:`build_base_population`) and, given ``means_of``
    (variables, categorical ones), the whole population's means (:func:`population_means`),
    from one read of each register year.

    For each cohort the variables of the year before start are built once for the whole
    population (every register read once for that year, filtered to its columns); the
    base-population criteria, the characteristics of the cohort's units and the
    population means all come from them. The employment history (full-time days of the
    four years before) is read once for all cohorts. (The units' characteristics are the rows of their
    persons: the same values as measured for the units alone.) The support criterion
    reads the support type from the yearly variables, where a resident person-year
    without a ``forsorg`` row is ``oevrig``: ``forsorg`` is dense (validation), so every
    resident person-year has its row.
    """
    participants = participants_first_year(sources)
    linked = participants.dropna(subset=["pnr"])
    first_by_person = linked.groupby("pnr")["first_year"].min()
    diagnoses = diagnosis_groups(sources, spec.diagnosis_groups)
    base_groups = diagnoses[diagnoses["group"].isin(spec.base_diagnosis_groups)]
    first_diag = base_groups.groupby("pnr")["first_year"].min()

    flow_rows: list[dict[str, object]] = []
    unit_parts: dict[int, pd.DataFrame] = {}
    means = _Means(means_of) if means_of is not None else None
    # the employment history of every cohort (the four years before the year before start)
    history = _employment_history(sources, sorted({y for c in spec.cohorts for y in range(c - 5, c - 1)}), None)
    # ... reduced at once to each cohort's employment degree 2-5 years before (one value per
    # person with employment, against a row per person-year), so that the history is not
    # held beside a cohort's yearly variables
    deg25_of = {cohort: _degree_2_5(history, cohort) for cohort in spec.cohorts}
    del history
    # at national scale every step below builds and frees hundreds of megabytes: hand them
    # back after each, so that the job's memory stays what one cohort needs
    release_freed_memory()
    # of the resident participants of each cohort: how many meet each base-population criterion
    criteria = {"age": 0, "support": 0, "diagnosis": 0}
    for cohort in spec.cohorts:
        yb = cohort - 1
        before = yearly_variables(sources, [yb], education_levels=spec.education_levels)
        release_freed_memory()
        aged = ((before["age"] >= spec.age_min) & (before["age"] <= spec.age_max)).to_numpy()
        res_all = before["pnr"].to_numpy()
        resident = res_all[aged]
        on_support = res_all[before["support"].isin(spec.support_types).to_numpy()]
        diag_ok = first_diag[first_diag <= yb].index
        base = _keep(_keep(resident, on_support), np.asarray(diag_ok))
        cohort_part = participants[participants["first_year"] == cohort]
        cohort_linked = cohort_part.dropna(subset=["pnr"])
        cohort_pnr = cohort_linked["pnr"].unique()
        # a person's first start year over all their participant numbers
        cohort_pnr = cohort_pnr[first_by_person.reindex(cohort_pnr).to_numpy() == cohort]
        treated_resident = _keep(cohort_pnr, res_all)
        treated = _keep(treated_resident, base)
        # everyone not started by t; control_pool() narrows it for never_participated
        excluded = first_by_person[first_by_person <= cohort].index.to_numpy()
        controls = base[~_member(base, excluded)]
        criteria["age"] += int(_member(treated_resident, resident).sum())
        criteria["support"] += int(_member(treated_resident, on_support).sum())
        criteria["diagnosis"] += int(_member(treated_resident, np.asarray(diag_ok)).sum())
        flow_rows.append(
            {
                "cohort": cohort,
                "analysed": True,
                "participants": int(cohort_part["deltager_id"].nunique()),
                "with_person_id": int(len(cohort_pnr)),
                "resident_year_before": int(len(treated_resident)),
                "in_base_population": int(len(treated)),
                "base_population": int(len(base)),
                "potential_controls": int(len(controls)),
            }
        )
        units = pd.concat(
            [pd.DataFrame({"pnr": treated, "cohort": cohort, "treated": 1}),
             pd.DataFrame({"pnr": controls, "cohort": cohort, "treated": 0})], ignore_index=True)
        # the units are sorted treated first, then by person (as the table of all cohorts is)
        units = units.sort_values(["treated", "pnr"], ascending=[False, True], kind="stable").reset_index(drop=True)
        if len(units):
            unit_parts[cohort] = _characteristics_of_cohort(units, cohort, before, deg25_of[cohort], diagnoses, spec)
            release_freed_memory()
        if means is not None:
            means.add(_PopulationColumns(before, aged, cohort, deg25_of[cohort], diagnoses, spec))
        del before, deg25_of[cohort]
        release_freed_memory()
    flow_rows += _other_start_years(participants, first_by_person, spec)
    flow = pd.DataFrame(flow_rows, columns=list(FLOW_COLUMNS)).sort_values("cohort", kind="stable")
    flow = flow.reset_index(drop=True)
    _check_flow(flow, spec, criteria)
    units = pd.concat([unit_parts[c] for c in sorted(unit_parts)], ignore_index=True)
    units.insert(0, "unit", np.arange(len(units), dtype=np.int64))
    units["first_start"] = units["pnr"].map(first_by_person).astype(float).to_numpy()
    return BasePopulation(units=units, flow=flow), (means.table(spec) if means is not None else None)


def _other_start_years(
    participants: pd.DataFrame, first_by_person: pd.Series, spec: PopulationSpec
) -> list[dict[str, object]]:
    """Flow rows of the years of first start outside the analysed cohorts, and a warning."""
    other = participants[~participants["first_year"].isin(spec.cohorts)]
    if other.empty:
        return []
    rows: list[dict[str, object]] = []
    for year, part in other.groupby("first_year", sort=True):
        pnr = part["pnr"].dropna().unique()
        pnr = pnr[first_by_person.reindex(pnr).to_numpy() == year]
        rows.append(
            {
                "cohort": int(year),
                "analysed": False,
                "participants": int(part["deltager_id"].nunique()),
                "with_person_id": int(len(pnr)),
            }
        )
    n = sum(int(r["participants"]) for r in rows)  # type: ignore[call-overload]
    n_id = sum(int(r["with_person_id"]) for r in rows)  # type: ignore[call-overload]
    years = ", ".join(f"{r['cohort']}: {r['participants']}" for r in rows)
    warnings.warn(
        f"participants outside cohorts: {n} participant(s) ({n_id} person(s) with a person id) first started in "
        f"years that are not in population.cohorts {list(spec.cohorts)} ({years}); they are counted in the "
        "population flow (rows with analysed = false) but not analysed — add their years to population.cohorts "
        "to analyse them",
        RegevalWarning,
        stacklevel=3,
    )
    return rows


def _check_flow(flow: pd.DataFrame, spec: PopulationSpec, criteria: Mapping[str, int]) -> None:
    """A named error when nobody is treated or nobody is a potential control."""
    ana = flow[flow["analysed"]]
    total = {c: int(ana[c].sum()) for c in FLOW_COLUMNS[2:]}
    cohorts = list(spec.cohorts)
    if total["in_base_population"] == 0:
        if total["participants"] == 0:
            other = flow[~flow["analysed"]]
            seen = ", ".join(f"{int(r.cohort)}: {int(r.participants)}" for r in other.itertuples()) or "none"
            cause = (
                f"no participant first started in a year of population.cohorts {cohorts} (participants by year "
                f"of first start: {seen}); set population.cohorts to years in which participants started"
            )
        elif total["with_person_id"] == 0:
            cause = (
                f"none of the {total['participants']} participant(s) of the cohorts has a person id "
                "(deltagere.pnr is missing for all of them)"
            )
        elif total["resident_year_before"] == 0:
            cause = (
                f"none of the {total['with_person_id']} participant(s) with a person id was resident (in bef) at "
                "the end of the year before their start"
            )
        else:
            n = total["resident_year_before"]
            cause = (
                f"none of the {n} resident participant(s) is in the base population of their cohort: "
                f"{criteria['age']} of them are aged population.age_min … age_max ({spec.age_min}–{spec.age_max}), "
                f"{criteria['support']} have a primary income support of population.support_types "
                f"({', '.join(spec.support_types)}) and {criteria['diagnosis']} a diagnosis of "
                f"population.base_diagnosis_groups ({', '.join(spec.base_diagnosis_groups)}) registered by the year "
                "before start (all three are needed)"
            )
        raise PopulationError(f"base population: no treated unit in any cohort — {cause}")
    if total["potential_controls"] == 0:
        raise PopulationError(
            f"base population: no potential control in any cohort — the base population of the cohorts "
            f"{cohorts} has {total['base_population']} person-cohort(s), all of them participants who started by "
            "their cohort's year; widen population.age_min/age_max, population.support_types or "
            "population.base_diagnosis_groups"
        )
    alone = ana[(ana["in_base_population"] > 0) & (ana["potential_controls"] == 0)]
    if len(alone):
        warnings.warn(
            "cohort without potential controls: cohort(s) "
            + ", ".join(f"{int(r.cohort)} ({int(r.in_base_population)} treated)" for r in alone.itertuples())
            + " have no potential control, so their treated cannot be matched (check population.cohorts and the "
            "base-population keys of population)",
            RegevalWarning,
            stacklevel=3,
        )


def control_pool(units: pd.DataFrame, control_rule: str) -> pd.DataFrame:
    """The units a spec with ``control_rule`` may use: the treated and its potential controls.

    The base population holds as potential controls of cohort ``t`` everyone not started
    by ``t`` (the pool of ``not_yet_participated`` and ``censor_at_start``);
    ``never_participated`` drops every control unit of a person who takes part in any year
    (``first_start`` not missing).
    """
    if control_rule not in CONTROL_RULES:
        raise ConfigError(f"control_rule: {control_rule!r} is not one of {list(CONTROL_RULES)}")
    if control_rule != "never_participated":
        return units
    if "first_start" not in units:
        raise ConfigError(
            "control_rule never_participated needs the units' first_start column; rebuild the base population"
        )
    keep = (units["treated"].to_numpy() == 1) | units["first_start"].isna().to_numpy()
    return units.loc[keep].reset_index(drop=True)


def population_means(
    sources: Mapping[str, TableSource],
    spec: PopulationSpec,
    variables: Sequence[str],
    categorical: Sequence[str] = (),
) -> pd.DataFrame:
    """Means of characteristics over the whole population aged age_min–age_max.

    Pooled over the years before each cohort (person-years), computed one year at
    a time so a national population is never held in memory for several years.
    Returns one row per variable (and level for categorical ones) with the mean or
    share, the number of person-years behind it (``n_population``) and, for shares,
    the number with and without the level (``k_population``, ``nk_population``).
    """
    means = _Means((variables, categorical))
    diagnoses = diagnosis_groups(sources, spec.diagnosis_groups)
    for cohort in spec.cohorts:
        yb = cohort - 1
        before = yearly_variables(sources, [yb], education_levels=spec.education_levels)
        before = before[(before["age"] >= spec.age_min) & (before["age"] <= spec.age_max)]
        employment = _employment_history(sources, range(cohort - 5, cohort - 1), None)
        units = pd.DataFrame({"pnr": before["pnr"].to_numpy(), "cohort": cohort})
        means.add(_characteristics_of_cohort(units, cohort, before, _degree_2_5(employment, cohort), diagnoses, spec))
        del before, employment
    return means.table(spec)


class _Means:
    """Sums of characteristics over person-years, cohort by cohort, and their means."""

    def __init__(self, means_of: tuple[Sequence[str], Sequence[str]]) -> None:
        self.variables, self.categorical = list(means_of[0]), list(means_of[1])
        self.sums: dict[tuple[str, str], float] = {}
        self.binary: dict[str, bool] = {}
        self.n_total = 0

    def add(self, chars: pd.DataFrame | _PopulationColumns) -> None:
        self.n_total += len(chars)
        for v in self.variables:
            col = chars[v]
            if v in self.categorical:
                for level, count in col.astype(str).value_counts().items():
                    self.sums[(v, str(level))] = self.sums.get((v, str(level)), 0.0) + float(count)
            else:
                values = col.astype(float)
                self.binary[v] = self.binary.get(v, True) and bool(values.isin([0.0, 1.0]).all())
                self.sums[(v, "")] = self.sums.get((v, ""), 0.0) + float(values.sum())

    def table(self, spec: PopulationSpec) -> pd.DataFrame:
        if self.n_total == 0:
            raise PopulationError(
                "population means: nobody in the age range — nobody resident is aged "
                f"population.age_min … age_max ({spec.age_min}–"
                f"{spec.age_max}) in the years before the cohorts {list(spec.cohorts)}; check the age range and "
                "population.cohorts against data.years"
            )
        n_total = self.n_total
        rows = []
        for (v, lvl), s in self.sums.items():
            # persons with the level (categorical) or with value 1 (binary): the cell
            k = s if (lvl != "" or self.binary.get(v, False)) else float("nan")
            rows.append(
                {
                    "variable": v,
                    "level": lvl,
                    "population": s / n_total,
                    "n_population": n_total,
                    "k_population": k,
                    "nk_population": n_total - k,
                }
            )
        return pd.DataFrame(rows).sort_values(["variable", "level"], kind="stable").reset_index(drop=True)
