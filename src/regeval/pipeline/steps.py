"""Pipeline steps: one function per Snakemake rule.

Each step reads its inputs (paths), calls the library, and writes its outputs.
Rules stay declarative: ``workflow/scripts/step.py`` calls :func:`run` with the
rule's ``input``, ``output``, ``params``, ``log`` and ``threads``. Every step can
be called from Python without Snakemake (tests do).

Person-level artifacts go to ``inside`` folders; aggregates meant for export are
written with :func:`regeval.disclosure.aggregates.write_aggregate` and reach ``export``
only through :func:`disclose`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from regeval.population import characteristics as chars_mod
from regeval.disclosure.aggregates import load_aggregate, read_aggregate, write_aggregate
from regeval.errors import RegevalError
from regeval.population.base import control_pool

log = logging.getLogger("regeval")


# ----------------------------------------------------------------------------- helpers
def configure_logging(logfile: str | None) -> None:
    """Log to the rule's log file and to stderr (so errors show without opening it)."""
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if logfile:
        Path(logfile).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(logfile, mode="w"))
    for h in handlers:
        h.setFormatter(fmt)
        root.addHandler(h)
    root.setLevel(logging.INFO)
    warnings.showwarning = _log_warning  # warnings (RegevalWarning …) go to the rule's log too


def _log_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    logging.getLogger("regeval").warning("%s: %s", category.__name__, message)


def _sources(data_cfg: Mapping[str, Any], generated_dir: str | None):
    from regeval.registers.read import resolve_sources

    if data_cfg["source"] == "synthetic":
        return resolve_sources(generated_dir or "")
    reg = data_cfg.get("registers") or {}
    return resolve_sources(reg["directory"], reg.get("tables") or {})


def _population_spec(population_cfg: Mapping[str, Any]):
    from regeval.population.base import PopulationSpec

    return PopulationSpec.from_config(population_cfg)


def _save_figure(fig, path: str | Path) -> None:
    import matplotlib.pyplot as plt

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)


# ----------------------------------------------------------------------------- steps
def generate(output: Mapping[str, str], params: Mapping[str, Any], threads: int = 1) -> None:
    """Generate the synthetic registers (only when data.source is synthetic)."""
    from regeval.synthetic.generator import SyntheticConfig, generate as gen

    cfg = dict(params["synthetic"])
    cfg["workers"] = max(1, min(int(cfg.get("workers", threads)), threads))
    out_dir = Path(output["marker"]).parent
    summary = gen(SyntheticConfig.from_dict(cfg), out_dir)
    log.info("synthetic registers written to %s: %s", out_dir, summary["rows"])


def validate(input: Mapping[str, str], output: Mapping[str, str], params: Mapping[str, Any], threads: int = 1) -> None:
    """Check every input table against the data contract (first step of the DAG)."""
    from regeval.registers.validate import validate_registers

    sources = _sources(params["data"], params.get("generated_dir"))
    years = tuple(int(y) for y in params["data"]["years"])
    population = params.get("population") or {}
    report = validate_registers(  # raises DataContractError
        sources,
        years,
        education_levels=population.get("education_levels"),
        diagnosis_groups=population.get("diagnosis_groups"),
    )
    Path(output["report"]).parent.mkdir(parents=True, exist_ok=True)
    Path(output["report"]).write_text(json.dumps(report.to_dict(), indent=2, sort_keys=True, default=str) + "\n")
    log.info("all %d tables conform to the data contract", len(sources))


def base_population(input: Mapping[str, str], output: Mapping[str, str], params: Mapping[str, Any], threads: int = 1) -> None:
    """Units (treated + potential controls per cohort) with characteristics, and the flow."""
    from regeval.population.tables import flow_table
    from regeval.population.base import build_base_population

    sources = _sources(params["data"], params.get("generated_dir"))
    bp = build_base_population(sources, _population_spec(params["population"]))
    Path(output["units"]).parent.mkdir(parents=True, exist_ok=True)
    bp.units.to_parquet(output["units"], index=False)
    write_aggregate(flow_table(bp.flow), output["flow"])
    log.info("base population: %d units (%d treated)", len(bp.units), int(bp.units["treated"].sum()))


def population_means(input: Mapping[str, str], output: Mapping[str, str], params: Mapping[str, Any], threads: int = 1) -> None:
    """Means of every characteristic over the whole population aged 18–64."""
    from regeval.population.tables import population_means_table

    spec = _population_spec(params["population"])
    sources = _sources(params["data"], params.get("generated_dir"))
    write_aggregate(population_means_table(sources, spec), output["means"])


