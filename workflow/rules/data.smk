# Input data: synthetic registers (only when no real data are configured) or the real
# extract converted once into the register cache, then validation of every table against
# the data contract.

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

else:

    rule register_cache:
        input:
            extract=REGISTER_FILES,
        output:
            report=f"{CACHE}/cache.json",
            **CACHE_FILES,
            **PERSONS,
        params:
            data=config["data"],
            # size and modification time of every extract file (see common.smk)
            registers_stamp=REGISTER_STAMP,
            code=code("register_cache"),
        # the conversion reads each file in chunks and writes it table by table: memory grows
        # with the largest table, time with everything read (SAS and CSV are uncompressed)
        group: REGISTERS_GROUP
        threads: 1
        resources:
            mem_mb=mem_mb(500, 1.0),
            runtime=runtime(10, 20),
        log:
            "results/_shared/logs/register_cache.log",
        benchmark:
            "results/_shared/benchmarks/register_cache.tsv"
        script:
            "../scripts/register_cache.py"


rule validate_registers:
    input:
        **REGISTERS,
        **PERSONS,
    output:
        report=f"{SHARED}/validation.json",
    params:
        data=config["data"],
        # only what validation checks against (other population keys do not rerun it)
        population={k: config["population"][k] for k in ("education_levels", "diagnosis_groups")},
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
