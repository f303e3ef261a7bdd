# regeval: register-based effect evaluation with propensity score matching.
#
# Every rule runs one function of regeval.pipeline.rules through its own script
# workflow/scripts/<rule>.py (the script names the function). workflow/rules/common.smk
# validates the configuration and plans the run (regeval.pipeline.plan) before any rule
# is defined; the rules live in workflow/rules/*.smk.


# the default configuration lives beside this Snakefile, so the workflow can run in
# any working directory (snakemake -s <repo>/Snakefile --directory <elsewhere>)
configfile: os.path.join(workflow.basedir, "config", "config.yaml")


include: "workflow/rules/common.smk"


# On a cluster these run where Snakemake runs instead of being submitted: the target
# rule, and the summaries that read only a few small exported tables.
localrules:
    all,
    sweep_summary,
    business_case,


rule all:
    input:
        lambda wildcards: ALL_TARGETS,


include: "workflow/rules/data.smk"
include: "workflow/rules/population.smk"
include: "workflow/rules/control_group.smk"
include: "workflow/rules/effects.smk"
include: "workflow/rules/export.smk"
include: "workflow/rules/sweep.smk"
include: "workflow/rules/business_case.smk"