def propensity(input: Mapping[str, str], output: Mapping[str, str], params: Mapping[str, Any], threads: int = 1) -> None:
    """Fit the propensity model for one characteristic set (shared by specs)."""
    from regeval.stats.tables import overlap_table, propensity_model_table
    from regeval.pipeline.evaluate import fit_scores

    units = control_pool(pd.read_parquet(input["units"]), _rule(params))
    fit = fit_scores(units, list(params["characteristics"]), list(params["population"]["diagnosis_groups"]))
    scores = pd.DataFrame(
        {"unit": units["unit"].to_numpy(), "score": fit.score, "logit": fit.logit}
    )
    Path(output["scores"]).parent.mkdir(parents=True, exist_ok=True)
    scores.to_parquet(output["scores"], index=False)
    write_aggregate(propensity_model_table(fit), output["coefficients"])
    write_aggregate(overlap_table(fit.score, units["treated"].to_numpy()), output["overlap"])
    (Path(output["fit"])).write_text(
        json.dumps(
            {
                "auc": fit.auc,
                "n_obs": fit.n_obs,
                "n_treated": fit.n_treated,
                "converged": bool(fit.converged),
                "iterations": fit.iterations,
                "dropped_terms": list(fit.dropped_terms),
                "warnings": list(fit.warnings),
            },
            indent=2,
        )
        + "\n"
    )
    log.info("propensity model: AUC %.3f on %d units", fit.auc, fit.n_obs)


def match(input: Mapping[str, str], output: Mapping[str, str], params: Mapping[str, Any], threads: int = 1) -> None:
    """Nearest-neighbour matching on the score; matched units with ATT weights."""
    from regeval.stats.tables import matching_summary_table
    from regeval.pipeline.evaluate import match_units

    spec = params["spec"]
    m = spec["matching"]
    exact = list(m.get("exact") or [])
    units = control_pool(pd.read_parquet(input["units"]), _rule(params))
    Path(output["pairs"]).parent.mkdir(parents=True, exist_ok=True)
    if spec.get("control_ids"):
        _user_controls(units, spec, {**params, "flow": input["flow"], "control_ids": input.get("control_ids")}, output)
        return
    scores = pd.read_parquet(input["scores"])
    res, matched = match_units(units, scores, m)
    res.pairs.to_parquet(output["pairs"], index=False)
    matched.to_parquet(output["matched"], index=False)
    _write_flow(input["flow"], matched, output["flow"], units)
    write_aggregate(
        matching_summary_table(res, k=m["k"], replace=m["replace"], exact=exact, caliper=m.get("caliper")),
        output["summary"],
    )
    log.info(
        "matched %d of %d treated with %d unique controls (ESS %.0f)",
        res.n_treated_matched,
        res.n_treated,
        res.n_controls_unique,
        res.ess_control,
    )


def _rule(params: Mapping[str, Any]) -> str:
    """The control rule of a step: the spec's, else the rule's parameter, else the population's.

    The propensity and control-group jobs get only the control *pool* (``never`` or
    ``not_yet``, see :func:`regeval.pipeline.config.match_choices`): the rules censor_at_start and
    not_yet_participated share a pool, so either stands for it."""
    spec = params.get("spec") or {}
    pool = spec.get("pool") or params.get("pool")
    if pool is not None:
        return "never_participated" if pool == "never" else "not_yet_participated"
    rule = spec.get("control_rule") or params.get("control_rule") or (params.get("population") or {}).get("control_rule")
    return str(rule or "censor_at_start")


def _write_flow(flow_path: str, matched: pd.DataFrame, out_path: str, pool: pd.DataFrame | None = None) -> None:
    """The population flow of a spec: the shared flow plus treated matched per cohort;
    ``pool`` (the spec's units) gives its potential controls per cohort."""
    from regeval.population.tables import matched_flow_table
    write_aggregate(matched_flow_table(load_aggregate(flow_path), matched, pool), out_path)


