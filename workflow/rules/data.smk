# Input data: synthetic registers (only when no real data are configured), then
# validation of every table against the data contract: the first job of the DAG.

if GENERATED:

    rule generate_synthetic:
        output:
            marker=f"{GENERATED}/generator.json",
            tables=REGISTER_FILES,
            truth=f"{GENERATED}/truth_att.csv",
            truth_effects=f"{GENERATED}/truth_effects.parquet",
        params:
            # the number of worker processes does not change the registers: it is the job's threads
            synthetic={k: v for k, v in config["synthetic"].items() if k != "workers"},
            code=code("generate_synthetic"),
        group: REGISTERS_GROUP
        threads: config["synthetic"]["workers"]
        resources:
            mem_mb=generator_mem_mb,
            runtime=generator_runtime,
        log:
            "results/_shared/logs/generate_synthetic.log",
        benchmark:
            "results/_shared/benchmarks/generate_synthetic.tsv"
        script:
            "../scripts/generate_synthetic.py"


rule validate_registers:
    input:
        **REGISTERS,
    output:
        report=f"{SHARED}/validation.json",
    params:
        data=config["data"],
        # only what validation checks against (other population keys do not rerun it)
        population={k: config["population"][k] for k in ("education_levels", "diagnosis_groups")},
        # real extracts: size and modification time of every file (see common.smk)
        registers_stamp=REGISTER_STAMP,
        code=code("validate_registers"),
    group: REGISTERS_GROUP
    threads: 1
    resources:
        mem_mb=mem_mb(400, 2.5),
        runtime=runtime(10, 30),
    log:
        "results/_shared/logs/validate_registers.log",
    benchmark:
        "results/_shared/benchmarks/validate_registers.tsv"
    script:
        "../scripts/validate_registers.py"
