# Input data: synthetic registers (only when no real data are configured), then
# validation of every table against the data contract: the first step of the DAG.

if GENERATED:

    rule generate_synthetic:
        output:
            marker=f"{GENERATED}/generator.json",
            tables=REGISTER_FILES,
            truth=f"{GENERATED}/truth_att.csv",
            truth_effects=f"{GENERATED}/truth_effects.parquet",
        params:
            step="generate",
            code=code_digest("generate"),
            # the number of worker processes does not change the registers: it is the job's threads
            synthetic={k: v for k, v in config["synthetic"].items() if k != "workers"},
        threads: config["synthetic"].get("workers", 2)
        log:
            "results/_shared/logs/generate_synthetic.log",
        benchmark:
            "results/_shared/benchmarks/generate_synthetic.tsv"
        script:
            f"../../{STEP}"


rule validate_registers:
    input:
        registers=REGISTER_FILES,
    output:
        report=f"{SHARED}/validation.json",
    params:
        step="validate",
        code=code_digest("validate"),
        data=config["data"],
        # only what validation checks against (other population keys do not rerun it)
        population={k: config["population"][k] for k in ("education_levels", "diagnosis_groups")},
        generated_dir=GENERATED,
        # real extracts: size and modification time of every file (see the Snakefile)
        registers_stamp=REGISTER_STAMP,
    log:
        "results/_shared/logs/validate_registers.log",
    benchmark:
        "results/_shared/benchmarks/validate_registers.tsv"
    script:
        f"../../{STEP}"
