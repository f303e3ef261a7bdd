"""How characteristics become model terms: one coding for the propensity model, the
balance tables and the effect regressions, and one check of the treatment column.

The coding is R's (``model.matrix``, as ``glm``, ``lm`` and MatchIt use it):

* **Categorical or numeric.** A column is categorical when its dtype is ``category``,
  ``object``, ``string`` or ``bool``, or when the caller names it in ``categorical=``
  (e.g. a cohort year); a column of any other numeric dtype enters as it is; any other
  dtype (dates, ...) is refused with a message that says how to fix it.
* **Levels** are the values that occur (R's ``droplevels``), in category order for a
  ``pandas.Categorical`` and otherwise sorted (numerically, or as strings if the values
  cannot be compared). The first level is the reference.
* **Term labels** are the column name followed by the level, as R writes them:
  ``race`` + ``hispan`` -> ``racehispan``, a cohort year ``2016`` (also ``2016.0``) ->
  ``cohort2016``, ``True`` -> ``TRUE``.
* **Booleans** are R's logicals: a two-level factor with ``FALSE`` as reference, so a
  bool column gives the single 0/1 term ``<column>TRUE`` in every model and in every
  balance or descriptive table (where, as in MatchIt's ``summary()``, the redundant
  ``<column>FALSE`` row is not shown).
* **Regression designs** (:func:`build_design`, :func:`design_matrix`) have one dummy
  per non-reference level (treatment coding); **balance terms**
  (:func:`expand_covariates`) have one indicator per level, the reference included
  (MatchIt's ``contrasts = FALSE``), so the regression terms of a column are always
  among its balance terms.

The treatment column is checked by :func:`treatment_indicator` for every consumer: bool
or numeric 0/1, no missing values where it is used.

Each caller passes its own error class (``PropensityError``, ``MatchingError``,
``EstimationError``) so that errors keep naming the stage that refused the input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from regeval.errors import MatchingError, PropensityError, RegevalError

__all__ = [
    "INTERCEPT",
    "DesignColumn",
    "build_design",
    "design_matrix",
    "expand_covariates",
    "is_categorical",
    "level_label",
    "levels_of",
    "require_columns",
    "require_treatment_column",
    "term_name",
    "treatment_indicator",
]

#: Name of the intercept column (R's spelling).
INTERCEPT: str = "(Intercept)"

ErrorClass = type[RegevalError]


@dataclass(frozen=True)
class DesignColumn:
    """How one input column enters the design matrix.

    Attributes
    ----------
    column : str
        Name of the column in the input DataFrame.
    kind : {"numeric", "categorical"}
        ``"numeric"`` enters as one column; ``"categorical"`` as one dummy per
        non-reference level.
    levels : tuple
        For categorical columns, all levels in order (the first is the reference).
    terms : tuple of str
        Names of the design columns this input column produces (R's naming:
        column name followed by the level, e.g. ``racehispan``).
    boolean : bool
        Whether the column has a bool dtype (its only balance term is ``<column>TRUE``).
    """

    column: str
    kind: str
    levels: tuple[Any, ...] = ()
    terms: tuple[str, ...] = ()
    boolean: bool = False


# --------------------------------------------------------------------------- coding rules


def is_categorical(s: pd.Series) -> bool:
    """Whether a column is categorical by its dtype (category, object, string or bool)."""
    dt = s.dtype
    return bool(
        isinstance(dt, pd.CategoricalDtype)
        or pd.api.types.is_bool_dtype(dt)
        or pd.api.types.is_object_dtype(dt)
        or pd.api.types.is_string_dtype(dt)
    )


def levels_of(s: pd.Series) -> tuple[Any, ...]:
    """Levels that occur in ``s``: category order for categoricals, else sorted values."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        used = set(pd.unique(s.dropna()))
        return tuple(c for c in s.cat.categories if c in used)
    values = pd.unique(s.dropna())
    try:
        return tuple(sorted(values))
    except TypeError:
        return tuple(sorted(values, key=str))


def level_label(level: Any) -> str:
    """A level as R prints it in a term name: ``TRUE``/``FALSE``, ``2016`` for ``2016.0``."""
    if isinstance(level, (bool, np.bool_)):
        return "TRUE" if level else "FALSE"
    if isinstance(level, (float, np.floating)) and float(level).is_integer():
        return str(int(level))
    return str(level)


def term_name(column: str, level: Any) -> str:
    """R's name of the dummy of ``level`` of ``column`` (``race`` + ``hispan`` -> ``racehispan``)."""
    return f"{column}{level_label(level)}"


# --------------------------------------------------------------------------- checks


