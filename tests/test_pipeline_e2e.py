"""The whole DAG on a tiny synthetic population, from a clean results folder.

Runs ``snakemake`` as a user would (in a scratch working directory, with a small
``--configfile``), twice with different ``--cores``, and checks that every export
is produced, passes disclosure control and is byte-identical between the runs.
A second scenario runs on a malformed register extract and checks that the run
stops at validation, naming the problem, and writes nothing downstream.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from .browser import assert_clean, check_page, start_browser
from .conftest import REPO, TINY, run_dag, snakemake


def _snakemake(workdir: Path, configfile: Path, cores: int) -> subprocess.CompletedProcess:
    return snakemake(workdir, configfile, cores)


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def two_runs(tiny_run, tmp_path_factory):
    """The session's tiny run (``--cores 1``) and a second one with ``--cores 2``."""
    return [tiny_run, run_dag(tmp_path_factory.mktemp("run2"), TINY, 2, "tiny.yaml")]


def test_run_writes_effect_table_budget_table_and_report(two_runs):
    export = two_runs[0] / "results" / "default" / "export"
    effects = pd.read_csv(export / "tables" / "effects.csv")
    assert {"spec", "outcome", "rel_year", "estimate", "se", "ci_low", "ci_high", "p", "stars",
            "n_treated", "n_control", "mean_treated", "mean_control"} <= set(effects.columns)
    assert set(effects["rel_year"]) == set(range(-5, 8))
    net = pd.read_csv(export / "tables" / "budget_net.csv")
    assert {"kommune", "region", "stat", "programme", "total"} <= set(net["actor"])
    html = (export / "report.html").read_text()
    assert "Effects" in html and "Budget economics" in html and "data:image/png;base64" in html
    assert "Control rule (censor_at_start):" in html
    counts = pd.read_csv(export / "tables" / "panel_counts.csv")
    assert counts["n_control_censored"].sum() > 0  # later participants were controls until their start
    assert (counts.loc[counts["rel_year"] <= 0, "n_control_censored"] == 0).all()
    assert (export / "tables.xlsx").stat().st_size > 0


def test_a_budget_variant_gets_its_own_complete_export_from_the_shared_job(two_runs):
    results = two_runs[0] / "results"
    a, b = results / "default" / "export", results / "all_effects" / "export"
    assert _digests(a).keys() == _digests(b).keys()  # the same complete set of files
    ea = pd.read_csv(a / "tables" / "effects.csv")
    eb = pd.read_csv(b / "tables" / "effects.csv")
    pd.testing.assert_frame_equal(ea.drop(columns="spec", errors="ignore"), eb.drop(columns="spec", errors="ignore"))
    na = pd.read_csv(a / "tables" / "budget_net.csv")
    nb = pd.read_csv(b / "tables" / "budget_net.csv")
    assert not na["value_pv"].equals(nb["value_pv"])  # rule 'all' counts the insignificant effects too
    assert (a / "figures" / "love_plot.png").read_bytes() == (b / "figures" / "love_plot.png").read_bytes()
    # one job (rule export_default, named after the first spec) wrote both; each spec has its log
    for spec in ("default", "all_effects"):
        log = (results / spec / "logs" / "export.log").read_text()
        assert "rule export_default started" in log
        assert "exported spec default" in log and "exported spec all_effects" in log
    assert "rule export_never started" in (results / "never" / "logs" / "export.log").read_text()


def test_a_spec_can_use_another_control_rule_side_by_side(two_runs):
    results = two_runs[0] / "results"
    flow_d = pd.read_csv(results / "default" / "export" / "tables" / "population_flow.csv")
    flow_n = pd.read_csv(results / "never" / "export" / "tables" / "population_flow.csv")
    # same treated, fewer potential controls: later participants are not controls
    pd.testing.assert_series_equal(flow_d["in_base_population"], flow_n["in_base_population"])  # NaN: suppressed
    both = flow_d["potential_controls"].notna() & flow_n["potential_controls"].notna()
    assert both.any()
    assert (flow_n.loc[both, "potential_controls"] <= flow_d.loc[both, "potential_controls"]).all()
    assert (flow_n.loc[both, "potential_controls"] < flow_d.loc[both, "potential_controls"]).any()
    html = (results / "never" / "export" / "report.html").read_text()
    assert "Control rule (never_participated):" in html
    counts = pd.read_csv(results / "never" / "export" / "tables" / "panel_counts.csv")
    assert "n_control_censored" not in counts  # nothing to censor


