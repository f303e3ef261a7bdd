# The plan of the run (regeval.pipeline.plan): the validated configuration, the specs,
# the keys of the work they share, the export jobs; and the paths the rules declare.
# Every file a job reads is a declared input (README, "Reruns and interrupted runs").

import os
import re
import sys

from regeval.errors import RegevalError
from regeval.pipeline import resources as job_resources
from regeval.pipeline.code import code_digest
from regeval.budget.tables import BUDGET_TABLES, BUSINESS_CASE_TABLES
from regeval.pipeline.plan import EXPORT_TABLES, SHARED, Plan
from regeval.registers.contract import TABLE_NAMES
from regeval.registers.read import register_files, register_fingerprint, resolve_sources
from regeval.synthetic.config import SyntheticConfig

try:
    PLAN = Plan.from_config(config, base_dir=workflow.basedir)
except RegevalError as exc:
    sys.stderr.write(f"regeval: {exc}\n")
    sys.exit(1)
config.update(PLAN.config)

# Group jobs, for a cluster (a local run ignores them; README, "Running on a SLURM
# cluster"). Every cluster job costs two Snakemake starts and the executor's status-check
# lag, so work that cannot run side by side runs as one job: a run with one chain of work
# (one export job: one propensity model, control group and effect table) is one job; with
# several, the registers' preparation is one job and then each set of specs that share a
# propensity model is one (side by side, on separate nodes). A group job asks for the
# threads and memory of its jobs that run at once, which Snakemake packs into layers no
# wider than --cores (the profile sets it to the CPUs of a node): never more than a node.
ONE_CHAIN = len(PLAN.exports) == 1
REGISTERS_GROUP = "run" if ONE_CHAIN else "registers"
EVALUATION_GROUP = "run" if ONE_CHAIN else "evaluation"

LANG = config["report"]["language"]
MIN_PERSONS = config["disclosure"]["min_persons"]
# the output-checking rules (regeval.disclosure.rules.Rules)
DISCLOSURE = dict(config["disclosure"])
SCRIPTS = os.path.join(workflow.basedir, "workflow", "scripts")
GENERATED = f"{SHARED}/registers" if config["data"]["source"] == "synthetic" else None


# the imports found in each library module, kept between Snakemake starts (keyed by the
# module's source; the digests are the same without it)
CODE_CACHE = os.path.join(".snakemake", "regeval", "code_imports.json")


def code(rule):
    """The param ``code`` of a rule: digest of its script and the regeval code it runs,
    so that edited library code reruns the rule's jobs (regeval.pipeline.code)."""
    return code_digest(os.path.join(SCRIPTS, f"{rule}.py"), cache=CODE_CACHE)


# Registers: every file of every table of the mapping (a dataset folder's files, not the
# folder: Snakemake compares a folder's own modification time, which does not change when
# a file in it is overwritten), and for real extracts a stamp of their sizes and
# modification times, so that a file replaced by an older copy is noticed too. Rules that
# read generated registers also read the generator's marker (the folder they are in).
try:
    if GENERATED:
        REGISTER_FILES = [str(s.path) for _, s in sorted(resolve_sources(GENERATED).items())]
        REGISTER_STAMP = None
        REGISTERS = {"registers": REGISTER_FILES, "generated": f"{GENERATED}/generator.json"}
        PERSONS = {}
    else:
        _reg = config["data"]["registers"]
        _sources = resolve_sources(_reg["directory"], _reg.get("tables") or {})
        REGISTER_FILES = register_files(_sources)
        REGISTER_STAMP = register_fingerprint(_sources)
        CACHE = f"{SHARED}/register_cache"
        CACHE_FILES = {name: f"{CACHE}/{name}.parquet" for name in TABLE_NAMES}
        REGISTERS = {"registers": list(CACHE_FILES.values()), "cache": f"{CACHE}/cache.json"}
        # the cache's map from person code to the extract's id (register_cache): for the
        # rules that show or read the extract's ids
        PERSONS = {"persons": f"{CACHE}/persons.parquet"}
except RegevalError as exc:
    sys.stderr.write(f"regeval: {exc}\n")
    sys.exit(1)

# Resources of every job (regeval.pipeline.resources; README, "Running on a SLURM
# cluster"): threads per rule, memory and time growing with the size of what a job reads.
def generator_mem_mb(wildcards, attempt):
    syn = SyntheticConfig(**config["synthetic"])
    return job_resources.generator_mem_mb(syn.workers, syn.chunk_size, attempt)


def generator_runtime(wildcards, attempt):
    return job_resources.generator_runtime(SyntheticConfig(**config["synthetic"]).n_persons, attempt)


mem_mb = job_resources.mem_mb
runtime = job_resources.runtime


# the population settings the propensity and control-group rules use (names in order)
DIAGNOSIS_GROUPS = {"diagnosis_groups": list(config["population"]["diagnosis_groups"])}