def require_columns(
    data: pd.DataFrame,
    columns: Iterable[str | None],
    *,
    what: str,
    error: ErrorClass,
    table: str = "data",
) -> None:
    """Raise ``error`` naming the columns (``None`` entries skipped) not in ``data``."""
    missing = [c for c in columns if c is not None and c not in data.columns]
    if missing:
        raise error(
            f"{what} column(s) {missing!r} not in {table}; available columns: "
            f"{list(map(str, data.columns))[:30]!r}"
        )


def require_treatment_column(data: pd.DataFrame, treatment: str, *, error: ErrorClass) -> None:
    """Raise ``error`` if the treatment column is not in ``data`` (checked first, so that
    every consumer names a missing treatment column the same way)."""
    if treatment not in data.columns:
        raise error(
            f"treatment column {treatment!r} not in data; available columns: "
            f"{list(map(str, data.columns))[:30]!r}"
        )


def treatment_indicator(
    data: pd.DataFrame,
    treatment: str,
    *,
    error: ErrorClass,
    rows: np.ndarray | None = None,
    require_both: bool = False,
) -> np.ndarray:
    """The treatment column as a float64 array of 0.0 (control) and 1.0 (treated).

    Parameters
    ----------
    data : pandas.DataFrame
    treatment : str
        A bool column, or a numeric one holding only 0 and 1.
    error : type
        Exception class to raise.
    rows : numpy.ndarray of bool, optional
        Rows where the treatment is used (e.g. the estimation sample): only there must
        it be present and 0/1; elsewhere a missing value is returned as ``nan``.
        Default: every row.
    require_both : bool, default False
        Also require at least one treated and one control row among ``rows``.

    Raises
    ------
    error
        The column is missing, has another dtype, has missing values or values other
        than 0/1 among ``rows``, or (``require_both``) one group is empty.
    """
    require_treatment_column(data, treatment, error=error)
    s = data[treatment]
    if not (pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype)):
        raise error(f"treatment column {treatment!r} has dtype {s.dtype}; it must be 0/1 or bool")
    t = s.to_numpy(dtype=np.float64, na_value=np.nan)
    use = np.ones(len(t), dtype=bool) if rows is None else np.asarray(rows, dtype=bool)
    where = "" if rows is None else " used"
    na = np.isnan(t) & use
    if na.any():
        raise error(
            f"treatment column {treatment!r} has {int(na.sum())} missing value(s) among the "
            f"{int(use.sum())}{where} row(s); every row needs 1/True (treated) or 0/False (control)"
        )
    bad = use & ~np.isin(t, (0.0, 1.0))
    if bad.any():
        vals = sorted(set(np.unique(t[bad]).tolist()))[:5]
        raise error(
            f"treatment column {treatment!r} must hold only 0/1 (or bool); found "
            f"{int(bad.sum())} row(s) with other values, e.g. {vals}"
        )
    if require_both:
        n_t = int((use & (t == 1.0)).sum())
        n_c = int(use.sum()) - n_t
        if n_t == 0 or n_c == 0:
            raise error(
                f"treatment column {treatment!r} has {n_t} treated and {n_c} control rows; "
                "both groups are needed"
            )
    return t


def _check_unique_terms(names: Sequence[str], error: ErrorClass) -> None:
    seen: set[str] = set()
    dup = [n for n in names if n in seen or seen.add(n)]  # type: ignore[func-returns-value]
    if dup:
        raise error(
            f"term name(s) {sorted(set(dup))!r} occur twice (a column name followed by a level "
            "equals another term's name); rename a column"
        )


# --------------------------------------------------------------------------- regression design


def build_design(
    data: pd.DataFrame,
    covariates: Sequence[str],
    *,
    categorical: Sequence[str] | None = None,
    rows: np.ndarray | None = None,
    error: ErrorClass = PropensityError,
) -> tuple[DesignColumn, ...]:
    """Work out how each covariate enters the design matrix.

    Parameters
    ----------
    data : pandas.DataFrame
        Input rows.
    covariates : sequence of str
        Columns of the model.
    categorical : sequence of str, optional
        Columns to treat as categorical even if numeric (e.g. a cohort year).
        Object, string, category and bool columns are always categorical.
    rows : numpy.ndarray of bool, optional
        Rows whose values define the levels (default: all rows).
    error : type
        Exception class to raise.

    Returns
    -------
    tuple of DesignColumn
        One entry per covariate, in the given order.

    Notes
    -----
    See the module docstring for the coding rules (levels, reference, names, bools).
    """
    forced = set(categorical or ())
    unknown = forced - set(covariates)
    if unknown:
        raise error(
            f"categorical={sorted(unknown)!r} names columns that are not covariates; "
            f"valid names are the covariates {list(covariates)!r}"
        )
    out = []
    for col in covariates:
        s = data[col]
        boolean = pd.api.types.is_bool_dtype(s.dtype)
        if col in forced or is_categorical(s):
            levels = levels_of(s if rows is None else s[rows])
            terms = tuple(term_name(col, lv) for lv in levels[1:])
            out.append(DesignColumn(col, "categorical", levels, terms, boolean))
        else:
            if not pd.api.types.is_numeric_dtype(s.dtype):
                raise error(
                    f"covariate {col!r} has dtype {s.dtype} which is neither numeric nor "
                    "categorical; convert it or name it in categorical="
                )
            out.append(DesignColumn(col, "numeric", (), (col,)))
    _check_unique_terms([INTERCEPT, *(t for d in out for t in d.terms)], error)
    return tuple(out)


