"""Reading and validating the budget inputs (the only module of the budget stage that reads files).

All inputs are CSV or YAML files under ``config/budget/`` (see ``config/budget/README.md``
for their formats). Each validator names the file, the line (the header is line 1), the
column and the bad value, and says how to fix it. The same validators check tables given
directly as DataFrames (:func:`make_budget_inputs`), with a descriptive label instead of a
file name.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from regeval.budget.assumptions import BudgetAssumptions
from regeval.budget.refunds import RefundRates, RefundStep
from regeval.budget.schema import (
    ACTORS,
    BEARERS,
    CONSEQUENCE_GROUPS,
    SIGNS,
    SPLITS,
    valid_list,
)
from regeval.errors import BudgetError

PRICE_COLUMNS = (
    "consequence", "label", "consequence_group", "unit", "sign", "price", "price_year",
    "split", "kommune", "region", "stat", "illustrative", "source",
)
CONSEQUENCE_COLUMNS = ("outcome", "consequence", "factor", "note")
PRICE_INDEX_COLUMNS = ("year", "index")
PROGRAMME_COST_COLUMNS = ("rel_year", "amount", "bearer", "price_year", "source")
BUSINESS_CASE_COLUMNS = (
    "group", "status", "cost_category", "time_point", "months", "citizens", "yearly_cost_published",
)

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}
_SHARE_TOL = 1e-6


@dataclass(frozen=True, eq=False)
class BudgetInputs:
    """Validated budget inputs.

    Attributes
    ----------
    prices
        One row per consequence: ``consequence, label, consequence_group, group, unit, sign,
        price, price_year, split, kommune, region, stat, illustrative, source``. ``price`` is
        the total price per unit (kr, in ``price_year`` prices); ``kommune/region/stat`` are
        shares (split ``shares``), kr per unit (split ``amounts``) or NaN (derived from the
        refund rules).
    consequences
        Mapping of effect-table outcomes to consequences: ``outcome, consequence, factor,
        note``; ``consequence`` is ``""`` for outcomes deliberately not priced.
    price_index
        ``year, index`` (any base).
    programme_cost
        ``rel_year, amount, bearer, price_year, source``: the intervention's cost per
        participant (kr, positive) by relative year and bearer.
    refund_rates
        State refund rules.
    source
        Where the inputs were read from.
    """

    prices: pd.DataFrame
    consequences: pd.DataFrame
    price_index: pd.DataFrame
    programme_cost: pd.DataFrame
    refund_rates: RefundRates
    source: str = "<DataFrames>"


@dataclass(frozen=True, eq=False)
class BusinessCaseInputs:
    """A municipal business case as published (see :func:`load_business_case`).

    Attributes
    ----------
    table
        Tidy counts: ``group, status, cost_category, time_point, months, citizens,
        yearly_cost_published`` (one row per group × status × time point).
    unit_costs_published
        Monthly net cost per citizen by cost category, as printed (rounded to the krone).
    investment
        Investment per group (kr), e.g. ``{"intervention": 2300000.0, "control": 0.0}``.
    published
        Published results: ``group, measure, time_point, value`` (measures ``yearly_cost``
        per time point, ``gain``, ``gain_per_citizen``, ``net_gain``,
        ``net_gain_per_citizen``; group ``difference`` for the per-citizen difference).
    start, end
        Time points compared (``gain = cost at start - cost at end``).
    intervention, control
        Group names.
    name, source
        Description and citation.
    """

    table: pd.DataFrame
    unit_costs_published: pd.Series
    investment: Mapping[str, float]
    published: pd.DataFrame
    start: str
    end: str
    intervention: str = "intervention"
    control: str = "control"
    name: str = ""
    source: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


# --------------------------------------------------------------------------- helpers


def _where(source: str, line: int | None, column: str | None, key: str | None = None) -> str:
    parts = [source]
    if line is not None:
        parts.append(f"line {line}")
    if key:
        parts.append(key)
    if column is not None:
        parts.append(f"column '{column}'")
    return ", ".join(parts)


def _require_columns(df: pd.DataFrame, required: tuple[str, ...], source: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise BudgetError(f"{source}: expected a table (pandas DataFrame), got {type(df).__name__}")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise BudgetError(
            f"{source}: missing column(s) {valid_list(missing).replace(' or ', ' and ')}; "
            f"the table needs {', '.join(required)}"
        )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return str(value).strip()


def _number(value: Any, where: str, *, blank_ok: bool = False, minimum: float | None = None,
            maximum: float | None = None) -> float:
    text = _text(value)
    if text == "":
        if blank_ok:
            return math.nan
        raise BudgetError(f"{where}: a number is required, the cell is empty")
    try:
        x = float(text)
    except ValueError:
        raise BudgetError(
            f"{where}: {text!r} is not a number (use a point as decimal separator, no thousands separator)"
        ) from None
    if not math.isfinite(x):
        raise BudgetError(f"{where}: {text!r} is not a finite number")
    if minimum is not None and x < minimum:
        raise BudgetError(f"{where}: {text} is below the minimum {minimum:g}")
    if maximum is not None and x > maximum:
        raise BudgetError(f"{where}: {text} is above the maximum {maximum:g}")
    return x


def _integer(value: Any, where: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    x = _number(value, where)
    if x != int(x):
        raise BudgetError(f"{where}: {_text(value)!r} is not a whole number")
    if minimum is not None and x < minimum:
        raise BudgetError(f"{where}: {int(x)} is below the minimum {minimum}")
    if maximum is not None and x > maximum:
        raise BudgetError(f"{where}: {int(x)} is above the maximum {maximum}")
    return int(x)


def _choice(value: Any, allowed: tuple[str, ...], where: str) -> str:
    text = _text(value)
    if text not in allowed:
        raise BudgetError(f"{where}: {text!r} is not allowed; use {valid_list(allowed)}")
    return text


def _boolean(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise BudgetError(f"{where}: {_text(value)!r} is not a yes/no value; use true or false")


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise BudgetError(f"budget input file not found: {path}")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise BudgetError(f"{path}: cannot be read as CSV ({exc})") from None
    df.columns = [str(c).strip() for c in df.columns]
    return df


def _read_yaml(path: Path) -> Any:
    if not path.is_file():
        raise BudgetError(f"budget input file not found: {path}")
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise BudgetError(f"{path}: invalid YAML ({exc})") from None


# --------------------------------------------------------------------------- validators


def validate_prices(df: pd.DataFrame, source: str = "price table") -> pd.DataFrame:
    """Validate a price table and return it normalised (types, derived ``group`` column).

    Each row is one consequence. ``split`` says how ``kommune, region, stat`` are read:

    * ``shares`` – shares of ``price`` borne by each actor, summing to 1;
    * ``amounts`` – kr per unit for each actor (``price`` blank or equal to their sum);
    * ``benefit_refund`` / ``handicap_refund`` – derived from the refund rules; leave the
      three columns blank.
    """
    _require_columns(df, PRICE_COLUMNS, source)
    rows = []
    seen: dict[str, int] = {}
    for i, rec in enumerate(df.to_dict("records")):
        line = i + 2
        name = _text(rec["consequence"])
        key = f"consequence '{name}'" if name else None
        w = lambda col, line=line, key=key: _where(source, line, col, key)  # noqa: E731
        if not _NAME.match(name):
            raise BudgetError(
                f"{w('consequence')}: {name!r} is not a valid name "
                "(lower-case letters, digits and _ , starting with a letter)"
            )
        if name in seen:
            raise BudgetError(f"{w('consequence')}: duplicate of line {seen[name]}; each consequence has one row")
        seen[name] = line
        group = _choice(rec["consequence_group"], tuple(CONSEQUENCE_GROUPS), w("consequence_group"))
        unit = _text(rec["unit"])
        if not unit:
            raise BudgetError(f"{w('unit')}: give the unit the price is per (e.g. 'user-year', 'contact')")
        sign = _choice(rec["sign"], SIGNS, w("sign"))
        split = _choice(rec["split"], SPLITS, w("split"))
        price_year = _integer(rec["price_year"], w("price_year"), minimum=1900, maximum=2200)
        illustrative = _boolean(rec["illustrative"], w("illustrative"))
        src = _text(rec["source"])
        if not src:
            raise BudgetError(f"{w('source')}: every price needs its source (and, if illustrative, how it was set)")
        parts = {a: _text(rec[a]) for a in ACTORS}
        if split == "shares":
            price = _number(rec["price"], w("price"), minimum=0.0)
            vals = {a: _number(parts[a], w(a), minimum=0.0, maximum=1.0) for a in ACTORS}
            total = sum(vals.values())
            if abs(total - 1.0) > _SHARE_TOL:
                raise BudgetError(
                    f"{_where(source, line, None, key)}: actor shares kommune + region + stat = {total:g}, "
                    "they must sum to 1 (or use split 'amounts' with kr per unit)"
                )
        elif split == "amounts":
            vals = {a: _number(parts[a], w(a)) for a in ACTORS}
            total = sum(vals.values())
            price = _number(rec["price"], w("price"), blank_ok=True)
            if math.isnan(price):
                price = total
            elif abs(price - total) > 0.005:
                raise BudgetError(
                    f"{w('price')}: {price:g} differs from kommune + region + stat = {total:g}; "
                    "with split 'amounts' leave price blank or give the sum"
                )
        else:
            price = _number(rec["price"], w("price"), minimum=0.0)
            filled = [a for a in ACTORS if parts[a] != ""]
            if filled:
                raise BudgetError(
                    f"{w(filled[0])}: with split '{split}' the actor split is derived from refund_rates.yaml; "
                    "leave kommune, region and stat blank (or use split 'shares')"
                )
            vals = {a: math.nan for a in ACTORS}
        rows.append({
            "consequence": name,
            "label": _text(rec["label"]) or name,
            "consequence_group": group,
            "group": CONSEQUENCE_GROUPS[group],
            "unit": unit,
            "sign": sign,
            "price": float(price),
            "price_year": price_year,
            "split": split,
            **{a: float(vals[a]) for a in ACTORS},
            "illustrative": illustrative,
            "source": src,
        })
    if not rows:
        raise BudgetError(f"{source}: the price table has no rows")
    return pd.DataFrame(rows)


def validate_consequences(df: pd.DataFrame, prices: pd.DataFrame,
                          source: str = "outcome-consequence mapping") -> pd.DataFrame:
    """Validate the mapping from effect-table outcomes to priced consequences.

    One row per (outcome, consequence). ``factor`` converts one unit of the effect into
    units of the consequence (1 for a share of the year → person-years). An outcome listed
    with an empty ``consequence`` is deliberately not priced (say why in ``note``).
    """
    _require_columns(df, CONSEQUENCE_COLUMNS, source)
    known = set(prices["consequence"])
    rows = []
    seen: dict[tuple[str, str], int] = {}
    for i, rec in enumerate(df.to_dict("records")):
        line = i + 2
        outcome = _text(rec["outcome"])
        cons = _text(rec["consequence"])
        key = f"outcome '{outcome}'" if outcome else None
        w = lambda col, line=line, key=key: _where(source, line, col, key)  # noqa: E731
        if not outcome:
            raise BudgetError(f"{w('outcome')}: the outcome name is empty")
        if cons and cons not in known:
            raise BudgetError(
                f"{w('consequence')}: {cons!r} is not a consequence of the price table; "
                f"known: {', '.join(sorted(known))} (or leave it empty to leave the outcome unpriced)"
            )
        if (outcome, cons) in seen:
            raise BudgetError(f"{w('consequence')}: duplicate of line {seen[(outcome, cons)]}")
        seen[(outcome, cons)] = line
        if cons:
            factor = _number(rec["factor"], w("factor"), blank_ok=True)
            factor = 1.0 if math.isnan(factor) else factor
        else:
            factor = math.nan
            if _text(rec["factor"]):
                raise BudgetError(f"{w('factor')}: an outcome without consequence takes no factor")
        rows.append({"outcome": outcome, "consequence": cons, "factor": factor, "note": _text(rec["note"])})
    return pd.DataFrame(rows, columns=list(CONSEQUENCE_COLUMNS))


def validate_price_index(df: pd.DataFrame, source: str = "price index") -> pd.DataFrame:
    """Validate a price index: one row per year, index > 0 (any base year)."""
    _require_columns(df, PRICE_INDEX_COLUMNS, source)
    rows = []
    seen: dict[int, int] = {}
    for i, rec in enumerate(df.to_dict("records")):
        line = i + 2
        year = _integer(rec["year"], _where(source, line, "year"), minimum=1900, maximum=2200)
        if year in seen:
            raise BudgetError(f"{_where(source, line, 'year')}: year {year} repeats line {seen[year]}")
        seen[year] = line
        index = _number(rec["index"], _where(source, line, "index", f"year {year}"))
        if index <= 0:
            raise BudgetError(f"{_where(source, line, 'index', f'year {year}')}: the index must be > 0, got {index:g}")
        rows.append({"year": year, "index": index})
    if not rows:
        raise BudgetError(f"{source}: the price index has no rows")
    return pd.DataFrame(rows).sort_values("year", ignore_index=True)


def validate_programme_cost(df: pd.DataFrame, source: str = "programme cost") -> pd.DataFrame:
    """Validate the programme's cost per participant by relative year and bearer."""
    _require_columns(df, PROGRAMME_COST_COLUMNS, source)
    rows = []
    seen: dict[tuple[int, str], int] = {}
    for i, rec in enumerate(df.to_dict("records")):
        line = i + 2
        rel_year = _integer(rec["rel_year"], _where(source, line, "rel_year"), minimum=0)
        bearer = _choice(rec["bearer"], BEARERS, _where(source, line, "bearer"))
        if (rel_year, bearer) in seen:
            raise BudgetError(
                f"{_where(source, line, 'bearer')}: year {rel_year} and bearer '{bearer}' "
                f"repeat line {seen[(rel_year, bearer)]}"
            )
        seen[(rel_year, bearer)] = line
        amount = _number(rec["amount"], _where(source, line, "amount"), minimum=0.0)
        price_year = _integer(rec["price_year"], _where(source, line, "price_year"), minimum=1900, maximum=2200)
        rows.append({"rel_year": rel_year, "amount": amount, "bearer": bearer, "price_year": price_year,
                     "source": _text(rec["source"])})
    return pd.DataFrame(rows, columns=list(PROGRAMME_COST_COLUMNS))