def keyed(kind, key):
    """The folder of the shared artifact of kind propensity, matching or effects."""
    return f"{SHARED}/{kind}/{key}"


def control_ids(wildcards):
    """The control-id file of the control group ``mkey``, if its specs bring their own."""
    path = PLAN.control_ids(PLAN.spec_of_key[wildcards.mkey])
    # with the register cache, the file's ids are mapped to the cache's person codes
    return {"control_ids": path, **PERSONS} if path else {}


# every file of every export is a target, so that a deleted one is made again (Snakemake
# checks only the outputs some job or target asks for); the lists are filled by the rules
ALL_TARGETS = []


wildcard_constraints:
    pskey="ps-[0-9a-f]{10}",
    mkey="m-[0-9a-f]{10}",
    ekey="e-[0-9a-f]{10}",


def export_inputs(specs):
    """Inputs of the export of ``specs`` (sharing an effect table): the person ids, the
    shared aggregates, and per spec ``s<i>_budget_input_<name>`` its budget inputs."""
    # with the register cache, its map from person code to id (the ids the tables are checked for)
    files = {"units": f"{SHARED}/base_population.parquet", **PERSONS, **PLAN.aggregates(specs[0])}
    if GENERATED:
        # the synthetic registers' true effects, stated beside the estimates in the report
        files["truth"] = f"{GENERATED}/truth_att.csv"
    for i, s in enumerate(specs):
        files.update({f"s{i}_budget_input_{name}": path for name, path in PLAN.budget_files(s).items()})
    return files


def export_outputs(specs):
    """Outputs of the export of ``specs``: per spec ``s<i>_<name>`` its budget tables
    (inside), its checked tables, disclosure log, figures, report and workbook."""
    out = {}
    for i, s in enumerate(specs):
        for t in BUDGET_TABLES:
            out[f"s{i}_{t}"] = f"results/{s}/inside/aggregates/{t}.parquet"
        for t in EXPORT_TABLES:
            for ext in ("csv", "parquet"):
                out[f"s{i}_table_{t}_{ext}"] = f"results/{s}/export/tables/{t}.{ext}"
        out[f"s{i}_log"] = f"results/{s}/export/tables/disclosure_log.json"
        out[f"s{i}_cells"] = f"results/{s}/export/tables/disclosure_cells.csv"
        out[f"s{i}_figures"] = report(
            directory(f"results/{s}/export/figures"),
            patterns=["{name}.png"],
            category="Figures",
            subcategory=s,
            labels={"spec": s, "figure": "{name}"},
        )
        out[f"s{i}_html"] = report(f"results/{s}/export/report.html", category="Evaluation report", labels={"spec": s, "file": "report.html"})
        out[f"s{i}_xlsx"] = report(f"results/{s}/export/tables.xlsx", category="Evaluation report", labels={"spec": s, "file": "tables.xlsx"})
    return out


# the release (workflow/rules/release.smk): every spec's export and the business case
EXPORTED_SPECS = [s for _group in PLAN.exports for s in _group.specs]


def release_inputs():
    """Inputs of the release job: per spec (s<i>_) and for the business case (bc_) each
    exported table with its aggregate and the export's cell classes; the sweep summary."""
    files = {}
    for i, s in enumerate(EXPORTED_SPECS):
        aggregates = {**PLAN.aggregates(s), **{t: f"results/{s}/inside/aggregates/{t}.parquet" for t in BUDGET_TABLES}}
        for t in EXPORT_TABLES:
            files[f"s{i}_inside_{t}"] = aggregates[t]
            files[f"s{i}_export_{t}"] = f"results/{s}/export/tables/{t}.parquet"
        files[f"s{i}_cells"] = f"results/{s}/export/tables/disclosure_cells.csv"
    if PLAN.business_case_files():
        for t in BUSINESS_CASE_TABLES:
            files[f"bc_inside_{t}"] = f"results/business_case/inside/aggregates/{t}.parquet"
            files[f"bc_export_{t}"] = f"results/business_case/export/{t}.parquet"
        files["bc_cells"] = "results/business_case/export/disclosure_cells.csv"
    if PLAN.sweep:
        # the sweep summary repeats cells of the specs' checked tables: the release ends after it
        files["sweep_summary"] = f"results/{PLAN.sweep}/export/summary.parquet"
        files["sweep_cells"] = f"results/{PLAN.sweep}/export/disclosure_cells.csv"
    return files


def sweep_settings(spec):
    """The values of the sweep grid's settings (dotted keys) in ``spec``."""
    data = PLAN.spec_data(spec)
    out = {}
    for key in (PLAN.config.get("sweep") or {}).get("grid") or {}:
        value = data
        for part in key.split("."):
            value = value[part]
        out[key] = value
    return out
