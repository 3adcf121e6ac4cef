from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from fake_tws.broker import (
    AccountConfig,
    AccountValuesEvent,
    FillPlan,
    FillSlice,
    PortfolioEvent,
    PositionEvent,
    StartPosition,
    World,
    WorldConfig,
)
from fake_tws.ibtypes import Contract, Order

from .conftest import AAPL, ACCOUNT, MIDDAY

MES = Contract(symbol="MES", secType="FUT", lastTradeDateOrContractMonth="202606")
EURGBP = Contract(symbol="EUR", secType="CASH", currency="GBP")


def fill_at(world: World, order_id: int, contract, action: str, qty, price: float, account=""):
    world.plan_next_fills(FillPlan(slices=(FillSlice(qty, price),)))
    order = Order(
        action=action, orderType="LMT", totalQuantity=Decimal(qty), lmtPrice=price, account=account
    )
    events = world.place_order(1, order_id, contract, order)
    assert any(type(e).__name__ == "ExecutionEvent" for e in events), events
    return events


def value(world: World, key: str, currency: str = "USD", account: str = ACCOUNT) -> Decimal:
    found = [v for v in world.account_values(account) if v.key == key and v.currency == currency]
    assert len(found) == 1, (key, currency)
    return Decimal(found[0].value)


def test_buy_then_sell_moves_cash_positions_and_realized_pnl(world):
    fill_at(world, 1, AAPL, "BUY", 100, 100.00)
    position = world.accounts.position(ACCOUNT, 265598)
    assert position.quantity == 100 and position.avg_cost == Decimal("100.01")  # incl. $1
    assert world.accounts.cash(ACCOUNT) == Decimal("989999.00")
    events = fill_at(world, 2, AAPL, "SELL", 100, 101.00)
    report = next(e for e in events if type(e).__name__ == "ExecutionEvent").commission_report
    assert report.realizedPNL == 98.0  # 100 x 1.00 - 1.00 - 1.00
    assert world.accounts.cash(ACCOUNT) == Decimal("1000098.00")
    assert world.positions()[0].position == 0  # closed, still listed today
    assert world.pnl(ACCOUNT).realized_pnl == 98.0


def test_short_and_flip(world):
    fill_at(world, 1, AAPL, "SELL", 100, 101.00)
    short = world.accounts.position(ACCOUNT, 265598)
    assert short.quantity == -100 and short.avg_cost == Decimal("100.99")
    fill_at(world, 2, AAPL, "BUY", 300, 100.00)  # covers 100, then long 200
    flipped = world.accounts.position(ACCOUNT, 265598)
    assert flipped.quantity == 200
    assert flipped.realized == Decimal("98.50")  # 100 x 1.00 - 1.00 - 0.50 of the 1.50
    assert flipped.avg_cost == Decimal("100.005")  # 100.00 + 1.00 / 200


def test_futures_move_cash_only_by_pnl_and_commission(world, clock):
    fill_at(world, 1, MES, "BUY", 2, 7000.00)
    assert world.accounts.cash(ACCOUNT) == Decimal("999998.76")
    mes = world.accounts.position(ACCOUNT, world.con_id(MES))
    assert mes.avg_cost == Decimal("35000.62")  # 7000 x 5 + 0.62, IB's per-contract cost
    mark = Decimal(repr(world.market.price(world.con_id(MES), clock.moment)))
    open_pnl = 2 * (mark - 7000) * 5
    assert value(world, "FuturesPNL", "BASE") == open_pnl.quantize(Decimal("0.01"))
    assert value(world, "NetLiquidation") == (Decimal("999998.76") + open_pnl).quantize(
        Decimal("0.01")
    )
    assert value(world, "UnrealizedPnL", "BASE") == (open_pnl - Decimal("1.24")).quantize(
        Decimal("0.01")
    )


