"""The DAG knows every file a job reads and writes: a changed input reruns exactly the
jobs that depend on it, and the reruns give what a clean run gives.

One base run on a tiny register extract (``data.source: registers``, one table as a
dataset folder), with a spec that brings its own control-id file, the budget inputs
and the business case in scratch copies, and the workflow and library in a scratch
copy of the repository (so that library code can be edited). On that run folder:

* the report language, a budget assumption: only the exports are planned;
* an invalid register file (in a copy of the run folder): everything but the business
  case is planned and the run stops at validation, naming the table;
* each file change alone, planned with ``snakemake -n`` and then put back: an export
  table deleted, a file of the dataset folder replaced by an older-dated copy, a
  library module, the control-id file, the budget prices, the business-case metadata;
* all but the register change at once, with an intermediate deleted: the run is
  killed with SIGKILL in the middle of an export (which then holds nothing) and
  resumed with the README's commands (``--unlock``, then the same command); nothing
  is left to do, and every export equals that of a clean, uninterrupted run on the
  changed inputs (file digests).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from .conftest import REPO

REPO_PARTS = ("Snakefile", "workflow", "src", "config", "profiles")
IGNORE = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")

TEST_CONFIG = {
    "data": {"source": "registers", "registers": {"directory": "registers", "tables": {"indkomst": {"path": "indkomst"}}}},
    "spec_defaults": {
        "effects": {
            "outcomes": ["employed", "hours_per_week", "taxable_income"],
            "windows": [{"outcome": "employed", "from": 0, "to": 7}],
        },
        # the DAG, not the score, is under test: one score model instead of the default's
        # three candidates keeps the journey's five runs cheap
        "propensity": {"model": "logit"},
    },
    "specs": {"default": {}, "own_controls": {"control_ids": "control_ids.csv"}},
    "run_specs": ["default", "own_controls"],
}


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _exports(work: Path) -> dict[str, str]:
    """Digests of every file of every export folder of a run."""
    out = {}
    for export in sorted((work / "results").glob("*/export")):
        out.update({f"{export.parent.name}/{k}": v for k, v in _digests(export).items()})
    return out


class Workflow:
    """The scratch repository copy and the shared inputs of the journey."""

    def __init__(self, root: Path):
        self.root = root
        self.repo = root / "repo"
        self.repo.mkdir()
        for part in REPO_PARTS:
            src = REPO / part
            if src.is_dir():
                shutil.copytree(src, self.repo / part, ignore=IGNORE)
            else:
                shutil.copy2(src, self.repo / part)
        self.budget = root / "budget"
        shutil.copytree(REPO / "config" / "budget", self.budget)
        self.env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(self.repo / "src")}

    def command(self, work: Path, *extra: str) -> list[str]:
        return [
            sys.executable, "-m", "snakemake", "-s", str(self.repo / "Snakefile"), "--directory", str(work),
            "--configfile", str(work / "config.yaml"), *extra,
        ]

    def run(self, work: Path, *extra: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(self.command(work, "--cores", "2", *extra), capture_output=True, text=True, env=self.env, timeout=900)
        if check:
            assert proc.returncode == 0, proc.stderr[-4000:]
        return proc

    def plan(self, work: Path, *extra: str) -> set[str]:
        """The jobs ``snakemake -n`` plans, as ``rule`` or ``rule[wildcards]``."""
        proc = subprocess.run(self.command(work, "-n", *extra), capture_output=True, text=True, env=self.env, timeout=300)
        assert proc.returncode == 0, proc.stderr[-4000:]
        jobs: list[list[str]] = []
        for line in proc.stdout.splitlines():
            # a dry run shows the cluster's group jobs: their jobs are indented under them
            m = re.match(r"^\s*(?:local)?rule (\S+):$", line)
            if m:
                jobs.append([m.group(1)])
            w = re.match(r"^\s+wildcards: (.*)$", line)
            if w and jobs:
                jobs[-1].append(w.group(1))
        return {f"{j[0]}[{j[1]}]" if len(j) > 1 else j[0] for j in jobs}


def _make_inputs(flow: Workflow, work: Path) -> None:
    """Registers (indkomst as a folder of yearly files), control ids, business case, config."""
    from regeval.pipeline.config import deep_merge, load_yaml
    from regeval.population.base import PopulationSpec, build_base_population
    from regeval.registers.read import resolve_sources
    from regeval.synthetic import SyntheticConfig, generate

    registers = work / "registers"
    generate(SyntheticConfig(seed=3, n_persons=6_000, n_participants=150), registers)
    income = pd.read_parquet(registers / "indkomst.parquet")
    (registers / "indkomst.parquet").unlink()
    for year, part in income.groupby("aar"):
        (registers / "indkomst").mkdir(exist_ok=True)
        part.to_parquet(registers / "indkomst" / f"aar_{year}.parquet", index=False)
    config = deep_merge(load_yaml(REPO / "config" / "config.yaml"), TEST_CONFIG)
    sources = resolve_sources(registers, config["data"]["registers"]["tables"])
    units = build_base_population(sources, PopulationSpec.from_config(config["population"])).units
    pool = units[(units["treated"] == 0) & units["cohort"].isin([2015, 2016, 2017])].sort_values(["cohort", "pnr"])
    pool.groupby("cohort").head(25)[["pnr", "cohort"]].to_csv(work / "control_ids.csv", index=False)
    bc = flow.root / "business_case"
    bc.mkdir()
    for name in ("business_case_ishoej.csv", "business_case_ishoej.yaml"):
        shutil.copy2(REPO / "config" / "budget" / name, bc / name)
    cfg = {**TEST_CONFIG, "business_case": {"table": str(bc / "business_case_ishoej.csv")}}
    cfg["spec_defaults"] = {**cfg["spec_defaults"], "budget": {"inputs": str(flow.budget)}}
    (work / "config.yaml").write_text(yaml.safe_dump(cfg))


def _jobs(work: Path) -> dict[str, object]:
    """Job names of the run's config, from the work-sharing keys."""
    from regeval.pipeline.config import deep_merge, load_yaml, spec_keys

    cfg = deep_merge(load_yaml(REPO / "config" / "config.yaml"), load_yaml(work / "config.yaml"))
    keys = spec_keys(cfg)
    d, o = keys["default"], keys["own_controls"]
    assert d["ps"] == o["ps"] and d["match"] != o["match"]  # one propensity fit, two control groups
    assert d["effects"] != o["effects"]
    return {
        "propensity": f"propensity[pskey={d['ps']}]",
        "control_group": {s: f"control_group[mkey={keys[s]['match']}]" for s in keys},
        "effects": {s: f"effects[ekey={keys[s]['effects']}]" for s in keys},
        "export": {s: f"export_{s}" for s in keys},  # each spec its own effect table: one export each
    }


