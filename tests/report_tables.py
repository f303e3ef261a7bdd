"""A small, hand-made set of export tables (the columns the pipeline's table builders
write) and the figures drawn from them, for the report's tests: every number the report
shows is known here."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from regeval.pipeline.config import load_yaml, resolve_spec

REPO = Path(__file__).resolve().parents[1]

OUTCOMES = ["employed", "hours_per_week", "sel103_104", "gp_contacts", "support_su"]
YEARS = list(range(-3, 8))


def _spec() -> dict:
    spec = resolve_spec(load_yaml(REPO / "config" / "config.yaml"), "default")
    spec["effects"]["outcomes"] = list(OUTCOMES)
    return spec


SPEC = _spec()

# true effect by outcome (flat after the start), also the estimate's centre
TRUE = {"employed": 0.24, "hours_per_week": 2.8, "sel103_104": -0.09, "gp_contacts": 0.6, "support_su": 0.0}
LEVEL = {"employed": 0.40, "hours_per_week": 5.0, "sel103_104": 0.35, "gp_contacts": 9.0, "support_su": 0.0}
SE = {"employed": 0.025, "hours_per_week": 0.4, "sel103_104": 0.02, "gp_contacts": 0.3, "support_su": 0.0}


def _effects() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    eff, means, truth = [], [], []
    for o in OUTCOMES:
        for y in YEARS:
            tau = TRUE[o] if y >= 0 else 0.0
            est = tau if o == "support_su" else tau + (0.004 * SE[o] * (y % 3 - 1))
            se = SE[o]
            p = 0.5 if se == 0 or abs(est) < 2 * se else 1e-6
            eff.append({"spec": "default", "outcome": o, "rel_year": y, "estimate": est, "se": se,
                        "ci_low": est - 1.96 * se, "ci_high": est + 1.96 * se, "p": p,
                        "stars": "***" if p < 0.001 else "", "n_treated": 437, "n_control": 850})
            for g, m in (("treated", LEVEL[o] + est), ("control", LEVEL[o])):
                means.append({"spec": "default", "outcome": o, "rel_year": y, "group": g, "mean": m, "se": se,
                              "ci_low": m - 1.96 * se, "ci_high": m + 1.96 * se, "n": 437})
            truth.append({"outcome": o, "rel_year": y, "true_att": tau, "n_treated": 450})
    return pd.DataFrame(eff), pd.DataFrame(means), pd.DataFrame(truth)


def _tables() -> dict[str, pd.DataFrame]:
    eff, means, _truth = _effects()
    d = "default"
    desc = pd.DataFrame([
        {"spec": d, "term": "n", "variable": "n", "level": None, "kind": "count", "participants": 437.0,
         "matched_controls": 2133.0, "population": np.nan, "n_population": 119820.0},
        {"spec": d, "term": "sexman", "variable": "sex", "level": "man", "kind": "share", "participants": 0.659,
         "matched_controls": 0.656, "population": 0.5005, "n_population": 119820.0},
        {"spec": d, "term": "educationkort_videregaaende", "variable": "education", "level": "kort_videregaaende",
         "kind": "share", "participants": 0.039, "matched_controls": 0.044, "population": 0.095,
         "n_population": 119820.0},
        {"spec": d, "term": "cohort_year2014", "variable": "cohort_year", "level": "2014", "kind": "share",
         "participants": 0.153, "matched_controls": 0.153, "population": 0.169, "n_population": 119820.0},
        {"spec": d, "term": "age", "variable": "age", "level": None, "kind": "mean", "participants": 39.32,
         "matched_controls": 39.43, "population": 41.40, "n_population": 119820.0},
    ])
    bal = pd.DataFrame([
        {"spec": d, "term": "sexman", "variable": "sex", "level": "man", "kind": "binary",
         "mean_treated_before": 0.659, "mean_control_before": 0.550, "smd_before": 0.2299,
         "mean_treated_after": 0.659, "mean_control_after": 0.656, "smd_after": 0.0063},
        {"spec": d, "term": "age", "variable": "age", "level": None, "kind": "continuous",
         "mean_treated_before": 39.32, "mean_control_before": 47.14, "smd_before": -0.5933,
         "mean_treated_after": 39.32, "mean_control_after": 39.43, "smd_after": -0.0080},
        {"spec": d, "term": "cohort_year2014", "variable": "cohort_year", "level": "2014", "kind": "binary",
         "mean_treated_before": 0.153, "mean_control_before": 0.21, "smd_before": -0.15,
         "mean_treated_after": 0.153, "mean_control_after": 0.153, "smd_after": 0.0},
    ])
    flow = pd.DataFrame({"spec": d, "cohort": [2014, 2015], "analysed": True, "participants": [84, 82],
                         "with_person_id": [68, 69], "resident_year_before": [68.0, np.nan],
                         "in_base_population": [np.nan, 60.0], "base_population": [1004, 1010],
                         "potential_controls": [937, 878], "matched": [np.nan, 60.0], "matched_controls": [326, 370]})
    ms = pd.DataFrame({"spec": d, "item": ["treated", "treated matched", "unique controls"],
                       "value": [437.0, 437.0, 2133.0], "n": [437, 437, 2133]})
    model = pd.DataFrame({"spec": d, "term": ["(Intercept)", "sexwoman", "age", "educationkort_videregaaende"],
                          "estimate": [-1.5, -0.54, -0.038, -0.12], "std_error": [0.6, 0.115, 0.0046, 0.3],
                          "p_value": [0.012, 2.9e-6, 9.5e-17, 0.68], "auc": 0.78})
    edges = np.arange(0, 1.0001, 0.025)
    overlap = pd.DataFrame([{"spec": d, "group": g, "bin_low": lo, "bin_high": lo + 0.025,
                             "n": float(max(0, 60 - 8 * i)) if g == "treated" else float(max(0, 900 - 150 * i))}
                            for g in ("treated", "control") for i, lo in enumerate(edges[:-1])])
    panel = pd.DataFrame({"spec": d, "rel_year": YEARS, "n_treated": 437, "n_control": 850})
    win = pd.DataFrame([{"spec": d, "outcome": "hours_per_week", "year_from": 0, "year_to": 7, "n_years": 8,
                         "estimate": 2.814, "se": 0.318, "ci_low": 2.19, "ci_high": 3.44, "p": 9e-19,
                         "stars": "***", "n_treated": 437, "n_control": 845}])
    actors = ["kommune", "region", "stat", "programme"]
    net = pd.DataFrame({"spec": d, "actor": actors + ["total"],
                        "value_undiscounted": [53638.35, -768.80, 3924.73, -24900.0, 31894.29],
                        "value_pv": [48459.47, -689.10, 3623.41, -24900.0, 26493.78]})
    by_actor = pd.DataFrame({"spec": d, "actor": actors, "consequences_undiscounted": [53638.35, -768.8, 3924.73, 0],
                             "consequences_pv": [48459.47, -689.1, 3623.41, 0],
                             "programme_cost_undiscounted": [0, 0, 0, -24900.0],
                             "programme_cost_pv": [0, 0, 0, -24900.0],
                             "net_undiscounted": [53638.35, -768.8, 3924.73, -24900.0],
                             "net_pv": [48459.47, -689.1, 3623.41, -24900.0]})
    by_year = pd.DataFrame([{"spec": d, "rel_year": y, "actor": a,
                             "value_undiscounted": (-24900.0 if a == "programme" and y == 0 else
                                                    0.0 if a == "programme" else 9000.0 - 1000 * (a == "region")),
                             "value_pv": 0.0} for y in range(6) for a in actors])
    by_year["value_pv"] = by_year["value_undiscounted"] / 1.035 ** by_year["rel_year"]
    by_group = pd.DataFrame({"spec": d, "group": ["social_services", "tax_on_income", "programme_cost"],
                             "consequence_group": ["sheltered_activity", "tax_on_income", "programme_cost"],
                             "value_undiscounted": [45617.86, 12030.65, -24900.0],
                             "value_pv": [41052.46, 11106.99, -24900.0]})
    sens = pd.DataFrame([{"spec": d, "cost_factor": cf, "discount_rate": r, "actor": a,
                          "net_pv": 51393.78 - 24900.0 * cf - 100000 * r}
                         for cf in (0.5, 1.0, 1.5) for r in (0.0, 0.035) for a in ("total", "kommune")])
    item = pd.DataFrame({"spec": d, "rel_year": [0, 1], "group": "social_services",
                         "consequence_group": "sheltered_activity", "consequence": "sheltered_activity",
                         "outcome": "sel103_104", "actor": "kommune", "estimate": [-0.013, -0.09],
                         "p": [0.5, 1e-6], "quantity": [0.0, -0.09], "counted": [False, True],
                         "reason": ["p = 0.504 >= 0.05: counted as 0", "significant"], "factor": 1.0,
                         "unit": "user-year", "price": 150000.0, "sign": "cost",
                         "value_undiscounted": [0.0, 13500.0], "discount_factor": [1.0, 0.966],
                         "value_pv": [0.0, 13043.48]})
    return {"descriptives": desc, "balance": bal, "population_flow": flow, "matching_summary": ms,
            "propensity_model": model, "propensity_overlap": overlap, "panel_counts": panel, "effects": eff,
            "group_means": means, "effect_windows": win, "budget_net": net, "budget_by_actor": by_actor,
            "budget_by_year": by_year, "budget_by_group": by_group, "budget_sensitivity": sens,
            "budget_by_item": item}


def write_tables(folder: Path, draw: bool = True) -> tuple[Path, Path, Path]:
    """Write the tables (parquet + disclosure log), their figures and ``truth_att.csv``
    under ``folder``; returns (tables, figures, truth csv)."""
    from regeval.reporting.figures import draw_all

    tables = folder / "tables"
    figures = folder / "figures"
    truth_csv = folder / "truth_att.csv"
    if (tables / "disclosure_log.json").exists():
        return tables, figures, truth_csv
    tables.mkdir(parents=True, exist_ok=True)
    log = {"min_persons": 5, "tables": []}
    for name, df in _tables().items():
        df = df.assign(suppressed="")
        df.to_parquet(tables / f"{name}.parquet", index=False)
        log["tables"].append({"table": name, "title": name.replace("_", " "), "rows": len(df),
                              "suppressed_cells": 0, "kind": "x", "min_persons": 5, "primary": 0, "secondary": 0})
    (tables / "disclosure_log.json").write_text(json.dumps(log))
    _effects()[2].to_csv(truth_csv, index=False)
    if draw:
        draw_all(tables, figures, SPEC, "en")
    return tables, figures, truth_csv
