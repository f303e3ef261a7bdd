"""Configuration: validation against the JSON schema and resolution of specs.

The configuration is ``config/config.yaml`` deep-merged with any ``--configfile``
(Snakemake does the merge). :func:`load_config` fills in the defaults (the schema's,
:mod:`regeval.pipeline.schema`) and checks it against ``config.schema.yaml`` (package
data; ``additionalProperties: false`` everywhere, so a typo fails and names its key
path) and then for consistency across keys and with the files it names
(:data:`CONFIG_CHECKS`): the workflow calls it before any job runs, so a bad
configuration never starts the expensive work. Specs and the keys of the work they
share are :mod:`regeval.pipeline.spec`.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from regeval.errors import ConfigError
from regeval.pipeline.schema import fill_defaults, shared_schema
from regeval.pipeline.spec import (
    canonical,
    deep_merge,
    effects_choices,
    effects_key,
    match_choices,
    match_key,
    propensity_choices,
    propensity_key,
    resolve_spec,
    spec_keys,
)


def load_yaml(path: str | Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping")
    return data


def _key_path(error: jsonschema.ValidationError) -> str:
    parts = [str(p) for p in error.absolute_path]
    return ".".join(parts) if parts else "(top level)"


_SCHEMA_HINTS: tuple[tuple[str, str, str], ...] = (
    # (key path pattern, failed schema keyword, hint)
    (
        r"^population\.diagnosis_groups\.[^.]+\.\d+$",
        "pattern",
        "an ICD-10 code prefix in LPR form: a leading D, then the start of the ICD-10 code, e.g. DF84 for F84",
    ),
    (r"^population\.cohorts(\.\d+)?$", "", "the calendar years of first start to analyse, e.g. [2014, 2015]"),
    (r"^data\.years(\.\d+)?$", "", "[first, last]: the calendar years the yearly tables cover"),
)


def _schema_hint(path: str, validator: str) -> str:
    for pattern, keyword, hint in _SCHEMA_HINTS:
        if re.match(pattern, path) and (not keyword or keyword == validator):
            return f" ({hint})"
    return ""


CONFIG_CHECKS: tuple[str, ...] = (
    "schema",
    "years order",
    "spec undefined",
    "spec name",
    "register directory",
    "register column mapping",
    "age range",
    "base diagnosis group undefined",
    "education level mapped twice",
    "cohort outside coverage",
    "outcome unknown",
    "relative years",
    "last relative year unobserved",
    "effect window",
    "covariate unknown",
    "budget horizon",
    "budget inputs",
    "control ids file",
    "business case",
)
"""Every check :func:`validate_config` makes, in the order of the configuration table
of ``docs/data_contract.md`` (a test keeps the two in agreement)."""

BEFORE_START: int = 5
"""Years before the start year the method reads: characteristics in t − 1, the
employment degree 2–5 years before in t − 5 … t − 2 (method.md §1)."""


class _Problems:
    """The problems found in a configuration, one line each, starting with the key path."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, check: str, key: str, message: str) -> None:
        if check not in CONFIG_CHECKS:
            raise AssertionError(f"configuration check {check!r} is not registered in CONFIG_CHECKS")
        self.lines.append(f"{key}: {message}")

    def raise_if_any(self) -> None:
        if self.lines:
            raise ConfigError(
                f"the configuration is inconsistent ({len(self.lines)} problem(s); see docs/data_contract.md, "
                "'Configuration checks'):\n  - " + "\n  - ".join(self.lines)
            )


def load_config(
    config: Mapping[str, Any],
    base_dir: str | Path | None = None,
    *,
    check_files: bool = True,
) -> dict[str, Any]:
    """The configuration ``config`` with its defaults filled in (from the schema,
    :func:`regeval.pipeline.schema.fill_defaults`), after :func:`validate_config`."""
    filled = fill_defaults(config)
    _validate(filled, base_dir, check_files)
    return filled


def validate_config(
    config: Mapping[str, Any],
    base_dir: str | Path | None = None,
    *,
    check_files: bool = True,
) -> None:
    """Validate ``config`` (its defaults filled in) before any job runs; the error names
    every offending key.

    First the schema (every key, type and value; ``additionalProperties: false``), then
    what a schema cannot check (the rules of ``CONFIG_CHECKS``, listed with example
    messages in ``docs/data_contract.md``): specs in ``run_specs`` exist; the years are
    ordered; the cohorts leave room in ``data.years`` for what the method reads before
    and after the start; ``age_min <= age_max``; outcomes, covariates, windows and the
    budget horizon agree with each other; and, with ``check_files``, the files the
    config names (register folder, control ids, budget inputs, business case) exist and
    are readable. Every problem is listed in one :class:`ConfigError`.

    ``base_dir`` is the folder relative paths of the files a spec or the business case
    names are resolved against (the workflow passes its own folder; default: the
    working directory); a control-id file is looked for in the working directory first.
    """
    load_config(config, base_dir, check_files=check_files)


