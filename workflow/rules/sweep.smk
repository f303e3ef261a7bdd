# Sensitivity sweep: one cross-spec summary of key effects and the net result per
# actor for every spec of the sweep (base spec marked), drawn from the specs' checked
# export tables.

if PLAN.sweep:

    ALL_TARGETS.extend(f"results/{PLAN.sweep}/export/{f}" for f in ("summary.csv", "summary.parquet", "summary_forest.png", "summary.html"))

    rule sweep_summary:
        input:
            effects=expand("results/{spec}/export/tables/effects.parquet", spec=PLAN.sweep_specs),
            windows=expand("results/{spec}/export/tables/effect_windows.parquet", spec=PLAN.sweep_specs),
            net=expand("results/{spec}/export/tables/budget_net.parquet", spec=PLAN.sweep_specs),
            # linked from the summary page
            reports=expand("results/{spec}/export/report.html", spec=PLAN.sweep_specs),
        output:
            csv=f"results/{PLAN.sweep}/export/summary.csv",
            parquet=f"results/{PLAN.sweep}/export/summary.parquet",
            figure=report(f"results/{PLAN.sweep}/export/summary_forest.png", category="Sweep", caption="../report/sweep.rst"),
            html=f"results/{PLAN.sweep}/export/summary.html",
        params:
            specs=list(PLAN.sweep_specs),
            base=PLAN.sweep_specs[0],
            labels={s: PLAN.specs[s].label or s for s in PLAN.sweep_specs},
            # per spec the values of the grid's settings (its label in the summary)
            settings={s: sweep_settings(s) for s in PLAN.sweep_specs},
            name=PLAN.sweep,
            language=LANG,
            min_persons=MIN_PERSONS,
            code=code("sweep_summary"),
        threads: 1
        resources:
            mem_mb=1000,
            runtime=10,
        log:
            f"results/{PLAN.sweep}/logs/sweep_summary.log",
        script:
            "../scripts/sweep_summary.py"
