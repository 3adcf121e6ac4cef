"""How `where:` matchers match message values, and how field paths resolve."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from fake_tws.ibtypes import Contract, Order
from fake_tws.protocol.table import REQUESTS_BY_NAME
from fake_tws.scenario.matchers import Op, implicit_bindings, match_fields, match_value
from fake_tws.scenario.paths import MISSING, FieldPathError, field_value, resolve_path

PlaceOrder = REQUESTS_BY_NAME["placeOrder"]


def place(symbol="AAPL", qty="100", order_type="LMT", ref=""):
    return PlaceOrder(
        orderId=5,
        contract=Contract(symbol=symbol, secType="STK"),
        order=Order(
            orderType=order_type, totalQuantity=Decimal(qty), lmtPrice=150.25, orderRef=ref
        ),
    )


@pytest.mark.parametrize(
    ("matcher", "actual", "matches"),
    [
        ("AAPL", "AAPL", True),
        ("AAPL", "MSFT", False),
        (100, Decimal(100), True),
        (0.1, Decimal("0.1"), True),  # a float in a file equals the Decimal it reads as
        (1, True, False),  # YAML's true is not the number 1
        (True, True, True),
        (None, None, True),
        (Op(gt=100), Decimal("100.5"), True),
        (Op(gt=100), 100, False),
        (Op(ge=100, lt=200), 150.0, True),
        (Op(ge=100, lt=200), 200, False),
        (Op(le=1), "1", False),  # numbers only
        (Op(in_=("LMT", "MKT")), "MKT", True),
        (Op(not_in=("LMT", "MKT")), "MKT", False),
        (Op(ne="LMT"), "MKT", True),
        (Op(eq="$5"), "$5", True),  # eq is always literal
        (Op(regex="ES[HMUZ]\\d"), "ESZ6", True),
        (Op(regex="ES"), "ESZ6", False),  # the whole value must match
        (Op(regex="ES"), 5, False),
        ("AAPL", MISSING, False),
    ],
)
def test_match_value(matcher, actual, matches):
    assert (match_value(matcher, actual, {}) is not None) is matches


def test_binding_captures_then_must_match():
    assert match_value("$id", 7, {}) == {"id": 7}
    assert match_value("$id", 7, {"id": 7}) == {}
    assert match_value("$id", 8, {"id": 7}) is None


def test_match_fields_on_nested_paths_shares_captures_between_entries():
    where = {"contract.symbol": "AAPL", "order.orderRef": "$ref", "order.orderType": "$ref"}
    assert match_fields(where, place(ref="LMT"), {}) == {"ref": "LMT"}
    assert match_fields(where, place(ref="X"), {}) is None
    assert match_fields({"order.totalQuantity": Op(ge=50)}, place(), {}) == {}
    assert match_fields({"contract.symbol": "MSFT"}, place(), {}) is None


def test_implicit_bindings_are_top_level_fields_and_the_client():
    bound = implicit_bindings(place(), client_id=3)
    assert bound["orderId"] == 5 and bound["clientId"] == 3
    assert bound["contract"].symbol == "AAPL"


def test_resolve_full_and_bare_paths():
    assert resolve_path(PlaceOrder, "contract.symbol")[0] == ("contract", "symbol")
    assert resolve_path(PlaceOrder, "orderType")[0] == ("order", "orderType")
    assert resolve_path(PlaceOrder, "orderId")[0] == ("orderId",)  # top level beats order.orderId
    assert resolve_path(PlaceOrder, "conId")[0] == ("contract", "conId")  # nearest wins


class Leg(msgspec.Struct, frozen=True):
    price: float = 0.0


class TwoLegs(msgspec.Struct, frozen=True):
    left: Leg = Leg()
    right: Leg = Leg()
    spread: Leg | None = None


def test_bare_name_equally_near_in_two_places_is_ambiguous():
    with pytest.raises(
        FieldPathError, match=r"'price' is ambiguous in TwoLegs: say left\.price, right\.price"
    ):
        resolve_path(TwoLegs, "price")


def test_paths_through_optional_structs():
    path, _ = resolve_path(TwoLegs, "spread.price")
    assert field_value(TwoLegs(), path) is MISSING
    assert field_value(TwoLegs(spread=Leg(price=2.0)), path) == 2.0


def test_path_errors_name_the_segment():
    with pytest.raises(
        FieldPathError, match="contract has no field 'symbl'; did you mean \"symbol\""
    ):
        resolve_path(PlaceOrder, "contract.symbl")
    with pytest.raises(FieldPathError, match=r"contract\.symbol is not a struct"):
        resolve_path(PlaceOrder, "contract.symbol.x")