def design_matrix(
    data: pd.DataFrame,
    design: Sequence[DesignColumn],
    *,
    intercept: bool = True,
    rows: np.ndarray | None = None,
    error: ErrorClass = PropensityError,
) -> tuple[np.ndarray, list[str]]:
    """Build the float64 design matrix for ``design`` (intercept first if wanted).

    The matrix is column-major (every column written and later scanned contiguously).
    A row holding a level not in the design raises ``error``, except outside ``rows``
    when given (there it gets zeros in every dummy of that column); a missing value of a
    categorical column gives zeros, of a numeric one ``nan``.
    """
    n = len(data)
    first = 1 if intercept else 0
    p = first + sum(len(d.terms) for d in design)
    X = np.zeros((n, p), dtype=np.float64, order="F")
    names = []
    if intercept:
        X[:, 0] = 1.0
        names.append(INTERCEPT)
    j = first
    for d in design:
        s = data[d.column]
        if d.kind == "numeric":
            X[:, j] = s.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            codes = _level_codes(s, d, rows, error)
            sel = np.flatnonzero(codes > 0)
            X[sel, j - 1 + codes[sel]] = 1.0
        names.extend(d.terms)
        j += len(d.terms)
    return X, names


def _level_codes(s: pd.Series, d: DesignColumn, rows: np.ndarray | None, error: ErrorClass) -> np.ndarray:
    """Position of each row's value among ``d.levels`` (-1: missing or unknown)."""
    # factorize once (fast on Arrow strings), then map the few uniques to levels
    ucodes, uniques = pd.factorize(s, use_na_sentinel=True)
    ulevel = pd.Index(list(d.levels), dtype=object).get_indexer(np.asarray(uniques, dtype=object))
    codes = np.where(ucodes >= 0, np.append(ulevel, -1)[ucodes], -1)
    bad = (codes < 0) & s.notna().to_numpy()
    if rows is not None:
        bad &= rows
    if bad.any():
        unseen = sorted({str(v) for v in s[bad].unique()})
        raise error(
            f"covariate {d.column!r} holds level(s) {unseen[:10]} not seen when the "
            f"model was fitted (known levels: {[str(v) for v in d.levels]})"
        )
    return codes


# --------------------------------------------------------------------------- balance terms


def expand_covariates(
    data: pd.DataFrame,
    covariates: Sequence[str],
    *,
    categorical: Sequence[str] | None = None,
    levels: Mapping[str, Sequence[Any]] | None = None,
    error: ErrorClass = MatchingError,
) -> list[tuple[str, str, Any, np.ndarray]]:
    """Expand covariates to balance terms: one per numeric column, one per factor level.

    Parameters
    ----------
    data : pandas.DataFrame
        Input rows.
    covariates : sequence of str
        Columns to expand.
    categorical : sequence of str, optional
        Numeric columns to treat as categorical.
    levels : mapping, optional
        Levels to use per categorical column (default: the levels in ``data``).
    error : type, default MatchingError
        Exception class to raise.

    Returns
    -------
    list of (term, variable, level, values)
        ``values`` is a float64 array (NaN where the input is missing). ``level`` is
        ``None`` for numeric terms. A categorical column gives one 0/1 term per level
        (reference included), a bool column the one term ``<column>TRUE``; terms are
        named as in :func:`build_design`.
    """
    require_columns(data, covariates, what="covariate", error=error)
    out: list[tuple[str, str, Any, np.ndarray]] = []
    for d in build_design(data, covariates, categorical=categorical, error=error):
        s = data[d.column]
        if d.kind == "numeric":
            out.append((d.column, d.column, None, s.to_numpy(dtype=np.float64, na_value=np.nan)))
            continue
        if d.boolean:
            lv: list[Any] = [True]
        elif levels and d.column in levels:
            lv = list(levels[d.column])
        else:
            lv = list(d.levels)
        na = s.isna().to_numpy()
        for level in lv:
            v = (s == level).to_numpy(dtype=np.float64, na_value=np.nan)
            v[na] = np.nan
            out.append((term_name(d.column, level), d.column, level, v))
    _check_unique_terms([t[0] for t in out], error)
    return out
