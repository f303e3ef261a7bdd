"""Separation checks of the propensity logit.

When characteristics separate treated and controls (completely or quasi-completely),
the logit has no finite maximum likelihood estimate and its scores are meaningless, so
the fit is refused with an error that names the terms involved. Two checks:

* before the fit, every single dummy and numeric term (:func:`check_single_terms`);
* after the fit, fitted probabilities within ``10 * eps`` of 0 or 1 (R's warning
  condition), divergence and non-convergence (:func:`check_fit`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from regeval.errors import PropensityError
from regeval.stats.design import DesignColumn, level_label

#: R's ``glm.fit`` calls a fitted probability "numerically 0 or 1" below ``10 * eps``.
_EPS_FITTED = 10 * np.finfo(float).eps

_FIX_HINT = (
    "The logit has no finite maximum likelihood estimate, so its scores would be "
    "meaningless. Merge the offending level(s) with a neighbouring level, coarsen or "
    "drop the characteristic, or restrict the population to where both groups occur."
)


def _column_summaries(
    X: np.ndarray, y: np.ndarray, col_min: np.ndarray, col_max: np.ndarray, columns: np.ndarray
) -> dict[str, np.ndarray]:
    """Minimum and maximum among treated and among controls of the given columns."""
    treated = y > 0
    Xt = X[treated]
    min_t, max_t = Xt.min(axis=0), Xt.max(axis=0)
    min_c, max_c = col_min.copy(), col_max.copy()
    # the overall extreme is the controls' unless a treated unit attains it
    for j in columns:
        if min_t[j] == col_min[j] or max_t[j] == col_max[j]:
            xc = X[~treated, j]
            min_c[j], max_c[j] = xc.min(), xc.max()
    return {"min_t": min_t, "max_t": max_t, "min_c": min_c, "max_c": max_c}


def _single_term_separation(
    summ: dict[str, np.ndarray],
    sum_x: np.ndarray,
    sum_xy: np.ndarray,
    is_binary: np.ndarray,
    n1: int,
    n0: int,
    names: list[str],
    design: Sequence[DesignColumn],
    keep: list[int],
) -> list[str]:
    """Describe every kept design column that on its own separates treated and controls."""
    # a numeric column has one term and no levels: it maps nothing (zip stops short)
    term_to_col = {t: (d.column, lv) for d in design for t, lv in zip(d.terms, d.levels[1:], strict=False)}
    problems = []
    for j in keep:
        if j == 0:
            continue
        name = names[j]
        if is_binary[j]:
            t1 = int(round(sum_xy[j]))
            c1 = int(round(sum_x[j] - sum_xy[j]))
            t0 = n1 - t1
            c0 = n0 - c1
            if name in term_to_col:
                c, lv = term_to_col[name]
                label = f"level {level_label(lv)!r} of {c!r}"
            else:
                label = f"{name!r} = 1"
            if t1 == 0 and c1 > 0:
                problems.append(f"{label} occurs only among controls ({c1} controls, 0 treated)")
            elif c1 == 0 and t1 > 0:
                problems.append(f"{label} occurs only among treated ({t1} treated, 0 controls)")
            elif t0 == 0:
                problems.append(f"every treated unit has {label} ({t1} treated; {c1} of {n0} controls)")
            elif c0 == 0:
                problems.append(f"every control has {label} ({c1} controls; {t1} of {n1} treated)")
        else:
            lo_t, hi_t, lo_c, hi_c = (summ[k][j] for k in ("min_t", "max_t", "min_c", "max_c"))
            if hi_t < lo_c or hi_c < lo_t:
                problems.append(
                    f"{name!r} separates the groups completely (treated range "
                    f"[{lo_t:g}, {hi_t:g}], controls [{lo_c:g}, {hi_c:g}])"
                )
            elif hi_t <= lo_c or hi_c <= lo_t:
                edge = hi_t if hi_t <= lo_c else lo_t
                problems.append(
                    f"{name!r} separates the groups except at the single value {edge:g} "
                    f"(treated range [{lo_t:g}, {hi_t:g}], controls [{lo_c:g}, {hi_c:g}])"
                )
    return problems


def check_single_terms(
    X: np.ndarray,
    y: np.ndarray,
    col_min: np.ndarray,
    col_max: np.ndarray,
    sum_x: np.ndarray,
    sum_sq: np.ndarray,
    names: list[str],
    design: Sequence[DesignColumn],
    keep: list[int],
) -> None:
    """Raise if a kept design column on its own separates treated and controls.

    ``sum_x`` and ``sum_sq`` are the column sums and sums of squares of ``X`` (a 0/1
    column has equal ones); ``keep`` are the columns kept after dropping constant and
    aliased ones.
    """
    n_t = int(y.sum())
    n_c = len(y) - n_t
    is_binary = (
        np.isin(col_min, (0.0, 1.0))
        & np.isin(col_max, (0.0, 1.0))
        & np.isclose(sum_sq, sum_x, rtol=1e-9, atol=1e-9)
    )
    sum_xy = X.T @ y
    summ = _column_summaries(X, y, col_min, col_max, np.flatnonzero(~is_binary))
    problems = _single_term_separation(summ, sum_x, sum_xy, is_binary, n_t, n_c, names, design, keep)
    if problems:
        raise PropensityError(
            "propensity model: separation of treated and controls by "
            + "; ".join(problems)
            + ". "
            + _FIX_HINT
        )


def check_fit(
    X: np.ndarray,
    y: np.ndarray,
    beta: np.ndarray,
    mu: np.ndarray,
    dev: float,
    converged: bool,
    iterations: int,
    max_iter: int,
    names: list[str],
) -> None:
    """Raise if the fit diverged, separates the groups (fitted probabilities numerically
    0 or 1) or did not converge; the message names the terms with the largest
    standardised coefficients. ``X`` holds the kept columns, named ``names``."""
    if not np.all(np.isfinite(beta)) or not np.isfinite(dev):
        raise PropensityError(
            f"propensity model: the fit diverged (non-finite coefficients) with terms "
            f"{names[1:]}; the characteristics probably separate treated and controls. "
            + _FIX_HINT
        )
    extreme = (mu < _EPS_FITTED) | (mu > 1.0 - _EPS_FITTED)
    if not extreme.any() and converged:
        return
    std_coef = np.abs(beta) * np.array([X[:, j].std() for j in range(X.shape[1])])
    order = np.argsort(-std_coef[1:]) + 1
    top = std_coef[order[0]] if len(order) else 0.0
    big = [names[j] for j in order if std_coef[j] >= 0.25 * top][:8]
    n_ext_t = int((extreme & (y > 0)).sum())
    n_ext_c = int((extreme & (y == 0)).sum())
    if extreme.any():
        raise PropensityError(
            f"propensity model: fitted probabilities numerically 0 or 1 for {n_ext_t} "
            f"treated and {n_ext_c} controls (quasi-complete separation); the terms with "
            f"the largest standardised coefficients are {big}. " + _FIX_HINT
        )
    raise PropensityError(
        f"propensity model did not converge in {iterations} iterations (max_iter={max_iter}); "
        f"largest standardised coefficients: {big}. Increase max_iter, rescale covariates, "
        "or check for near-separation."
    )
