"""The one classification of IB error codes, and the exceptions built from them."""

from __future__ import annotations

import pytest

from adapter.client.codes import (
    ErrorKind,
    IBNoPermissions,
    IBNoSecurityDefinition,
    IBPacingViolation,
    IBRequestError,
    OrderEffect,
    classify,
    order_effect,
    request_error,
)


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (2104, ErrorKind.FARM_STATUS),
        (2103, ErrorKind.FARM_STATUS),
        (2157, ErrorKind.FARM_STATUS),
        (2158, ErrorKind.FARM_STATUS),
        (1100, ErrorKind.CONNECTIVITY),
        (1101, ErrorKind.CONNECTIVITY),
        (1102, ErrorKind.CONNECTIVITY),
        (326, ErrorKind.CONNECTIVITY),
        (165, ErrorKind.INFO),
        (10167, ErrorKind.WARNING),
        (10090, ErrorKind.WARNING),
        (399, ErrorKind.WARNING),
        (2150, ErrorKind.WARNING),  # unlisted, but in IB's 2100-2199 warning range
        (200, ErrorKind.REQUEST_FAILED),
        (162, ErrorKind.REQUEST_FAILED),
        (354, ErrorKind.REQUEST_FAILED),
        (10089, ErrorKind.REQUEST_FAILED),
        (503, ErrorKind.REQUEST_FAILED),  # ibapi refusing a request the server is too old for
        (99999, ErrorKind.REQUEST_FAILED),  # unknown: whoever waits must hear of it
        (201, ErrorKind.ORDER),
        (202, ErrorKind.ORDER),
        (10148, ErrorKind.ORDER),
    ],
)
def test_classify(code, kind):
    assert classify(code) is kind


@pytest.mark.parametrize(
    ("code", "pending", "effect"),
    [
        (201, "place", OrderEffect.REJECTED),
        (202, "cancel", OrderEffect.CANCELLED),
        (10148, "cancel", OrderEffect.CANCEL_REJECTED),
        (104, "modify", OrderEffect.MODIFY_REJECTED),
        (321, "place", OrderEffect.REJECTED),  # unlisted codes: read by the pending action
        (321, "modify", OrderEffect.MODIFY_REJECTED),
        (321, "cancel", OrderEffect.CANCEL_REJECTED),
        (321, None, OrderEffect.REJECTED),
    ],
)
def test_order_effect(code, pending, effect):
    assert order_effect(code, pending) is effect


@pytest.mark.parametrize(
    ("code", "text", "exception"),
    [
        (200, "No security definition has been found for the request", IBNoSecurityDefinition),
        (354, "Requested market data is not subscribed.", IBNoPermissions),
        (10089, "Requested market data requires additional subscription for API.", IBNoPermissions),
        (
            162,
            "Historical Market Data Service error message:Historical data request pacing violation",
            IBPacingViolation,
        ),
        (
            162,
            "Historical Market Data Service error message:HMDS query returned no data",
            IBRequestError,
        ),
        (321, "Error validating request", IBRequestError),
    ],
)
def test_request_error_is_as_specific_as_the_code(code, text, exception):
    error = request_error(code, text, 7)
    assert type(error) is exception
    assert (error.code, error.message, error.req_id) == (code, text, 7)
    assert str(error) == f"IB error {code}: {text} (req 7)"
