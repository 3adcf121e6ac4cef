"""Stocks that exist because a test asked for them.

Any plausible US ticker the catalog does not know becomes a stock whose conId, name,
listing exchange, industry and price level are derived from (seed, symbol) alone, so
the same symbol under the same seed is the same company in every run.
"""

from __future__ import annotations

import math
import re
from datetime import date, timedelta

from faker import Faker

from .curated import StockSpec, stock
from .hashing import rng, stable_key
from .instruments import Instrument, cusip_with_check, isin_with_check

GENERATED_CON_IDS = (900_000_000, 90_000_000)  # base, span
PLAUSIBLE_TICKER = re.compile(r"^[A-Z][A-Z0-9]{0,5}(?:[ .][A-Z])?$")

_INDUSTRIES = (
    ("Technology", "Software", "Enterprise Software/Serv"),
    ("Technology", "Semiconductors", "Electronic Compo-Semicon"),
    ("Financial", "Banks", "Super-Regional Banks-US"),
    ("Financial", "Insurance", "Property/Casualty Ins"),
    ("Consumer, Cyclical", "Retail", "Retail-Apparel/Shoe"),
    ("Consumer, Non-cyclical", "Pharmaceuticals", "Medical-Drugs"),
    ("Consumer, Non-cyclical", "Food", "Food-Misc/Diversified"),
    ("Industrial", "Aerospace/Defense", "Aerospace/Defense-Equip"),
    ("Industrial", "Machinery-Diversified", "Machinery-General Indust"),
    ("Energy", "Oil&Gas", "Oil Comp-Integrated"),
    ("Utilities", "Electric", "Electric-Integrated"),
    ("Communications", "Media", "Multimedia"),
    ("Basic Materials", "Chemicals", "Chemicals-Diversified"),
)
_CUSIP_CHARS = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def plausible_ticker(symbol: str) -> bool:
    return bool(PLAUSIBLE_TICKER.match(symbol))


def generated_stock(symbol: str, seed: int, faker: Faker, price: float | None = None) -> Instrument:
    """A made-up but stable listed company for `symbol`."""
    key = stable_key(seed, "generated-stock", symbol)
    r = rng(seed, "generated-stock", symbol)
    faker.seed_instance(key)
    name = faker.company().upper().replace(",", "")
    if not name.endswith(("INC", "LTD", "LLC", "PLC", "GROUP")):
        name += " INC"
    primary = r.choices(("NASDAQ", "NYSE", "ARCA"), weights=(6, 5, 1))[0]
    industry, category, subcategory = r.choice(_INDUSTRIES)
    level = (
        price if price is not None else round(math.exp(r.uniform(math.log(5), math.log(500))), 2)
    )
    issuer = "".join(r.choice(_CUSIP_CHARS) for _ in range(6))
    isin = isin_with_check("US", cusip_with_check(issuer + "10"))
    spec = StockSpec(
        symbol=symbol,
        con_id=GENERATED_CON_IDS[0] + key % GENERATED_CON_IDS[1],
        name=name,
        primary=primary,
        price=level,
        isin=isin,
        industry=industry,
        category=category,
        subcategory=subcategory,
        listed=date(1985, 1, 2) + timedelta(days=r.randrange(35 * 365)),
        volatility=r.uniform(0.012, 0.035),
        trades_per_minute=r.uniform(8, 40),
        trade_size=r.randrange(60, 300),
        penny_options=False,
    )
    return stock(spec)