def _user_controls(units: pd.DataFrame, spec: Mapping[str, Any], params: Mapping[str, Any], output: Mapping[str, str]) -> None:
    """A user-supplied control group (spec control_ids) instead of matching."""
    from regeval.stats.tables import supplied_controls_summary_table
    from regeval.pipeline.evaluate import user_controls

    # the workflow's control-group job gets the choices of its key, not a spec name
    where = f"specs.{spec['name']}.control_ids" if "name" in spec else f"control_ids {spec['control_ids']!r}"
    path = Path(params.get("control_ids") or control_ids_file(spec["control_ids"], params.get("repo")))
    if not path.exists():
        raise RegevalError(f"{where}: file {str(path)!r} does not exist")
    try:
        ids = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise RegevalError(f"{where}: {str(path)!r} cannot be read as CSV ({exc})") from None
    matched = user_controls(units, ids)
    pd.DataFrame({"treated": [], "control": []}).to_parquet(output["pairs"], index=False)
    matched.to_parquet(output["matched"], index=False)
    _write_flow(params["flow"], matched, output["flow"], units)
    write_aggregate(
        supplied_controls_summary_table(int((units["treated"] == 1).sum()), matched, path.name), output["summary"]
    )


def balance(input: Mapping[str, str], output: Mapping[str, str], params: Mapping[str, Any], threads: int = 1) -> None:
    """Balance before/after matching and the report's three-column table."""
    from regeval.stats.tables import balance_with_counts, descriptives_with_counts
    spec = params["spec"]
    diag = list(params["population"]["diagnosis_groups"])
    cols, cat = chars_mod.expand(spec["characteristics"], diag)
    units = control_pool(pd.read_parquet(input["units"]), _rule(params))
    matched = pd.read_parquet(input["matched"])
    w = units["unit"].map(matched.set_index("unit")["weight"]).fillna(0.0).to_numpy()
    write_aggregate(balance_with_counts(units, w, cols, cat), output["balance"])
    all_names = [n for n in chars_mod.CHARACTERISTICS if n != "age"] + ["age"]
    dcols, dcat = chars_mod.expand(all_names, diag)
    popm, _ = read_aggregate(input["population_means"])
    write_aggregate(descriptives_with_counts(units, w, dcols, dcat, popm), output["descriptives"])


def person_years(input: Mapping[str, str], output: Mapping[str, str], params: Mapping[str, Any], threads: int = 1) -> None:
    """Yearly outcomes of every base-population person, all years (shared by specs)."""
    from regeval.population.outcomes import person_year_outcomes

    persons = pd.read_parquet(input["units"], columns=["pnr"])["pnr"].unique()
    first, last = (int(y) for y in params["data"]["years"])
    sources = _sources(params["data"], params.get("generated_dir"))
    table = person_year_outcomes(sources, np.sort(persons), range(first, last + 1))
    Path(output["person_years"]).parent.mkdir(parents=True, exist_ok=True)
    table.to_parquet(output["person_years"], index=False)
    log.info("person-year outcomes: %d rows for %d persons", len(table), len(persons))


def outcome_panel(input: Mapping[str, str], output: Mapping[str, str], params: Mapping[str, Any], threads: int = 1) -> None:
    """Outcomes −5 … +7 around start for the matched units (person-level, inside)."""
    from regeval.population.tables import panel_counts_table
    from regeval.pipeline.evaluate import apply_control_rule, panel_inputs
    from regeval.population.outcomes import build_outcome_panel

    spec = params["spec"]
    eff = spec["effects"]
    units = pd.read_parquet(input["units"])
    matched = pd.read_parquet(input["matched"])
    py = pd.read_parquet(input["person_years"], columns=["pnr", "year", *eff["outcomes"]])
    py = py[py["pnr"].isin(matched["pnr"].unique())]
    panel = build_outcome_panel(
        py,
        panel_inputs(units, matched, eff),
        eff["outcomes"],
        tuple(eff["rel_years"]),
        int(params["data"]["years"][1]),
        unit_columns=list(eff["covariates"]),
    )
    rule = _rule(params)
    scores = pd.read_parquet(input["scores"], columns=["unit", "score"]) if rule == "censor_at_start" else None
    panel, censoring = apply_control_rule(panel, units, scores, rule)
    if censoring is not None:
        log.info(
            "control rule censor_at_start: %d control persons censored at their own start "
            "(%d without a modelled hazard); weight factor 1/S mean %.3f, largest %.3f",
            int(censoring["n_control_censored"].sum()), int(censoring["n_censored_unmodelled"].sum()),
            float(np.nanmean(censoring["weight_factor_mean"])), float(np.nanmax(censoring["weight_factor_max"])),
        )
        unmodelled = int(censoring["n_censored_unmodelled"].sum())
        if unmodelled:
            log.warning(
                "%d control persons started in a year without a modelled start hazard (outside the base "
                "population or outside population.cohorts) and are censored without reweighting; list every "
                "start year of the data in population.cohorts so that their hazards are estimated",
                unmodelled,
            )
    Path(output["panel"]).parent.mkdir(parents=True, exist_ok=True)
    panel.to_parquet(output["panel"], index=False)
    write_aggregate(panel_counts_table(panel, censoring), output["counts"])


