# The exports: per spec the budget from the effect table, disclosure control of every
# aggregate (nothing reaches export/ unchecked), the figures drawn from the checked
# tables, the HTML report and the Excel workbook. Specs that share an effect table (a
# sweep's budget variants) are exported by one job, named after the first of them
# (export_<spec>), which checks and draws what they share once; every spec still gets
# its own complete results/<spec>/export/ and its log results/<spec>/logs/export.log.
#
# Every file an export writes is a declared output (the rule fails if it writes one
# that is not), and each spec's export/ folder is written to a temporary sibling and
# renamed into place when complete (regeval.pipeline.files.atomic_folder).

for _group in PLAN.exports:
    ALL_TARGETS.extend(str(f) for f in export_outputs(_group.specs).values())

    rule:
        name:
            _group.rule
        input:
            **export_inputs(_group.specs),
        output:
            **export_outputs(_group.specs),
        params:
            spec_names=list(_group.specs),
            specs=[PLAN.spec_data(s) for s in _group.specs],
            # the shared work each spec's tables come from (named in its log)
            shared_keys={s: PLAN.keys[s] for s in _group.specs},
            min_persons=MIN_PERSONS,
            language=LANG,
            code=code("export"),
        threads: 1
        resources:
            mem_mb=mem_mb(600, 2),
            runtime=runtime(15, 30),
        log:
            **{f"s{i}": f"results/{s}/logs/export.log" for i, s in enumerate(_group.specs)},
        benchmark:
            f"results/{_group.specs[0]}/benchmarks/export.tsv"
        script:
            "../scripts/export.py"
