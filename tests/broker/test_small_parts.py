"""Hashing, time sources, commissions and bar formatting."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from fake_tws.broker.bars import Bar, format_bar_date
from fake_tws.broker.catalog import Catalog
from fake_tws.broker.commissions import CommissionSchedule, schedule_for
from fake_tws.broker.hashing import normal, stable_key, unit
from fake_tws.broker.timesource import now_function
from fake_tws.ibtypes import Contract

from .conftest import MIDDAY, ManualClock


def test_keys_are_stable_across_processes():
    # Changing these changes every generated world: do it on purpose only.
    assert stable_key(1, "x") == 18280683524007529382
    assert 0 <= unit(42) < 1 and unit(42) == unit(42) and unit(42) != unit(43)
    draws = [normal(i) for i in range(4000)]
    assert abs(sum(draws) / len(draws)) < 0.1
    assert 0.9 < sum(d * d for d in draws) / len(draws) < 1.1


def test_time_sources():
    clock = ManualClock()
    assert now_function(clock)() == MIDDAY
    assert now_function(lambda: MIDDAY)() == MIDDAY
    with pytest.raises(ValueError):
        now_function(lambda: datetime(2026, 1, 1))()  # naive
    with pytest.raises(TypeError):
        now_function(42)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog(now=lambda: MIDDAY)


def resolve(catalog, **fields):
    return catalog.resolve_one(Contract(**fields))[0]


def test_commission_schedules(catalog):
    stock = schedule_for(resolve(catalog, conId=265598))
    assert stock.total(Decimal(100), Decimal(25_000)) == Decimal("1.00")  # minimum
    assert stock.total(Decimal(1000), Decimal(250_000)) == Decimal("5.00")
    assert stock.total(Decimal(1000), Decimal(100)) == Decimal("1.00")  # capped at 1% of value
    option = schedule_for(
        resolve(catalog, symbol="AAPL", secType="OPT", localSymbol="AAPL  260515C00250000")
    )
    assert option.total(Decimal(3), Decimal(1500)) == Decimal("1.95")
    future = schedule_for(resolve(catalog, symbol="ES", secType="CONTFUT"))
    assert future.total(Decimal(2), Decimal(700_000)) == Decimal("4.50")
    crypto = schedule_for(resolve(catalog, symbol="BTC", secType="CRYPTO"))
    assert crypto.total(Decimal("0.01"), Decimal(1000)) == Decimal("1.80")
    forex = schedule_for(resolve(catalog, symbol="EUR", secType="CASH", currency="USD"))
    assert forex.total(Decimal(20_000), Decimal(21_600)) == Decimal("2.00")
    assert forex.currency == "USD"
    assert CommissionSchedule().total(Decimal(0), Decimal(0)) == 0


def test_bar_dates_as_ib_writes_them():
    start = datetime(2026, 4, 15, 13, 30, tzinfo=UTC)
    intraday = Bar(
        start=start, open=1, high=2, low=0.5, close=1.5, volume=Decimal(10), wap=Decimal(1), count=3
    )
    assert format_bar_date(intraday) == "20260415 09:30:00 US/Eastern"
    assert format_bar_date(intraday, 2) == str(int(start.timestamp()))
    daily = Bar(
        start=start, open=1, high=2, low=0.5, close=1.5, volume=Decimal(10), wap=Decimal(1), count=3,
        trade_date=date(2026, 4, 15),
    )  # fmt: skip
    data = daily.to_bar_data(format_date=2)
    assert data.date == "20260415" and data.barCount == 3 and data.volume == 10


def test_crude_oil_is_monthly_and_expires_before_the_25th_of_the_prior_month(catalog):
    chain = catalog.contract_details(Contract(symbol="CL", secType="FUT"))
    assert len(chain) == 12
    june = next(d for d in chain if d.contractMonth == "202606")
    assert june.contract.lastTradeDateOrContractMonth == "20260519"
    assert june.contract.multiplier == "1000" and june.contract.exchange == "NYMEX"