def test_forex_moves_both_currency_balances(world):
    fill_at(world, 1, EURGBP, "BUY", 20_000, 0.85)
    cash = world.accounts.account(ACCOUNT).cash
    assert cash["EUR"] == 20_000
    assert cash["GBP"] == Decimal(-17_000) - Decimal("2.00")  # minimum forex commission
    rates = {
        v.currency: Decimal(v.value)
        for v in world.account_values(ACCOUNT)
        if v.key == "ExchangeRate"
    }
    assert rates["BASE"] == 1 and Decimal("1.0") < rates["EUR"] < Decimal("1.2")
    expected = cash["USD"] + 20_000 * rates["EUR"] + cash["GBP"] * rates["GBP"]
    assert value(world, "NetLiquidation") == pytest.approx(expected, abs=Decimal("0.02"))
    assert value(world, "CashBalance", "EUR") == 20_000


def test_net_liquidation_is_start_cash_plus_pnl(world, clock):
    fill_at(world, 1, AAPL, "BUY", 500, 265.00)
    fill_at(world, 2, Contract(conId=272093), "SELL", 300, 410.00)
    clock.advance(minutes=45)
    nlv = value(world, "NetLiquidation")
    unrealized = value(world, "UnrealizedPnL", "BASE")
    realized = value(world, "RealizedPnL", "BASE")
    assert nlv - 1_000_000 == pytest.approx(unrealized + realized, abs=Decimal("0.02"))
    gross = value(world, "GrossPositionValue")
    stocks = value(world, "StockMarketValue", "BASE")
    assert gross > abs(stocks)  # long and short both count
    available = value(world, "AvailableFunds")
    assert available == nlv - value(world, "InitMarginReq")
    assert value(world, "BuyingPower") == available * 4


def test_portfolio_matches_positions_and_marks(world, clock):
    fill_at(world, 1, AAPL, "BUY", 100, 260.00)
    (item,) = world.portfolio(ACCOUNT)
    mark = world.market.price(265598, clock.moment)
    assert item.market_price == mark and item.market_value == pytest.approx(100 * mark)
    assert item.average_cost == 260.01
    assert item.unrealized_pnl == pytest.approx(100 * mark - 26001, abs=0.01)
    single = world.pnl_single(ACCOUNT, 265598)
    assert single.unrealized_pnl == item.unrealized_pnl and single.value == item.market_value
    assert world.pnl_single(ACCOUNT, 1) is None


def test_fill_events_report_position_portfolio_and_changed_values(world):
    events = fill_at(world, 1, AAPL, "BUY", 100, 260.00)
    position = next(e for e in events if isinstance(e, PositionEvent))
    assert (position.position, position.avg_cost) == (100, 260.01)
    assert next(e for e in events if isinstance(e, PortfolioEvent)).item.position == 100
    first = next(e for e in events if isinstance(e, AccountValuesEvent))
    keys = {v.key for v in first.values}
    assert {"NetLiquidation", "CashBalance", "StockMarketValue"} <= keys
    again = fill_at(world, 2, AAPL, "BUY", 100, 260.00)
    changed = next(e for e in again if isinstance(e, AccountValuesEvent))
    assert "AccountCode" not in {v.key for v in changed.values}  # only what changed


def test_account_summary_tags_and_ledger(world):
    fill_at(world, 1, EURGBP, "BUY", 20_000, 0.85)
    rows = world.account_summary("All", "NetLiquidation,BuyingPower,AccountType")
    assert [(r.tag, r.currency) for r in rows] == [
        ("NetLiquidation", "USD"),
        ("BuyingPower", "USD"),
        ("AccountType", ""),
    ]
    assert rows[2].value == "INDIVIDUAL"
    base_ledger = world.account_summary("All", "$LEDGER")
    assert {r.currency for r in base_ledger} == {"BASE"}
    every = world.account_summary("All", "$LEDGER:ALL")
    assert {r.currency for r in every} == {"BASE", "USD", "EUR", "GBP"}
    eur_cash = next(r for r in every if r.currency == "EUR" and r.tag == "CashBalance")
    assert Decimal(eur_cash.value) == 20_000
    gbp = world.account_summary("All", "$LEDGER:GBP")
    assert {r.currency for r in gbp} == {"GBP"}
    assert world.account_summary("DU000000", "NetLiquidation") == []


