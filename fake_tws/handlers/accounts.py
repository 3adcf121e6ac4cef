"""Accounts, positions and P&L, answered from the world and kept up to date.

Every value comes from the world (`world.account_values`, `portfolio`, `positions`,
`account_summary`, `pnl`, `pnl_single`), which books every execution, so what a client is
told always agrees with its fills. Message sequences:

    reqAccountUpdates(true, acct)  updateAccountValue per value, updatePortfolio per
                                   position, updateAccountTime ("HH:MM"), accountDownloadEnd;
                                   then, on each fill, updatePortfolio for the position and
                                   the account values that changed, and every 3 minutes of
                                   clock time the values and portfolio lines that changed
                                   (prices move), each batch closed by updateAccountTime.
                                   One account at a time (a new request replaces the old);
                                   reqAccountUpdates(false) stops it, without an answer.
    reqAccountSummary              accountSummary rows (per account, tags in alphabetical
                                   order as a live Gateway sends them, $LEDGER rows after),
                                   accountSummaryEnd; then every 3 minutes of clock time the
                                   whole summary again, with its End (IB's own refresh cycle;
                                   fills are not pushed sooner). cancelAccountSummary stops it.
    reqPositions                   position per position of every managed account (closed
                                   ones show 0 for the rest of the day), positionEnd; then a
                                   position message whenever one changes. cancelPositions.
    reqPositionsMulti              positionMulti rows for the account ("" or "All": every
                                   account), positionMultiEnd, then changes. Model codes do
                                   not exist here: a model gets just the End.
    reqAccountUpdatesMulti         accountUpdateMulti per value (ledger and NetLiquidation
                                   keys only with ledgerAndNLV), accountUpdateMultiEnd; then
                                   changed values on fills and every 3 minutes.
    reqPnL / reqPnLSingle          pnl / pnlSingle now, then again whenever a value changed,
                                   checked on every clock step (a second of wall time with
                                   the real clock, every `advance` with a virtual one) and on
                                   every fill of the account. A contract not held gets a
                                   pnlSingle with position 0 and unset (max double) values.

An account the gateway does not manage gets error 321 (TWS's "Error validating request")
naming it, where a live Gateway's answer is not known.

Live updates follow the world's events through one world subscription per session, made
with its first account request and dropped when the connection ends; the periodic
refreshes are session tasks, so they also end with the connection or their cancel.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import msgspec
import trio

from fake_tws.broker import (
    AccountValue,
    AccountValuesEvent,
    Event,
    PortfolioEvent,
    PortfolioItem,
    PositionEvent,
    PositionRow,
)
from fake_tws.broker.accounts import LEDGER_TAGS
from fake_tws.ibtypes import Contract
from fake_tws.protocol.messages import Response
from fake_tws.protocol.requests import account as rq
from fake_tws.protocol.responses import account as rs
from fake_tws.session import NOT_SUPPORTED, Handlers, Session, TaskHandle

HANDLERS = Handlers()

# IB's account window refreshes every three minutes; so do account updates and summaries.
REFRESH_SECONDS = 180.0
# How often (clock seconds) P&L subscriptions look for a change; IB sends about once a second.
PNL_STEP_SECONDS = 1.0

NO_REQUEST_ID = -1
_ALL = ("", "ALL")


def _unknown_account(session: Session, req_id: int, name: str, account: str) -> None:
    session.error(
        req_id,
        NOT_SUPPORTED,
        f"Error validating request.-'{name}' : cause - Invalid account code {account!r}",
    )


def position_contract(contract: Contract) -> Contract:
    """A position's contract as reqPositions reports it: the listing exchange in
    `exchange` (NASDAQ for AAPL), empty for futures and options (a live Gateway does so)."""
    return msgspec.structs.replace(contract, exchange=contract.primaryExchange)


# -- per-session state -------------------------------------------------------------------


@dataclass(eq=False)
class _AccountUpdates:
    account: str
    values: dict[tuple[str, str], str] = field(default_factory=dict)
    portfolio: dict[int, PortfolioItem] = field(default_factory=dict)
    task: TaskHandle | None = None


@dataclass(eq=False)
class _UpdatesMulti:
    req_id: int
    accounts: tuple[str, ...]
    model_code: str
    ledger_only: bool
    values: dict[tuple[str, str, str], str] = field(default_factory=dict)
    task: TaskHandle | None = None


@dataclass(eq=False)
class _PositionsMulti:
    req_id: int
    accounts: tuple[str, ...]
    model_code: str


@dataclass(eq=False)
class _Summary:
    req_id: int
    group: str
    tags: str
    task: TaskHandle | None = None


@dataclass(eq=False)
class _PnL:
    req_id: int
    account: str
    con_id: int | None  # None: the whole account (reqPnL)
    last: Response | None = None
    task: TaskHandle | None = None


class AccountFeeds:
    """One session's account subscriptions, fed by the world's events and the clock."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.world = session.gateway.world
        self.account_updates: _AccountUpdates | None = None
        self.positions = False
        self.positions_multi: dict[int, _PositionsMulti] = {}
        self.updates_multi: dict[int, _UpdatesMulti] = {}
        self.summaries: dict[int, _Summary] = {}
        self.pnls: dict[int, _PnL] = {}
        self._unsubscribe = self.world.subscribe(self.on_event)
        if session.tasks is not None:
            session.spawn("account feeds", self._hold)

    async def _hold(self) -> None:
        """Lives as long as the connection; ending, it drops the world subscription."""
        try:
            await trio.sleep_forever()
        finally:
            self.close()

    def close(self) -> None:
        self._unsubscribe()
        if _FEEDS.get(self.session) is self:
            del _FEEDS[self.session]

    @property
    def managed(self) -> tuple[str, ...]:
        return self.session.gateway.config.accounts

    def accounts_in(self, account: str) -> tuple[str, ...] | None:
        """The accounts `account` stands for ("" and "All": every one); None if unknown."""
        if account.strip().upper() in _ALL:
            return self.managed
        return (account,) if account in self.managed else None

    def _every(self, seconds: float, name: str, step: Callable[[], None]) -> TaskHandle | None:
        """Run `step()` each time `seconds` of clock time have passed, for as long as the
        connection. The first deadline is fixed now, so time moved before the task first
        runs still counts; later ones count from when the last step began, so a big jump
        of a virtual clock is one step, not many."""
        if self.session.tasks is None:
            return None
        clock = self.session.clock
        period = timedelta(seconds=seconds)
        first = clock.now() + period

        async def loop() -> None:
            deadline = first
            while True:
                await clock.sleep_until(deadline)
                began = clock.now()
                step()
                deadline = began + period

        return self.session.spawn(name, loop)

    def _account_time(self) -> rs.UpdateAccountTime:
        now = self.session.clock.now().astimezone(ZoneInfo(self.session.gateway.config.timezone))
        return rs.UpdateAccountTime(timeStamp=f"{now:%H:%M}")

    # -- world events ----------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        if self.session.closed:
            self.close()
            return
        match event:
            case PositionEvent():
                self._on_position(event)
            case PortfolioEvent():
                self._on_portfolio(event.item)
            case AccountValuesEvent():
                self._on_account_values(event.account)

    def _on_position(self, event: PositionEvent) -> None:
        row = PositionRow(
            account=event.account,
            contract=event.contract,
            position=event.position,
            avg_cost=event.avg_cost,
        )
        if self.positions and event.account in self.managed:
            self.session.send(_position(row))
        for sub in list(self.positions_multi.values()):
            if event.account in sub.accounts and not sub.model_code:
                self.session.send(_position_multi(sub, row))
        self._refresh_pnls(event.account)

    def _on_portfolio(self, item: PortfolioItem) -> None:
        sub = self.account_updates
        if sub is not None and sub.account == item.account:
            sub.portfolio[item.contract.conId] = item
            self.session.send(_portfolio(item))

    def _on_account_values(self, account: str) -> None:
        sub = self.account_updates
        if sub is not None and sub.account == account and self._send_changed_values(sub):
            self.session.send(self._account_time())
        for multi in list(self.updates_multi.values()):
            if account in multi.accounts:
                self._send_changed_multi(multi, (account,))
        self._refresh_pnls(account)

    # -- reqAccountUpdates -----------------------------------------------------------------

    def start_account_updates(self, account: str) -> None:
        self.stop_account_updates()
        sub = self.account_updates = _AccountUpdates(account)
        for value in self.world.account_values(account):
            sub.values[(value.key, value.currency)] = value.value
            self.session.send(_account_value(value))
        for item in self.world.portfolio(account):
            sub.portfolio[item.contract.conId] = item
            self.session.send(_portfolio(item))
        self.session.send(self._account_time())
        self.session.send(rs.AccountDownloadEnd(accountName=account))
        sub.task = self._every(
            REFRESH_SECONDS, f"account updates {account}", lambda: self._refresh_updates(sub)
        )

    def stop_account_updates(self) -> None:
        sub, self.account_updates = self.account_updates, None
        if sub is not None and sub.task is not None:
            sub.task.cancel()

    def _send_changed_values(self, sub: _AccountUpdates) -> bool:
        sent = False
        for value in self.world.account_values(sub.account):
            key = (value.key, value.currency)
            if sub.values.get(key) != value.value:
                sub.values[key] = value.value
                self.session.send(_account_value(value))
                sent = True
        return sent

    def _refresh_updates(self, sub: _AccountUpdates) -> None:
        if sub is not self.account_updates:
            return
        sent = self._send_changed_values(sub)
        for item in self.world.portfolio(sub.account):
            if sub.portfolio.get(item.contract.conId) != item:
                sub.portfolio[item.contract.conId] = item
                self.session.send(_portfolio(item))
                sent = True
        if sent:
            self.session.send(self._account_time())

    # -- reqAccountUpdatesMulti -------------------------------------------------------

    def start_updates_multi(self, sub: _UpdatesMulti) -> None:
        self.stop_updates_multi(sub.req_id)
        self.updates_multi[sub.req_id] = sub
        if not sub.model_code:
            self._send_changed_multi(sub, sub.accounts)
        self.session.send(rs.AccountUpdateMultiEnd(reqId=sub.req_id))
        if not sub.model_code:
            sub.task = self._every(
                REFRESH_SECONDS,
                f"account updates multi {sub.req_id}",
                lambda: self._send_changed_multi(sub, sub.accounts),
            )

    def stop_updates_multi(self, req_id: int) -> None:
        sub = self.updates_multi.pop(req_id, None)
        if sub is not None and sub.task is not None:
            sub.task.cancel()

    def _send_changed_multi(self, sub: _UpdatesMulti, accounts: tuple[str, ...]) -> None:
        if self.updates_multi.get(sub.req_id) is not sub:
            return
        for account in accounts:
            for value in self.world.account_values(account):
                if sub.ledger_only and not _is_ledger_or_nlv(value.key):
                    continue
                key = (account, value.key, value.currency)
                if sub.values.get(key) != value.value:
                    sub.values[key] = value.value
                    self.session.send(
                        rs.AccountUpdateMulti(
                            reqId=sub.req_id,
                            account=account,
                            modelCode=sub.model_code,
                            key=value.key,
                            value=value.value,
                            currency=value.currency,
                        )
                    )

    # -- reqAccountSummary --------------------------------------------------------------

    def start_summary(self, sub: _Summary) -> None:
        self.stop_summary(sub.req_id)
        self.summaries[sub.req_id] = sub
        self._send_summary(sub)
        sub.task = self._every(
            REFRESH_SECONDS, f"account summary {sub.req_id}", lambda: self._send_summary(sub)
        )

    def stop_summary(self, req_id: int) -> None:
        sub = self.summaries.pop(req_id, None)
        if sub is not None and sub.task is not None:
            sub.task.cancel()

    def _send_summary(self, sub: _Summary) -> None:
        if self.summaries.get(sub.req_id) is not sub:
            return
        for row in _summary_rows(self.world, sub.group, sub.tags, self.managed):
            self.session.send(
                rs.AccountSummary(
                    reqId=sub.req_id,
                    account=row.account,
                    tag=row.tag,
                    value=row.value,
                    currency=row.currency,
                )
            )
        self.session.send(rs.AccountSummaryEnd(reqId=sub.req_id))

    # -- reqPositions / reqPositionsMulti ---------------------------------------------------

    def start_positions(self) -> None:
        self.positions = True
        for row in self.world.positions():
            if row.account in self.managed:
                self.session.send(_position(row))
        self.session.send(rs.PositionEnd())

    def start_positions_multi(self, sub: _PositionsMulti) -> None:
        self.positions_multi[sub.req_id] = sub
        if not sub.model_code:
            for row in self.world.positions():
                if row.account in sub.accounts:
                    self.session.send(_position_multi(sub, row))
        self.session.send(rs.PositionMultiEnd(reqId=sub.req_id))

    # -- reqPnL / reqPnLSingle --------------------------------------------------------------

    def start_pnl(self, sub: _PnL) -> None:
        self.stop_pnl(sub.req_id)
        self.pnls[sub.req_id] = sub
        self._send_pnl(sub)
        sub.task = self._every(PNL_STEP_SECONDS, f"pnl {sub.req_id}", lambda: self._send_pnl(sub))

    def stop_pnl(self, req_id: int) -> None:
        sub = self.pnls.pop(req_id, None)
        if sub is not None and sub.task is not None:
            sub.task.cancel()

    def _refresh_pnls(self, account: str) -> None:
        for sub in list(self.pnls.values()):
            if sub.account == account:
                self._send_pnl(sub)

    def _send_pnl(self, sub: _PnL) -> None:
        if self.pnls.get(sub.req_id) is not sub:
            return
        message = self._pnl_message(sub)
        if message != sub.last:
            sub.last = message
            self.session.send(message)

    def _pnl_message(self, sub: _PnL) -> Response:
        if sub.con_id is None:
            pnl = self.world.pnl(sub.account)
            return rs.PnL(
                reqId=sub.req_id,
                dailyPnL=pnl.daily_pnl,
                unrealizedPnL=pnl.unrealized_pnl,
                realizedPnL=pnl.realized_pnl,
            )
        single = self.world.pnl_single(sub.account, sub.con_id)
        if single is None:  # not held (today): IB's unset values
            return rs.PnLSingle(reqId=sub.req_id, pos=Decimal(0), dailyPnL=None)
        return rs.PnLSingle(
            reqId=sub.req_id,
            pos=single.position,
            dailyPnL=single.daily_pnl,
            unrealizedPnL=single.unrealized_pnl,
            realizedPnL=single.realized_pnl,
            value=single.value,
        )