def test_employment_effect_is_found_on_the_tiny_population(two_runs):
    effects = pd.read_csv(two_runs[0] / "results" / "default" / "export" / "tables" / "effects.csv")
    emp = effects[effects["outcome"] == "employed"].set_index("rel_year")
    assert emp.loc[1, "ci_low"] > 0.05  # the generator's +24 pp in year 1 is detected
    assert emp.loc[-2, "ci_low"] < 0 < emp.loc[-2, "ci_high"] or abs(emp.loc[-2, "estimate"]) < 0.05


def test_budget_tables_add_up(two_runs):
    """The net result per actor adds up to the total, and the consequence groups too.
    (The published sign is checked at the synthetic default size in
    tests/test_budget_synthetic_default.py; on this tiny population few effects are
    significant, so under SØM's rule the result is mostly the programme's cost.)"""
    tables = two_runs[0] / "results" / "default" / "export" / "tables"
    net = pd.read_parquet(tables / "budget_net.parquet").set_index("actor")["value_pv"]
    assert net[["kommune", "region", "stat", "programme"]].sum() == pytest.approx(net["total"], abs=1e-6)
    groups = pd.read_parquet(tables / "budget_by_group.parquet")["value_pv"]
    assert groups.sum() == pytest.approx(net["total"], abs=1e-6)


def test_results_are_byte_identical_whatever_the_number_of_cores(two_runs):
    a = _digests(two_runs[0] / "results" / "default" / "export")
    b = _digests(two_runs[1] / "results" / "default" / "export")
    assert a == b


def test_person_level_data_stay_inside(two_runs):
    """No exported file holds a person id: every id of the base population is
    searched for in every exported table (CSV text included)."""
    work = two_runs[0]
    ids = pd.read_parquet(work / "results" / "_shared" / "inside" / "base_population.parquet", columns=["pnr"])["pnr"]
    idset = set(ids.astype(str))
    export = work / "results" / "default" / "export"
    for csv in (export / "tables").glob("*.csv"):
        text = csv.read_text()
        tokens = set(text.replace(",", " ").replace("\n", " ").split())
        assert not (tokens & idset), csv.name
    person_level = ("match_pairs", "matched_units", "outcome_panel", "scores", "base_population")
    assert not [p for p in export.rglob("*") if any(n in p.name for n in person_level)]


def test_malformed_register_stops_the_run_at_validation(tmp_path, small_registers):
    broken = tmp_path / "registers"
    shutil.copytree(small_registers, broken)
    bef = pd.read_parquet(broken / "bef.parquet")
    bef.loc[bef.index[:3], "koen"] = 7  # not a valid sex code
    bef.to_parquet(broken / "bef.parquet", index=False)
    cfg = tmp_path / "real.yaml"
    cfg.write_text(yaml.safe_dump({"data": {"source": "registers", "registers": {"directory": str(broken)}}}))
    proc = _snakemake(tmp_path, cfg, 1)
    assert proc.returncode != 0
    assert "bef.koen" in proc.stderr and "3 rows" in proc.stderr
    assert not (tmp_path / "results" / "_shared" / "inside" / "validation.json").exists()
    assert not (tmp_path / "results" / "_shared" / "inside" / "base_population.parquet").exists()


def test_snakemake_report_builds_from_the_run(two_runs):
    work = two_runs[0]
    cfg = work / "tiny.yaml"
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(work),
         "--configfile", str(cfg), "--report", str(work / "snakemake_report.html")],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (work / "snakemake_report.html").stat().st_size > 10_000