class Edit:
    """Change a file, and put it back exactly (content and modification time), so that
    each change's plan is seen alone."""

    def __init__(self, path: Path):
        self.path = path
        self.content = path.read_bytes()
        self.stat = path.stat()

    def restore(self) -> None:
        self.path.write_bytes(self.content)
        os.utime(self.path, ns=(self.stat.st_atime_ns, self.stat.st_mtime_ns))


def _richer_income(path: Path) -> None:
    """Income × 1.5 in one yearly file of the dataset folder, written with its old
    modification time (as ``cp -p`` or ``rsync -a`` of an older file would leave it)."""
    st = path.stat()
    frame = pd.read_parquet(path)
    frame["skattepl_indk"] = frame["skattepl_indk"] * 1.5
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table.replace_schema_metadata({**(table.schema.metadata or {}), b"edited": b"yes"}), path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _fewer_control_ids(work: Path) -> None:
    ids = pd.read_csv(work / "control_ids.csv")
    ids[ids["cohort"] != 2017].to_csv(work / "control_ids.csv", index=False)


def _double_a_price(budget: Path) -> None:
    prices = budget / "prices.csv"
    table = pd.read_csv(prices, dtype=str, keep_default_na=False)
    row = table["consequence"] == "botilbud"
    table.loc[row, "price"] = str(2 * int(table.loc[row, "price"].iloc[0]))
    table.to_csv(prices, index=False)


def _raise_the_investment(metadata: Path) -> None:
    metadata.write_text(metadata.read_text().replace("intervention: 2300000", "intervention: 2500000"))


def _edit_library(repo: Path) -> None:
    """A real edit of a module that only the budget and the business case import."""
    som = repo / "src" / "regeval" / "budget" / "som.py"
    som.write_text(som.read_text() + "\n_EDITED = True\n")