_FEEDS: dict[Session, AccountFeeds] = {}


def feeds_of(session: Session) -> AccountFeeds:
    """The session's account subscriptions, created (and subscribed) on first use."""
    feeds = _FEEDS.get(session)
    if feeds is None:
        feeds = _FEEDS[session] = AccountFeeds(session)
    return feeds


# -- messages ----------------------------------------------------------------------------


def _account_value(value: AccountValue) -> rs.UpdateAccountValue:
    return rs.UpdateAccountValue(
        key=value.key, val=value.value, currency=value.currency, accountName=value.account
    )


def _portfolio(item: PortfolioItem) -> rs.UpdatePortfolio:
    return rs.UpdatePortfolio(
        contract=item.contract,
        position=item.position,
        marketPrice=item.market_price,
        marketValue=item.market_value,
        averageCost=item.average_cost,
        unrealizedPNL=item.unrealized_pnl,
        realizedPNL=item.realized_pnl,
        accountName=item.account,
    )


def _position(row: PositionRow) -> rs.Position:
    return rs.Position(
        account=row.account,
        contract=position_contract(row.contract),
        position=row.position,
        avgCost=row.avg_cost,
    )


def _position_multi(sub: _PositionsMulti, row: PositionRow) -> rs.PositionMulti:
    return rs.PositionMulti(
        reqId=sub.req_id,
        account=row.account,
        modelCode=sub.model_code,
        contract=position_contract(row.contract),
        pos=row.position,
        avgCost=row.avg_cost,
    )


