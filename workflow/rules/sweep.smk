# Sensitivity sweep: one cross-spec summary of key effects and the net result per
# actor for every spec of the sweep (base spec marked), drawn from the specs'
# checked export tables.

if SWEEP:

    ALL_TARGETS.extend(f"results/{SWEEP}/export/{f}" for f in ("summary.csv", "summary.parquet", "summary_forest.png", "summary.html"))

    rule sweep_summary:
        input:
            effects=expand("results/{spec}/export/tables/effects.parquet", spec=SWEEP_SPECS),
            windows=expand("results/{spec}/export/tables/effect_windows.parquet", spec=SWEEP_SPECS),
            net=expand("results/{spec}/export/tables/budget_net.parquet", spec=SWEEP_SPECS),
        output:
            csv=f"results/{SWEEP}/export/summary.csv",
            parquet=f"results/{SWEEP}/export/summary.parquet",
            figure=report(f"results/{SWEEP}/export/summary_forest.png", category="Sweep", caption="../report/sweep.rst"),
            html=f"results/{SWEEP}/export/summary.html",
        params:
            step="sweep_summary",
            code=code_digest("sweep_summary"),
            specs=SWEEP_SPECS,
            base=SWEEP_SPECS[0],
            labels={s: resolve_spec(config, s).get("label", s) for s in SWEEP_SPECS},
            min_persons=config["disclosure"]["min_persons"],
        log:
            f"results/{SWEEP}/logs/sweep_summary.log",
        script:
            f"../../{STEP}"