def effects(input: Mapping[str, str], output: Mapping[str, str], params: Mapping[str, Any], threads: int = 1) -> None:
    """Weighted OLS per outcome × relative year; group means; window averages."""
    from regeval.pipeline.evaluate import effect_options
    from regeval.stats.tables import effects_table, group_means_table, outcome_cell_counts, windows_table

    spec = params["spec"]
    eff = spec["effects"]
    panel = pd.read_parquet(input["panel"])
    common = effect_options(panel, eff)
    outcomes = list(eff["outcomes"])
    cells = outcome_cell_counts(panel, outcomes)
    table = effects_table(panel, outcomes, vcov=eff["vcov"], cells=cells, **common)
    write_aggregate(table, output["effects"])
    write_aggregate(group_means_table(panel, outcomes, alpha=eff["alpha"], cells=cells), output["means"])
    windows = [(w["outcome"], w["from"], w["to"]) for w in eff.get("windows") or [] if w["outcome"] in outcomes]
    write_aggregate(windows_table(panel, windows, **common), output["windows"])
    log.info("estimated %d effects", len(table.frame))


def budget(input: Mapping[str, str], output: Mapping[str, str], params: Mapping[str, Any], threads: int = 1) -> None:
    """SØM-style budget: effects × prices by actor, year and consequence."""
    from regeval.budget import BudgetAssumptions, compute_budget, load_budget_inputs, sensitivity_grid
    from regeval.budget.tables import budget_tables

    b = params["spec"]["budget"]
    effects_table, _ = read_aggregate(input["effects"])
    files = {name: input.get(f"budget_input_{name}") for name in BUDGET_INPUT_FILES}
    if not all(files.values()):  # called without the workflow: the files of the spec's budget.inputs
        files = budget_input_files(b, params.get("repo") or ".")
    files = {name: str(Path(f).resolve()) for name, f in files.items()}
    inputs = load_budget_inputs(Path(files["prices"]).parent, **files)
    assumptions = BudgetAssumptions.from_mapping(
        {k: b[k] for k in ("price_year", "discount_rate", "horizon", "effects_rule", "cost_multiplier") if k in b}
        | {"alpha": params["spec"]["effects"]["alpha"]},
        source=f"specs.{params['spec']['name']}.budget",
    )
    result = compute_budget(effects_table, inputs, assumptions)
    sens = sensitivity_grid(effects_table, inputs, assumptions)
    for name, table in budget_tables(result, sens).items():
        write_aggregate(table, output[name])
    net = result.net.set_index("actor")["value_pv"]
    log.info("net result per participant (PV): %s", net.round(0).to_dict())


def disclose(
    input: Mapping[str, str], output: Mapping[str, str], params: Mapping[str, Any], threads: int = 1,
    person_ids: np.ndarray | None = None,
) -> None:
    """Check every aggregate and write the export tables (nothing else leaves)."""
    from regeval.disclosure.check import export_tables

    paths = [p for k, p in input.items() if k != "units" and str(p).endswith(".parquet")]
    if person_ids is None:
        person_ids = pd.read_parquet(input["units"], columns=["pnr"])["pnr"].unique()
    export_tables(
        paths, Path(output["log"]).parent, int(params["min_persons"]), person_ids, spec=params.get("spec_name")
    )




