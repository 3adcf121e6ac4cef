"""Managed accounts: cash by currency, positions, P&L, margin, and IB's account views.

Accounting follows IB's conventions so every view agrees with the executions:

- A position's cost basis includes commissions; `avgCost` = basis / quantity (per
  share for stocks, per contract including the multiplier for derivatives).
- Realized P&L of a closing fill = closed quantity x (fill price x multiplier - avgCost)
  - its commission, so it includes both legs' commissions (as commissionReport shows).
- Paid-in-full products (stocks, options, bonds, crypto) move cash by the trade value
  plus commission; margined ones (futures, CFDs) move cash only by realized P&L and
  commission; forex moves the two currency balances.
- Net liquidation = cash (converted to base at the market's rates) + market value of
  paid-in-full positions + open P&L of margined ones. So NLV - starting cash always
  equals unrealized + realized P&L, both net of commissions.
- Daily P&L of a position = unrealized now - unrealized at the start of the day +
  realized today; the world rolls the day at midnight in its time zone.

Margins are simple fractions of position value per instrument (`init_margin`,
`maint_margin`); buying power is four times available funds, as in a margin account.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from fake_tws.ibtypes import Contract, OrderState

from .catalog import Catalog, NoSecurityDefinition
from .events import AccountValuesEvent, Event, PortfolioEvent, PositionEvent
from .instruments import Accounting, Instrument
from .market import Market
from .records import AccountSummaryItem, AccountValue, PnL, PnLSingle, PortfolioItem, PositionRow

ZERO = Decimal(0)
BUYING_POWER_MULTIPLE = 4

LEDGER_TAGS = (
    "CashBalance",
    "TotalCashBalance",
    "AccruedCash",
    "StockMarketValue",
    "OptionMarketValue",
    "FutureOptionValue",
    "FuturesPNL",
    "NetLiquidationByCurrency",
    "UnrealizedPnL",
    "RealizedPnL",
    "ExchangeRate",
    "FundValue",
    "NetDividend",
    "MutualFundValue",
    "MoneyMarketFundValue",
    "CorporateBondValue",
    "TBondValue",
    "TBillValue",
    "WarrantValue",
    "FxCashBalance",
    "AccountOrGroup",
    "RealCurrency",
    "IssuerOptionValue",
    "Cryptocurrency",
)
SUMMARY_TAGS = (
    "AccountType",
    "NetLiquidation",
    "TotalCashValue",
    "SettledCash",
    "AccruedCash",
    "BuyingPower",
    "EquityWithLoanValue",
    "PreviousDayEquityWithLoanValue",
    "GrossPositionValue",
    "RegTEquity",
    "RegTMargin",
    "SMA",
    "InitMarginReq",
    "MaintMarginReq",
    "AvailableFunds",
    "ExcessLiquidity",
    "Cushion",
    "FullInitMarginReq",
    "FullMaintMarginReq",
    "FullAvailableFunds",
    "FullExcessLiquidity",
    "LookAheadNextChange",
    "LookAheadInitMarginReq",
    "LookAheadMaintMarginReq",
    "LookAheadAvailableFunds",
    "LookAheadExcessLiquidity",
    "HighestSeverity",
    "DayTradesRemaining",
    "Leverage",
)


@dataclass(frozen=True)
class StartPosition:
    contract: Contract  # resolved through the catalog (conId alone is enough)
    quantity: Decimal | int | float
    avg_price: float | None = None  # per unit, without multiplier; None = the market price


@dataclass(frozen=True)
class AccountConfig:
    account_id: str = "DU123456"
    base_currency: str = "USD"
    cash: Mapping[str, Decimal | int | float] = field(default_factory=lambda: {"USD": 1_000_000})
    positions: tuple[StartPosition, ...] = ()
    account_type: str = "INDIVIDUAL"


@dataclass(eq=False)
class Position:
    account: str
    instrument: Instrument
    quantity: Decimal = ZERO
    cost_basis: Decimal = ZERO  # signed: quantity x price x multiplier + commissions
    price_basis: Decimal = ZERO  # the same without commissions
    realized: Decimal = ZERO  # since the position was first opened
    realized_today: Decimal = ZERO
    day_start_unrealized: Decimal = ZERO

    @property
    def multiplier(self) -> Decimal:
        return Decimal(repr(self.instrument.value_multiplier))

    @property
    def avg_cost(self) -> Decimal:
        return self.cost_basis / self.quantity if self.quantity else ZERO

    @property
    def avg_price(self) -> Decimal:
        return self.price_basis / self.quantity / self.multiplier if self.quantity else ZERO

    def market_value(self, mark: Decimal) -> Decimal:
        return self.quantity * mark * self.multiplier

    def unrealized(self, mark: Decimal) -> Decimal:
        return self.market_value(mark) - self.cost_basis

    def open_pnl(self, mark: Decimal) -> Decimal:
        """Price P&L without commissions: what a margined position adds to NLV."""
        return self.market_value(mark) - self.price_basis


@dataclass(eq=False)
class Account:
    account_id: str
    base_currency: str
    account_type: str
    cash: dict[str, Decimal]
    positions: dict[int, Position] = field(default_factory=dict)
    previous_day_elv: Decimal = ZERO
    last_sent: dict[tuple[str, str], str] = field(default_factory=dict)


def _dec(x: float | int | Decimal) -> Decimal:
    return x if isinstance(x, Decimal) else Decimal(repr(x)) if isinstance(x, float) else Decimal(x)


def _money(x: Decimal) -> str:
    return f"{x:.2f}"


class Accounts:
    def __init__(
        self,
        configs: Iterable[AccountConfig],
        catalog: Catalog,
        market: Market,
        now: Callable[[], datetime],
    ) -> None:
        self._catalog = catalog
        self._market = market
        self._now = now
        self._accounts: dict[str, Account] = {}
        for config in configs:
            account = Account(
                account_id=config.account_id,
                base_currency=config.base_currency,
                account_type=config.account_type,
                cash={ccy: _dec(v) for ccy, v in config.cash.items()},
            )
            self._accounts[config.account_id] = account
            for start in config.positions:
                self._open_start_position(account, start)
        if not self._accounts:
            raise ValueError("the world needs at least one account")
        self.roll_day(now())

    def _open_start_position(self, account: Account, start: StartPosition) -> None:
        resolved = self._catalog.resolve_one(start.contract)
        if isinstance(resolved, NoSecurityDefinition):
            raise ValueError(f"start position {start.contract}: {resolved.message}")
        instrument = resolved[0]
        quantity = _dec(start.quantity)
        price = start.avg_price
        if price is None:
            price = self._market.price(instrument.con_id, self._now())
        if price is None:
            raise ValueError(f"no price for start position in {instrument.symbol}")
        position = self._position(account, instrument)
        position.quantity = quantity
        position.price_basis = position.cost_basis = quantity * _dec(price) * position.multiplier

    # --- lookups ---------------------------------------------------------------------------

    def managed_accounts(self) -> list[str]:
        return list(self._accounts)

    @property
    def default_account(self) -> str:
        return next(iter(self._accounts))

    def has(self, account_id: str) -> bool:
        return account_id in self._accounts

    def account(self, account_id: str) -> Account:
        return self._accounts[account_id]

    def cash(self, account_id: str, currency: str | None = None) -> Decimal:
        account = self._accounts[account_id]
        return account.cash.get(currency or account.base_currency, ZERO)

    def position(self, account_id: str, con_id: int) -> Position | None:
        return self._accounts[account_id].positions.get(con_id)

    def _position(self, account: Account, instrument: Instrument) -> Position:
        position = account.positions.get(instrument.con_id)
        if position is None:
            position = account.positions[instrument.con_id] = Position(
                account.account_id, instrument
            )
        return position

    def mark(self, instrument: Instrument, at: datetime) -> Decimal:
        price = self._market.price(instrument.con_id, at)
        return _dec(price) if price is not None else ZERO

    def rate(self, currency: str, base: str, at: datetime) -> Decimal:
        """Units of `base` per unit of `currency`, from the forex pairs' marks."""
        if currency == base:
            return Decimal(1)
        direct = self._pair_mark(currency, base, at)
        if direct is not None:
            return direct
        inverse = self._pair_mark(base, currency, at)
        if inverse is not None:
            return 1 / inverse
        if "USD" not in (currency, base):
            return self.rate(currency, "USD", at) * self.rate("USD", base, at)
        raise ValueError(f"no forex pair to convert {currency} to {base}")

    def _pair_mark(self, base: str, quote: str, at: datetime) -> Decimal | None:
        found = self._catalog.resolve(Contract(symbol=base, secType="CASH", currency=quote))
        if not found:
            return None
        price = self._market.price(found[0][0].con_id, at)
        return _dec(price) if price else None

    # --- fills ---------------------------------------------------------------------------

    def apply_fill(
        self,
        account_id: str,
        instrument: Instrument,
        buy: bool,
        quantity: Decimal,
        price: float,
        commission: Decimal,
    ) -> Decimal | None:
        """Book a fill; returns its realized P&L, or None when it only opens."""
        account = self._accounts[account_id]
        position = self._position(account, instrument)
        mult = position.multiplier
        p = _dec(price)
        direction = Decimal(1) if buy else Decimal(-1)
        held = position.quantity
        closing = min(quantity, abs(held)) if held and (held > 0) != buy else ZERO
        opening = quantity - closing
        realized: Decimal | None = None
        price_realized = ZERO
        if closing:
            side = Decimal(1) if held > 0 else Decimal(-1)
            share = closing / abs(held)
            commission_close = commission * closing / quantity
            cost_part = position.cost_basis * share
            price_part = position.price_basis * share
            realized = side * closing * p * mult - cost_part - commission_close
            price_realized = side * closing * p * mult - price_part
            position.cost_basis -= cost_part
            position.price_basis -= price_part
            position.quantity -= side * closing
            position.realized += realized
            position.realized_today += realized
        if opening:
            position.cost_basis += direction * opening * p * mult + commission * opening / quantity
            position.price_basis += direction * opening * p * mult
            position.quantity += direction * opening
        if position.quantity == 0:
            position.cost_basis = position.price_basis = ZERO
        self._move_cash(account, instrument, direction * quantity, p, commission, price_realized)
        return realized

    def _move_cash(
        self,
        account: Account,
        instrument: Instrument,
        signed_quantity: Decimal,
        price: Decimal,
        commission: Decimal,
        price_realized: Decimal,
    ) -> None:
        cash = account.cash
        currency = instrument.currency
        mult = Decimal(repr(instrument.value_multiplier))
        if instrument.accounting is Accounting.CASH:
            cash[currency] = cash.get(currency, ZERO) - signed_quantity * price * mult - commission
        elif instrument.accounting is Accounting.MARGIN:
            cash[currency] = cash.get(currency, ZERO) + price_realized - commission
        else:  # forex: buying EUR.GBP adds euros and spends pounds
            base = instrument.symbol
            cash[base] = cash.get(base, ZERO) + signed_quantity
            cash[currency] = cash.get(currency, ZERO) - signed_quantity * price - commission

    def fill_events(self, account_id: str, instrument: Instrument, at: datetime) -> list[Event]:
        """What a fill changes for subscribers: position, portfolio line, account values."""
        account = self._accounts[account_id]
        position = account.positions[instrument.con_id]
        events: list[Event] = [
            PositionEvent(
                account=account_id,
                contract=instrument.contract,
                position=position.quantity,
                avg_cost=float(position.avg_cost),
            ),
            PortfolioEvent(item=self._portfolio_item(position, at)),
        ]
        changed = self.changed_values(account_id, at)
        if changed:
            events.append(AccountValuesEvent(account=account_id, values=changed))
        return events

    # --- views ---------------------------------------------------------------------------

    def positions(self, account_id: str | None = None) -> list[PositionRow]:
        """reqPositions: every position (closed ones show 0 for the rest of the day)."""
        accounts = [self._accounts[account_id]] if account_id else self._accounts.values()
        return [
            PositionRow(
                account=a.account_id,
                contract=p.instrument.contract,
                position=p.quantity,
                avg_cost=float(p.avg_cost),
            )
            for a in accounts
            for p in a.positions.values()
        ]

    def portfolio(self, account_id: str, at: datetime) -> list[PortfolioItem]:
        account = self._accounts[account_id]
        return [self._portfolio_item(p, at) for p in account.positions.values()]

    def _portfolio_item(self, position: Position, at: datetime) -> PortfolioItem:
        mark = self.mark(position.instrument, at)
        return PortfolioItem(
            account=position.account,
            contract=position.instrument.contract,
            position=position.quantity,
            market_price=float(mark),
            market_value=float(round(position.market_value(mark), 2)),
            average_cost=float(position.avg_cost),
            unrealized_pnl=float(round(position.unrealized(mark), 2)),
            realized_pnl=float(round(position.realized, 2)),
        )

    def pnl(self, account_id: str, at: datetime) -> PnL:
        account = self._accounts[account_id]
        daily = unrealized = realized = ZERO
        for position in account.positions.values():
            rate = self.rate(position.instrument.currency, account.base_currency, at)
            u = position.unrealized(self.mark(position.instrument, at))
            unrealized += u * rate
            realized += position.realized_today * rate
            daily += (u - position.day_start_unrealized + position.realized_today) * rate
        return PnL(
            account=account_id,
            daily_pnl=float(round(daily, 2)),
            unrealized_pnl=float(round(unrealized, 2)),
            realized_pnl=float(round(realized, 2)),
        )

    def pnl_single(self, account_id: str, con_id: int, at: datetime) -> PnLSingle | None:
        position = self._accounts[account_id].positions.get(con_id)
        if position is None:
            return None
        mark = self.mark(position.instrument, at)
        u = position.unrealized(mark)
        return PnLSingle(
            account=account_id,
            con_id=con_id,
            position=position.quantity,
            daily_pnl=float(round(u - position.day_start_unrealized + position.realized_today, 2)),
            unrealized_pnl=float(round(u, 2)),
            realized_pnl=float(round(position.realized_today, 2)),
            value=float(round(position.market_value(mark), 2)),
        )

    def roll_day(self, at: datetime) -> None:
        """Start a new P&L day: today's realized resets, open P&L becomes the baseline."""
        for account in self._accounts.values():
            for position in account.positions.values():
                position.day_start_unrealized = position.unrealized(
                    self.mark(position.instrument, at)
                )
                position.realized_today = ZERO
            account.previous_day_elv = self._valuation(account, at).net_liquidation

    # --- valuation -----------------------------------------------------------------------

    def _valuation(self, account: Account, at: datetime) -> _Valuation:
        v = _Valuation(account.base_currency)
        for ccy, amount in account.cash.items():
            v.currency(ccy)["cash"] += amount
        for position in account.positions.values():
            inst = position.instrument
            book = v.currency(inst.currency)
            if not position.quantity and not position.realized_today:
                continue
            mark = self.mark(inst, at)
            value = position.market_value(mark)
            book["unrealized"] += position.unrealized(mark)
            book["realized"] += position.realized_today
            rate = self.rate(inst.currency, account.base_currency, at)
            v.init_margin += abs(value) * _dec(inst.init_margin) * rate
            v.maint_margin += abs(value) * _dec(inst.maint_margin) * rate
            if inst.accounting is Accounting.MARGIN:
                book["futures_pnl"] += position.open_pnl(mark)
            elif inst.accounting is Accounting.CASH:
                kind = {
                    "STK": "stock",
                    "OPT": "option",
                    "CRYPTO": "crypto",
                }.get(inst.sec_type)
                if inst.sec_type == "BOND":
                    kind = "tbond" if inst.details.bondType == "GOVT" else "bond"
                book[kind or "stock"] += value
                v.gross_position_value += abs(value) * rate
        for ccy, book in v.books.items():
            rate = self.rate(ccy, account.base_currency, at)
            v.rates[ccy] = rate
            book["net_liquidation"] = (
                book["cash"]
                + book["stock"]
                + book["option"]
                + book["bond"]
                + book["tbond"]
                + book["crypto"]
                + book["futures_pnl"]
            )
        return v

    def account_values(self, account_id: str, at: datetime) -> list[AccountValue]:
        """reqAccountUpdates' values, per currency and converted to BASE."""
        account = self._accounts[account_id]
        v = self._valuation(account, at)
        base = account.base_currency
        out: list[AccountValue] = []

        def add(key: str, value: str, currency: str) -> None:
            out.append(AccountValue(account=account_id, key=key, value=value, currency=currency))

        add("AccountCode", account_id, "")
        add("AccountType", account.account_type, "")
        add("AccountReady", "true", "")
        per_currency = (
            ("CashBalance", "cash"),
            ("TotalCashBalance", "cash"),
            ("StockMarketValue", "stock"),
            ("OptionMarketValue", "option"),
            ("FuturesPNL", "futures_pnl"),
            ("CorporateBondValue", "bond"),
            ("TBondValue", "tbond"),
            ("Cryptocurrency", "crypto"),
            ("NetLiquidationByCurrency", "net_liquidation"),
            ("UnrealizedPnL", "unrealized"),
            ("RealizedPnL", "realized"),
        )
        for ccy in sorted(v.books):
            add("Currency", ccy, ccy)
            add("ExchangeRate", f"{v.rates[ccy]:.8f}".rstrip("0").rstrip("."), ccy)
            for key, name in per_currency:
                add(key, _money(v.books[ccy][name]), ccy)
        add("Currency", base, "BASE")
        add("ExchangeRate", "1.00", "BASE")
        for key, name in per_currency:
            add(key, _money(v.total(name)), "BASE")
        for tag, value in self._summary_values(account, v).items():
            if tag != "AccountType":
                add(tag, value, "" if tag in _UNITLESS else base)
        return out

    def changed_values(self, account_id: str, at: datetime) -> tuple[AccountValue, ...]:
        account = self._accounts[account_id]
        changed = []
        for value in self.account_values(account_id, at):
            key = (value.key, value.currency)
            if account.last_sent.get(key) != value.value:
                account.last_sent[key] = value.value
                changed.append(value)
        return tuple(changed)

    def summary(self, group: str, tags: str, at: datetime) -> list[AccountSummaryItem]:
        """reqAccountSummary for group "All" (or one account id) and IB's tag list."""
        wanted = [t.strip() for t in tags.split(",") if t.strip()]
        accounts = (
            list(self._accounts.values())
            if group in ("All", "")
            else [a for a in self._accounts.values() if a.account_id == group]
        )
        out: list[AccountSummaryItem] = []
        for account in accounts:
            v = self._valuation(account, at)
            values = self._summary_values(account, v)
            for tag in wanted:
                if tag.startswith("$LEDGER"):
                    out += self._ledger(account, v, tag)
                elif tag in values:
                    currency = "" if tag in _UNITLESS else account.base_currency
                    out.append(
                        AccountSummaryItem(
                            account=account.account_id,
                            tag=tag,
                            value=values[tag],
                            currency=currency,
                        )
                    )
        return out

    def _summary_values(self, account: Account, v: _Valuation) -> dict[str, str]:
        nlv = v.net_liquidation
        cash = v.total("cash")
        available = nlv - v.init_margin
        excess = nlv - v.maint_margin
        money = {
            "NetLiquidation": nlv,
            "TotalCashValue": cash,
            "SettledCash": cash,
            "AccruedCash": ZERO,
            "BuyingPower": max(ZERO, available) * BUYING_POWER_MULTIPLE,
            "EquityWithLoanValue": nlv,
            "PreviousDayEquityWithLoanValue": account.previous_day_elv,
            "GrossPositionValue": v.gross_position_value,
            "RegTEquity": nlv,
            "RegTMargin": v.init_margin,
            "SMA": max(ZERO, available),
            "InitMarginReq": v.init_margin,
            "MaintMarginReq": v.maint_margin,
            "AvailableFunds": available,
            "ExcessLiquidity": excess,
            "FullInitMarginReq": v.init_margin,
            "FullMaintMarginReq": v.maint_margin,
            "FullAvailableFunds": available,
            "FullExcessLiquidity": excess,
            "LookAheadInitMarginReq": v.init_margin,
            "LookAheadMaintMarginReq": v.maint_margin,
            "LookAheadAvailableFunds": available,
            "LookAheadExcessLiquidity": excess,
        }
        out = {tag: _money(value) for tag, value in money.items()}
        out["AccountType"] = account.account_type
        out["Cushion"] = f"{(excess / nlv) if nlv else ZERO:.6f}"
        out["Leverage"] = f"{(v.gross_position_value / nlv) if nlv else ZERO:.2f}"
        out["LookAheadNextChange"] = "0"
        out["HighestSeverity"] = "0"
        out["DayTradesRemaining"] = "-1"
        return out

    def _ledger(self, account: Account, v: _Valuation, tag: str) -> list[AccountSummaryItem]:
        _, _, which = tag.partition(":")
        which = which.upper()
        if which == "ALL":
            currencies = [*sorted(v.books), "BASE"]
        elif which:
            currencies = [which] if which in v.books or which == "BASE" else []
        else:
            currencies = ["BASE"]
        names = {
            "CashBalance": "cash",
            "TotalCashBalance": "cash",
            "StockMarketValue": "stock",
            "OptionMarketValue": "option",
            "FuturesPNL": "futures_pnl",
            "NetLiquidationByCurrency": "net_liquidation",
            "UnrealizedPnL": "unrealized",
            "RealizedPnL": "realized",
            "CorporateBondValue": "bond",
            "TBondValue": "tbond",
            "Cryptocurrency": "crypto",
        }
        out: list[AccountSummaryItem] = []
        for ccy in currencies:
            for ledger_tag in LEDGER_TAGS:
                if ledger_tag in names:
                    amount = (
                        v.total(names[ledger_tag])
                        if ccy == "BASE"
                        else v.books[ccy][names[ledger_tag]]
                    )
                    value = _money(amount)
                elif ledger_tag == "ExchangeRate":
                    value = "1.00" if ccy == "BASE" else f"{v.rates[ccy]:.6f}"
                elif ledger_tag in ("AccountOrGroup",):
                    value = account.account_id
                elif ledger_tag == "RealCurrency":
                    value = account.base_currency if ccy == "BASE" else ccy
                else:
                    value = "0.00"
                out.append(
                    AccountSummaryItem(
                        account=account.account_id, tag=ledger_tag, value=value, currency=ccy
                    )
                )
        return out

    # --- margin --------------------------------------------------------------------------

    def what_if(
        self,
        account_id: str,
        instrument: Instrument,
        buy: bool,
        quantity: Decimal,
        price: float,
        commission: Decimal,
        at: datetime,
    ) -> OrderState:
        """Margin before/after an order filling in full at `price` (whatIf orders)."""
        account = self._accounts[account_id]
        before = self._valuation(account, at)
        held = account.positions.get(instrument.con_id)
        quantity_before = held.quantity if held else ZERO
        quantity_after = quantity_before + (quantity if buy else -quantity)
        rate = self.rate(instrument.currency, account.base_currency, at)
        unit_value = _dec(price) * Decimal(repr(instrument.value_multiplier)) * rate
        exposure_change = (abs(quantity_after) - abs(quantity_before)) * unit_value
        init_after = before.init_margin + exposure_change * _dec(instrument.init_margin)
        maint_after = before.maint_margin + exposure_change * _dec(instrument.maint_margin)
        elv_after = before.net_liquidation - commission * rate
        return OrderState(
            status="PreSubmitted",
            initMarginBefore=_money(before.init_margin),
            maintMarginBefore=_money(before.maint_margin),
            equityWithLoanBefore=_money(before.net_liquidation),
            initMarginChange=_money(init_after - before.init_margin),
            maintMarginChange=_money(maint_after - before.maint_margin),
            equityWithLoanChange=_money(elv_after - before.net_liquidation),
            initMarginAfter=_money(init_after),
            maintMarginAfter=_money(maint_after),
            equityWithLoanAfter=_money(elv_after),
            commission=float(commission),
            minCommission=float(commission),
            maxCommission=float(commission),
            commissionCurrency=instrument.currency,
        )

    def margin_shortfall(self, state: OrderState) -> str | None:
        """IB's rejection text when the what-if leaves initial margin above equity."""
        init_after = Decimal(state.initMarginAfter)
        elv_after = Decimal(state.equityWithLoanAfter)
        if init_after <= elv_after or Decimal(state.initMarginChange) <= 0:
            return None
        return (
            "YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN THE DESIRED POSITION YOUR EQUITY "
            f"WITH LOAN VALUE [{elv_after:.2f} {state.commissionCurrency}] MUST EXCEED THE "
            f"INITIAL MARGIN [{init_after:.2f} {state.commissionCurrency}]"
        )


_UNITLESS = {
    "AccountType",
    "Cushion",
    "Leverage",
    "LookAheadNextChange",
    "HighestSeverity",
    "DayTradesRemaining",
}
_BOOK_FIELDS = (
    "cash",
    "stock",
    "option",
    "bond",
    "tbond",
    "crypto",
    "futures_pnl",
    "unrealized",
    "realized",
    "net_liquidation",
)


@dataclass(eq=False)
class _Valuation:
    base: str
    books: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    rates: dict[str, Decimal] = field(default_factory=dict)
    init_margin: Decimal = ZERO
    maint_margin: Decimal = ZERO
    gross_position_value: Decimal = ZERO

    def currency(self, ccy: str) -> dict[str, Decimal]:
        book = self.books.get(ccy)
        if book is None:
            book = self.books[ccy] = dict.fromkeys(_BOOK_FIELDS, ZERO)
        return book

    def total(self, name: str) -> Decimal:
        return sum((book[name] * self.rates[ccy] for ccy, book in self.books.items()), ZERO)

    @property
    def net_liquidation(self) -> Decimal:
        return self.total("net_liquidation")
