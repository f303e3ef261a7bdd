"""Every class of malformed input stops the run before the expensive work, with a named message.

Three layers of checks, each fed every class of bad input it is responsible for:

1. the configuration (:func:`regeval.pipeline.config.validate_config`, run when the Snakefile is
   parsed, before any job);
2. the register extract (the validation step, the first job of the DAG);
3. the base population (the base_population step, with the population means, before the
   propensity model).

Each case goes through the rule's real entry point in-process (:func:`regeval.pipeline.runner.run`
with the rule's function, as its script ``workflow/scripts/<rule>.py`` calls it): the message names the table/column or key and
the problem (and the number of rows), the exit code is 1, the step's output is not
written and no traceback is printed. A representative dozen goes through the real
Snakemake command line on a tiny register extract (``tests/register_factory.py``,
``data.source: registers``): non-zero exit, the named message, no "Traceback" in stdout
or stderr, nothing downstream of the failing job under ``results/`` and no export folder.

``PROBLEM_CASES`` must name every problem of :data:`regeval.registers.validate.PROBLEMS` and
``CONFIG_CASES`` every check of :data:`regeval.pipeline.config.CONFIG_CHECKS`: a new check without
a case here fails.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))

from register_factory import ARRIVED_2018, LEFT_AFTER_2017, valid_frames, write_registers  # noqa: E402

from regeval.errors import ConfigError  # noqa: E402
from regeval.pipeline import runner  # noqa: E402
from regeval.pipeline.config import CONFIG_CHECKS, deep_merge, load_yaml, validate_config  # noqa: E402
from regeval.pipeline.rules.base_population import base_population  # noqa: E402
from regeval.pipeline.rules.validate_registers import validate_registers  # noqa: E402
from regeval.registers.validate import PROBLEMS  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
YEARS = (2012, 2019)
"""Coverage of the tiny extract: room for t − 5 of the first cohort (2017)."""
COHORTS = [2017, 2018, 2019]
FRAMES = valid_frames(YEARS)


def override(directory: Path) -> dict[str, Any]:
    """The --configfile of the tiny extract (valid: see the first test)."""
    return {
        "data": {"source": "registers", "years": list(YEARS), "registers": {"directory": str(directory)}},
        # the extract's education codes include main level 30: it must be mapped
        "population": {"cohorts": list(COHORTS), "education_levels": {"erhvervsfaglig": [30, 35]}},
        "spec_defaults": {
            "effects": {"rel_years": [-5, 2], "windows": [{"outcome": "employed", "from": 0, "to": 2}]},
            "budget": {"horizon": 2},
        },
        # the business case does not read the registers: left out, so that a failing run
        # must leave no export folder at all
        "business_case": None,
    }


def full_config(directory: Path, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """config/config.yaml deep-merged with the override (as Snakemake merges --configfile)."""
    return deep_merge(deep_merge(load_yaml(REPO / "config" / "config.yaml"), override(directory)), extra or {})


# -- edits of the valid tables ---------------------------------------------------------


def where(df: pd.DataFrame, **cond: object) -> pd.Series:
    mask = pd.Series(True, index=df.index)
    for col, value in cond.items():
        mask &= df[col] == value
    return mask


def setting(column: str, value: object, **cond: object) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Set ``column`` to ``value`` in the rows matching ``cond`` (every row without cond)."""

    def edit(df: pd.DataFrame) -> pd.DataFrame:
        if isinstance(value, (str, date)) or value is None:
            df[column] = df[column].astype(object)
        df.loc[where(df, **cond), column] = value
        return df

    return edit


