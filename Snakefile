# regeval: register-based effect evaluation with propensity score matching.
# Thin: configuration, shared helpers and the default target; the rules live in
# workflow/rules/*.smk and every rule calls one function of the regeval package.

import os
import sys

from regeval.config import ConfigError, propensity_key, resolve_spec, validate_config


# the default configuration lives beside this Snakefile, so the workflow can run in
# any working directory (snakemake -s <repo>/Snakefile --directory <elsewhere>)
configfile: os.path.join(workflow.basedir, "config", "config.yaml")


try:
    validate_config(config)
except ConfigError as exc:
    sys.stderr.write(f"regeval: {exc}\n")
    sys.exit(1)

SPECS = list(config["run_specs"])
REPO = workflow.basedir
SHARED = "results/_shared/inside"
GENERATED = f"{SHARED}/registers" if config["data"]["source"] == "synthetic" else None
STEP = "workflow/scripts/step.py"
LANG = config["report"]["language"]


def spec_of(wildcards):
    return resolve_spec(config, wildcards.spec)


def ps_key_of(wildcards):
    return propensity_key(resolve_spec(config, wildcards.spec))


wildcard_constraints:
    spec="|".join(sorted(config["specs"])),
    pskey="ps-[0-9a-f]{10}",


rule all:
    input:
        expand("results/{spec}/export/report.html", spec=SPECS),


include: "workflow/rules/data.smk"
include: "workflow/rules/population.smk"
include: "workflow/rules/control_group.smk"
include: "workflow/rules/effects.smk"
include: "workflow/rules/budget.smk"
include: "workflow/rules/report.smk"
