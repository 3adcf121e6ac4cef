"""Where every IB error goes: ``_on_error`` classifies it (``codes.classify``), logs it at
the matching level, and routes it.

- farm status and connectivity codes go to the connection mixin;
- an error naming a request in flight fails that request: its awaiter gets an
  ``IBRequestError`` subclass carrying the code and text (warnings fail nothing);
- an error naming a subscription ends it and is handed to its ``on_error``;
- an error naming an order goes to the execution client as an order event: rejected
  and cancelled through ``orderStatus-{account}`` (as NautilusTrader's adapter does),
  a refused cancel or modify through ``orderError-{account}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapter.client.codes import (
    CONNECTIVITY_RESTORED_DATA_KEPT,
    CONNECTIVITY_RESTORED_DATA_LOST,
    FARM_CODES,
    ErrorKind,
    IBError,
    classify,
    request_error,
)

if TYPE_CHECKING:
    from adapter.client.client import InteractiveBrokersClient

    _Base = InteractiveBrokersClient
else:
    _Base = object

_FAILURES = (ErrorKind.REQUEST_FAILED, ErrorKind.ORDER, ErrorKind.CONNECTIVITY)
_RESTORED = (CONNECTIVITY_RESTORED_DATA_LOST, CONNECTIVITY_RESTORED_DATA_KEPT)


class InteractiveBrokersClientErrorMixin(_Base):
    def _on_error(
        self,
        reqId: int,
        errorCode: int,
        errorString: str,
        advancedOrderRejectJson: str = "",
    ) -> None:
        error = IBError(errorCode, errorString.replace("\n", " "), reqId, advancedOrderRejectJson)
        kind = classify(errorCode)
        if kind is ErrorKind.FARM_STATUS:
            self._on_farm_status(error)
        elif kind is ErrorKind.CONNECTIVITY:
            self._on_connectivity(error)
        routed = self._route_error(error, kind) if reqId >= 0 else False
        self._log_error(error, kind, routed)

    def _route_error(self, error: IBError, kind: ErrorKind) -> bool:
        """Hand an error to what its id names; False if nothing is waiting on it."""
        req_id = error.req_id
        failed = kind in _FAILURES
        if req_id in self._requests:
            if failed:
                self._requests.fail(
                    req_id,
                    request_error(error.code, error.message, req_id, error.advanced),
                )
            return True
        if (subscription := self._subscriptions.get(req_id)) is not None:
            if failed:
                self._subscriptions.remove(subscription)
                if subscription.on_error is not None:
                    subscription.on_error(
                        request_error(error.code, error.message, req_id, error.advanced),
                    )
            return True
        if req_id in self._orders:
            if failed:
                self._on_order_error(req_id, error)
            return True
        return False

    def _log_error(self, error: IBError, kind: ErrorKind, routed: bool) -> None:
        text = f"{error.message} (code {error.code}, req {error.req_id})"
        if kind is ErrorKind.FARM_STATUS:
            good_news = FARM_CODES[error.code][1]
        else:
            good_news = kind is ErrorKind.INFO or error.code in _RESTORED
        if good_news:
            self._log.info(text)
        elif kind is ErrorKind.WARNING or kind is ErrorKind.FARM_STATUS:
            self._log.warning(text)
        elif routed:
            # The awaiting caller or handler gets it too; "not found" is often expected.
            (self._log.debug if error.code == 200 else self._log.warning)(text)
        else:
            self._log.error(text if error.req_id < 0 else f"{text}; nothing waits on it")