def appending(**row: object) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Append one row (copied from the first, with ``row``'s values)."""

    def edit(df: pd.DataFrame) -> pd.DataFrame:
        new = df.iloc[[0]].copy()
        for k, v in row.items():
            new[k] = v
        return pd.concat([df, new], ignore_index=True)

    return edit


def as_text(column: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda df: df.assign(**{column: df[column].astype(str)})


def n_rows(table: str, **cond: object) -> int:
    return int(where(FRAMES[table], **cond).sum())


# -- running a step in-process -----------------------------------------------------------


@dataclass
class StepRun:
    code: int
    log: str
    stderr: str
    outputs_left: list[str]


RULE_FUNCTIONS = {"validate": validate_registers, "base_population": base_population}


def run_step(step: str, config: Mapping[str, Any], work: Path, capsys) -> StepRun:
    """Run a rule's function through regeval.pipeline.runner.run with the rule's input/output/params."""
    shared = work / "results" / "_shared"
    outputs = {
        "validate": {"report": shared / "inside" / "validation.json"},
        "base_population": {
            "units": shared / "inside" / "base_population.parquet",
            "flow": shared / "inside" / "aggregates" / "population_flow.parquet",
        },
    }[step]
    pop = config["population"]
    params: dict[str, Any] = {"data": config["data"]}
    params["population"] = (
        {k: pop[k] for k in ("education_levels", "diagnosis_groups")} if step == "validate" else pop
    )
    logfile = shared / "logs" / f"{step}.log"
    capsys.readouterr()
    try:
        runner.run(RULE_FUNCTIONS[step], {}, {k: str(v) for k, v in outputs.items()}, params, str(logfile), name=step)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    left = [str(p) for p in outputs.values() if p.exists()]
    return StepRun(code, logfile.read_text(), err, left)


def assert_named_failure(run: StepRun, expected: list[str]) -> None:
    assert run.code == 1, f"step did not fail:\n{run.log}"
    assert not run.outputs_left, f"partial output left: {run.outputs_left}"
    assert "Traceback" not in run.stderr and "Traceback" not in run.log
    for text in expected:
        assert text in run.log, f"expected {text!r} in the log:\n{run.log}"


def error_lines(log: str) -> list[str]:
    """The violation lines of a failed validation (errors only, not the warnings)."""
    block = log.split(" failed: ", 1)[1].split("\nwarnings:\n")[0]
    return [line[4:] for line in block.splitlines() if line.startswith("  - ")]


# ========================================================================================
# 1. the configuration


@dataclass
class ConfigCase:
    id: str
    check: str
    change: Callable[[dict[str, Any], Path], None]
    expected: tuple[str, ...]


def _set(path: str, value: object) -> Callable[[dict[str, Any], Path], None]:
    def change(cfg: dict[str, Any], tmp: Path) -> None:
        node = cfg
        parts = path.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value

    return change


def _control_ids(text: str | None) -> Callable[[dict[str, Any], Path], None]:
    def change(cfg: dict[str, Any], tmp: Path) -> None:
        path = tmp / "controls.csv"
        if text is not None:
            path.write_text(text)
        cfg["specs"]["default"] = {"control_ids": str(path)}

    return change


def _budget_dir(edit_file: str | None, content: str | None) -> Callable[[dict[str, Any], Path], None]:
    def change(cfg: dict[str, Any], tmp: Path) -> None:
        import shutil

        folder = tmp / "budget"
        shutil.copytree(REPO / "config" / "budget", folder)
        if edit_file is not None:
            (folder / edit_file).write_text(content or "")
        cfg["spec_defaults"]["budget"]["inputs"] = str(folder)

    return change


CONFIG_CASES: list[ConfigCase] = [
    ConfigCase("misspelt key", "schema", _set("spec_defaults.matching.replacment", False),
               ("spec_defaults.matching", "'replacment' was unexpected", "check the spelling")),
    ConfigCase("k below 1", "schema", _set("spec_defaults.matching.k", 0),
               ("spec_defaults.matching.k: 0 is less than the minimum of 1",)),
    ConfigCase("diagnosis prefix without D", "schema", _set("population.diagnosis_groups.autism", ["F84"]),
               ("population.diagnosis_groups.autism.0: 'F84' does not match", "leading D", "e.g. DF84")),
    ConfigCase("years in the wrong order", "years order", _set("data.years", [2019, 2012]),
               ("data.years: first year 2019 is after last year 2012",)),
    ConfigCase("run spec not defined", "spec undefined", _set("run_specs", ["default", "nope"]),
               ("run_specs: spec(s) ['nope'] are not defined under specs",)),
    ConfigCase("spec named release", "spec name", _set("specs.release", {}),
               ("specs.release: a spec named 'release' would write into results/release/", "rename the spec")),
    ConfigCase("register directory missing", "register directory", _set("data.registers.directory", "/no/such/folder"),
               ("data.registers.directory: folder '/no/such/folder' does not exist",)),
    ConfigCase("register directory unset", "register directory", _set("data.registers.directory", None),
               ("data.registers.directory: must be set when data.source is 'registers'",)),
    ConfigCase("unknown contract column mapped", "register column mapping",
               _set("data.registers.tables", {"bef": {"columns": {"kommune": "KOM"}}}),
               ("data.registers.tables.bef.columns: maps ['kommune']", "koen, foed_dag")),
    ConfigCase("age_min above age_max", "age range", _set("population.age_min", 70),
               ("population.age_min: 70 is larger than population.age_max 64",)),
    ConfigCase("base diagnosis group undefined", "base diagnosis group undefined",
               _set("population.base_diagnosis_groups", ["autism", "dementia"]),
               ("population.base_diagnosis_groups: ['dementia'] are not defined in population.diagnosis_groups",)),
    ConfigCase("education main level mapped twice", "education level mapped twice",
               _set("population.education_levels.lang", [65, 70, 50]),
               ("population.education_levels.lang: main level 50 is also mapped to 'mellemlang'",)),
    ConfigCase("cohort after the coverage", "cohort outside coverage", _set("population.cohorts", [2018, 2022]),
               ("population.cohorts: cohort(s) 2022 need years outside data.years [2012, 2019]",
                "so the cohorts can be 2017 … 2019")),
    ConfigCase("cohort without room for t-5", "cohort outside coverage", _set("population.cohorts", [2014, 2018]),
               ("population.cohorts: cohort(s) 2014 need years outside data.years", "t − 5 … t − 1",
                "employment degree")),
    ConfigCase("pre-window before the coverage", "cohort outside coverage",
               _set("spec_defaults.effects.rel_years", [-6, 2]),
               ("population.cohorts: cohort(s) 2017 need years", "t − 6 (the first relative year of "
                "specs.default.effects.rel_years)", "so the cohorts can be 2018 … 2019")),
    ConfigCase("unknown outcome", "outcome unknown", _set("specs.default", {"effects": {"outcomes": ["employed", "happiness"]}}),
               ("specs.default.effects.outcomes: unknown outcome(s) ['happiness']",)),
    ConfigCase("relative years without the start", "relative years", _set("spec_defaults.effects.rel_years", [1, 2]),
               ("specs.default.effects.rel_years: [1, 2] must include -1 and 0",)),
    ConfigCase("last relative year after the data", "last relative year unobserved",
               _set("spec_defaults.effects.rel_years", [-5, 3]),
               ("specs.default.effects.rel_years: relative year 3 is after data.years for every cohort",
                "lower rel_years[1] to at most 2")),
    ConfigCase("window from after to", "effect window",
               _set("spec_defaults.effects.windows", [{"outcome": "employed", "from": 2, "to": 0}]),
               ("specs.default.effects.windows.0: from 2 is after to 0",)),
    ConfigCase("window outside the relative years", "effect window",
               _set("spec_defaults.effects.windows", [{"outcome": "employed", "from": 0, "to": 5}]),
               ("specs.default.effects.windows.0: years 0…5 reach outside effects.rel_years [-5, 2]",)),
    ConfigCase("window of an outcome not estimated", "effect window",
               _set("spec_defaults.effects.windows", [{"outcome": "taxable_incme", "from": 0, "to": 2}]),
               ("specs.default.effects.windows.0.outcome: 'taxable_incme' is not among the spec's effects.outcomes",)),
    ConfigCase("unknown covariate", "covariate unknown", _set("spec_defaults.effects.covariates", ["sex", "income"]),
               ("specs.default.effects.covariates: ['income'] are not columns of the base population",)),
    ConfigCase("budget horizon beyond the effects", "budget horizon", _set("spec_defaults.budget.horizon", 4),
               ("specs.default.budget.horizon: 4 is beyond the last relative year 2",)),
    ConfigCase("price year outside the price index", "budget inputs", _set("spec_defaults.budget.price_year", 1990),
               ("specs.default.budget.price_year: 1990: price index has no value for 1990",)),
    ConfigCase("empty budget price table", "budget inputs", _budget_dir("prices.csv", ""),
               ("specs.default.budget.inputs:", "prices.csv: cannot be read as CSV")),
    ConfigCase("control ids file missing", "control ids file", _control_ids(None),
               ("specs.default.control_ids: file", "does not exist")),
    ConfigCase("control ids without cohort", "control ids file", _control_ids("pnr\n100001\n"),
               ("specs.default.control_ids:", "lacks column(s) ['cohort']")),
    ConfigCase("control ids of another cohort", "control ids file", _control_ids("pnr,cohort\n100001,2015\n"),
               ("specs.default.control_ids:", "cohort(s) [2015], which are not in population.cohorts")),
    ConfigCase("business case table missing", "business case", _set("business_case", {"table": "no/such.csv"}),
               ("business_case: budget input file not found", "no/such.csv")),
]


def test_the_tiny_configuration_is_valid(tmp_path):
    validate_config(full_config(write_registers(tmp_path / "reg", years=YEARS)))


@pytest.mark.parametrize("case", CONFIG_CASES, ids=[c.id for c in CONFIG_CASES])
def test_a_bad_configuration_is_named_with_its_key(case, tmp_path):
    cfg = copy.deepcopy(full_config(write_registers(tmp_path / "reg", years=YEARS)))
    case.change(cfg, tmp_path)
    with pytest.raises(ConfigError) as info:
        validate_config(cfg)
    message = str(info.value)
    for text in case.expected:
        assert text in message, f"expected {text!r} in:\n{message}"


def test_every_configuration_check_has_a_case():
    assert {c.check for c in CONFIG_CASES} == set(CONFIG_CHECKS)


def test_every_configuration_problem_is_listed_at_once(tmp_path):
    cfg = full_config(write_registers(tmp_path / "reg", years=YEARS))
    cfg["population"]["age_min"] = 70
    cfg["population"]["cohorts"] = [2010, 2017]
    cfg["spec_defaults"]["budget"]["horizon"] = 3
    with pytest.raises(ConfigError) as info:
        validate_config(cfg)
    lines = [line for line in str(info.value).splitlines() if line.startswith("  - ")]
    assert [line.split(":")[0] for line in lines] == [
        "  - population.age_min", "  - specs.default.budget.horizon", "  - population.cohorts",
    ]


# ========================================================================================
# 2. the register extract (the validation step)


@dataclass
class DataCase:
    id: str
    expected: list[tuple[str, str, int | None]]
    """Every error line: (table.column, problem, rows or None)."""
    edit: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = field(default_factory=dict)
    omit: tuple[str, ...] = ()
    garbage: tuple[str, ...] = ()
    tables: dict[str, Any] | None = None
    fragments: tuple[str, ...] = ()


def _drop_every_10th(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(df.index[::10])


def _sel85_as_int(df: pd.DataFrame) -> pd.DataFrame:
    df["sel85"] = df["sel85"].astype("int8")
    df.loc[where(df, pnr=100001), "sel85"] = 2
    return df


N_BEF_2014 = n_rows("bef", aar=2014)
N_FORSORG = len(FRAMES["forsorg"])

PROBLEM_CASES: list[DataCase] = [
    DataCase("table missing", [("sundhed", "table missing", None)], omit=("sundhed",),
             fragments=("data.registers.tables.sundhed.path",)),
    DataCase("unreadable file", [("udda", "unreadable", None)], garbage=("udda",)),
    DataCase("participant file empty", [("deltagere", "no rows", None)], edit={"deltagere": lambda df: df.iloc[:0].astype({"startdato": "datetime64[ns]"})}),
    DataCase("column missing", [("indkomst.skattepl_indk", "column missing", None)],
             edit={"indkomst": lambda df: df.drop(columns="skattepl_indk")}),
    DataCase("mapped column missing", [("bef.civst", "column missing", None)],
             tables={"bef": {"columns": {"civst": "CIVST"}}}, fragments=("fix data.registers.tables.bef.columns.civst",)),
    DataCase("year as text", [("bef.aar", "wrong type", len(FRAMES["bef"]))], edit={"bef": as_text("aar")}),
    DataCase("birth date as text", [("bef.foed_dag", "wrong type", len(FRAMES["bef"]))], edit={"bef": as_text("foed_dag")}),
    DataCase("person id of another kind", [("deltagere.pnr", "wrong type", len(FRAMES["deltagere"]))],
             edit={"deltagere": lambda df: df.assign(pnr=[None if pd.isna(p) else str(p) for p in df["pnr"]])},
             fragments=("every table must carry pnr as the same kind",)),
    DataCase("missing support type", [("forsorg.ydelse", "missing values", 2)],
             edit={"forsorg": lambda df: setting("ydelse", None, pnr=100003, aar=2015)(
                 setting("ydelse", None, pnr=100003, aar=2016)(df))}),
    DataCase("duplicate person-year", [("forsorg.pnr+aar", "duplicate key", 2)],
             edit={"forsorg": lambda df: pd.concat([df, df.iloc[[3]]], ignore_index=True)}),
    DataCase("duplicate participation", [("deltagere.deltager_id+startdato", "duplicate key", 2)],
             edit={"deltagere": lambda df: pd.concat([df, df.iloc[[0]]], ignore_index=True)}),
    DataCase("sex code", [("bef.koen", "value not allowed", n_rows("bef", pnr=100005))],
             edit={"bef": setting("koen", 3, pnr=100005)}, fragments=("allowed: 1, 2; seen: 3 ×8",)),
    DataCase("civil status code", [("bef.civst", "value not allowed", 1)],
             edit={"bef": setting("civst", "X", pnr=100002, aar=2013)}),
    DataCase("support type code", [("forsorg.ydelse", "value not allowed", n_rows("forsorg", pnr=100006))],
             edit={"forsorg": setting("ydelse", "pension", pnr=100006)}),
    DataCase("integer boolean 2", [("handicap.sel85", "value not 0/1", n_rows("handicap", pnr=100001))],
             edit={"handicap": _sel85_as_int}),
    DataCase("hours per week", [("beskaeftigelse.timer_uge", "value out of range", 1)],
             edit={"beskaeftigelse": setting("timer_uge", 120.0, pnr=100002, aar=2018)}),
    DataCase("taxable income", [("indkomst.skattepl_indk", "value out of range", 1)],
             edit={"indkomst": setting("skattepl_indk", 2e9, pnr=100007, aar=2019)}),
    DataCase("education code too short", [("udda.hfaudd", "value out of range", 1)],
             edit={"udda": setting("hfaudd", 99, pnr=100003, aar=2014)}),
    DataCase("municipality 500", [("bef.kom", "code not in list", n_rows("bef", pnr=100009))],
             edit={"bef": setting("kom", 500, pnr=100009)}, fragments=("500 ×8", "98 municipalities")),
    DataCase("diagnosis without D", [("diag.diag", "code malformed", len(FRAMES["diag"]))],
             edit={"diag": lambda df: df.assign(diag=df["diag"].str[1:])}, fragments=("'F700'", "LPR form")),
    DataCase("education level not mapped",
             [("udda.hfaudd", "education level not configured", n_rows("udda", pnr=100001) + n_rows("udda", pnr=100002))],
             edit={"udda": lambda df: setting("hfaudd", 9010, pnr=100001)(setting("hfaudd", 1510, pnr=100002)(df))},
             fragments=("population.education_levels", "15 ×8, 90 ×8", "e.g. unknown: [90]")),
    DataCase("support year after the coverage", [("forsorg.aar", "year outside coverage", 1)],
             edit={"forsorg": appending(aar=2030)}, fragments=("2030 ×1",)),
    DataCase("income year missing",
             [("indkomst.aar", "coverage year without rows", None),
              ("indkomst.pnr+aar", "resident person-year missing", N_BEF_2014)],
             edit={"indkomst": lambda df: df[df["aar"] != 2014]}),
    DataCase("diagnosis after the coverage", [("diag.aar", "year after coverage end", 1)],
             edit={"diag": setting("aar", 2025, pnr=100002)}),
    DataCase("birth after the year end", [("bef.foed_dag", "birth date after year end", n_rows("bef", pnr=100004))],
             edit={"bef": setting("foed_dag", date(2030, 1, 1), pnr=100004)}),
    DataCase("birth before 1900",
             [("bef.foed_dag", "age over 110", n_rows("bef", pnr=100004)),
              ("bef.foed_dag", "birth date before 1900", n_rows("bef", pnr=100004))],
             edit={"bef": setting("foed_dag", date(1899, 6, 1), pnr=100004)}),
    DataCase("older than 110", [("bef.foed_dag", "age over 110", n_rows("bef", pnr=100007))],
             edit={"bef": setting("foed_dag", date(1901, 1, 1), pnr=100007)}),
    DataCase("start after the coverage", [("deltagere.startdato", "start date outside coverage", 1)],
             edit={"deltagere": setting("startdato", date(2030, 1, 1), deltager_id=5)}),
    DataCase("diagnosis before birth", [("diag.aar", "diagnosed before birth year", 1)],
             edit={"diag": setting("aar", 1950, pnr=100002)}),
    DataCase("participant unknown to bef", [("deltagere.pnr", "participant not in bef", 1)],
             edit={"deltagere": setting("pnr", 999999, deltager_id=4)}),
    DataCase("person unknown to bef", [("sundhed.pnr", "person not in bef", 1)],
             edit={"sundhed": appending(pnr=999999)}),
    DataCase("support rows dropped",
             [("forsorg.pnr+aar", "resident person-year missing", len(range(0, N_FORSORG, 10)))],
             edit={"forsorg": _drop_every_10th}, fragments=("forsorg is dense", "'oevrig'")),
    DataCase("income of a person missing",
             [("indkomst.pnr+aar", "resident person-year missing", n_rows("bef", pnr=LEFT_AFTER_2017))],
             edit={"indkomst": lambda df: df[df["pnr"] != LEFT_AFTER_2017]},
             fragments=(f"pnr={LEFT_AFTER_2017}, aar=2012", "1 person(s)")),
]

WARNING_CASES: list[DataCase] = [
    DataCase("sparse year without rows", [("handicap.aar", "coverage year without rows", None)],
             edit={"handicap": lambda df: df[df["aar"] != 2013]}),
    DataCase("birth date changes", [("bef.foed_dag", "birth date differs between years", n_rows("bef", pnr=100003))],
             edit={"bef": setting("foed_dag", date(1988, 7, 1), pnr=100003, aar=2015)}),
    DataCase("diagnosed person never resident", [("diag.pnr", "person not in bef", 1)],
             edit={"diag": appending(pnr=999999, aar=2000)}),
    DataCase("diagnosis prefix unmatched", [("diag.diag", "diagnosis prefix matches no code", None)],
             fragments=("population.diagnosis_groups.adhd: no code of diag starts with DF90",)),
]


def _write_case(case: DataCase, tmp_path: Path) -> dict[str, Any]:
    directory = write_registers(
        tmp_path / "reg", years=YEARS, omit=case.omit, garbage=case.garbage, edit=case.edit
    )
    cfg = full_config(directory)
    if case.tables:
        cfg["data"]["registers"]["tables"] = case.tables
    return cfg


@pytest.mark.parametrize("case", PROBLEM_CASES, ids=[c.id for c in PROBLEM_CASES])
def test_a_malformed_extract_stops_the_validation_step_naming_table_column_and_rows(case, tmp_path, capsys):
    cfg = _write_case(case, tmp_path)
    run = run_step("validate", cfg, tmp_path / "work", capsys)
    assert_named_failure(run, [f"{w}: {p}" for w, p, _ in case.expected] + list(case.fragments))
    lines = error_lines(run.log)
    assert len(lines) == len(case.expected), "\n".join(lines)
    for where_, problem, rows in case.expected:
        line = next(line for line in lines if line.startswith(f"{where_}: {problem}"))
        if rows is not None:
            assert re.search(rf" — {rows} rows? ", line + " "), f"expected {rows} rows in: {line}"
    assert "the register data violate the data contract" in run.stderr  # shown without opening the log


@pytest.mark.parametrize("case", WARNING_CASES, ids=[c.id for c in WARNING_CASES])
def test_a_suspicious_extract_passes_validation_with_a_logged_warning(case, tmp_path, capsys):
    cfg = _write_case(case, tmp_path)
    run = run_step("validate", cfg, tmp_path / "work", capsys)
    assert run.code == 0 and run.outputs_left, run.log
    for where_, problem, rows in case.expected:
        lines = [line for line in run.log.splitlines() if line.strip().startswith(f"- {where_}: {problem}")]
        assert lines, f"no warning '{where_}: {problem}' in:\n{run.log}"
        if rows is not None:
            assert re.search(rf" — {rows} rows? ", lines[0] + " ")
    for text in case.fragments:
        assert text in run.log


def test_every_validation_problem_has_a_case():
    named = {p for case in PROBLEM_CASES + WARNING_CASES for _, p, _ in case.expected}
    assert named == set(PROBLEMS)


def test_the_dense_check_counts_exactly_the_dropped_person_years(tmp_path):
    """The reported problem: 10 % of forsorg dropped silently cut the treated group. The
    check finds exactly the dropped resident person-years (hand count) and none else."""
    from regeval.errors import DataContractError
    from regeval.registers.read import resolve_sources
    from regeval.registers.validate import validate_registers

    forsorg = FRAMES["forsorg"]
    dropped = forsorg.iloc[::10]
    directory = write_registers(tmp_path, years=YEARS, edit={"forsorg": _drop_every_10th})
    with pytest.raises(DataContractError) as info:
        validate_registers(resolve_sources(directory), YEARS, max_examples=100)
    (v,) = [v for v in info.value.violations if v.problem == "resident person-year missing"]
    assert v.rows == len(dropped)
    found = {tuple(int(x.split("=")[1]) for x in e.split(", ")) for e in v.examples}
    assert found == set(zip(dropped["pnr"], dropped["aar"], strict=False))
    # rows of a year in which the person is not in bef (year of emigration) are not required
    after = write_registers(tmp_path / "b", years=YEARS, edit={"forsorg": appending(pnr=ARRIVED_2018, aar=2015)})
    validate_registers(resolve_sources(after), YEARS)


def test_dropping_a_tenth_of_the_support_rows_of_a_synthetic_extract_is_caught(small_registers, tmp_path):
    """The reported case: 10 % of forsorg dropped passed validation and silently shrank
    the treated group (550 → 497 on this extract). Every dropped row was a resident
    person-year (the generator writes forsorg for exactly the bef person-years), so the
    count must equal the number of dropped rows."""
    import shutil

    import numpy as np

    from regeval.errors import DataContractError
    from regeval.registers.read import resolve_sources
    from regeval.registers.validate import validate_registers

    broken = tmp_path / "registers"
    shutil.copytree(small_registers, broken)
    forsorg = pd.read_parquet(broken / "forsorg.parquet")
    keep = np.random.default_rng(1).random(len(forsorg)) >= 0.10
    forsorg[keep].to_parquet(broken / "forsorg.parquet", index=False)
    bef = pd.read_parquet(broken / "bef.parquet", columns=["pnr", "aar"])
    assert len(bef) == len(forsorg)  # dense: one forsorg row per bef person-year
    with pytest.raises(DataContractError) as info:
        validate_registers(resolve_sources(broken), (2009, 2025))
    (v,) = info.value.violations
    assert (v.table, v.column, v.problem) == ("forsorg", "pnr+aar", "resident person-year missing")
    assert v.rows == int((~keep).sum())
    # what the check prevents: the same population definition finds fewer treated
    import warnings

    from regeval.population.base import PopulationSpec, build_base_population

    spec = PopulationSpec.from_config(load_yaml(REPO / "config" / "config.yaml")["population"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = build_base_population(resolve_sources(small_registers), spec).units["treated"].sum()
        cut = build_base_population(resolve_sources(broken), spec).units["treated"].sum()
    assert cut < full


# ========================================================================================
# 2b. the extract as it arrives (the register_cache step: formats, per-year files, doubles)


def _extract(tmp_path: Path, layouts: Mapping[str, str], edit: Mapping[str, Callable[[pd.DataFrame], pd.DataFrame]] | None = None,
             omit: tuple[str, ...] = ()) -> dict[str, Any]:
    """The tiny valid set written as an extract (``layouts`` per table, see
    regeval.synthetic.extract); returns the full config mapping it."""
    from regeval.synthetic.extract import write_extract

    parquet = write_registers(tmp_path / "parquet", years=YEARS, edit=edit)
    registers = write_extract(parquet, tmp_path / "extract", layouts, YEARS)
    for name in omit:
        for f in (tmp_path / "extract").glob(f"{name}*"):
            f.unlink()
    cfg = full_config(tmp_path / "extract")
    cfg["data"]["registers"] = registers
    return cfg


def run_cache(config: Mapping[str, Any], work: Path, capsys) -> StepRun:
    """Run the register_cache rule's function through regeval.pipeline.runner.run."""
    from regeval.pipeline.rules.register_cache import register_cache
    from regeval.registers.contract import TABLE_NAMES

    folder = work / "results" / "_shared" / "inside" / "register_cache"
    outputs = {"report": folder / "cache.json", **{t: folder / f"{t}.parquet" for t in TABLE_NAMES},
               "persons": folder / "persons.parquet"}
    logfile = work / "results" / "_shared" / "logs" / "register_cache.log"
    capsys.readouterr()
    try:
        runner.run(register_cache, {}, {k: str(v) for k, v in outputs.items()}, {"data": config["data"]}, str(logfile),
                   name="register_cache")
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    return StepRun(code, logfile.read_text(), err, [str(p) for p in outputs.values() if p.exists()])


def _garbage_sas(cfg: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "extract" / "udda.sas7bdat").write_bytes(b"not a SAS dataset\n" * 20)
    cfg["data"]["registers"]["tables"]["udda"] = {"path": "udda.sas7bdat"}


def _no_such_pattern(cfg: dict[str, Any], tmp_path: Path) -> None:
    cfg["data"]["registers"]["tables"]["bef"] = {"path": "BEF{year}.sas7bdat"}


def _year_missing(cfg: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "extract" / "bef2015.dta").unlink()


def _column_missing_in_a_year(cfg: dict[str, Any], tmp_path: Path) -> None:
    import pyreadstat

    path = tmp_path / "extract" / "bef2017.dta"
    frame, _ = pyreadstat.read_dta(str(path))
    pyreadstat.write_dta(frame.drop(columns=["kom"]), str(path))


def _sex_one_and_a_half(df: pd.DataFrame, persons: tuple[int, ...], year: int) -> pd.DataFrame:
    df = df.astype({"koen": "float64"})
    df.loc[df["pnr"].isin(persons) & (df["aar"] == year), "koen"] = 1.5
    return df


@dataclass
class ExtractCase:
    id: str
    expected: tuple[str, ...]
    layouts: dict[str, str] = field(default_factory=lambda: {"bef": "stata_per_year"})
    edit: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = field(default_factory=dict)
    omit: tuple[str, ...] = ()
    change: Callable[[dict[str, Any], Path], None] | None = None


EXTRACT_CASES: list[ExtractCase] = [
    ExtractCase("table missing", ("handicap: table missing — file or folder", "handicap.parquet' does not exist"),
                omit=("handicap",)),
    ExtractCase("pattern matches no file", ("bef: no file matches the pattern — no file matches", "BEF{year}.sas7bdat"),
                change=_no_such_pattern),
    ExtractCase("year file missing", ("bef: year file missing — no file for year(s) 2015 of the coverage 2012–2019",),
                change=_year_missing),
    ExtractCase("unreadable SAS file", ("udda: unreadable —", "udda.sas7bdat' is not a readable sas7bdat file"),
                change=_garbage_sas),
    ExtractCase("column missing in one year's file",
                ("bef.kom: column missing — looked for column 'kom' in", "bef2017.dta'"),
                change=_column_missing_in_a_year),
    ExtractCase("person ids of another kind", ("deltagere.pnr: wrong type — person id is string here",
                                               "but integer in bef; every table must carry pnr as the same kind"),
                layouts={}, edit={"deltagere": lambda df: df.assign(
                    pnr=[None if pd.isna(p) else str(p) for p in df["pnr"]])}),
    ExtractCase("non-integral doubles",
                ("bef.koen: value not integral — 2 rows", "bef2016.dta row", "koen=1.5",
                 "contract kind 'int' needs whole numbers"),
                edit={"bef": lambda df: _sex_one_and_a_half(df, (100003, 100004), 2016)}),
]


@pytest.mark.parametrize("case", EXTRACT_CASES, ids=[c.id for c in EXTRACT_CASES])
def test_a_bad_extract_stops_the_cache_step_before_any_later_step(case, tmp_path, capsys):
    cfg = _extract(tmp_path, case.layouts, case.edit, case.omit)
    if case.change:
        case.change(cfg, tmp_path)
    run = run_cache(cfg, tmp_path / "work", capsys)
    assert_named_failure(run, list(case.expected))


def test_every_extract_problem_has_a_case():
    from regeval.registers.extract import EXTRACT_PROBLEMS

    named = {e.split(": ", 1)[1].split(" —")[0] for c in EXTRACT_CASES for e in c.expected if ": " in e and " —" in e}
    assert named == set(EXTRACT_PROBLEMS)


def test_a_per_year_stata_extract_with_integral_doubles_converts_and_passes_validation(tmp_path, capsys):
    """Numbers stored as doubles (as SAS and Stata store them) are accepted where integral,
    and counted; the cache holds the same values as the Parquet original."""
    import json

    cfg = _extract(tmp_path, {"bef": "stata_per_year", "forsorg": "xport", "udda": "csv", "handicap": "stata"})
    work = tmp_path / "work"
    run = run_cache(cfg, work, capsys)
    assert run.code == 0, run.log
    assert "register cache: bef file 8/8 bef2019.dta" in run.log
    folder = work / "results" / "_shared" / "inside" / "register_cache"
    report = json.loads((folder / "cache.json").read_text())
    bef = FRAMES["bef"]
    assert report["tables"]["bef"]["doubles_converted_to_integers"] == {c: len(bef) for c in ("ie_type", "koen", "kom", "pnr")}
    assert report["tables"]["handicap"]["doubles_converted_to_integers"]["sel85"] == len(FRAMES["handicap"])
    cached = pd.read_parquet(folder / "bef.parquet")
    expected = bef.sort_values(["aar", "pnr"], kind="stable").reset_index(drop=True)
    for c in ("aar", "koen", "kom", "ie_type"):
        assert cached[c].tolist() == expected[c].astype("int64").tolist(), c
    # person ids are the ranks of the distinct ids of all tables; persons.parquet maps them back
    persons = pd.read_parquet(folder / "persons.parquet")
    every = sorted(set().union(*(set(FRAMES[t]["pnr"].dropna().astype("int64")) for t in FRAMES if "pnr" in FRAMES[t])))
    assert persons["code"].tolist() == list(range(len(every))) and persons["pnr"].tolist() == every
    assert persons["pnr"].to_numpy()[cached["pnr"].to_numpy()].tolist() == expected["pnr"].astype("int64").tolist()
    assert [d.isoformat() for d in cached["foed_dag"]] == [pd.Timestamp(d).date().isoformat() for d in expected["foed_dag"]]
    from regeval.registers.extract import cache_sources
    from regeval.registers.validate import validate_registers

    validate_registers(cache_sources(folder), YEARS)


# ========================================================================================
# 3. the base population


def test_participants_outside_the_cohorts_are_counted_in_the_flow_and_warned(tmp_path, capsys):
    cfg = full_config(write_registers(tmp_path / "reg", years=YEARS))
    cfg["population"]["cohorts"] = [2017, 2018]  # the 2019 starters are outside
    run = run_step("base_population", cfg, tmp_path / "work", capsys)
    assert run.code == 0, run.log
    flow = pd.read_parquet(tmp_path / "work" / "results" / "_shared" / "inside" / "aggregates" / "population_flow.parquet")
    # every participant of the file is in the flow: 2017 (ids 1, 2), 2018 (3), 2019 (4, 5)
    assert flow["participants"].sum() == FRAMES["deltagere"]["deltager_id"].nunique() == 5
    other = flow[~flow["analysed"]]
    assert other["cohort"].tolist() == [2019]
    assert other["participants"].tolist() == [2] and other["with_person_id"].tolist() == [2]
    assert other[["resident_year_before", "in_base_population", "potential_controls"]].isna().all().all()
    assert flow.loc[flow["analysed"], "cohort"].tolist() == [2017, 2018]
    assert "participants outside cohorts: 2 participant(s)" in run.log and "(2019: 2)" in run.log
    assert "population.cohorts" in run.log
    # the 2017 cohort's treated have no potential control in this tiny extract
    assert "cohort without potential controls: cohort(s) 2017 (2 treated)" in run.log


@pytest.mark.parametrize(
    "population, expected",
    [
        ({"cohorts": [2018]}, ["base population: no treated unit in any cohort",
                               "none of the 1 participant(s) of the cohorts has a person id"]),
        ({"cohorts": [2017], "support_types": ["kontanthjaelp"]},
         ["base population: no treated unit in any cohort", "none of the 2 resident participant(s)",
          "0 have a primary income support of population.support_types (kontanthjaelp)"]),
        ({"cohorts": [2017], "base_diagnosis_groups": ["cerebral_palsy"]},
         ["base population: no treated unit", "0 a diagnosis of population.base_diagnosis_groups (cerebral_palsy)"]),
        ({"cohorts": [2017]}, ["base population: no potential control in any cohort",
                               "has 2 person-cohort(s), all of them participants"]),
    ],
    ids=["no person id", "no one on support", "no base diagnosis", "no controls"],
)
def test_a_base_population_without_treated_or_controls_is_a_named_error(population, expected, tmp_path, capsys):
    cfg = full_config(write_registers(tmp_path / "reg", years=YEARS))
    cfg["population"].update(population)
    assert_named_failure(run_step("base_population", cfg, tmp_path / "work", capsys), expected)


def test_no_participant_in_any_cohort_is_a_named_error_before_the_propensity_model(tmp_path, capsys):
    years = (2010, 2019)
    cfg = full_config(write_registers(tmp_path / "reg", years=years))
    cfg["data"]["years"] = list(years)
    cfg["population"]["cohorts"] = [2015, 2016]  # nobody started in these years
    validate_config(cfg)  # a consistent configuration: the data decide
    run = run_step("base_population", cfg, tmp_path / "work", capsys)
    assert_named_failure(run, [
        "no participant first started in a year of population.cohorts [2015, 2016]",
        "participants by year of first start: 2017: 2, 2018: 1, 2019: 2",
        "set population.cohorts",
    ])


def test_population_means_without_anybody_in_the_age_range_is_a_named_error(tmp_path, capsys):
    from regeval.errors import PopulationError
    from regeval.population.base import PopulationSpec, population_means
    from regeval.population.tables import population_means_of
    from regeval.registers.read import resolve_sources

    cfg = full_config(write_registers(tmp_path / "reg", years=YEARS))
    cfg["population"].update({"age_min": 100, "age_max": 110})
    spec = PopulationSpec.from_config(cfg["population"])
    with pytest.raises(PopulationError, match="population means: nobody in the age range — nobody resident is aged "
                       "population.age_min … age_max \\(100–110\\)"):
        population_means(resolve_sources(cfg["data"]["registers"]["directory"]), spec, *population_means_of(spec))
    # in the pipeline the base population, built from the same year-before variables, stops first
    run = run_step("base_population", cfg, tmp_path / "work", capsys)
    assert_named_failure(run, ["base population: no treated unit in any cohort",
                               "0 of them are aged population.age_min … age_max (100–110)"])


# ========================================================================================
# 4. the real command line


@dataclass
class CliCase:
    id: str
    expected: tuple[str, ...]
    fails_in: str
    """'config' (before any job), or the rule whose job fails."""
    config: dict[str, Any] = field(default_factory=dict)
    edit: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = field(default_factory=dict)
    omit: tuple[str, ...] = ()
    years: tuple[int, int] = YEARS


CLI_CASES: list[CliCase] = [
    CliCase("cohort outside the coverage", ("population.cohorts: cohort(s) 2021 need years outside data.years",),
            "config", config={"population": {"cohorts": [2017, 2021]}}),
    CliCase("age range reversed", ("population.age_min: 65 is larger than population.age_max 64",), "config",
            config={"population": {"age_min": 65}}),
    CliCase("diagnosis prefix without D", ("population.diagnosis_groups.adhd.0: 'F90' does not match",), "config",
            config={"population": {"diagnosis_groups": {"adhd": ["F90"]}}}),
    CliCase("window and horizon", ("specs.default.effects.windows.0: from 2 is after to 1",
                                   "specs.default.budget.horizon: 5 is beyond"), "config",
            config={"spec_defaults": {"effects": {"windows": [{"outcome": "employed", "from": 2, "to": 1}]},
                                      "budget": {"horizon": 5}}}),
    CliCase("table missing", ("handicap: table missing",), "register_cache", omit=("handicap",)),
    CliCase("pattern matches no file", ("bef: no file matches the pattern",), "register_cache",
            config={"data": {"registers": {"tables": {"bef": {"path": "BEF{year}.sas7bdat"}}}}}),
    CliCase("sex code", ("bef.koen: value not allowed — 8 rows",), "validate_registers",
            edit={"bef": setting("koen", 7, pnr=100002)}),
    CliCase("support rows dropped", ("forsorg.pnr+aar: resident person-year missing — 9 rows",), "validate_registers",
            edit={"forsorg": _drop_every_10th}),
    CliCase("municipality 500", ("bef.kom: code not in list — 1 row",), "validate_registers",
            edit={"bef": setting("kom", 500, pnr=100001, aar=2015)}),
    CliCase("diagnosis without D", ("diag.diag: code malformed — 7 rows",), "validate_registers",
            edit={"diag": lambda df: df.assign(diag=df["diag"].str[1:])}),
    CliCase("education level not mapped", ("udda.hfaudd: education level not configured — 8 rows",),
            "validate_registers", edit={"udda": setting("hfaudd", 9010, pnr=100004)}),
    CliCase("person id of another kind", ("deltagere.pnr: wrong type",), "register_cache",
            edit={"deltagere": lambda df: df.assign(pnr=[None if pd.isna(p) else str(p) for p in df["pnr"]])}),
    CliCase("no participant in the cohorts", ("no participant first started in a year of population.cohorts [2015, 2016]",),
            "base_population", config={"data": {"years": [2010, 2019]}, "population": {"cohorts": [2015, 2016]}},
            years=(2010, 2019)),
]

DOWNSTREAM = {
    # what must not exist after the failing job (its outputs and everything after it)
    "register_cache": ("register_cache/", "inside/validation.json", "base_population", "population_flow",
                       "population_means", "person_years", "/propensity/", "/matching/", "/effects/"),
    "validate_registers": ("inside/validation.json", "base_population", "population_flow", "population_means",
                           "person_years", "/propensity/", "/matching/", "/effects/"),
    "base_population": ("base_population.parquet", "population_flow", "person_years", "/propensity/",
                        "/matching/", "/effects/"),
}


def _snakemake(work: Path, configfile: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(work),
         "--configfile", str(configfile), "--cores", "1"],
        capture_output=True, text=True, env=env, timeout=600,
    )


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.id for c in CLI_CASES])
def test_the_command_line_stops_with_a_named_message_and_no_partial_output(case, tmp_path):
    directory = write_registers(tmp_path / "reg", years=case.years, omit=case.omit, edit=case.edit)
    work = tmp_path / "work"
    work.mkdir()
    configfile = work / "extract.yaml"
    configfile.write_text(yaml.safe_dump(deep_merge(override(directory), case.config)))
    proc = _snakemake(work, configfile)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-3000:]
    assert "Traceback" not in output, output[-5000:]
    for text in case.expected:
        assert text in output, f"expected {text!r} in:\n{output[-4000:]}"
    results = work / "results"
    if case.fails_in == "config":
        assert not results.exists()
        return
    assert f"Error in rule {case.fails_in}:" in output
    files = [str(p.relative_to(results)) for p in results.rglob("*") if p.is_file()]
    assert not [f for f in files if "export" in f], files
    assert not [f for f in files if not f.startswith("_shared/")], files  # nothing per spec
    left = [f for f in files if any(d in f for d in DOWNSTREAM[case.fails_in]) and "/logs/" not in f
            and "/benchmarks/" not in f]
    assert not left, f"partial output downstream of {case.fails_in}: {left}"


# ========================================================================================
# 5. the step runner


@pytest.mark.parametrize(
    "raised, traceback_expected",
    [
        (lambda: (_ for _ in ()).throw(ConfigError("specs.x.matching.k: bad")), False),
        (lambda: open("/no/such/file.parquet"), False),
        (lambda: {}["a bug"], True),
    ],
    ids=["project error", "missing file", "bug"],
)
def test_the_step_runner_exits_1_and_prints_a_traceback_only_for_a_bug(raised, traceback_expected, tmp_path, capsys):
    out = tmp_path / "out.parquet"

    def step(input, output, params, threads=1):  # noqa: A002 - the runner's signature
        Path(output["x"]).write_text("partial")
        raised()

    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        runner.run(step, {}, {"x": str(out)}, {}, str(tmp_path / "failing.log"), name="failing")
    err = capsys.readouterr().err
    log = (tmp_path / "failing.log").read_text()
    assert info.value.code == 1
    assert not out.exists()  # the partial output is removed
    assert "failing failed" in err and "failing failed" in log
    assert ("Traceback" in err) == traceback_expected and ("Traceback" in log) == traceback_expected
    if not traceback_expected:
        assert ("specs.x.matching.k: bad" in log) or ("No such file or directory: '/no/such/file.parquet'" in log)


def test_every_base_population_check_has_a_case():
    from regeval.population.base import POPULATION_CHECKS

    source = Path(__file__).read_text(encoding="utf-8")
    body = source.split("# 3. the base population", 1)[1].split("# 4. the real command line", 1)[0]
    for check in POPULATION_CHECKS:
        assert check in body, f"no case for the base-population check {check!r}"