def business_case(input: Mapping[str, str], output: Mapping[str, str], params: Mapping[str, Any], threads: int = 1) -> None:
    """The municipal business case, exported through disclosure control.

    Outputs: ``inside_<table>`` (the aggregates), and in the export folder (written
    complete or not at all) ``<table>_csv``/``<table>_parquet``, ``log`` and ``figure``."""
    from regeval.budget import business_case as compute, load_business_case
    from regeval.budget.tables import BUSINESS_CASE_TABLES, business_case_tables
    from regeval.reporting.budget_figures import plot_business_case
    from regeval.disclosure.check import export_tables

    bc = load_business_case(input["table"], input.get("metadata"))
    result = compute(
        bc.table, bc.unit_costs_published, bc.investment, start=bc.start, end=bc.end,
        intervention=bc.intervention, control=bc.control,
    )
    inside = {t: output[f"inside_{t}"] for t in BUSINESS_CASE_TABLES}
    for name, table in business_case_tables(result, bc.name).items():
        write_aggregate(table, inside[name])
    export_dir = Path(output["log"]).parent
    with atomic_folder(export_dir) as tmp:
        staged = _staged({k: v for k, v in output.items() if not k.startswith("inside_")}, export_dir, tmp)
        export_tables([inside[t] for t in sorted(BUSINESS_CASE_TABLES)], Path(staged["log"]).parent, int(params["min_persons"]))
        fig = plot_business_case(result, title=f"Business case: {bc.name}")
        _save_figure(fig, staged["figure"])
        _check_declared(tmp, staged)
    log.info("business case: %s", result.summary.to_dict("records"))


def sweep_summary(input: Mapping[str, str], output: Mapping[str, str], params: Mapping[str, Any], threads: int = 1) -> None:
    """Cross-spec summary of a sweep from the specs' checked export tables (inputs
    ``effects``: the specs' ``effects.parquet``, in the order of ``params["specs"]``)."""
    from regeval.reporting.sweep import write_summary

    dirs = {s: Path(p).parent for s, p in zip(params["specs"], input["effects"])}
    export_dir = Path(output["csv"]).parent
    with atomic_folder(export_dir) as tmp:
        staged = _staged(output, export_dir, tmp)
        write_summary(
            dirs, params["base"], params["labels"], int(params["min_persons"]),
            staged["csv"], staged["parquet"], staged["figure"], staged["html"],
        )
        _check_declared(tmp, staged)


# ----------------------------------------------------------------------------- files
# What the workflow declares as the inputs of the export and control-group jobs,
# resolved the same way the steps resolve them.

BUDGET_INPUT_FILES = {
    "prices": "prices.csv",
    "consequences": "outcome_consequences.csv",
    "price_index": "price_index.csv",
    "programme_cost": "programme_cost.csv",
    "refund_rates": "refund_rates.yaml",
}
"""The files the budget reads from a spec's ``budget.inputs`` folder (the file names
:func:`regeval.budget.load_budget_inputs` reads by default). The folder's
``assumptions.yaml`` is not read by the pipeline: a spec's ``budget`` section gives
the assumptions."""


def budget_input_files(budget_cfg: Mapping[str, Any], repo: str | Path) -> dict[str, str]:
    """The budget input files of a spec's ``budget`` section; a relative
    ``budget.inputs`` is taken relative to the repository."""
    directory = Path(budget_cfg.get("inputs") or "config/budget")
    if not directory.is_absolute():
        directory = Path(repo) / directory
    return {name: str(directory / file) for name, file in BUDGET_INPUT_FILES.items()}


def control_ids_file(path: str | Path, repo: str | Path | None) -> Path:
    """A spec's ``control_ids`` file: relative to the working directory if it exists
    there, else relative to the repository."""
    path = Path(path)
    if not path.is_absolute() and repo is not None and not path.exists():
        path = Path(repo) / path
    return path


# ----------------------------------------------------------------------------- stages
# Composite steps: one job per matching choice, per effects choice and per spec, so
# that a sweep of many specs does not pay a process start per small step.


def control_group(input: Mapping[str, str], output: Mapping[str, str], params: Mapping[str, Any], threads: int = 1) -> None:
    """Matching, then balance and the descriptive table, for one matching choice."""
    match(input, output, params, threads)
    balance({**input, "matched": output["matched"]}, output, params, threads)


def effects_stage(input: Mapping[str, str], output: Mapping[str, str], params: Mapping[str, Any], threads: int = 1) -> None:
    """Outcome panel and effects for one control group × effects options (no figures:
    they carry the report's language and are drawn by the export)."""
    outcome_panel(input, output, params, threads)
    effects({"panel": output["panel"]}, output, params, threads)