def _is_ledger_or_nlv(key: str) -> bool:
    return key in LEDGER_TAGS or key.startswith("NetLiquidation")


def _summary_rows(world, group: str, tags: str, managed: tuple[str, ...]) -> list:
    """The summary's rows: per account (in the world's order), the plain tags in
    alphabetical order (as a live Gateway sends them), then its $LEDGER rows."""
    wanted = [t.strip() for t in tags.split(",") if t.strip()]
    plain = world.account_summary(group, ",".join(t for t in wanted if not t.startswith("$")))
    ledger = world.account_summary(group, ",".join(t for t in wanted if t.startswith("$")))
    accounts = list(dict.fromkeys(r.account for r in [*plain, *ledger]))
    rows = []
    for account in accounts:
        if account in managed:
            rows += sorted((r for r in plain if r.account == account), key=lambda r: r.tag)
            rows += [r for r in ledger if r.account == account]
    return rows


# -- handlers ----------------------------------------------------------------------------


@HANDLERS.on(rq.ReqAccountUpdates)
def account_updates(session: Session, request: rq.ReqAccountUpdates) -> None:
    feeds = feeds_of(session)
    if not request.subscribe:
        feeds.stop_account_updates()
        return
    code = request.acctCode.strip()
    account = code or feeds.managed[0]
    if account not in feeds.managed:
        _unknown_account(session, NO_REQUEST_ID, request.api_name, code)
        return
    feeds.start_account_updates(account)