def test_daily_pnl_restarts_at_midnight(world, clock):
    fill_at(world, 1, AAPL, "BUY", 100, 260.00)
    fill_at(world, 2, AAPL, "SELL", 50, 261.00)
    today = world.pnl(ACCOUNT)
    assert today.realized_pnl != 0
    assert today.daily_pnl == pytest.approx(today.unrealized_pnl + today.realized_pnl, abs=0.02)
    clock.set(datetime(2026, 4, 16, 15, 0, tzinfo=UTC))
    tomorrow = world.pnl(ACCOUNT)
    assert tomorrow.realized_pnl == 0
    midnight = datetime(2026, 4, 16, 4, 0, tzinfo=UTC)
    mark_then = world.market.price(265598, midnight)
    mark_now = world.market.price(265598, clock.moment)
    assert tomorrow.daily_pnl == pytest.approx(50 * (mark_now - mark_then), abs=0.02)


def test_start_positions_and_several_accounts(clock):
    config = WorldConfig(
        seed=1,
        accounts=(
            AccountConfig(
                "DU111111",
                cash={"USD": 50_000},
                positions=(StartPosition(Contract(conId=265598), 100, 200.0),),
            ),
            AccountConfig("DU222222", cash={"USD": 10_000, "EUR": 5_000}),
        ),
    )
    world = World(clock, config)
    assert world.managed_accounts() == ["DU111111", "DU222222"]
    (row,) = world.positions("DU111111")
    assert (row.position, row.avg_cost) == (100, 200.0)
    mark = Decimal(repr(world.market.price(265598, clock.moment)))
    assert value(world, "NetLiquidation", account="DU111111") == 50_000 + 100 * mark
    assert world.positions("DU222222") == []
    fill_at(world, 1, AAPL, "BUY", 10, 260.0, account="DU222222")
    assert world.accounts.position("DU222222", 265598).quantity == 10
    assert world.accounts.position("DU111111", 265598).quantity == 100


def test_previous_day_equity_is_captured_at_the_roll(world, clock):
    fill_at(world, 1, AAPL, "BUY", 100, 260.00)
    clock.set(MIDDAY + timedelta(days=1))
    rows = world.account_summary("All", "PreviousDayEquityWithLoanValue,NetLiquidation")
    previous = Decimal(rows[0].value)
    assert previous != 1_000_000 and abs(previous - Decimal(rows[1].value)) < 2_000


def test_options_and_bonds_use_their_multipliers(world):
    call = Contract(symbol="AAPL", secType="OPT", localSymbol="AAPL  260515C00250000")
    fill_at(world, 1, call, "BUY", 2, 5.00)
    option = world.accounts.position(ACCOUNT, world.con_id(call))
    assert option.avg_cost == Decimal("500.65")  # per contract: 5.00 x 100 + 1.30 / 2
    assert world.accounts.cash(ACCOUNT) == Decimal(1_000_000) - 1000 - Decimal("1.30")
    bond = Contract(
        secIdType="ISIN",
        secId=world.contract_details(Contract(conId=610100001))[0].secIdList[0].value,
    )
    fill_at(world, 2, bond, "BUY", 10, 95.5)
    assert world.accounts.cash(ACCOUNT) == Decimal(1_000_000) - Decimal("1001.30") - 9550 - 10
    assert value(world, "CorporateBondValue", "BASE") > 9000
    assert value(world, "OptionMarketValue", "BASE") > 0


def test_crypto_positions_are_fractional(world):
    btc = Contract(symbol="BTC", secType="CRYPTO")
    fill_at(world, 1, btc, "BUY", Decimal("0.5"), 100_000.0)
    assert world.accounts.position(ACCOUNT, world.con_id(btc)).quantity == Decimal("0.5")
    assert world.accounts.cash(ACCOUNT) == Decimal(1_000_000) - 50_000 - 90
    assert value(world, "Cryptocurrency", "BASE") > 0