@pytest.fixture(scope="module")
def browser():
    yield from start_browser()


def test_snakemakes_report_in_a_browser(browser, tiny_run, tmp_path):
    """Snakemake's report and the run's own report pass the browser checks of
    tests/test_report_browser.py (images load, nothing wider than the page, no console
    errors)."""
    out = tmp_path / "snakemake_report.html"
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(tiny_run),
         "--configfile", str(tiny_run / "tiny.yaml"), "--report", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = check_page(browser, out.as_uri(), tmp_path / "snakemake_report.png")
    assert result["broken"] == [] and result["console"] == []
    assert result["scrollWidth"] <= result["width"]
    # and the run's own evaluation report, as the run wrote it
    report = tiny_run / "results" / "default" / "export" / "report.html"
    result = check_page(browser, report.as_uri(), tmp_path / "tiny_report.png")
    assert_clean(result, "the tiny run's report", min_images=10)


def test_report_can_be_written_in_danish(two_runs, tmp_path):
    from regeval.pipeline.config import load_yaml, resolve_spec
    from regeval.reporting.html import write_report

    export = two_runs[0] / "results" / "default" / "export"
    spec = resolve_spec(load_yaml(REPO / "config" / "config.yaml"), "default")
    write_report(export / "tables", export / "figures", spec, tmp_path / "r.html", tmp_path / "t.xlsx", language="da")
    html = (tmp_path / "r.html").read_text()
    assert "Effektevaluering" in html and "Budgetøkonomi" in html and 'lang="da"' in html
    assert "Effekternes robusthed" in html and "Placebotest før start" in html


def test_every_column_of_every_exported_table_has_a_label(two_runs):
    """The workbook's headers and code cells are labels of the catalogue in both languages,
    for the tables the pipeline writes (not only the report tests' hand-made ones)."""
    import json

    from regeval.reporting.labels import has
    from regeval.reporting.workbook import CODE_COLUMNS, _labelled, column_label

    tables = two_runs[0] / "results" / "default" / "export" / "tables"
    log = json.loads((tables / "disclosure_log.json").read_text())
    assert {"placebo_tests", "confounding_sensitivity", "score_selection"} <= {e["table"] for e in log["tables"]}
    unlabelled = []
    for entry in log["tables"]:
        df = pd.read_parquet(tables / f"{entry['table']}.parquet")
        assert has(entry["table"], "table") and has(entry["table"], "sheet"), entry["table"]
        for c in _labelled(entry["table"], df, "da").columns:
            code = c.removesuffix("__code")
            if code not in ("z",) and column_label(code, "da") == code:
                unlabelled.append(f"{entry['table']}.{code}")
        for c in set(CODE_COLUMNS) & set(df.columns) - {"outcome", "note"}:
            codes = {v for v in df[c].dropna().astype(str) if v}
            if not entry["table"].startswith("budget_"):
                unlabelled += [f"{entry['table']}.{c}={v}" for v in codes
                               if not any(has(v, sec) for sec in ("code", "variable", "outcome"))]
    assert unlabelled == []


def test_every_file_a_run_writes_is_a_declared_output(two_runs):
    """Snakemake's summary lists every declared output; the run wrote nothing else (logs,
    benchmarks and the files inside a declared figures folder aside)."""
    work = two_runs[0]
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(work),
         "--configfile", str(work / "tiny.yaml"), "--summary"],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    declared = {line.split("\t")[0] for line in proc.stdout.splitlines()[1:] if line.strip()}
    folders = [d for d in declared if (work / d).is_dir()]
    written = {
        str(p.relative_to(work)) for p in (work / "results").rglob("*")
        if p.is_file() and not {"logs", "benchmarks"} & set(p.relative_to(work).parts)
        and not any(str(p.relative_to(work)).startswith(d + "/") for d in folders)
    }
    assert written - declared == set()
    assert {d.split("/")[-1] for d in folders} == {"figures"}