def export(
    input: Mapping[str, str], output: Mapping[str, str], params: Mapping[str, Any], threads: int = 1,
    person_ids: np.ndarray | None = None, shared_figures: Path | None = None,
) -> None:
    """Per spec: budget, disclosure control of every aggregate, figures, report, workbook.

    ``shared_figures``: the figures folder of a spec with the same control group and
    effect table, whose control-group and effect figures are copied instead of drawn
    again.
    """
    import shutil

    from regeval.reporting.figures import EFFECT_FIGURE_PREFIXES, draw_effect_figures, draw_spec_figures
    from regeval.reporting.html import write_report

    language = params.get("language", "en")
    budget({"effects": input["effects"], **{k: v for k, v in input.items() if k.startswith("budget_input_")}}, output, params, threads)
    aggregates = {k: v for k, v in input.items() if not k.startswith("budget_input_")}
    aggregates.update({t: output[t] for t in output.keys() if t.startswith("budget_")})
    disclose(aggregates, {"log": output["log"]}, params, threads, person_ids=person_ids)
    tables_dir = Path(output["log"]).parent
    figures_dir = Path(output["figures"])
    figures_dir.mkdir(parents=True, exist_ok=True)
    if shared_figures is not None:
        for png in sorted(Path(shared_figures).glob("*.png")):
            if png.name.startswith(EFFECT_FIGURE_PREFIXES):
                shutil.copyfile(png, figures_dir / png.name)
    else:
        draw_effect_figures(
            pd.read_parquet(tables_dir / "effects.parquet"), pd.read_parquet(tables_dir / "group_means.parquet"),
            list(params["spec"]["effects"]["outcomes"]), figures_dir, language,
        )
    draw_spec_figures(tables_dir, figures_dir, params["spec"], language, shared_from=shared_figures)
    write_report(
        tables_dir, figures_dir, params["spec"], output["html"], output["xlsx"],
        language=language, control_rule=_rule(params),
    )


def _spec_part(mapping: Mapping[str, Any], i: int) -> dict[str, Any]:
    """The entries ``s<i>_<name>`` of a grouped rule's input or output, as ``<name>``."""
    prefix = f"s{i}_"
    return {k[len(prefix):]: v for k, v in mapping.items() if k.startswith(prefix)}


def _shared_part(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of a grouped rule's input that belong to every spec of the group."""
    return {k: v for k, v in mapping.items() if not re.match(r"s[0-9]+_", k)}


def export_group(input: Mapping[str, str], output: Mapping[str, str], params: Mapping[str, Any], threads: int = 1) -> None:
    """:func:`export` for every spec of a group sharing one effect table (a sweep's budget
    variants): inputs and outputs ``s<i>_<name>`` belong to ``params["spec_names"][i]``.
    The person ids for the disclosure check are read once and the control-group and
    effect figures drawn once.

    Each spec's ``export`` folder is written complete or not at all (:func:`atomic_folder`),
    and everything written in it must be a declared output."""
    person_ids = pd.read_parquet(input["units"], columns=["pnr"])["pnr"].unique()
    shared = _shared_part(input)
    first_figures: Path | None = None
    for i, (name, spec) in enumerate(zip(params["spec_names"], params["specs"])):
        out = _spec_part(output, i)
        inp = {**shared, **_spec_part(input, i)}
        p = {**params, "spec": spec, "spec_name": name}
        export_dir = Path(out["html"]).parent
        with atomic_folder(export_dir) as tmp:
            staged = _staged(out, export_dir, tmp)
            export(inp, staged, p, threads, person_ids=person_ids, shared_figures=first_figures)
            _check_declared(tmp, staged, directories=[staged["figures"]])
        first_figures = first_figures or Path(out["figures"])
        log.info("exported spec %s", name)


def _staged(output: Mapping[str, str], final: Path, tmp: Path) -> dict[str, str]:
    """``output`` with the paths inside the folder ``final`` moved into ``tmp``."""
    out = {}
    for k, v in output.items():
        path = Path(v)
        try:
            out[k] = str(tmp / path.relative_to(final))
        except ValueError:  # outside the folder (e.g. the spec's inside/ budget tables)
            out[k] = v
    return out


def _check_declared(folder: Path, declared: Mapping[str, str], directories: list[str] = ()) -> None:
    """Every file written in ``folder`` is a declared output (or inside a declared folder)."""
    allowed = {Path(v) for v in declared.values()}
    dirs = [Path(d) for d in directories]
    extra = [
        f for f in sorted(folder.rglob("*"))
        if f.is_file() and f not in allowed and not any(d in f.parents for d in dirs)
    ]
    if extra:
        raise RegevalError(
            f"{len(extra)} file(s) written but not declared as outputs of the rule "
            f"(declare them in workflow/rules): {[str(f.relative_to(folder)) for f in extra[:10]]}"
        )


@contextmanager
def atomic_folder(final: str | Path) -> Iterator[Path]:
    """Write the folder ``final`` complete or not at all.

    Yields an empty temporary sibling folder (``.<name>.partial``) to write into; when
    the block completes, ``final`` is replaced by it (removed, then the temporary folder
    renamed into place). On an error, or if the process is killed, ``final`` keeps no
    partial content: a reader finds the complete new folder or none (Snakemake removes a
    job's declared outputs before it runs it). A leftover temporary folder from a killed
    run is removed when the step runs again.
    """
    import shutil

    final = Path(final)
    tmp = final.parent / f".{final.name}.partial"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)