def refund_rates_from_mapping(data: Any, source: str = "refund rates") -> RefundRates:
    """Build :class:`RefundRates` from the parsed ``refund_rates.yaml``."""
    if not isinstance(data, Mapping):
        raise BudgetError(f"{source}: expected a mapping at the top level")
    allowed = {"rate_year", "source", "benefit_staircase", "handicap_compensation", "target_group",
               "personal_assistance"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise BudgetError(f"{source}: unknown key '{unknown[0]}'; valid keys are {valid_list(sorted(allowed))}")
    stair = data.get("benefit_staircase")
    if not isinstance(stair, list) or not stair:
        raise BudgetError(f"{source}: 'benefit_staircase' must be a list of steps {{from_week, to_week, rate}}")
    steps = []
    for i, step in enumerate(stair):
        where = f"{source}, benefit_staircase step {i + 1}"
        if not isinstance(step, Mapping) or set(step) != {"from_week", "to_week", "rate"}:
            raise BudgetError(f"{where}: each step needs exactly from_week, to_week (null = open-ended) and rate")
        to_week = step["to_week"]
        steps.append(RefundStep(
            first_week=_integer(step["from_week"], f"{where}, from_week", minimum=1),
            last_week=None if to_week is None else _integer(to_week, f"{where}, to_week", minimum=1),
            rate=_number(step["rate"], f"{where}, rate", minimum=0.0, maximum=1.0),
        ))
    kwargs: dict[str, Any] = {"staircase": tuple(steps)}

    def section(name: str, keys: dict[str, str]) -> None:
        sec = data.get(name)
        if sec is None:
            return
        if not isinstance(sec, Mapping):
            raise BudgetError(f"{source}: '{name}' must be a mapping")
        for k, v in sec.items():
            if k not in keys:
                raise BudgetError(f"{source}: unknown key '{name}.{k}'; valid keys are {valid_list(sorted(keys))}")
            target = keys[k]
            if target in ("block_grant_lag_years", "target_group_weeks"):
                kwargs[target] = _integer(v, f"{source}, {name}.{k}", minimum=0)
            else:
                kwargs[target] = _number(v, f"{source}, {name}.{k}")

    section("handicap_compensation", {"direct": "handicap_direct", "block_grant": "handicap_block_grant",
                                      "block_grant_lag_years": "block_grant_lag_years"})
    section("target_group", {"cumulative_weeks": "target_group_weeks"})
    section("personal_assistance", {"hourly_rate": "pa_hourly_rate", "weeks_per_month": "pa_weeks_per_month"})
    if "rate_year" in data:
        kwargs["rate_year"] = _integer(data["rate_year"], f"{source}, rate_year", minimum=1900, maximum=2200)
    kwargs["source"] = _text(data.get("source"))
    try:
        return RefundRates(**kwargs)
    except BudgetError as exc:
        raise BudgetError(f"{source}: {exc}") from None


def make_budget_inputs(prices: pd.DataFrame, consequences: pd.DataFrame, price_index: pd.DataFrame,
                       programme_cost: pd.DataFrame, refund_rates: RefundRates | Mapping[str, Any],
                       source: str = "<DataFrames>") -> BudgetInputs:
    """Validate input tables given as DataFrames and bundle them (no files involved)."""
    p = validate_prices(prices)
    rates = refund_rates if isinstance(refund_rates, RefundRates) else refund_rates_from_mapping(refund_rates)
    return BudgetInputs(
        prices=p,
        consequences=validate_consequences(consequences, p),
        price_index=validate_price_index(price_index),
        programme_cost=validate_programme_cost(programme_cost),
        refund_rates=rates,
        source=source,
    )


# --------------------------------------------------------------------------- loaders


def load_refund_rates(path: Path | str) -> RefundRates:
    """Read ``refund_rates.yaml``."""
    path = Path(path)
    return refund_rates_from_mapping(_read_yaml(path), source=str(path))


def load_budget_inputs(
    directory: Path | str,
    *,
    prices: str = "prices.csv",
    consequences: str = "outcome_consequences.csv",
    price_index: str = "price_index.csv",
    programme_cost: str = "programme_cost.csv",
    refund_rates: str = "refund_rates.yaml",
) -> BudgetInputs:
    """Read and validate the budget inputs from a directory (default layout of ``config/budget/``).

    Parameters
    ----------
    directory
        Folder holding the files; file names can be overridden one by one (relative to
        ``directory`` or absolute), so an evaluator can substitute a local price table.

    Raises
    ------
    BudgetError
        Naming the file, line, column and value of the first problem found.
    """
    directory = Path(directory)

    def path(name: str) -> Path:
        p = Path(name)
        return p if p.is_absolute() else directory / p

    p_path = path(prices)
    p = validate_prices(_read_csv(p_path), source=str(p_path))
    c_path = path(consequences)
    i_path = path(price_index)
    k_path = path(programme_cost)
    return BudgetInputs(
        prices=p,
        consequences=validate_consequences(_read_csv(c_path), p, source=str(c_path)),
        price_index=validate_price_index(_read_csv(i_path), source=str(i_path)),
        programme_cost=validate_programme_cost(_read_csv(k_path), source=str(k_path)),
        refund_rates=load_refund_rates(path(refund_rates)),
        source=str(directory),
    )


def load_budget_assumptions(path: Path | str) -> BudgetAssumptions:
    """Read ``assumptions.yaml`` (price year, discount rate, horizon, effect rule, grid)."""
    path = Path(path)
    data = _read_yaml(path)
    return BudgetAssumptions.from_mapping(data or {}, source=str(path))


def load_budget_config(
    section: Mapping[str, Any] | None, base_dir: Path | str = "."
) -> tuple[BudgetInputs, BudgetAssumptions]:
    """Inputs and assumptions from the pipeline config's ``budget`` section.

    ``section["inputs"]`` (default ``config/budget``, relative to ``base_dir``) is the input
    directory; its ``assumptions.yaml``, if present, gives the starting assumptions, and the
    other keys of ``section`` (``price_year``, ``discount_rate``, ``horizon``,
    ``effects_rule``, ``cost_multiplier``, ...) override them.
    """
    section = dict(section or {})
    directory = Path(section.pop("inputs", "config/budget"))
    if not directory.is_absolute():
        directory = Path(base_dir) / directory
    assumptions_file = directory / "assumptions.yaml"
    base: dict[str, Any] = {}
    if assumptions_file.is_file():
        data = _read_yaml(assumptions_file) or {}
        if not isinstance(data, Mapping):
            raise BudgetError(f"{assumptions_file}: expected a mapping at the top level")
        BudgetAssumptions.from_mapping(data, source=str(assumptions_file))  # report its errors by name
        base.update(data)
    base.update(section)
    return load_budget_inputs(directory), BudgetAssumptions.from_mapping(base, source="budget config")


def validate_business_case_table(df: pd.DataFrame, source: str = "business-case table") -> pd.DataFrame:
    """Validate a business-case count table (one row per group × status × time point)."""
    required = BUSINESS_CASE_COLUMNS[:-1]
    _require_columns(df, required, source)
    has_published = "yearly_cost_published" in df.columns
    rows = []
    seen: dict[tuple[str, str, str], int] = {}
    months_of: dict[str, float] = {}
    for i, rec in enumerate(df.to_dict("records")):
        line = i + 2
        group, status, tp = _text(rec["group"]), _text(rec["status"]), _text(rec["time_point"])
        for col, val in (("group", group), ("status", status), ("time_point", tp)):
            if not val:
                raise BudgetError(f"{_where(source, line, col)}: empty")
        key = f"{group} / {status} / {tp}"
        if (group, status, tp) in seen:
            raise BudgetError(f"{_where(source, line, None, key)}: repeats line {seen[(group, status, tp)]}")
        seen[(group, status, tp)] = line
        cat = _text(rec["cost_category"])
        if not _NAME.match(cat):
            raise BudgetError(f"{_where(source, line, 'cost_category', key)}: {cat!r} is not a valid category name")
        months = _number(rec["months"], _where(source, line, "months", key), minimum=0.0)
        if months_of.setdefault(tp, months) != months:
            raise BudgetError(
                f"{_where(source, line, 'months', key)}: time point '{tp}' has {months:g} months here "
                f"but {months_of[tp]:g} elsewhere"
            )
        citizens = _integer(rec["citizens"], _where(source, line, "citizens", key), minimum=0)
        published = (
            _number(rec["yearly_cost_published"], _where(source, line, "yearly_cost_published", key), blank_ok=True)
            if has_published else math.nan
        )
        rows.append({"group": group, "status": status, "cost_category": cat, "time_point": tp,
                     "months": months, "citizens": citizens, "yearly_cost_published": published})
    if not rows:
        raise BudgetError(f"{source}: the table has no rows")
    return pd.DataFrame(rows, columns=list(BUSINESS_CASE_COLUMNS))


def load_business_case(csv_path: Path | str, yaml_path: Path | str | None = None) -> BusinessCaseInputs:
    """Read a business case: the count table (CSV) and its metadata (YAML).

    The YAML (default: the CSV's name with ``.yaml``) gives ``name``, ``source``,
    ``groups`` (intervention/control names), ``start``/``end`` time points,
    ``investment`` per group, ``unit_costs_month`` (as printed) and ``published`` results.
    """
    csv_path = Path(csv_path)
    yaml_path = Path(yaml_path) if yaml_path is not None else csv_path.with_suffix(".yaml")
    table = validate_business_case_table(_read_csv(csv_path), source=str(csv_path))
    meta = _read_yaml(yaml_path)
    src = str(yaml_path)
    if not isinstance(meta, Mapping):
        raise BudgetError(f"{src}: expected a mapping at the top level")
    allowed = {"name", "source", "groups", "start", "end", "investment", "unit_costs_month", "published", "notes"}
    unknown = sorted(set(meta) - allowed)
    if unknown:
        raise BudgetError(f"{src}: unknown key '{unknown[0]}'; valid keys are {valid_list(sorted(allowed))}")
    groups = meta.get("groups") or {}
    intervention = _text(groups.get("intervention", "intervention"))
    control = _text(groups.get("control", "control"))
    present = set(table["group"])
    for role, g in (("intervention", intervention), ("control", control)):
        if g not in present:
            raise BudgetError(
                f"{src}: groups.{role} = '{g}' is not a group of {csv_path} ({', '.join(sorted(present))})"
            )
    tps = set(table["time_point"])
    start, end = _text(meta.get("start")), _text(meta.get("end"))
    for key, tp in (("start", start), ("end", end)):
        if tp not in tps:
            raise BudgetError(f"{src}: {key} = '{tp}' is not a time point of {csv_path} ({', '.join(sorted(tps))})")
    unit = meta.get("unit_costs_month") or {}
    if not isinstance(unit, Mapping):
        raise BudgetError(f"{src}: unit_costs_month must map cost categories to kr per month")
    unit_costs = pd.Series({str(k): _number(v, f"{src}, unit_costs_month.{k}", minimum=0.0) for k, v in unit.items()},
                           name="unit_cost_month", dtype=float)
    missing = sorted(set(table["cost_category"]) - set(unit_costs.index))
    if missing:
        raise BudgetError(f"{src}: unit_costs_month lacks the cost categories {', '.join(missing)} used in {csv_path}")
    inv_raw = meta.get("investment") or {}
    if not isinstance(inv_raw, Mapping):
        raise BudgetError(f"{src}: investment must map group names to kr")
    investment = {str(k): _number(v, f"{src}, investment.{k}", minimum=0.0) for k, v in inv_raw.items()}
    for g in investment:
        if g not in present:
            raise BudgetError(f"{src}: investment.{g}: '{g}' is not a group of {csv_path}")
    pub_rows = []
    published = meta.get("published") or {}
    for g, measures in published.items():
        if not isinstance(measures, Mapping):
            raise BudgetError(f"{src}: published.{g} must be a mapping of measures")
        for m, v in measures.items():
            if isinstance(v, Mapping):
                for tp, x in v.items():
                    pub_rows.append({"group": str(g), "measure": str(m), "time_point": str(tp),
                                     "value": _number(x, f"{src}, published.{g}.{m}.{tp}")})
            else:
                pub_rows.append({"group": str(g), "measure": str(m), "time_point": "",
                                 "value": _number(v, f"{src}, published.{g}.{m}")})
    notes = meta.get("notes") or []
    return BusinessCaseInputs(
        table=table,
        unit_costs_published=unit_costs,
        investment=investment,
        published=pd.DataFrame(pub_rows, columns=["group", "measure", "time_point", "value"]),
        start=start,
        end=end,
        intervention=intervention,
        control=control,
        name=_text(meta.get("name")),
        source=_text(meta.get("source")),
        notes=tuple(str(n) for n in notes),
    )
