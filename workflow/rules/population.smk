# Base population per cohort year (treated + potential controls, characteristics
# measured the year before start), the population flow and the whole-population means
# for the descriptive table, in one job that reads each register year once for all
# three; then the person-year outcomes of the base population. Each rule that reads
# registers declares their files.


rule base_population:
    input:
        **REGISTERS,
        validated=rules.validate_registers.output.report,
    output:
        units=f"{SHARED}/base_population.parquet",
        flow=f"{SHARED}/aggregates/population_flow.parquet",
        means=f"{SHARED}/aggregates/population_means.parquet",
    params:
        data=config["data"],
        population=config["population"],
        code=code("base_population"),
    group: REGISTERS_GROUP
    threads: 1
    resources:
        mem_mb=mem_mb(400, 2.0),
        runtime=runtime(10, 30),
    log:
        "results/_shared/logs/base_population.log",
    benchmark:
        "results/_shared/benchmarks/base_population.tsv"
    script:
        "../scripts/base_population.py"


rule person_years:
    input:
        **REGISTERS,
        units=rules.base_population.output.units,
    output:
        person_years=f"{SHARED}/person_years.parquet",
    params:
        data=config["data"],
        code=code("person_years"),
    group: REGISTERS_GROUP
    threads: 1
    resources:
        mem_mb=mem_mb(400, 2.5),
        runtime=runtime(10, 30),
    log:
        "results/_shared/logs/person_years.log",
    benchmark:
        "results/_shared/benchmarks/person_years.tsv"
    script:
        "../scripts/person_years.py"