STEPS: dict[str, Callable[..., None]] = {
    "control_group": control_group,
    "effects_stage": effects_stage,
    "export": export,
    "export_group": export_group,
    "sweep_summary": sweep_summary,
    "business_case": business_case,
    "generate": generate,
    "validate": validate,
    "base_population": base_population,
    "population_means": population_means,
    "propensity": propensity,
    "match": match,
    "balance": balance,
    "person_years": person_years,
    "outcome_panel": outcome_panel,
    "effects": effects,
    "budget": budget,
    "disclose": disclose,
}


def run(step: str, input: Mapping[str, str], output: Mapping[str, str], params: Mapping[str, Any], logfile: str | None, threads: int = 1) -> None:
    """Run one step; on a project error, log a readable message and exit non-zero
    after removing partial outputs."""
    configure_logging(logfile)
    os.environ.setdefault("MPLBACKEND", "Agg")
    started = time.perf_counter()
    log.info("step %s started", step)
    try:
        fn = STEPS[step]
        if step == "generate":
            fn(output, params, threads)
        else:
            fn(input, output, params, threads)
    except RegevalError as exc:  # bad input or configuration: the message names it, no traceback
        log.error("%s failed: %s", step, exc)
        _remove_outputs(output)
        raise SystemExit(1) from None
    except (OSError, MemoryError) as exc:  # the machine (disk, memory, a file removed meanwhile)
        log.error("%s failed: %s: %s", step, type(exc).__name__, exc)
        _remove_outputs(output)
        raise SystemExit(1) from None
    except Exception:  # a bug: the traceback goes to the log (and stderr) once
        log.exception("%s failed with an unexpected error; please report it with this log", step)
        _remove_outputs(output)
        raise SystemExit(1) from None
    log.info("step %s finished in %.1f s", step, time.perf_counter() - started)


def _remove_outputs(output: Mapping[str, str]) -> None:
    """Remove what a failed step wrote (Snakemake removes them too; a direct call relies on this)."""
    for p in output.values():
        try:
            Path(p).unlink()
        except (FileNotFoundError, IsADirectoryError, PermissionError):
            pass


# ----------------------------------------------------------------------------- code
# Every rule runs the same script (workflow/scripts/step.py), so Snakemake's own code
# trigger cannot tell the rules' code apart. Each rule gets instead a param holding the
# digest of the library code its step runs; a change of that code changes the param,
# and Snakemake reruns the job (and what depends on it).

PACKAGE_DIR = Path(__file__).resolve().parents[1]
"""The folder of the regeval package whose code is digested."""

_FROM_IMPORT = re.compile(r"^[ \t]*from[ \t]+(\.+[\w.]*|regeval\b[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)", re.M)
_IMPORT = re.compile(r"^[ \t]*import[ \t]+(regeval\b[^\n]*)", re.M)


def _module_path(name: str) -> Path | None:
    """The source file of the regeval module ``name`` (None if there is none)."""
    return _module_file(name, PACKAGE_DIR)


@functools.lru_cache(maxsize=None)
def _module_file(name: str, package_dir: Path) -> Path | None:
    base = package_dir.joinpath(*name.split(".")[1:])
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _resolve_imports(module: str, statements: list[tuple[int, str, list[str]]]) -> set[str]:
    """The regeval modules (with the packages they are imported through) named by
    import statements ``(level, module, names)`` of the module ``module``."""
    path = _module_path(module)
    package = module if path is not None and path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for level, target, names in statements:
        if level:
            base = package.rsplit(".", level - 1)[0] if level > 1 else package
            base = f"{base}.{target}" if target else base
        else:
            base = target
        for name in [base, *(f"{base}.{n}" for n in names)]:
            parts = name.split(".")
            if parts[0] != "regeval":
                continue
            found.update(p for p in (".".join(parts[:i]) for i in range(1, len(parts) + 1)) if _module_path(p))
    return found