@pytest.fixture(scope="module")
def journey(tmp_path_factory):
    started = time.perf_counter()
    flow = Workflow(tmp_path_factory.mktemp("dag"))
    work = flow.root / "work"
    work.mkdir()
    _make_inputs(flow, work)
    flow.run(work)
    jobs = _jobs(work)
    rec: dict[str, object] = {"flow": flow, "work": work, "jobs": jobs, "base": _exports(work)}
    phases: dict[str, float] = {}
    rec["phases"] = phases
    mark = [started]

    def phase(name: str) -> None:
        now = time.perf_counter()
        phases[name] = now - mark[0]
        mark[0] = now

    phase("base run")

    # config-only changes (dry runs)
    extra = work / "extra.yaml"
    for name, change in (("language", {"report": {"language": "da"}}),
                         ("budget_assumption", {"spec_defaults": {"budget": {"discount_rate": 0.02}}})):
        extra.write_text(yaml.safe_dump(change))
        rec[name] = flow.plan(work, "--configfile", str(work / "config.yaml"), str(extra))
    extra.unlink()
    phase("config dry runs")

    # an invalid register file, in a copy of the run folder
    bad = flow.root / "work_bad"
    shutil.copytree(work, bad)
    (bad / "registers" / "deltagere.parquet").write_bytes(b"not a parquet file")
    rec["invalid_register_plan"] = flow.plan(bad)
    validation = bad / "results" / "_shared" / "inside" / "validation.json"
    before = validation.stat().st_mtime_ns
    rec["invalid_register_run"] = flow.run(bad, check=False)
    # the conversion into the register cache stops the run: validation is not run again
    # (its report of the earlier, valid registers stays, older than the changed file)
    rec["invalid_register_validated"] = validation.exists() and validation.stat().st_mtime_ns != before
    shutil.rmtree(bad)
    phase("invalid register")

    # each file change alone (dry runs, then put back; the combined run below checks the
    # results)
    table = Edit(work / "results" / "default" / "export" / "tables" / "effects.csv")
    prices = Edit(flow.budget / "prices.csv")
    metadata = Edit(flow.root / "business_case" / "business_case_ishoej.yaml")
    ids = Edit(work / "control_ids.csv")
    som = Edit(flow.repo / "src" / "regeval" / "budget" / "som.py")
    income = Edit(work / "registers" / "indkomst" / "aar_2018.parquet")
    for name, change, edit in (
        ("deleted_table", table.path.unlink, table),
        ("register", lambda: _richer_income(income.path), income),
        ("code", lambda: _edit_library(flow.repo), som),
        ("control_ids", lambda: _fewer_control_ids(work), ids),
        ("budget_file", lambda: _double_a_price(flow.budget), prices),
        ("business_case", lambda: _raise_the_investment(metadata.path), metadata),
    ):
        change()
        rec[name] = flow.plan(work)
        edit.restore()
    phase("file changes")

    # every change but the register's at once, and an intermediate deleted; the run is
    # killed (SIGKILL to its process group) in the middle of an export and resumed with
    # the README's commands
    _edit_library(flow.repo)
    _fewer_control_ids(work)
    _double_a_price(flow.budget)
    _raise_the_investment(metadata.path)
    (work / "results" / "_shared" / "inside" / "person_years.parquet").unlink()
    table.path.unlink()
    rec["combined"] = flow.plan(work)
    proc = subprocess.Popen(
        flow.command(work, "--cores", "2"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=flow.env, start_new_session=True,
    )
    partial = [work / "results" / s / ".export.partial" for s in ("default", "own_controls")]
    deadline = time.monotonic() + 600
    while not any(p.is_dir() for p in partial) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    rec["killed_in_export"] = proc.poll() is None and any(p.is_dir() for p in partial)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    rec["after_kill"] = {
        s: sorted(str(p.relative_to(work)) for p in (work / "results" / s / "export").rglob("*") if p.is_file())
        for s in ("default", "own_controls")
        if (work / "results" / s / ".export.partial").is_dir()
    }
    rec["locked_rerun"] = flow.run(work, check=False)
    flow.run(work, "--unlock")
    flow.run(work)
    rec["partial_left"] = [str(p) for p in (work / "results").glob("*/.*.partial")]
    rec["final_plan"] = flow.plan(work)
    rec["incremental"] = _exports(work)
    phase("combined changes, kill, resume")

    # a clean, uninterrupted run on the changed inputs
    clean = flow.root / "clean"
    clean.mkdir()
    shutil.copytree(work / "registers", clean / "registers")
    for name in ("control_ids.csv", "config.yaml"):
        shutil.copy2(work / name, clean / name)
    flow.run(clean)
    rec["clean"] = _exports(clean)
    phase("clean run")
    rec["seconds"] = time.perf_counter() - started
    return rec


def _all_but_business_case(jobs) -> set[str]:
    return {
        "register_cache", "validate_registers", "base_population", "person_years", jobs["propensity"],
        *jobs["control_group"].values(), *jobs["effects"].values(), *jobs["export"].values(), "release", "all",
    }


def test_a_deleted_export_table_reruns_its_export(journey):
    jobs = journey["jobs"]
    # the release audit reads every export
    assert journey["deleted_table"] == {jobs["export"]["default"], "release", "all"}


def test_config_changes_rerun_only_the_jobs_that_use_them(journey):
    exports = {*journey["jobs"]["export"].values(), "release", "all"}
    assert journey["language"] == exports  # the effect figures are drawn by the export
    assert journey["budget_assumption"] == exports  # matching and effects do not carry the budget


def test_an_invalid_register_file_is_noticed_and_stops_the_run(journey):
    assert journey["invalid_register_plan"] == _all_but_business_case(journey["jobs"])
    proc = journey["invalid_register_run"]
    assert proc.returncode != 0
    assert "deltagere" in proc.stderr and "Traceback" not in proc.stderr
    assert not journey["invalid_register_validated"]


def test_a_file_of_a_dataset_folder_replaced_by_an_older_copy_reruns_everything_downstream(journey):
    assert journey["register"] == _all_but_business_case(journey["jobs"])


def test_edited_library_code_reruns_the_jobs_that_run_it(journey):
    jobs = journey["jobs"]
    assert journey["code"] == {*jobs["export"].values(), "business_case", "release", "all"}


def test_changed_control_ids_rerun_that_spec_only(journey):
    jobs = journey["jobs"]
    own = [jobs[k]["own_controls"] for k in ("control_group", "effects", "export")]
    assert journey["control_ids"] == {*own, "release", "all"}


def test_budget_and_business_case_files_rerun_their_jobs(journey):
    jobs = journey["jobs"]
    assert journey["budget_file"] == {*jobs["export"].values(), "release", "all"}
    assert journey["business_case"] == {"business_case", "release", "all"}


def test_a_deleted_intermediate_is_rebuilt_when_a_job_needs_it(journey):
    jobs = journey["jobs"]
    # (the combined changes; each alone is checked above)
    assert journey["combined"] == {
        "person_years",  # deleted, and read by the own_controls effects
        jobs["control_group"]["own_controls"], jobs["effects"]["own_controls"],
        jobs["effects"]["default"],  # reads the rebuilt person_years
        *jobs["export"].values(), "business_case", "release", "all",
    }


def test_a_killed_run_resumes_with_the_readme_commands(journey):
    assert journey["killed_in_export"], "the run finished before an export started: kill point not reached"
    # the export being written when the run was killed holds nothing, not a partial set
    assert journey["after_kill"] and all(files == [] for files in journey["after_kill"].values()), journey["after_kill"]
    locked = journey["locked_rerun"]
    assert locked.returncode != 0 and "--unlock" in locked.stderr  # Snakemake keeps a killed run's lock
    assert journey["partial_left"] == []
    assert journey["final_plan"] == set()


def test_the_reruns_give_what_a_clean_uninterrupted_run_gives(journey):
    inc, clean = journey["incremental"], journey["clean"]
    assert inc.keys() == clean.keys()
    assert [k for k in inc if inc[k] != clean[k]] == []
    base = journey["base"]
    changed = {k.split("/")[0] for k in inc if base.get(k) != inc[k]}
    # the changes reached every export (and the release's report, which covers them all)
    assert changed - {"release"} == {"default", "own_controls", "business_case"}
    print(f"journey: {journey['seconds']:.0f} s;", ", ".join(f"{k} {v:.0f} s" for k, v in journey["phases"].items()))
