"""Discounting to a present value at the start year.

Convention (method.md §7, SØM): the calendar year of start is relative year 0 and is
not discounted; a value in relative year ``t`` is divided by ``(1 + r) ** t``::

    PV = sum_t value_t / (1 + r) ** t

Values within a year are treated as falling at one point (no mid-year correction), as in
SØM's published present values.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from regeval.errors import BudgetError

ArrayLike = Sequence[float] | npt.NDArray[np.floating] | npt.NDArray[np.integer]


def _check_rate(rate: float) -> float:
    try:
        r = float(rate)
    except (TypeError, ValueError) as exc:
        raise BudgetError(f"discount rate must be a number, got {rate!r}") from exc
    if not np.isfinite(r) or r <= -1.0:
        raise BudgetError(
            f"discount rate must be a finite number above -1 (e.g. 0.035 for 3.5 %), got {rate!r}"
        )
    if r > 1.0:
        raise BudgetError(
            f"discount rate {rate!r} is above 100 % a year: give it as a fraction "
            "(0.035 for 3.5 %), not in percent"
        )
    return r


def discount_factors(years: ArrayLike, rate: float) -> npt.NDArray[np.float64]:
    """Discount factor ``1 / (1 + rate) ** year`` for each relative year.

    Parameters
    ----------
    years
        Years relative to start (year 0 = calendar year of start). Must be >= 0.
    rate
        Yearly discount rate as a fraction (0.035 = 3.5 %, the Finance Ministry's rate).

    Returns
    -------
    numpy.ndarray
        One factor per year; 1.0 for year 0.
    """
    r = _check_rate(rate)
    y = np.asarray(years, dtype=float)
    if np.any(~np.isfinite(y)) or np.any(y < 0):
        bad = y[~np.isfinite(y) | (y < 0)]
        raise BudgetError(
            f"relative years must be finite and >= 0 (year 0 = start year), got {bad.tolist()}"
        )
    return np.power(1.0 + r, -y)


def present_value(values: ArrayLike, years: ArrayLike, rate: float) -> float:
    """Present value at year 0 of a stream of yearly values.

    ``PV = sum_t values[t] / (1 + rate) ** years[t]`` (method.md §7): year 0 is the start
    year and is not discounted.

    Parameters
    ----------
    values
        Value in each year (kr).
    years
        Relative year of each value, same length as ``values``.
    rate
        Yearly discount rate as a fraction.

    Examples
    --------
    >>> round(present_value([100.0, 100.0, 100.0], [0, 1, 2], 0.05), 4)
    285.941
    """
    v = np.asarray(values, dtype=float)
    y = np.asarray(years, dtype=float)
    if v.shape != y.shape:
        raise BudgetError(
            f"present_value: values and years must have the same length, got {v.shape} and {y.shape}"
        )
    return float(np.sum(v * discount_factors(y, rate)))
