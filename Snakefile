# regeval: register-based effect evaluation with propensity score matching.
# Thin: configuration, shared helpers and the default target; the rules live in
# workflow/rules/*.smk and every rule calls one function of the regeval package.

import os
import sys

import re

from regeval.config import ConfigError, expand_sweep, resolve_spec, spec_keys, validate_config


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


# shared artifacts are keyed by the choices that matter for them, so specs that
# agree on those choices share them (e.g. k = 5 and k = 10 share the propensity fit)
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


wildcard_constraints:
    spec="|".join(re.escape(s) for s in sorted(config["specs"], key=len, reverse=True)),
    pskey="ps-[0-9a-f]{10}",
    mkey="m-[0-9a-f]{10}",
    ekey="e-[0-9a-f]{10}",


rule all:
    input:
        expand("results/{spec}/export/report.html", spec=SPECS),
        [f"results/{SWEEP}/export/summary.csv"] if SWEEP else [],
        ["results/business_case/export/business_case_summary.csv"] if config.get("business_case") else [],


include: "workflow/rules/data.smk"
include: "workflow/rules/population.smk"
include: "workflow/rules/control_group.smk"
include: "workflow/rules/effects.smk"
include: "workflow/rules/budget.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/sweep.smk"
include: "workflow/rules/business_case.smk"