@HANDLERS.on(rq.ReqAccountSummary)
def account_summary(session: Session, request: rq.ReqAccountSummary) -> None:
    feeds_of(session).start_summary(
        _Summary(req_id=request.reqId, group=request.groupName, tags=request.tags)
    )


@HANDLERS.on(rq.CancelAccountSummary)
def cancel_account_summary(session: Session, request: rq.CancelAccountSummary) -> None:
    feeds_of(session).stop_summary(request.reqId)


@HANDLERS.on(rq.ReqPositions)
def positions(session: Session, request: rq.ReqPositions) -> None:
    feeds_of(session).start_positions()


@HANDLERS.on(rq.CancelPositions)
def cancel_positions(session: Session, request: rq.CancelPositions) -> None:
    feeds_of(session).positions = False


@HANDLERS.on(rq.ReqPositionsMulti)
def positions_multi(session: Session, request: rq.ReqPositionsMulti) -> None:
    feeds = feeds_of(session)
    accounts = feeds.accounts_in(request.account)
    if accounts is None:
        _unknown_account(session, request.reqId, request.api_name, request.account)
        return
    feeds.start_positions_multi(
        _PositionsMulti(req_id=request.reqId, accounts=accounts, model_code=request.modelCode)
    )


@HANDLERS.on(rq.CancelPositionsMulti)
def cancel_positions_multi(session: Session, request: rq.CancelPositionsMulti) -> None:
    feeds_of(session).positions_multi.pop(request.reqId, None)


