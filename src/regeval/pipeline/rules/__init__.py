"""One function per rule of the workflow, grouped by stage like ``workflow/rules/*.smk``.

Each function reads its inputs, calls the library and writes its outputs; it gets the
job's named ``input``, ``output`` and ``params`` (plain mappings) and ``threads``, so
it can be called without Snakemake. The rule's script ``workflow/scripts/<rule>.py``
names the function and runs it with :func:`regeval.pipeline.runner.run_rule`.

============================  ==========================================
module                        rules
============================  ==========================================
:mod:`.data`                  generate_synthetic, register_cache, validate_registers
:mod:`.population`            base_population (with the population means), person_years
:mod:`.control_group`         propensity, control_group
:mod:`.effects`               effects
:mod:`.export`                export_<spec> (one per effect table)
:mod:`.business_case`         business_case
:mod:`.sweep`                 sweep_summary
:mod:`.release`               release (audit of the whole release, checker's report)
============================  ==========================================
"""
