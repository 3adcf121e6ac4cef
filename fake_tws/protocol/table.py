"""The one place that maps TWS API message ids to message types, in each direction.

Rows name their type as "module.Class" inside `requests/` or `responses/`. Several
response types may share an id (tick-by-tick's three kinds use one id, told apart by a
field inside the message).
"""

from __future__ import annotations

import importlib

from .messages import Request, Response

# Client -> server (EClient's outgoing ids).
_REQUEST_ROWS: tuple[tuple[int, str], ...] = (
    (1, "market_data.ReqMktData"),
    (2, "market_data.CancelMktData"),
    (3, "orders.PlaceOrder"),
    (4, "orders.CancelOrder"),
    (5, "orders.ReqOpenOrders"),
    (6, "account.ReqAccountUpdates"),
    (7, "orders.ReqExecutions"),
    (8, "connection.ReqIds"),
    (9, "contracts.ReqContractDetails"),
    (10, "market_data.ReqMktDepth"),
    (11, "market_data.CancelMktDepth"),
    (12, "news.ReqNewsBulletins"),
    (13, "news.CancelNewsBulletins"),
    (14, "connection.SetServerLogLevel"),
    (15, "orders.ReqAutoOpenOrders"),
    (16, "orders.ReqAllOpenOrders"),
    (17, "connection.ReqManagedAccts"),
    (18, "account.RequestFA"),
    (19, "account.ReplaceFA"),
    (20, "historical.ReqHistoricalData"),
    (21, "orders.ExerciseOptions"),
    (22, "news.ReqScannerSubscription"),
    (23, "news.CancelScannerSubscription"),
    (24, "news.ReqScannerParameters"),
    (25, "historical.CancelHistoricalData"),
    (49, "connection.ReqCurrentTime"),
    (50, "market_data.ReqRealTimeBars"),
    (51, "market_data.CancelRealTimeBars"),
    (52, "news.ReqFundamentalData"),
    (53, "news.CancelFundamentalData"),
    (54, "market_data.CalculateImpliedVolatility"),
    (55, "market_data.CalculateOptionPrice"),
    (56, "market_data.CancelCalculateImpliedVolatility"),
    (57, "market_data.CancelCalculateOptionPrice"),
    (58, "orders.ReqGlobalCancel"),
    (59, "connection.ReqMarketDataType"),
    (61, "account.ReqPositions"),
    (62, "account.ReqAccountSummary"),
    (63, "account.CancelAccountSummary"),
    (64, "account.CancelPositions"),
    (65, "connection.VerifyRequest"),
    (66, "connection.VerifyMessage"),
    (67, "connection.QueryDisplayGroups"),
    (68, "connection.SubscribeToGroupEvents"),
    (69, "connection.UpdateDisplayGroup"),
    (70, "connection.UnsubscribeFromGroupEvents"),
    (71, "connection.StartApi"),
    (72, "connection.VerifyAndAuthRequest"),
    (73, "connection.VerifyAndAuthMessage"),
    (74, "account.ReqPositionsMulti"),
    (75, "account.CancelPositionsMulti"),
    (76, "account.ReqAccountUpdatesMulti"),
    (77, "account.CancelAccountUpdatesMulti"),
    (78, "contracts.ReqSecDefOptParams"),
    (79, "connection.ReqSoftDollarTiers"),
    (80, "connection.ReqFamilyCodes"),
    (81, "contracts.ReqMatchingSymbols"),
    (82, "market_data.ReqMktDepthExchanges"),
    (83, "market_data.ReqSmartComponents"),
    (84, "news.ReqNewsArticle"),
    (85, "news.ReqNewsProviders"),
    (86, "news.ReqHistoricalNews"),
    (87, "historical.ReqHeadTimeStamp"),
    (88, "historical.ReqHistogramData"),
    (89, "historical.CancelHistogramData"),
    (90, "historical.CancelHeadTimeStamp"),
    (91, "market_data.ReqMarketRule"),
    (92, "account.ReqPnL"),
    (93, "account.CancelPnL"),
    (94, "account.ReqPnLSingle"),
    (95, "account.CancelPnLSingle"),
    (96, "historical.ReqHistoricalTicks"),
    (97, "market_data.ReqTickByTickData"),
    (98, "market_data.CancelTickByTickData"),
    (99, "orders.ReqCompletedOrders"),
    (100, "news.ReqWshMetaData"),
    (101, "news.CancelWshMetaData"),
    (102, "news.ReqWshEventData"),
    (103, "news.CancelWshEventData"),
    (104, "connection.ReqUserInfo"),
)