@HANDLERS.on(rq.ReqAccountUpdatesMulti)
def account_updates_multi(session: Session, request: rq.ReqAccountUpdatesMulti) -> None:
    feeds = feeds_of(session)
    accounts = feeds.accounts_in(request.account)
    if accounts is None:
        _unknown_account(session, request.reqId, request.api_name, request.account)
        return
    feeds.start_updates_multi(
        _UpdatesMulti(
            req_id=request.reqId,
            accounts=accounts,
            model_code=request.modelCode,
            ledger_only=request.ledgerAndNLV,
        )
    )


@HANDLERS.on(rq.CancelAccountUpdatesMulti)
def cancel_account_updates_multi(session: Session, request: rq.CancelAccountUpdatesMulti) -> None:
    feeds_of(session).stop_updates_multi(request.reqId)


@HANDLERS.on(rq.ReqPnL)
def pnl(session: Session, request: rq.ReqPnL) -> None:
    _start_pnl(session, request, request.account, None)


@HANDLERS.on(rq.ReqPnLSingle)
def pnl_single(session: Session, request: rq.ReqPnLSingle) -> None:
    _start_pnl(session, request, request.account, request.conid)


def _start_pnl(session: Session, request, account: str, con_id: int | None) -> None:
    if session.version < rs.PnL.min_version:
        session.error(
            request.reqId,
            NOT_SUPPORTED,
            f"Error validating request.-'{request.api_name}' : cause - not supported at "
            f"server version {session.version}",
        )
        return
    feeds = feeds_of(session)
    if account not in feeds.managed:
        _unknown_account(session, request.reqId, request.api_name, account)
        return
    if request.modelCode:
        session.log(
            logging.INFO, "%s: model %r has no P&L here", request.api_name, request.modelCode
        )
    feeds.start_pnl(_PnL(req_id=request.reqId, account=account, con_id=con_id))


@HANDLERS.on(rq.CancelPnL, rq.CancelPnLSingle)
def cancel_pnl(session: Session, request: rq.CancelPnL | rq.CancelPnLSingle) -> None:
    feeds_of(session).stop_pnl(request.reqId)