def _source_imports(module: str, text: str) -> set[str]:
    """The regeval modules a module's source imports (anywhere in it), found by a
    pattern over its text (conservative: an import in a string counts too)."""
    statements: list[tuple[int, str, list[str]]] = []
    for m in _FROM_IMPORT.finditer(text):
        target = m.group(1)
        level = len(target) - len(target.lstrip("."))
        body = re.sub(r"#[^\n]*", "", m.group(2)).strip("() \t\n")
        names = [n.split(" as ")[0].strip() for n in body.split(",") if n.strip()]
        statements.append((level, target.lstrip("."), names))
    for m in _IMPORT.finditer(text):
        for n in re.sub(r"#.*", "", m.group(1)).split(","):
            statements.append((0, n.split(" as ")[0].strip(), []))
    return _resolve_imports(module, statements)


def _ast_names_and_imports(module: str, node: Any) -> tuple[set[str], set[str]]:
    """The names used under the syntax tree ``node`` of module ``module``, and the
    regeval modules imported under it."""
    import ast

    names: set[str] = set()
    statements: list[tuple[int, str, list[str]]] = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            names.add(sub.id)
        elif isinstance(sub, ast.Import):
            statements += [(0, a.name, []) for a in sub.names]
        elif isinstance(sub, ast.ImportFrom):
            statements.append((sub.level, sub.module or "", [a.name for a in sub.names]))
    return names, _resolve_imports(module, statements)


@functools.lru_cache(maxsize=4)
def _code_index(stamp: tuple[tuple[str, int, int], ...], package_dir: Path) -> dict[str, Any]:
    """Digests and imports of the modules of the package in ``package_dir`` and of the
    functions of its ``steps.py``, for the sources as they are at ``stamp`` (path, size,
    modification time of every file)."""
    import ast
    import hashlib

    modules: dict[str, tuple[str, set[str]]] = {}
    for rel, _, _ in stamp:
        parts = Path(rel).with_suffix("").parts
        name = ".".join(["regeval", *(parts[:-1] if parts[-1] == "__init__" else parts)])
        text = (package_dir / rel).read_text(encoding="utf-8")
        modules[name] = (hashlib.sha256(text.encode()).hexdigest(), _source_imports(name, text))
    text = (package_dir / "pipeline" / "steps.py").read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    tree = ast.parse(text)

    def source(node: Any) -> str:
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        return "".join(lines[first - 1:node.end_lineno])

    functions = {}
    names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    level = hashlib.sha256()
    level_imports: set[str] = set()
    for node in tree.body:
        used, imports = _ast_names_and_imports(__name__, node)
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            functions[node.name] = (hashlib.sha256(source(node).encode()).hexdigest(), used & names, imports)
        else:
            level.update(source(node).encode())
            level_imports |= imports
    return {"modules": modules, "functions": functions, "module_level": (level.hexdigest(), level_imports)}


def _code_stamp() -> tuple[tuple[str, int, int], ...]:
    out = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        st = path.stat()
        out.append((str(path.relative_to(PACKAGE_DIR)), st.st_size, st.st_mtime_ns))
    return tuple(out)


def code_digest(step: str) -> str:
    """Digest of the library code the step ``step`` (a key of :data:`STEPS`) runs.

    It covers the module-level statements of this module (imports, constants), the
    step's function, every function of this module it reaches by name (and
    :func:`run`), and the source of every regeval module these import, followed
    through the modules' own imports (at module level and inside functions; a
    submodule brings its packages' ``__init__``). Any edit of such a source counts,
    comments included. Code outside the package (pandas, numpy …) is not covered.
    """
    if step not in STEPS:
        raise KeyError(f"unknown step {step!r}; steps: {sorted(STEPS)}")
    index = _code_index(_code_stamp(), PACKAGE_DIR)
    functions, modules_index = index["functions"], index["modules"]
    level_digest, level_imports = index["module_level"]
    reached: set[str] = set()
    todo = [STEPS[step].__name__, "run"]
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo += sorted(functions[name][1])
    modules = {"regeval", *level_imports}
    for name in reached:
        modules |= functions[name][2]
    seen: set[str] = set()
    while modules - seen:
        name = min(modules - seen)
        seen.add(name)
        modules |= modules_index[name][1]
    h = hashlib.sha256(level_digest.encode())
    for name in sorted(reached):
        h.update(f"{name}:{functions[name][0]}".encode())
    for name in sorted(seen):
        h.update(f"{name}:{modules_index[name][0]}".encode())
    return h.hexdigest()[:16]
