"""Secondary suppression across the linked tables of a release, audited by linear
programming (docs/disclosure.md, "Suppression method").

The person counts of all tables of a release that take part in a linear relation a
reader knows are variables of one model:

* **sums** (``AggregateMeta.secondary``): the cells of a group of rows add up to a
  total the reader is assumed to know (whether or not it is published);
* **flows** (``differences``): each count a subset of the one before (``x_i ≥ x_j``),
  and every difference of two counts is a cell of persons;
* **row chains** (``row_chains``): counts along ordered rows whose changes are cells
  of persons (the reader is assumed to know the direction of each change);
* **row sums** (``row_sums``): a count equals the sum of others in the same row
  (``n = k + nk``);
* **links** (``links``): the same count in several tables or specs (same key, key
  values and value) is one variable, published everywhere or nowhere.

Published cells are fixed; suppressed ones are free (≥ 0). A *sensitive* quantity is a
suppressed count of 1 … min_persons − 1 persons, or a difference in a flow or chain of
as many. For each, HiGHS (:func:`scipy.optimize.linprog`) finds the smallest and largest
value a reader can derive from everything published; if the range is narrower than
min_persons, the smallest non-zero published count of the relations around it is
suppressed too (complementary suppression), and the audit is repeated. Suppressing a
cell only widens the feasible set, so one pass over the sensitive quantities suffices.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from regeval.disclosure.primary import TableState
from regeval.errors import DisclosureError

Cell = tuple[int, int, str]
"""(table index in the release, row, column)."""


@dataclass
class Relation:
    """``Σ coef · x  (== or ≥)  rhs`` over variables."""

    coefs: dict[int, float]
    rhs: float
    equality: bool
    what: str


@dataclass
class Sensitive:
    coefs: dict[int, float]
    value: float
    what: str
    cell: Cell | None = None


@dataclass
class Model:
    """Variables (classes of linked cells), relations and sensitive quantities."""

    cells: dict[Cell, int] = field(default_factory=dict)
    members: list[list[Cell]] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    sensitive: list[Sensitive] = field(default_factory=list)
    states: list[TableState] = field(default_factory=list)
    by_key: dict[tuple, int] = field(default_factory=dict)
    """Link key (key, key values..., value) -> variable, for totals published elsewhere."""

    def relations_of(self) -> dict[int, list[int]]:
        """Variable -> the relations it appears in (computed once the model is built)."""
        cache = self.__dict__.get("_relations_of")
        if cache is None or cache[0] != len(self.relations):
            by_var: dict[int, list[int]] = defaultdict(list)
            for r, rel in enumerate(self.relations):
                for v in rel.coefs:
                    by_var[v].append(r)
            cache = (len(self.relations), by_var)
            self.__dict__["_relations_of"] = cache
        return cache[1]

    def var(self, cell: Cell, value: float) -> int:
        if cell not in self.cells:
            self.cells[cell] = len(self.members)
            self.members.append([cell])
            self.value.append(float(value))
        return self.cells[cell]


def _num(state: TableState, row: int, column: str) -> float:
    return state.number(row, column)


def build_model(states: Sequence[TableState], min_persons: int) -> Model:
    """The linear model of a release's count cells (see the module's docstring)."""
    model = Model()
    _links(model, states)
    for ti, st in enumerate(states):
        frame, meta = st.frame, st.meta
        for group in meta.secondary:
            by = [c for c in group.get("by", []) if c in frame.columns]
            cells = [c for c in group.get("cells", []) if c in frame.columns and c in meta.count_columns]
            keys = frame[by].astype(str).agg("|".join, axis=1) if by else pd.Series("all rows", index=frame.index)
            # rows with an empty key (e.g. a summary's items that are part of nothing) form no group
            empty = frame[by].isna().any(axis=1) | (frame[by].astype(str) == "").any(axis=1) if by else keys == ""
            for key, idx in frame[~empty].groupby(keys[~empty], sort=False).groups.items():
                for c in cells:
                    rows = [i for i in idx if np.isfinite(_num(st, i, c))]
                    # a group of fewer than min_persons: its total is itself a small cell that is
                    # not published, and every cell of it is suppressed anyway
                    if len(rows) < 2 or sum(_num(st, i, c) for i in rows) < min_persons:
                        continue
                    total_key = group.get("total")
                    total_var = None
                    if total_key is not None:
                        # the total is known only where a linked cell publishes it
                        total_var = model.by_key.get((total_key, sum(_num(st, i, c) for i in rows)))
                        if total_var is None:
                            continue
                    # the plain sum, and sums weighted with published columns (citizens × unit cost)
                    for w in [None, *group.get("weights", [])]:
                        coefs: dict[int, float] = defaultdict(float)
                        total = 0.0
                        for i in rows:
                            weight = 1.0 if w is None else _num(st, i, w)
                            coefs[model.var((ti, i, c), _num(st, i, c))] += weight
                            total += weight * _num(st, i, c)
                        what = f"{meta.name}: {c} of {key} add up" + (f" (weighted by {w})" if w else "")
                        if total_var is not None:
                            coefs[total_var] -= 1.0
                            total = 0.0
                        model.relations.append(Relation(dict(coefs), total, True, what))
        for target, parts in getattr(meta, "row_sums", ()):
            for i in frame.index:
                vals = [_num(st, i, c) for c in (target, *parts)]
                if not all(np.isfinite(vals)):
                    continue
                coefs = defaultdict(float)
                coefs[model.var((ti, i, target), vals[0])] -= 1.0
                for c, v in zip(parts, vals[1:], strict=True):
                    coefs[model.var((ti, i, c), v)] += 1.0
                model.relations.append(Relation(dict(coefs), 0.0, True, f"{meta.name}: {target} = {' + '.join(parts)}"))
        for chain in meta.differences:
            cols = [c for c in chain if c in frame.columns]
            for i in frame.index:
                seq = [(c, _num(st, i, c)) for c in cols]
                seq = [(c, v) for c, v in seq if np.isfinite(v)]
                _chain(model, [((ti, i, c), v) for c, v in seq], min_persons, f"{meta.name} row {i}", signed=False)
        for chain in getattr(meta, "row_chains", ()):
            by = [c for c in chain.get("by", []) if c in frame.columns]
            groups = frame.groupby(by, sort=False).groups.values() if by else [frame.index]
            for c in chain["cells"]:
                for idx in groups:
                    rows = frame.loc[list(idx)].sort_values(chain["order"]).index
                    cells_along = [((ti, i, c), _num(st, i, c)) for i in rows]
                    along = [(cell, v) for cell, v in cells_along if np.isfinite(v)]
                    _chain(model, along, min_persons, f"{meta.name} {c} along {chain['order']}", signed=True)
        for c in meta.count_columns:
            v = st.count(c)
            for i in frame.index[(v > 0) & (v < min_persons) & st.mask[c]]:
                var = model.var((ti, i, c), float(v[i]))
                model.sensitive.append(Sensitive({var: 1.0}, float(v[i]), f"{meta.name} {c} row {i}", (ti, i, c)))
    _holds(model)
    return model


def _holds(model: Model) -> None:
    """Every declared relation holds for the true values (else the metadata is wrong)."""
    for rel in model.relations:
        lhs = sum(c * model.value[v] for v, c in rel.coefs.items())
        tol = 1e-6 * max(1.0, abs(rel.rhs))
        if (rel.equality and abs(lhs - rel.rhs) > tol) or (not rel.equality and lhs < rel.rhs - tol):
            raise DisclosureError(
                f"disclosure: the declared relation '{rel.what}' does not hold for the table's values "
                f"({lhs:g} vs {rel.rhs:g}); the table's metadata is wrong"
            )


def _chain(model: Model, seq: list[tuple[Cell, float]], t: int, what: str, signed: bool) -> None:
    """Relations and sensitive differences of a chain of counts."""
    vars_ = [model.var(cell, v) for cell, v in seq]
    vals = [v for _, v in seq]
    for a in range(len(vars_) - 1):
        b = a + 1
        if vars_[a] == vars_[b]:
            continue
        sign = 1.0 if (not signed or vals[a] >= vals[b]) else -1.0
        # the reader knows the direction of each step: sign·(x_a − x_b) ≥ 0
        model.relations.append(Relation({vars_[a]: sign, vars_[b]: -sign}, 0.0, False, f"{what}: direction"))
    for a in range(len(vars_)):
        for b in range(a + 1, len(vars_) if not signed else min(a + 2, len(vars_))):
            d = vals[a] - vals[b]
            if 0 < abs(d) < t and vars_[a] != vars_[b]:
                s = 1.0 if d > 0 else -1.0
                model.sensitive.append(Sensitive({vars_[a]: s, vars_[b]: -s}, abs(d), f"{what}: difference"))


def _links(model: Model, states: Sequence[TableState]) -> None:
    """One variable per class of linked cells (same key, key values and value); a cell
    in several classes joins them (union-find)."""
    classes: dict[tuple, list[Cell]] = defaultdict(list)
    values: dict[Cell, float] = {}
    for ti, st in enumerate(states):
        for link in getattr(st.meta, "links", ()):
            c = link["column"]
            if c not in st.frame.columns:
                continue
            rows = pd.Series(True, index=st.frame.index)
            for col, val in dict(link.get("where", {})).items():
                rows &= st.frame[col].astype(str) == str(val)
            by = dict(link.get("by", {}))
            parts = [(f"{name}=" + st.frame[col].astype(str)).tolist() for name, col in sorted(by.items())]
            for i in st.frame.index[rows]:
                v = _num(st, i, c)
                if not np.isfinite(v):
                    continue
                key = (link["key"], *(part[i] for part in parts), v)
                classes[key].append((ti, i, c))
                values[(ti, i, c)] = v
    parent: dict[Cell, Cell] = {}

    def find(x: Cell) -> Cell:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for cells in classes.values():
        for cell in cells[1:]:
            parent[find(cell)] = find(cells[0])
    groups: dict[Cell, list[Cell]] = defaultdict(list)
    for cell in values:
        groups[find(cell)].append(cell)
    root_var: dict[Cell, int] = {}
    for root, cells in groups.items():
        cells = sorted(cells)
        var = model.var(cells[0], values[cells[0]])
        root_var[root] = var
        for cell in cells[1:]:
            if cell not in model.cells:
                model.cells[cell] = var
                model.members[var].append(cell)
    # a link key (with its key values and value) -> its variable, for totals published elsewhere
    model.by_key.update({key: root_var[find(members[0])] for key, members in classes.items()})


def _suppressed(model: Model, states: Sequence[TableState]) -> np.ndarray:
    masks = {(t, c): states[t].mask[c].to_numpy() for m in model.members for t, _, c in m}
    return np.array([any(masks[(t, c)][i] for t, i, c in m) for m in model.members], dtype=bool)


def interval(model: Model, free: np.ndarray, coefs: dict[int, float]) -> tuple[float, float]:
    """Smallest and largest value of ``Σ coefs · x`` given the published (non-free)
    variables, over the relations connected to the free variables involved."""
    target = [v for v in coefs if free[v]]
    const = sum(c * model.value[v] for v, c in coefs.items() if not free[v])
    if not target:
        return const, const
    # the free variables connected to the target through relations
    by_var = model.relations_of()
    seen, stack, rels = set(target), list(target), set()
    while stack:
        v = stack.pop()
        for r in by_var.get(v, []):
            if r in rels:
                continue
            rels.add(r)
            for w in model.relations[r].coefs:
                if free[w] and w not in seen:
                    seen.add(w)
                    stack.append(w)
    cols = sorted(seen)
    pos = {v: j for j, v in enumerate(cols)}
    a_eq, b_eq, a_ub, b_ub = [], [], [], []
    for r in sorted(rels):
        rel = model.relations[r]
        row = np.zeros(len(cols))
        rhs = rel.rhs
        for v, k in rel.coefs.items():
            if free[v]:
                row[pos[v]] += k
            else:
                rhs -= k * model.value[v]
        if rel.equality:
            a_eq.append(row)
            b_eq.append(rhs)
        else:  # row · x ≥ rhs  <=>  −row · x ≤ −rhs
            a_ub.append(-row)
            b_ub.append(-rhs)
    objective = np.zeros(len(cols))
    for v, k in coefs.items():
        if free[v]:
            objective[pos[v]] += k
    bounds = [(0, None)] * len(cols)
    kw = {
        "A_eq": np.array(a_eq) if a_eq else None, "b_eq": np.array(b_eq) if b_eq else None,
        "A_ub": np.array(a_ub) if a_ub else None, "b_ub": np.array(b_ub) if b_ub else None,
        "bounds": bounds, "method": "highs",
    }
    lo = linprog(objective, **kw)
    hi = linprog(-objective, **kw)
    if lo.status == 2 or hi.status == 2:
        raise DisclosureError("disclosure audit: the published cells contradict the declared relations (infeasible)")
    low = const + (lo.fun if lo.status == 0 else -np.inf)
    high = const + (-hi.fun if hi.status == 0 else np.inf)
    return float(low), float(high)


def _candidates(model: Model, free: np.ndarray, coefs: dict[int, float], shared: set[int]) -> list[int]:
    """Published non-zero variables in relations reachable from ``coefs``' variables,
    nearest first, then spec-specific before shared, then smallest."""
    by_var = model.relations_of()
    dist = {v: 0 for v in coefs}
    frontier = list(coefs)
    found: dict[int, int] = {v: 0 for v in coefs if not free[v] and model.value[v] > 0}
    while frontier:
        nxt = []
        for v in frontier:
            for r in by_var.get(v, []):
                for w in model.relations[r].coefs:
                    if w in dist:
                        continue
                    dist[w] = dist[v] + 1
                    if free[w]:
                        nxt.append(w)  # the path continues through suppressed cells
                    elif model.value[w] > 0:
                        found[w] = dist[w]
        frontier = nxt
    return sorted(found, key=lambda w: (found[w], w in shared, model.value[w], w))


def secondary(states: Sequence[TableState], min_persons: int, shared_specs: int = 1) -> Model:
    """Complementary suppression until no sensitive quantity can be narrowed to fewer
    than ``min_persons`` persons. Suppresses in ``states``; returns the model (for the
    report)."""
    model = build_model(states, min_persons)
    model.states = list(states)
    _close_links(model, states)
    free = _suppressed(model, states)
    shared = {v for v, m in enumerate(model.members) if len({states[t].spec for t, _, _ in m}) > 1}
    for s in model.sensitive:
        for _ in range(200):
            lo, hi = interval(model, free, s.coefs)
            if hi - lo >= min_persons - 1e-6:
                break
            cand = _candidates(model, free, s.coefs, shared)
            if not cand:
                # nothing left to suppress around it: the sensitive cell's own relations
                # are fully suppressed but the total pins it; refuse rather than export
                raise DisclosureError(
                    f"disclosure: {s.what} ({s.value:g} persons) can be derived from published cells "
                    f"and no published cell is left to protect it"
                )
            v = cand[0]
            free[v] = True
            for t, i, c in model.members[v]:
                states[t].suppress([i], c, f"secondary: protects {s.what}")
    return model


def _close_links(model: Model, states: Sequence[TableState]) -> None:
    """A linked cell suppressed anywhere is suppressed everywhere."""
    for members in model.members:
        if len(members) > 1 and any(bool(states[t].mask[c].iat[i]) for t, i, c in members):
            for t, i, c in members:
                states[t].suppress([i], c, "linked: the same count is suppressed in another table or spec")


def audit(model: Model, states: Sequence[TableState], min_persons: int) -> list[dict[str, object]]:
    """The feasible range of every sensitive quantity given what is published."""
    free = _suppressed(model, states)
    rows = []
    for s in model.sensitive:
        lo, hi = interval(model, free, s.coefs)
        rows.append({"quantity": s.what, "persons": s.value, "derivable_from": lo, "derivable_to": hi,
                     "protected": bool(hi - lo >= min_persons - 1e-6)})
    return rows


__all__ = ["Model", "audit", "build_model", "interval", "secondary"]
