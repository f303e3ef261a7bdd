# Budget economics (SØM-style) is computed per spec inside the export rule
# (workflow/rules/report.smk): the effect table × prices, by actor, year and
# consequence group, with refunds, discounting and cost-level sensitivity.

BUDGET_TABLES = ["budget_net", "budget_by_actor", "budget_by_year", "budget_by_group", "budget_by_item", "budget_sensitivity"]
