# Base population per cohort year (treated + potential controls, characteristics
# measured the year before start), the population flow, and the whole-population
# means for the descriptive table. Each rule that reads registers declares their files.


rule base_population:
    input:
        validated=rules.validate_registers.output.report,
        registers=REGISTER_FILES,
    output:
        units=f"{SHARED}/base_population.parquet",
        flow=f"{SHARED}/aggregates/population_flow.parquet",
    params:
        step="base_population",
        code=code_digest("base_population"),
        data=config["data"],
        population=config["population"],
        generated_dir=GENERATED,
    log:
        "results/_shared/logs/base_population.log",
    benchmark:
        "results/_shared/benchmarks/base_population.tsv"
    script:
        f"../../{STEP}"


rule population_means:
    input:
        validated=rules.validate_registers.output.report,
        registers=REGISTER_FILES,
    output:
        means=f"{SHARED}/aggregates/population_means.parquet",
    params:
        step="population_means",
        code=code_digest("population_means"),
        data=config["data"],
        population=config["population"],
        generated_dir=GENERATED,
    log:
        "results/_shared/logs/population_means.log",
    benchmark:
        "results/_shared/benchmarks/population_means.tsv"
    script:
        f"../../{STEP}"


rule person_years:
    input:
        units=rules.base_population.output.units,
        registers=REGISTER_FILES,
    output:
        person_years=f"{SHARED}/person_years.parquet",
    params:
        step="person_years",
        code=code_digest("person_years"),
        data=config["data"],
        generated_dir=GENERATED,
    log:
        "results/_shared/logs/person_years.log",
    benchmark:
        "results/_shared/benchmarks/person_years.tsv"
    script:
        f"../../{STEP}"
