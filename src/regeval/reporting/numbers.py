"""Number formats of the report, the figures, the workbook and the sweep summary.

English: ``1,234.5``, ``3.5 %``, ``+2.1 pp``, ``143,411 kr``; Danish: ``1.234,5``,
``3,5 %``, ``+2,1 pct.-point``, ``143.411 kr.``. A negative number is written with a
true minus sign (U+2212), and a value that rounds to zero never shows a sign (no
``-0.0``). Missing values (``None``, NaN, ``pd.NA``) are written as an en dash.
"""

from __future__ import annotations

import math
from typing import Any

MINUS = "\u2212"
MISSING = "\u2013"
_NBSP = "\u00a0"


def is_missing(x: Any) -> bool:
    """True for ``None``, NaN and ``pd.NA``."""
    if x is None:
        return True
    try:
        return bool(x != x) or (isinstance(x, float) and math.isnan(x))
    except (TypeError, ValueError):  # pd.NA compares to NA
        return True


def number(x: Any, decimals: int = 1, language: str = "en", sign: bool = False) -> str:
    """``x`` rounded to ``decimals`` with the language's separators; ``sign``: show ``+``."""
    if is_missing(x):
        return MISSING
    v = round(float(x), decimals)
    if v == 0:
        v = 0.0  # no "-0.0"
    body = f"{abs(v):,.{decimals}f}"
    if language == "da":
        body = body.replace(",", "\0").replace(".", ",").replace("\0", ".")
    if v < 0:
        return MINUS + body
    return ("+" + body) if (sign and v > 0) else body


def kr(x: Any, language: str = "en", sign: bool = False) -> str:
    """Whole kroner: ``143,411 kr`` / ``143.411 kr.``."""
    if is_missing(x):
        return MISSING
    return number(x, 0, language, sign) + _NBSP + ("kr." if language == "da" else "kr")


def percent(share: Any, language: str = "en", decimals: int = 1) -> str:
    """A share (0..1) as a percentage: ``3.5 %`` / ``3,5 %``."""
    if is_missing(share):
        return MISSING
    return number(100 * float(share), decimals, language) + _NBSP + "%"


def points(share_diff: Any, language: str = "en", decimals: int = 1, sign: bool = True) -> str:
    """A difference of shares (fractions) in percentage points: ``+2.1 pp`` / ``+2,1 pct.-point``."""
    if is_missing(share_diff):
        return MISSING
    return number(100 * float(share_diff), decimals, language, sign) + _NBSP + (
        "pct.-point" if language == "da" else "pp")


def p_value(p: Any, language: str = "en") -> str:
    """``< 0.001`` below one in a thousand, else three decimals."""
    if is_missing(p):
        return MISSING
    if float(p) < 0.001:
        return "<" + _NBSP + number(0.001, 3, language)
    return number(p, 3, language)


def integer(x: Any, language: str = "en") -> str:
    return number(x, 0, language)


def auto(x: Any, language: str = "en") -> str:
    """A plain number with as many decimals as its size calls for (tables of mixed values)."""
    if is_missing(x):
        return MISSING
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int) or (isinstance(x, float) and float(x).is_integer() and abs(x) >= 1):
        return number(x, 0, language)
    a = abs(float(x))
    decimals = 0 if a >= 100 else 1 if a >= 10 else 2 if a >= 1 else 3
    return number(x, decimals, language)


def effect(x: Any, unit: str, language: str = "en", sign: bool = True) -> str:
    """An effect or level in its outcome's unit: shares in percentage points (effects) ,
    kroner whole, the rest with one decimal."""
    if unit == "share":
        return points(x, language, sign=sign)
    if unit.startswith("kr"):
        return kr(x, language, sign=sign)
    return number(x, 1 if unit != "days/year" else 0, language, sign)


def level(x: Any, unit: str, language: str = "en") -> str:
    """A level (mean) in its outcome's unit: shares as percentages."""
    if unit == "share":
        return percent(x, language)
    return effect(x, unit, language, sign=False)


__all__ = ["MINUS", "MISSING", "auto", "effect", "integer", "is_missing", "kr", "level", "number", "p_value",
           "percent", "points"]
