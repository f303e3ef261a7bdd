"""Prices in the chosen price year, split by actor.

Every price and cost is brought from its own price year to the calculation's price year
with the price index: ``price_in_P = price × index[P] / index[price_year_of_row]``.
The actor split is then applied: given shares, explicit amounts per actor, or shares
derived from the state refund rules (:mod:`regeval.budget.refunds`).
"""

from __future__ import annotations

import pandas as pd

from regeval.budget.inputs import BudgetInputs
from regeval.budget.refunds import RefundRates, split_shares
from regeval.budget.schema import ACTORS
from regeval.errors import BudgetError

ACTOR_PRICE_COLUMNS = [
    "consequence", "label", "consequence_group", "group", "unit", "sign", "actor",
    "share", "price", "price_total", "original_price_year", "index_factor", "split",
    "illustrative", "source",
]


def price_factor(price_index: pd.DataFrame, from_year: int, to_year: int, what: str = "") -> float:
    """Factor bringing a price from ``from_year`` to ``to_year`` prices: ``index[to] / index[from]``.

    Raises
    ------
    BudgetError
        If a year is missing from the index (naming the year, the item and the years available).
    """
    if from_year == to_year:
        return 1.0
    idx = dict(zip(price_index["year"].astype(int), price_index["index"].astype(float), strict=True))
    for y in (from_year, to_year):
        if y not in idx:
            item = f" (needed for {what})" if what else ""
            raise BudgetError(
                f"price index has no value for {y}{item}; it covers {min(idx)}-{max(idx)}: "
                "add the year to price_index.csv or give the price in a covered year"
            )
    return idx[to_year] / idx[from_year]


def actor_prices(inputs: BudgetInputs, price_year: int) -> pd.DataFrame:
    """One row per consequence × actor: the actor's price per unit in ``price_year`` prices.

    Returns
    -------
    pandas.DataFrame
        Columns ``consequence, label, consequence_group, group, unit, sign, actor, share,
        price, price_total, original_price_year, index_factor, split, illustrative,
        source``. ``price`` is the actor's kr per unit (>= 0; the sign of the value is set
        by ``sign``), ``price_total`` the sum over actors, ``share = price / price_total``.
    """
    return _actor_prices(inputs.prices, inputs.price_index, inputs.refund_rates, price_year)


def _actor_prices(prices: pd.DataFrame, price_index: pd.DataFrame, rates: RefundRates,
                  price_year: int) -> pd.DataFrame:
    rows = []
    for rec in prices.to_dict("records"):
        factor = price_factor(price_index, int(rec["price_year"]), price_year,
                              what=f"consequence '{rec['consequence']}' priced in {rec['price_year']}")
        total = float(rec["price"]) * factor
        split = rec["split"]
        if split == "shares":
            shares = {a: float(rec[a]) for a in ACTORS}
            amounts = {a: total * shares[a] for a in ACTORS}
        elif split == "amounts":
            amounts = {a: float(rec[a]) * factor for a in ACTORS}
            shares = {a: (amounts[a] / total if total else 0.0) for a in ACTORS}
        else:
            shares = split_shares(split, rates)
            amounts = {a: total * shares[a] for a in ACTORS}
        for a in ACTORS:
            rows.append({
                "consequence": rec["consequence"], "label": rec["label"],
                "consequence_group": rec["consequence_group"], "group": rec["group"],
                "unit": rec["unit"], "sign": rec["sign"], "actor": a,
                "share": shares[a], "price": amounts[a], "price_total": total,
                "original_price_year": int(rec["price_year"]), "index_factor": factor,
                "split": split, "illustrative": bool(rec["illustrative"]), "source": rec["source"],
            })
    return pd.DataFrame(rows, columns=ACTOR_PRICE_COLUMNS)


def programme_cost_in_price_year(inputs: BudgetInputs, price_year: int, factor: float = 1.0) -> pd.DataFrame:
    """The programme's cost per participant in ``price_year`` prices, × ``factor``.

    Returns
    -------
    pandas.DataFrame
        Columns ``rel_year, bearer, amount`` (kr per participant, positive = cost).
    """
    pc = inputs.programme_cost
    rows = []
    for rec in pc.to_dict("records"):
        f = price_factor(inputs.price_index, int(rec["price_year"]), price_year,
                         what=f"programme cost in year {rec['rel_year']} priced in {rec['price_year']}")
        rows.append({"rel_year": int(rec["rel_year"]), "bearer": rec["bearer"],
                     "amount": float(rec["amount"]) * f * factor})
    return pd.DataFrame(rows, columns=["rel_year", "bearer", "amount"])
