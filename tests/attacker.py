"""An attacker of a release, written independently of regeval.disclosure.

It reads only exported files (``<spec>/export/tables/*.csv`` and the business case's
export) and knows what any reader of them knows about how the numbers relate:

* a flow: each count of a cohort is a subset of the one before; a column's cohorts add
  up to the totals published in the matching summary;
* the descriptives: the levels of a characteristic add up to the group's n, a share
  times n is the count, the participants of a cohort are the flow's treated of it;
* the persons with data each year: the same count in the panel counts, the effects
  (when no outcome is missing) and the group means, and the change from year to year;
* an effect is (about) the treated mean minus the control mean;
* the business case: a status's yearly cost is citizens × 12 × unit cost, and each
  group's citizens and yearly cost at each time point are published;
* the propensity histogram's bins add up to the numbers of treated and controls;
* tables of several specs that describe the same persons (the flow up to the base
  population, the participants' descriptives) hold the same numbers.

Every unknown (suppressed) count is a variable ≥ 0; :meth:`Attacker.interval` gives
the smallest and largest value of any linear expression given everything published
(linear programming, scipy's HiGHS).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import linprog

POPULATION_FLOW = ("participants", "with_person_id", "resident_year_before", "in_base_population", "base_population")
"""Flow columns about the whole population: the same in every spec."""


class Attacker:
    def __init__(self) -> None:
        self.known: dict[str, float] = {}
        self.unknown: dict[str, int] = {}
        self.eqs: list[tuple[dict[str, float], float]] = []
        self.ges: list[tuple[dict[str, float], float]] = []  # Σ c x ≥ rhs

    # ------------------------------------------------------------------ cells
    def cell(self, name: str, value: object) -> str:
        v = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
        if pd.isna(v):
            if name not in self.known:
                self.unknown.setdefault(name, len(self.unknown))
        else:
            self.known[name] = float(v)
            if name in self.unknown:  # published elsewhere (another spec or table): known after all
                pass
        return name

    def eq(self, terms: dict[str, float], rhs: float = 0.0) -> None:
        self.eqs.append((terms, rhs))

    def ge(self, terms: dict[str, float], rhs: float = 0.0) -> None:
        self.ges.append((terms, rhs))

    # ------------------------------------------------------------------ solving
    def interval(self, expr: dict[str, float]) -> tuple[float, float]:
        free = [n for n in self.unknown if n not in self.known]
        pos = {n: i for i, n in enumerate(free)}
        const = sum(c * self.known[n] for n, c in expr.items() if n in self.known)
        target = {n: c for n, c in expr.items() if n in pos}
        if not target:
            return const, const

        def rows(system):
            a, b = [], []
            for terms, rhs in system:
                row = np.zeros(len(free))
                r = rhs
                for n, c in terms.items():
                    if n in pos:
                        row[pos[n]] += c
                    elif n in self.known:
                        r -= c * self.known[n]
                    else:
                        row = None
                        break
                if row is not None and row.any():
                    a.append(row)
                    b.append(r)
            return a, b

        a_eq, b_eq = rows(self.eqs)
        a_ge, b_ge = rows(self.ges)
        c = np.zeros(len(free))
        for n, k in target.items():
            c[pos[n]] = k
        kw = dict(
            A_eq=np.array(a_eq) if a_eq else None, b_eq=np.array(b_eq) if b_eq else None,
            A_ub=-np.array(a_ge) if a_ge else None, b_ub=-np.array(b_ge) if b_ge else None,
            bounds=[(0, None)] * len(free), method="highs",
        )
        lo, hi = linprog(c, **kw), linprog(-c, **kw)
        low = const + lo.fun if lo.status == 0 else -np.inf
        high = const - hi.fun if hi.status == 0 else np.inf
        return float(low), float(high)


def _read(folder: Path, name: str) -> pd.DataFrame | None:
    p = folder / f"{name}.csv"
    return pd.read_csv(p) if p.exists() else None


def read_release(spec_dirs: dict[str, Path], business_case: Path | None) -> Attacker:
    """The equations a reader can write down from the exported tables."""
    at = Attacker()
    for spec, d in spec_dirs.items():
        _flow(at, spec, d)
        _descriptives(at, spec, d)
        _panel(at, spec, d)
        _overlap(at, spec, d)
        _summary(at, spec, d)
    if business_case is not None:
        _business_case(at, business_case)
    return at


def flow_name(spec: str, cohort: object, column: str) -> str:
    return f"flow/{cohort}/{column}" if column in POPULATION_FLOW else f"{spec}/flow/{cohort}/{column}"


def _flow(at: Attacker, spec: str, d: Path) -> None:
    f = _read(d, "population_flow")
    if f is None:
        return
    chains = [list(POPULATION_FLOW[:4]) + ["matched"], ["base_population", "potential_controls", "matched_controls"]]
    for _, row in f.iterrows():
        for chain in chains:
            names = [at.cell(flow_name(spec, row["cohort"], c), row[c]) for c in chain if c in f.columns]
            for a, b in zip(names, names[1:], strict=False):
                at.ge({a: 1.0, b: -1.0})
    ms = _read(d, "matching_summary")
    if ms is not None:
        totals = dict(zip(ms["item"], ms["n"], strict=False))
        for column, item in (("in_base_population", "treated"), ("matched", "treated matched")):
            if pd.notna(totals.get(item)):
                at.eq({flow_name(spec, c, column): 1.0 for c in f["cohort"]}, float(totals[item]))


def desc_name(spec: str, variable: object, level: object, column: str) -> str:
    # the participants are the same persons in every spec
    who = "" if column.endswith("participants") else f"{spec}/"
    return f"{who}desc/{variable}/{level}/{column}"


def _descriptives(at: Attacker, spec: str, d: Path) -> None:
    t = _read(d, "descriptives")
    if t is None:
        return
    for g in ("participants", "matched_controls"):
        n_row = t[t["term"] == "n"]
        n_name = at.cell(desc_name(spec, "n", "", f"n_{g}"), n_row[g].iloc[0] if len(n_row) else np.nan)
        for variable, rows in t[(t["term"] != "n") & (t["kind"] == "share")].groupby("variable"):
            ks = []
            for _, r in rows.iterrows():
                k = at.cell(desc_name(spec, variable, r["level"], f"k_{g}"), r[f"k_{g}"])
                nk = at.cell(desc_name(spec, variable, r["level"], f"nk_{g}"), r[f"nk_{g}"])
                at.eq({k: 1.0, nk: 1.0, n_name: -1.0})
                if pd.notna(r[g]) and pd.notna(r[f"n_{g}"]) and g == "participants":  # unweighted share
                    at.eq({k: 1.0}, float(r[g]) * float(r[f"n_{g}"]))
                ks.append(k)
                if variable == "cohort_year" and g == "participants":
                    at.eq({k: 1.0, flow_name(spec, r["level"], "in_base_population"): -1.0})
            if len(ks) > 1:
                at.eq({k: 1.0 for k in ks} | {n_name: -1.0})


def panel_name(spec: str, rel_year: object, group: str) -> str:
    return f"{spec}/panel/{int(rel_year)}/{group}"


def _panel(at: Attacker, spec: str, d: Path) -> None:
    p = _read(d, "panel_counts")
    if p is None:
        return
    for g in ("treated", "control"):
        for _, r in p.iterrows():
            at.cell(panel_name(spec, r["rel_year"], g), r[f"n_{g}"])
    e = _read(d, "effects")
    if e is not None:
        for _, r in e.iterrows():
            if r.get("n_missing_outcome", np.nan) == 0:
                for g in ("treated", "control"):
                    if pd.notna(r[f"n_{g}"]):
                        at.eq({panel_name(spec, r["rel_year"], g): 1.0}, float(r[f"n_{g}"]))
    m = _read(d, "group_means")
    if m is not None and e is not None:
        complete = set(zip(e.loc[e["n_missing_outcome"] == 0, "outcome"], e.loc[e["n_missing_outcome"] == 0, "rel_year"], strict=False))
        for _, r in m.iterrows():
            if (r["outcome"], r["rel_year"]) in complete and pd.notna(r["n"]):
                at.eq({panel_name(spec, r["rel_year"], r["group"]): 1.0}, float(r["n"]))


def _overlap(at: Attacker, spec: str, d: Path) -> None:
    o, pm = _read(d, "propensity_overlap"), _read(d, "propensity_model")
    if o is None or pm is None:
        return
    for g in ("treated", "control"):
        bins = o[o["group"] == g]
        names = [at.cell(f"{spec}/overlap/{g}/{i}", v) for i, v in zip(bins.index, bins["n"], strict=False)]
        total = pm[f"n_{g}"].dropna()
        if len(total):
            at.eq({n: 1.0 for n in names}, float(total.iloc[0]))


def _summary(at: Attacker, spec: str, d: Path) -> None:
    ms = _read(d, "matching_summary")
    if ms is None:
        return
    part = ms[ms["part_of"] == "treated"]
    names = [at.cell(f"{spec}/summary/{item}", n) for item, n in zip(part["item"], part["n"], strict=False)]
    total = ms.loc[ms["item"] == "treated", "n"]
    if len(names) and len(total) and pd.notna(total.iloc[0]):
        at.eq({n: 1.0 for n in names}, float(total.iloc[0]))


def _business_case(at: Attacker, folder: Path) -> None:
    s, t = _read(folder, "business_case_by_status"), _read(folder, "business_case_by_time")
    if s is None or t is None:
        return
    for (g, tp), rows in s.groupby(["group", "time_point"], sort=False):
        names = {}
        for i, r in rows.iterrows():
            n = at.cell(f"bc/{g}/{tp}/{i}", r["citizens"])
            names[n] = float(r["unit_cost_month"])
            if pd.isna(r["citizens"]) and pd.notna(r["yearly_cost"]) and r["unit_cost_month"] > 0:
                at.eq({n: 12.0 * float(r["unit_cost_month"])}, float(r["yearly_cost"]))
        tot = t[(t["group"] == g) & (t["time_point"] == tp)]
        if len(tot) and pd.notna(tot["citizens"].iloc[0]):
            at.eq({n: 1.0 for n in names}, float(tot["citizens"].iloc[0]))
        if len(tot) and pd.notna(tot["yearly_cost"].iloc[0]):
            at.eq({n: 12.0 * u for n, u in names.items()}, float(tot["yearly_cost"].iloc[0]))


def means_attack(spec_dirs: dict[str, Path]) -> list[dict[str, object]]:
    """Treated counts of 0/1 outcomes from a published effect and control mean:
    k_treated ≈ (estimate + mean_control) × n_treated where the treated mean is
    suppressed (the control mean also from the group means)."""
    out = []
    for spec, d in spec_dirs.items():
        e, m = _read(d, "effects"), _read(d, "group_means")
        if e is None:
            return out
        control = {} if m is None else {
            (r["outcome"], r["rel_year"]): r["mean"] for _, r in m[m["group"] == "control"].iterrows()
        }
        for i, r in e.iterrows():
            if pd.notna(r["mean_treated"]) or pd.isna(r["estimate"]) or pd.isna(r["n_treated"]):
                continue
            mc = r["mean_control"] if pd.notna(r["mean_control"]) else control.get((r["outcome"], r["rel_year"]))
            if mc is None or pd.isna(mc):
                continue
            out.append({"spec": spec, "row": i, "k_treated": round((r["estimate"] + mc) * r["n_treated"])})
    return out


def published_extremes(spec_dirs: dict[str, Path], t: int) -> list[str]:
    """Published maxima that rest on fewer than ``t`` persons sharing them."""
    bad = []
    for spec, d in spec_dirs.items():
        ms = _read(d, "matching_summary")
        if ms is None:
            continue
        rows = ms[ms["item"].str.startswith("largest") & ms["value"].notna()]
        bad += [f"{spec}: {r['item']} = {r['value']} shared by {r['n']}" for _, r in rows.iterrows() if not r["n"] >= t]
    return bad


def chain_differences(spec_dirs: dict[str, Path]) -> list[tuple[str, dict[str, float]]]:
    """Differences a reader can try to compute: consecutive flow counts and the persons
    with data in consecutive years."""
    out = []
    for spec, d in spec_dirs.items():
        f = _read(d, "population_flow")
        if f is not None:
            chain = [*POPULATION_FLOW[:4], "matched"]
            for c in f["cohort"]:
                for a, b in zip(chain, chain[1:], strict=False):
                    out.append((f"{spec} flow {c} {a}-{b}", {flow_name(spec, c, a): 1.0, flow_name(spec, c, b): -1.0}))
        p = _read(d, "panel_counts")
        if p is not None:
            years = sorted(p["rel_year"])
            for g in ("treated", "control"):
                for a, b in zip(years, years[1:], strict=False):
                    out.append((f"{spec} panel {g} {a}->{b}",
                                {panel_name(spec, b, g): 1.0, panel_name(spec, a, g): -1.0}))
    return out


def true_value(name_expr: dict[str, float], truth: dict[str, float]) -> float | None:
    try:
        return sum(c * truth[n] for n, c in name_expr.items())
    except KeyError:
        return None


def truth_of(spec_dirs_inside: dict[str, dict[str, pd.DataFrame]], bc_inside: dict[str, pd.DataFrame] | None) -> dict[str, float]:
    """The true values behind the attacker's names (for the test's verdict only)."""
    truth: dict[str, float] = {}
    for spec, tables in spec_dirs_inside.items():
        f = tables.get("population_flow")
        if f is not None:
            for _, r in f.iterrows():
                for c in [*POPULATION_FLOW, "matched", "potential_controls", "matched_controls"]:
                    if c in f.columns and pd.notna(r[c]):
                        truth[flow_name(spec, r["cohort"], c)] = float(r[c])
        p = tables.get("panel_counts")
        if p is not None:
            for _, r in p.iterrows():
                for g in ("treated", "control"):
                    truth[panel_name(spec, r["rel_year"], g)] = float(r[f"n_{g}"])
        t = tables.get("descriptives")
        if t is not None:
            for _, r in t.iterrows():
                for g in ("participants", "matched_controls"):
                    for pre in ("k", "nk"):
                        if pd.notna(r[f"{pre}_{g}"]):
                            truth[desc_name(spec, r["variable"], r["level"], f"{pre}_{g}")] = float(r[f"{pre}_{g}"])
                    if r["term"] == "n":
                        truth[desc_name(spec, "n", "", f"n_{g}")] = float(r[g])
        o = tables.get("propensity_overlap")
        if o is not None:
            for i, r in o.iterrows():
                truth[f"{spec}/overlap/{r['group']}/{i}"] = float(r["n"])
        ms = tables.get("matching_summary")
        if ms is not None:
            for _, r in ms.iterrows():
                truth[f"{spec}/summary/{r['item']}"] = float(r["n"])
    if bc_inside is not None:
        s = bc_inside["business_case_by_status"]
        for i, r in s.iterrows():
            truth[f"bc/{r['group']}/{r['time_point']}/{i}"] = float(r["citizens"])
    return truth


def recovered(at: Attacker, truth: dict[str, float], t: int,
              extra: list[tuple[str, dict[str, float]]] = ()) -> list[str]:
    """Every unknown count (and every chain difference) whose true value is 1 … t − 1
    and that the attacker can pin to a range narrower than t."""
    found = []
    free = [n for n in at.unknown if n not in at.known]
    by_name = defaultdict(dict)
    for n in free:
        by_name[n] = {n: 1.0}
    for what, expr in [*by_name.items(), *extra]:
        v = true_value(expr, truth)
        if v is None or not 0 < abs(v) < t or any(n not in at.known and n not in at.unknown for n in expr):
            continue
        if all(n in at.known for n in expr):
            found.append(f"{what}: published exactly ({v:g})")
            continue
        lo, hi = at.interval(expr)
        if hi - lo < t - 1e-6:
            found.append(f"{what}: true {v:g}, derivable in [{lo:.2f}, {hi:.2f}]")
    return found
