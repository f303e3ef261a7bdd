# Input data: synthetic registers (only when no real data are configured), then
# validation of every table against the data contract: the first step of the DAG.

if GENERATED:

    rule generate_synthetic:
        output:
            marker=f"{GENERATED}/generator.json",
            tables=expand(
                f"{GENERATED}/{{t}}.parquet",
                t=["bef", "udda", "diag", "forsorg", "beskaeftigelse", "handicap", "sundhed", "indkomst", "deltagere"],
            ),
            truth=f"{GENERATED}/truth_att.csv",
        params:
            step="generate",
            synthetic=config["synthetic"],
        threads: 2
        log:
            "results/_shared/logs/generate_synthetic.log",
        benchmark:
            "results/_shared/benchmarks/generate_synthetic.tsv"
        script:
            f"../../{STEP}"


rule validate_registers:
    input:
        rules.generate_synthetic.output.marker if GENERATED else [],
    output:
        report=f"{SHARED}/validation.json",
    params:
        step="validate",
        data=config["data"],
        # only what validation checks against (other population keys do not rerun it)
        population={k: config["population"][k] for k in ("education_levels", "diagnosis_groups")},
        generated_dir=GENERATED,
    log:
        "results/_shared/logs/validate_registers.log",
    benchmark:
        "results/_shared/benchmarks/validate_registers.tsv"
    script:
        f"../../{STEP}"