# Server -> client (EWrapper's incoming ids).
_RESPONSE_ROWS: tuple[tuple[int, str], ...] = (
    (1, "market_data.TickPrice"),
    (2, "market_data.TickSize"),
    (3, "orders.OrderStatus"),
    (4, "connection.Error"),
    (5, "orders.OpenOrder"),
    (6, "account.UpdateAccountValue"),
    (7, "account.UpdatePortfolio"),
    (8, "account.UpdateAccountTime"),
    (9, "connection.NextValidId"),
    (10, "contracts.ContractDetails"),
    (11, "orders.ExecDetails"),
    (12, "market_data.UpdateMktDepth"),
    (13, "market_data.UpdateMktDepthL2"),
    (14, "news.UpdateNewsBulletin"),
    (15, "connection.ManagedAccounts"),
    (16, "account.ReceiveFA"),
    (17, "historical.HistoricalData"),
    (18, "contracts.BondContractDetails"),
    (19, "news.ScannerParameters"),
    (20, "news.ScannerData"),
    (21, "market_data.TickOptionComputation"),
    (45, "market_data.TickGeneric"),
    (46, "market_data.TickString"),
    (47, "market_data.TickEFP"),
    (49, "connection.CurrentTime"),
    (50, "market_data.RealtimeBar"),
    (51, "news.FundamentalData"),
    (52, "contracts.ContractDetailsEnd"),
    (53, "orders.OpenOrderEnd"),
    (54, "account.AccountDownloadEnd"),
    (55, "orders.ExecDetailsEnd"),
    (56, "market_data.DeltaNeutralValidation"),
    (57, "market_data.TickSnapshotEnd"),
    (58, "connection.MarketDataType"),
    (59, "orders.CommissionReport"),
    (61, "account.Position"),
    (62, "account.PositionEnd"),
    (63, "account.AccountSummary"),
    (64, "account.AccountSummaryEnd"),
    (65, "connection.VerifyMessageAPI"),
    (66, "connection.VerifyCompleted"),
    (67, "connection.DisplayGroupList"),
    (68, "connection.DisplayGroupUpdated"),
    (69, "connection.VerifyAndAuthMessageAPI"),
    (70, "connection.VerifyAndAuthCompleted"),
    (71, "account.PositionMulti"),
    (72, "account.PositionMultiEnd"),
    (73, "account.AccountUpdateMulti"),
    (74, "account.AccountUpdateMultiEnd"),
    (75, "contracts.SecurityDefinitionOptionParameter"),
    (76, "contracts.SecurityDefinitionOptionParameterEnd"),
    (77, "connection.SoftDollarTiers"),
    (78, "connection.FamilyCodes"),
    (79, "contracts.SymbolSamples"),
    (80, "market_data.MktDepthExchanges"),
    (81, "market_data.TickReqParams"),
    (82, "market_data.SmartComponents"),
    (83, "news.NewsArticle"),
    (84, "market_data.TickNews"),
    (85, "news.NewsProviders"),
    (86, "news.HistoricalNews"),
    (87, "news.HistoricalNewsEnd"),
    (88, "historical.HeadTimestamp"),
    (89, "historical.HistogramData"),
    (90, "historical.HistoricalDataUpdate"),
    (91, "market_data.RerouteMktDataReq"),
    (92, "market_data.RerouteMktDepthReq"),
    (93, "market_data.MarketRule"),
    (94, "account.PnL"),
    (95, "account.PnLSingle"),
    (96, "historical.HistoricalTicks"),
    (97, "historical.HistoricalTicksBidAsk"),
    (98, "historical.HistoricalTicksLast"),
    (99, "market_data.TickByTickAllLast"),
    (99, "market_data.TickByTickBidAsk"),
    (99, "market_data.TickByTickMidPoint"),
    (100, "orders.OrderBound"),
    (101, "orders.CompletedOrder"),
    (102, "orders.CompletedOrdersEnd"),
    (103, "account.ReplaceFAEnd"),
    (104, "news.WshMetaData"),
    (105, "news.WshEventData"),
    (106, "historical.HistoricalSchedule"),
    (107, "connection.UserInfo"),
)


def _resolve(package: str, rows: tuple[tuple[int, str], ...]) -> list[tuple[int, type]]:
    resolved = []
    for msg_id, dotted in rows:
        module_name, class_name = dotted.split(".")
        module = importlib.import_module(f"{__package__}.{package}.{module_name}")
        cls = getattr(module, class_name, None)
        if cls is None:
            raise ImportError(f"message table names {package}.{dotted}, which does not exist")
        resolved.append((msg_id, cls))
    return resolved


_requests = _resolve("requests", _REQUEST_ROWS)
_responses = _resolve("responses", _RESPONSE_ROWS)

REQUEST_TYPES: dict[int, type[Request]] = dict(_requests)
REQUEST_IDS: dict[type[Request], int] = {cls: msg_id for msg_id, cls in _requests}
RESPONSE_IDS: dict[type[Response], int] = {cls: msg_id for msg_id, cls in _responses}
REQUESTS_BY_NAME: dict[str, type[Request]] = {c.api_name: c for c in REQUEST_TYPES.values()}
RESPONSES_BY_NAME: dict[str, type[Response]] = {c.api_name: c for c in RESPONSE_IDS}
