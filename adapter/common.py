"""Identifiers and IB value types shared by every part of the adapter.

Names, fields and defaults match ``nautilus_trader.adapters.interactive_brokers.common``
so user code can switch adapters by changing imports. The field names deliberately keep
IB's camelCase: an ``IBContract`` is passed straight to ``ibapi.EClient`` requests,
which read the attributes by those names.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final, Literal

from ibapi.const import UNSET_DECIMAL
from ibapi.contract import FundAssetType, FundDistributionPolicyIndicator
from ibapi.tag_value import TagValue
from nautilus_trader.config import NautilusConfig
from nautilus_trader.model.identifiers import ClientId, Venue

IB: Final[str] = "INTERACTIVE_BROKERS"
IB_VENUE: Final[Venue] = Venue(IB)
IB_CLIENT_ID: Final[ClientId] = ClientId(IB)


class ContractId(int):
    """An IB contract id (``conId``)."""


# The tick types a reqMktData subscription reports most often, by IB tick type id.
TickTypeMapping: dict[int, str] = {
    0: "Bid Size",
    1: "Bid Price",
    2: "Ask Price",
    3: "Ask Size",
    4: "Last Price",
    5: "Last Size",
    6: "High",
    7: "Low",
    8: "Volume",
    9: "Close Price",
}


class ComboLeg(NautilusConfig, frozen=True, omit_defaults=True, repr_omit_defaults=True):
    """One leg of a combination (``BAG``) contract."""

    conId: int = 0
    ratio: int = 0
    action: str = ""  # "BUY" or "SELL"
    exchange: str = ""
    openClose: int = 0  # IB's LegOpenClose: 0 same as parent, 1 open, 2 close, 3 unknown
    shortSaleSlot: int = 0  # stock legs of a short sale: 1 clearing broker, 2 third party
    designatedLocation: str = ""
    exemptCode: int = -1


class DeltaNeutralContract(NautilusConfig, frozen=True, repr_omit_defaults=True):
    """The hedge of a delta-neutral combination order."""

    conId: int = 0
    delta: float = 0.0
    price: float = 0.0


SecType = Literal[
    "CASH",
    "STK",
    "OPT",
    "FUT",
    "FOP",
    "CONTFUT",
    "CRYPTO",
    "CFD",
    "CMDTY",
    "IND",
    "BAG",
    "",
]


class IBContract(NautilusConfig, frozen=True, repr_omit_defaults=True):
    """An IB contract: the IB fields plus the chain-building options of the adapter.

    A partly filled contract is a query: the instrument provider asks IB for the
    contracts it matches. Typical shapes::

        IBContract(secType="STK", symbol="AAPL", exchange="SMART", primaryExchange="NASDAQ")
        IBContract(secType="STK", secIdType="ISIN", secId="US0378331005", exchange="SMART")
        IBContract(secType="CASH", symbol="EUR", currency="USD", exchange="IDEALPRO")
        IBContract(secType="CRYPTO", symbol="BTC", currency="USD", exchange="PAXOS")
        IBContract(secType="CFD", symbol="IBUS500", currency="USD", exchange="SMART")
        IBContract(secType="FUT", symbol="ES", exchange="CME", lastTradeDateOrContractMonth="202512")
        IBContract(secType="CONTFUT", symbol="ES", exchange="CME", build_futures_chain=True)
        IBContract(secType="STK", symbol="SPY", exchange="SMART", build_options_chain=True,
                   min_expiry_days=0, max_expiry_days=30)

    The last five fields are ours, not IB's: ``build_futures_chain`` and
    ``build_options_chain`` expand the query into the whole futures or options chain,
    ``options_chain_exchange`` picks the exchange to search options on (default: the
    underlying's), and ``min_expiry_days``/``max_expiry_days`` bound the expiries kept.
    """

    secType: SecType = ""
    conId: int = 0
    exchange: str = ""
    primaryExchange: str = ""
    symbol: str = ""
    localSymbol: str = ""
    currency: str = ""
    tradingClass: str = ""

    # Futures and options
    lastTradeDateOrContractMonth: str = ""  # %Y%m%d or %Y%m
    lastTradeDate: str = ""
    multiplier: str = ""

    # Options
    strike: float = 0.0
    right: str = ""

    # Lets contract-details and historical-data queries find expired futures.
    includeExpired: bool = False

    # Identification by a security id, e.g. secIdType="ISIN" with the ISIN in secId.
    secIdType: str = ""
    secId: str = ""
    description: str = ""
    issuerId: str = ""

    # Combinations
    comboLegsDescrip: str = ""
    comboLegs: list[ComboLeg] | None = None
    deltaNeutralContract: DeltaNeutralContract | None = None

    # Chain building (adapter options, never sent to IB)
    build_futures_chain: bool | None = None
    build_options_chain: bool | None = None
    options_chain_exchange: str | None = None
    min_expiry_days: int | None = None
    max_expiry_days: int | None = None


class IBOrderTags(NautilusConfig, frozen=True, repr_omit_defaults=True):
    """IB order attributes that NautilusTrader orders have no field for.

    Attach ``IBOrderTags(...).value`` to an order's tags; the execution client copies
    each field onto the ``ibapi`` order it places.
    """

    whatIf: bool = False  # margin and commission preview only, no order placed

    # One-cancels-all group
    ocaGroup: str = ""
    ocaType: int = 0  # 1 cancel with block, 2 reduce with block, 3 reduce without block

    allOrNone: bool = False

    # Times, formatted "%Y%m%d %H:%M:%S %Z"
    activeStartTime: str = ""
    activeStopTime: str = ""
    goodAfterTime: str = ""

    # Declared as real fields here; NautilusTrader's class leaves them unannotated, so
    # there they are class constants that IBOrderTags(blockOrder=True) rejects.
    blockOrder: bool = False  # ISE block order
    sweepToFill: bool = False
    outsideRth: bool = False
    hidden: bool = False  # hidden from market depth (NASDAQ-routed orders only)

    # Order conditions as dictionaries; the execution client builds ibapi conditions.
    conditions: list[dict] = []
    conditionsCancelOrder: bool = False  # True cancels the order when met, False transmits

    @property
    def value(self) -> str:
        return f"IBOrderTags:{self.json().decode()}"

    def __str__(self) -> str:
        return self.value


class IBContractDetails(NautilusConfig, frozen=True, repr_omit_defaults=True):
    """IB contract details as an encodable struct (``ibapi.contract.ContractDetails``).

    Reference: https://ibkrcampus.com/campus/ibkr-api-page/twsapi-ref/#contractdetails-ref
    """

    contract: IBContract | None = None
    marketName: str = ""
    minTick: float = 0
    orderTypes: str = ""
    validExchanges: str = ""
    priceMagnifier: int = 1
    underConId: int = 0
    longName: str = ""
    contractMonth: str = ""
    industry: str = ""
    category: str = ""
    subcategory: str = ""
    timeZoneId: str = ""
    tradingHours: str = ""
    liquidHours: str = ""
    evRule: str = ""
    evMultiplier: float = 0
    mdSizeMultiplier: int = 1  # obsolete in the TWS API; kept for field compatibility
    aggGroup: int = 0
    underSymbol: str = ""
    underSecType: str = ""
    marketRuleIds: str = ""
    secIdList: list[TagValue] | None = None
    realExpirationDate: str = ""
    lastTradeTime: str = ""
    stockType: str = ""
    # UNSET_DECIMAL (2**127 - 1) is ibapi's "not sent"; servers before version 164 omit these.
    minSize: Decimal = UNSET_DECIMAL
    sizeIncrement: Decimal = UNSET_DECIMAL
    suggestedSizeIncrement: Decimal = UNSET_DECIMAL

    # Bonds
    cusip: str = ""
    ratings: str = ""
    descAppend: str = ""
    bondType: str = ""
    couponType: str = ""
    callable: bool = False
    putable: bool = False
    coupon: float = 0
    convertible: bool = False
    maturity: str = ""
    issueDate: str = ""
    nextOptionDate: str = ""
    nextOptionType: str = ""
    nextOptionPartial: bool = False
    notes: str = ""

    # Funds
    fundName: str = ""
    fundFamily: str = ""
    fundType: str = ""
    fundFrontLoad: str = ""
    fundBackLoad: str = ""
    fundBackLoadTimeInterval: str = ""
    fundManagementFee: str = ""
    fundClosed: bool = False
    fundClosedForNewInvestors: bool = False
    fundClosedForNewMoney: bool = False
    fundNotifyAmount: str = ""
    fundMinimumInitialPurchase: str = ""
    fundSubsequentMinimumPurchase: str = ""
    fundBlueSkyStates: str = ""
    fundBlueSkyTerritories: str = ""
    fundDistributionPolicyIndicator: FundDistributionPolicyIndicator = (
        FundDistributionPolicyIndicator.NoneItem
    )
    fundAssetType: FundAssetType = FundAssetType.NoneItem
    ineligibilityReasonList: list | None = None


def dict_to_contract_details(dict_details: dict[str, Any]) -> IBContractDetails:
    """Rebuild contract details from their dictionary form (an instrument's ``info``).

    The inverse of ``adapter.parsing.contract_details.contract_details_to_dict``: the
    contract arrives as a dict and ``secIdList`` as ``{tag: value}``.
    """
    fields = dict(dict_details)
    if isinstance(fields.get("contract"), dict):
        fields["contract"] = IBContract(**fields["contract"])
    if isinstance(fields.get("secIdList"), dict):
        fields["secIdList"] = [TagValue(tag, value) for tag, value in fields["secIdList"].items()]
    return IBContractDetails(**fields)
