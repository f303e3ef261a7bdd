# regeval: register-based effect evaluation with propensity score matching.
# Thin: configuration, shared helpers and the default target; the rules live in
# workflow/rules/*.smk and every rule calls one function of the regeval package.

import os
import sys

import re

from regeval.pipeline.config import (
    ConfigError,
    canonical,
    effects_choices,
    expand_sweep,
    match_choices,
    propensity_choices,
    resolve_spec,
    spec_keys,
    validate_config,
)
from regeval.errors import RegevalError
from regeval.registers.read import register_files, register_fingerprint, resolve_sources
from regeval.budget.tables import BUSINESS_CASE_TABLES
from regeval.pipeline.steps import budget_input_files, code_digest, control_ids_file


# the default configuration lives beside this Snakefile, so the workflow can run in
# any working directory (snakemake -s <repo>/Snakefile --directory <elsewhere>)
configfile: os.path.join(workflow.basedir, "config", "config.yaml")


try:
    validate_config(config, base_dir=workflow.basedir)
    _expanded, SWEEP_SPECS = expand_sweep(config)
    config.update(_expanded)
    validate_config(config, base_dir=workflow.basedir)
except ConfigError as exc:
    sys.stderr.write(f"regeval: {exc}\n")
    sys.exit(1)
SWEEP = (config.get("sweep") or {}).get("name", "sweep") if SWEEP_SPECS else None

SPECS = list(config["run_specs"])
REPO = workflow.basedir
SHARED = "results/_shared/inside"
GENERATED = f"{SHARED}/registers" if config["data"]["source"] == "synthetic" else None
STEP = "workflow/scripts/step.py"
LANG = config["report"]["language"]


# Every file a job reads is a declared input (README, "Reruns and interrupted runs").
# Registers: every file of every table of the mapping (a dataset folder's files, not the
# folder: Snakemake compares a folder's own modification time, which does not change when
# a file in it is overwritten), and for real extracts a stamp of their sizes and
# modification times, so that a file replaced by an older copy is noticed too.
try:
    if GENERATED:
        REGISTER_FILES = [str(s.path) for _, s in sorted(resolve_sources(GENERATED).items())]
        REGISTER_STAMP = None
    else:
        _reg = config["data"]["registers"]
        _sources = resolve_sources(_reg["directory"], _reg.get("tables") or {})
        REGISTER_FILES = register_files(_sources)
        REGISTER_STAMP = register_fingerprint(_sources)
    # a spec's user-supplied control group: relative to the working directory, else the
    # repository (validate_config has checked that it exists)
    CONTROL_IDS = {}
    for _name in SPECS:
        _ids = resolve_spec(config, _name).get("control_ids")
        if _ids:
            CONTROL_IDS[_ids] = str(control_ids_file(_ids, REPO))
except RegevalError as exc:
    sys.stderr.write(f"regeval: {exc}\n")
    sys.exit(1)


# shared artifacts are keyed by the choices that matter for them, so specs that
# agree on those choices share them (e.g. k = 5 and k = 10 share the propensity fit);
# each keyed job gets exactly those choices as params (regeval.pipeline.config)
KEYS = spec_keys(config)
SPEC_OF_KEY = {}
for _name in sorted(KEYS):
    for _kind, _key in KEYS[_name].items():
        SPEC_OF_KEY.setdefault(_key, _name)


def spec_of(wildcards):
    return resolve_spec(config, wildcards.spec)


def spec_of_key(key):
    return resolve_spec(config, SPEC_OF_KEY[key])


def keys_of(spec_name):
    return KEYS[spec_name]


# the population settings the propensity and control-group steps use (names in order)
DIAGNOSIS_GROUPS = {"diagnosis_groups": list(config["population"]["diagnosis_groups"])}


wildcard_constraints:
    spec="|".join(re.escape(s) for s in sorted(config["specs"], key=len, reverse=True)),
    pskey="ps-[0-9a-f]{10}",
    mkey="m-[0-9a-f]{10}",
    ekey="e-[0-9a-f]{10}",


# every file of every export is a target, so that a deleted one is made again (Snakemake
# checks only the outputs some job or target asks for); the lists are filled by the rules
ALL_TARGETS = []


rule all:
    input:
        lambda wildcards: ALL_TARGETS,


include: "workflow/rules/data.smk"
include: "workflow/rules/population.smk"
include: "workflow/rules/control_group.smk"
include: "workflow/rules/effects.smk"
include: "workflow/rules/budget.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/sweep.smk"
include: "workflow/rules/business_case.smk"