def _validate(config: Mapping[str, Any], base_dir: str | Path | None, check_files: bool) -> None:
    validator = jsonschema.Draft7Validator(shared_schema())
    errors = sorted(validator.iter_errors(dict(config)), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = []
        sweep = config.get("sweep") or {}
        for err in errors:
            if err.validator == "anyOf" and err.context:
                # a spec is a mapping or null: report what is wrong in the mapping
                inner = [e for e in err.context if not (e.validator == "type" and e.validator_value == "null")]
                err = jsonschema.exceptions.best_match(inner or err.context)
            path = _key_path(err)
            if sweep and path.startswith(f"specs.{sweep.get('name')}-"):
                path += " (a spec made by sweep.grid: check its values)"
            if err.validator == "additionalProperties":
                lines.append(f"{path}: {err.message} (not a known key: check the spelling)")
            else:
                lines.append(f"{path}: {err.message}{_schema_hint(_key_path(err), str(err.validator))}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines))
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    problems = _Problems()
    _check_data(config, problems, check_files)
    _check_population(config, problems)
    missing = [s for s in config["run_specs"] if s not in config.get("specs", {})]
    if missing:
        problems.add(
            "spec undefined",
            "run_specs",
            f"spec(s) {missing} are not defined under specs (defined: {sorted(config.get('specs', {}))}); "
            "define them or remove them from run_specs",
        )
    for name in config.get("specs", {}):
        _check_spec(config, name, problems)
    _check_folders(config, problems)
    run_specs = [s for s in config["run_specs"] if s in config.get("specs", {})]
    _check_coverage(config, run_specs, problems)
    if check_files:
        _check_files(config, run_specs, base, problems)
    problems.raise_if_any()


RESERVED_FOLDERS = {
    "release": "the release's checker's report (results/release/export/)",
    "business_case": "the business case (results/business_case/)",
    "_shared": "the work specs share (results/_shared/)",
}
"""Folders under ``results/`` that are not a spec's: a spec of that name would write into them."""


def _check_folders(config: Mapping[str, Any], problems: _Problems) -> None:
    """Every spec writes ``results/<name>/``: no spec may be named as another folder there."""
    sweep = config.get("sweep") or {}
    reserved = dict(RESERVED_FOLDERS)
    if sweep:
        reserved[str(sweep.get("name", "sweep"))] = f"the sweep's summary (results/{sweep.get('name', 'sweep')}/)"
    for name in config.get("specs", {}):
        if name in reserved:
            problems.add(
                "spec name", f"specs.{name}",
                f"a spec named {name!r} would write into results/{name}/, which holds {reserved[name]}; "
                "rename the spec",
            )


def _check_data(config: Mapping[str, Any], problems: _Problems, check_files: bool) -> None:
    from regeval.registers.contract import CONTRACT

    data = config["data"]
    years = data["years"]
    if years[0] > years[1]:
        problems.add(
            "years order", "data.years", f"first year {years[0]} is after last year {years[1]}; give [first, last]"
        )
    registers = data.get("registers") or {}
    directory = registers.get("directory")
    if data["source"] == "registers":
        if not directory:
            problems.add(
                "register directory",
                "data.registers.directory",
                "must be set when data.source is 'registers' (the folder holding the register extracts)",
            )
        elif check_files and not Path(directory).is_dir():
            problems.add(
                "register directory",
                "data.registers.directory",
                f"folder {str(directory)!r} does not exist (working directory {str(Path.cwd())!r})",
            )
    for table, override in (registers.get("tables") or {}).items():
        columns = (override or {}).get("columns") or {}
        unknown = sorted(set(columns) - set(CONTRACT[table].column_names))
        if unknown:
            problems.add(
                "register column mapping",
                f"data.registers.tables.{table}.columns",
                f"maps {unknown}, which are not columns of the contract table {table!r} "
                f"({', '.join(CONTRACT[table].column_names)}); the keys are contract names, the values the "
                "names in your extract",
            )


def _check_population(config: Mapping[str, Any], problems: _Problems) -> None:
    pop = config["population"]
    if pop["age_min"] > pop["age_max"]:
        problems.add(
            "age range",
            "population.age_min",
            f"{pop['age_min']} is larger than population.age_max {pop['age_max']}; the base population is "
            "aged age_min … age_max in the year before start",
        )
    groups = pop["diagnosis_groups"]
    unknown = [g for g in pop.get("base_diagnosis_groups") or [] if g not in groups]
    if unknown:
        problems.add(
            "base diagnosis group undefined",
            "population.base_diagnosis_groups",
            f"{unknown} are not defined in population.diagnosis_groups ({sorted(groups)})",
        )
    seen: dict[int, str] = {}
    for level, mains in (pop["education_levels"] or {}).items():
        for main in mains:
            if main in seen and seen[main] != level:
                problems.add(
                    "education level mapped twice",
                    f"population.education_levels.{level}",
                    f"main level {main} is also mapped to {seen[main]!r}; a main level belongs to one level",
                )
            seen.setdefault(main, level)


def unit_columns(diagnosis_groups: Sequence[str]) -> tuple[str, ...]:
    """Columns of the base-population units an effect model may use as covariates."""
    from regeval.population.panel import YEARLY_OUTCOMES

    measured = (
        "sex", "age", "birth_year", "origin", "civil_status", "municipality", "education", "support",
        *(f"support_{s}" for s in _support_types()), "supported_employment",
        "employment_degree_1", "employment_degree_2_5", "n_diagnosis_groups", "age_group", "cohort_year", "cohort",
    )
    return tuple(dict.fromkeys([*measured, *YEARLY_OUTCOMES, *(f"diag_{g}" for g in diagnosis_groups)]))


def _support_types() -> tuple[str, ...]:
    from regeval.registers.contract import SUPPORT_TYPES

    return SUPPORT_TYPES


def _check_spec(config: Mapping[str, Any], name: str, problems: _Problems) -> None:
    from regeval.population.panel import YEARLY_OUTCOMES  # local import: panel imports pandas

    spec = resolve_spec(config, name)
    key = f"specs.{name}"
    eff = spec["effects"]
    outcomes = list(eff["outcomes"])
    bad = [o for o in outcomes if o not in YEARLY_OUTCOMES]
    if bad:
        problems.add(
            "outcome unknown", f"{key}.effects.outcomes", f"unknown outcome(s) {bad}; valid: {list(YEARLY_OUTCOMES)}"
        )
    lo, hi = eff["rel_years"]
    if lo > -1 or hi < 0:
        problems.add(
            "relative years",
            f"{key}.effects.rel_years",
            f"{[lo, hi]} must include -1 and 0 (the year before and the start year): [first, last] with "
            "first <= -1 <= 0 <= last",
        )
    for i, window in enumerate(eff.get("windows") or []):
        where = f"{key}.effects.windows.{i}"
        if window["outcome"] not in outcomes:
            problems.add(
                "effect window",
                f"{where}.outcome",
                f"{window['outcome']!r} is not among the spec's effects.outcomes, so the window would be skipped; "
                "add it to effects.outcomes or remove the window",
            )
        if window["from"] > window["to"]:
            problems.add("effect window", where, f"from {window['from']} is after to {window['to']}")
        elif window["from"] < lo or window["to"] > hi:
            problems.add(
                "effect window",
                where,
                f"years {window['from']}…{window['to']} reach outside effects.rel_years {[lo, hi]}, which has no "
                "estimates there; keep windows inside rel_years",
            )
    groups = list(config["population"]["diagnosis_groups"])
    known = unit_columns(groups)
    bad = [c for c in eff.get("covariates") or [] if c not in known]
    if bad:
        problems.add(
            "covariate unknown",
            f"{key}.effects.covariates",
            f"{bad} are not columns of the base population; valid: {', '.join(known)}",
        )
    horizon = spec.get("budget", {}).get("horizon")
    if horizon is not None and horizon > hi:
        problems.add(
            "budget horizon",
            f"{key}.budget.horizon",
            f"{horizon} is beyond the last relative year {hi} of effects.rel_years, so the budget would count the "
            f"effects of years {hi + 1}…{horizon} as 0; lower the horizon or widen rel_years",
        )


def _check_coverage(config: Mapping[str, Any], run_specs: Sequence[str], problems: _Problems) -> None:
    """Cohorts must leave room in data.years for what the method reads around the start."""
    first, last = config["data"]["years"]
    cohorts = sorted(config["population"]["cohorts"])
    if first > last:
        return
    specs = {name: resolve_spec(config, name) for name in run_specs}
    pre = {name: -min(int(s["effects"]["rel_years"][0]), -1) for name, s in specs.items()}
    before = max([BEFORE_START, *pre.values()])
    widest = max(pre, key=lambda n: pre[n]) if pre else None
    why = f"t − {BEFORE_START} … t − 1 (characteristics in t − 1, employment degree in t − {BEFORE_START} … t − 2)"
    if widest is not None and pre[widest] > BEFORE_START:
        why += f" and t − {pre[widest]} (the first relative year of specs.{widest}.effects.rel_years)"
    outside = [c for c in cohorts if c - before < first or c > last]
    if outside:
        problems.add(
            "cohort outside coverage",
            "population.cohorts",
            f"cohort(s) {', '.join(map(str, outside))} need years outside data.years {[first, last]}: cohort t needs "
            f"{why} and its start year t inside the years of coverage, so the cohorts can be {first + before} … "
            f"{last}; drop these cohorts or extend data.years (and the extract)",
        )
    inside = [c for c in cohorts if c not in outside]
    if not inside:
        return
    for name, spec in specs.items():
        hi = int(spec["effects"]["rel_years"][1])
        if inside[0] + hi > last:
            problems.add(
                "last relative year unobserved",
                f"specs.{name}.effects.rel_years",
                f"relative year {hi} is after data.years for every cohort (earliest cohort {inside[0]} + {hi} = "
                f"{inside[0] + hi} > {last}), so it has no observations; lower rel_years[1] to at most "
                f"{last - inside[0]} or extend data.years",
            )


def _resolve_file(value: str, base: Path) -> list[Path]:
    path = Path(value)
    return [path] if path.is_absolute() else [Path.cwd() / path, base / path]


def _check_files(config: Mapping[str, Any], run_specs: Sequence[str], base: Path, problems: _Problems) -> None:
    """Files the configuration names: readable, and consistent with it."""
    budget_seen: dict[tuple[str, Any], tuple[str, str] | None] = {}
    cohorts = set(config["population"]["cohorts"])
    for name in run_specs:
        spec = resolve_spec(config, name)
        key = f"specs.{name}"
        if spec.get("control_ids"):
            message = _control_ids_problem(str(spec["control_ids"]), base, cohorts)
            if message:
                problems.add("control ids file", f"{key}.control_ids", message)
        budget = spec.get("budget") or {}
        if budget.get("inputs"):
            inputs_dir = Path(budget["inputs"])
            if not inputs_dir.is_absolute():
                inputs_dir = base / inputs_dir
            cache_key = (str(inputs_dir), json.dumps(budget, sort_keys=True, default=str))
            if cache_key in budget_seen:  # the same inputs and options: reported once
                continue
            budget_seen[cache_key] = found = _budget_problem(inputs_dir, budget, float(spec["effects"]["alpha"]))
            if found:
                problems.add("budget inputs", f"{key}.budget" + (f".{found[0]}" if found[0] else ""), found[1])
    bc = config.get("business_case")
    if bc:
        from regeval.errors import BudgetError

        table = Path(bc["table"]) if Path(bc["table"]).is_absolute() else base / bc["table"]
        metadata = bc.get("metadata")
        if metadata and not Path(metadata).is_absolute():  # like the table, relative to the repository
            metadata = base / metadata
        try:
            from regeval.budget import load_business_case

            load_business_case(table, metadata)
        except BudgetError as exc:
            problems.add("business case", "business_case", f"{exc}; fix the file or set business_case: null")


def _control_ids_problem(value: str, base: Path, cohorts: set[int]) -> str | None:
    import pandas as pd

    candidates = _resolve_file(value, base)
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        looked = ", ".join(repr(str(p)) for p in dict.fromkeys(candidates))
        return f"file {value!r} does not exist (looked for {looked})"
    try:
        ids = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
        return f"{str(path)!r} cannot be read as CSV ({exc})"
    missing = [c for c in ("pnr", "cohort") if c not in ids.columns]
    if missing:
        return f"{str(path)!r} lacks column(s) {missing} (it has {list(ids.columns)}); it needs pnr and cohort"
    if ids[["pnr", "cohort"]].isna().any().any():
        n = int(ids[["pnr", "cohort"]].isna().any(axis=1).sum())
        return f"{str(path)!r} has {n} row(s) with a missing pnr or cohort"
    if not pd.api.types.is_integer_dtype(ids["cohort"]):
        return f"{str(path)!r}: column cohort must hold whole years, found {ids['cohort'].dtype} values"
    other = sorted(set(int(c) for c in ids["cohort"]) - cohorts)
    if other:
        return (
            f"{str(path)!r} lists controls for cohort(s) {other}, which are not in population.cohorts "
            f"{sorted(cohorts)}"
        )
    return None


def _budget_problem(inputs_dir: Path, budget: Mapping[str, Any], alpha: float) -> tuple[str, str] | None:
    """(key under budget, message) of the first problem of a spec's budget, or None."""
    from regeval.budget import BudgetAssumptions, load_budget_inputs
    from regeval.budget.prices import actor_prices, programme_cost_in_price_year
    from regeval.errors import BudgetError

    try:
        inputs = load_budget_inputs(inputs_dir)
    except BudgetError as exc:
        return "inputs", f"{exc} (budget inputs {str(inputs_dir)!r})"
    keys = ("price_year", "discount_rate", "horizon", "effects_rule", "cost_multiplier")
    try:
        assumptions = BudgetAssumptions.from_mapping(
            {k: budget[k] for k in keys if k in budget} | {"alpha": alpha}, source="budget"
        )
    except BudgetError as exc:
        return "", str(exc)
    try:
        actor_prices(inputs, assumptions.price_year)
        programme_cost_in_price_year(inputs, assumptions.price_year, assumptions.programme_cost_factor)
    except BudgetError as exc:
        return "price_year", f"{assumptions.price_year}: {exc} (budget inputs {str(inputs_dir)!r})"
    return None


def _set_path(target: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = target
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _label(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return str(len(value))
    if value is None:
        return "none"
    return str(value).replace(" ", "").replace(".", "p")


def expand_sweep(config: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Add the specs of the configured sweep (if any) to the config.

    ``sweep.grid`` maps dotted spec keys (``matching.k``, ``budget.discount_rate``,
    ``characteristics`` …) to lists of values; every combination becomes a spec named
    ``<sweep.name>-<key><value>-…`` built on ``sweep.base`` (default ``default``).
    The sweep's specs, with the base spec first, are added to ``run_specs``.
    Returns the new config and the sweep's spec names (empty without a sweep).
    """
    sweep = fill_defaults(config).get("sweep")
    if not sweep:
        return dict(config), []
    cfg = copy.deepcopy(dict(config))
    name, base = sweep["name"], sweep["base"]
    if base not in cfg.get("specs", {}):
        raise ConfigError(f"sweep.base: spec {base!r} is not defined under specs")
    grid = sweep.get("grid") or {}
    keys = list(grid)
    names = [base]
    for combo in itertools.product(*(grid[k] for k in keys)):
        override = copy.deepcopy(cfg["specs"][base] or {})
        parts = []
        for key, value in zip(keys, combo, strict=True):
            _set_path(override, key, value)
            parts.append(f"{key.split('.')[-1]}{_label(value)}")
        spec_name = "-".join([name, *parts])
        override["label"] = ", ".join(f"{k} = {v}" for k, v in zip(keys, combo, strict=True))
        cfg["specs"][spec_name] = override
        names.append(spec_name)
    cfg["run_specs"] = list(dict.fromkeys([*cfg["run_specs"], *names]))
    return cfg, names


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m regeval.pipeline.config``: print the configuration a run uses, its
    defaults filled in (or one resolved spec), as YAML."""
    import argparse
    import sys

    from regeval.pipeline.spec import Spec

    ap = argparse.ArgumentParser(prog="python -m regeval.pipeline.config", description=main.__doc__)
    ap.add_argument("--configfile", nargs="+", default=[], help="config files merged onto the base, as for snakemake")
    ap.add_argument("--base", default="config/config.yaml", help="the base configuration (default: %(default)s)")
    ap.add_argument("--spec", help="print this spec, resolved, instead of the whole configuration")
    args = ap.parse_args(argv)
    config = load_yaml(args.base)
    for path in args.configfile:
        config = deep_merge(config, load_yaml(path))
    try:
        config = load_config(config, check_files=False)
        out = Spec.from_config(config, args.spec).to_dict() if args.spec else config
    except ConfigError as exc:
        sys.stderr.write(f"regeval: {exc}\n")
        raise SystemExit(1) from None
    sys.stdout.write(yaml.safe_dump(out, sort_keys=False, allow_unicode=True))


if __name__ == "__main__":
    main()


__all__ = [
    "BEFORE_START", "CONFIG_CHECKS", "ConfigError", "canonical", "deep_merge", "effects_choices", "effects_key",
    "expand_sweep", "load_config", "load_yaml", "main", "match_choices", "match_key", "propensity_choices",
    "propensity_key",
    "resolve_spec", "spec_keys", "unit_columns", "validate_config",
]
