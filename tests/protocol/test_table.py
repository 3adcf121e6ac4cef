"""The message table covers the whole TWS API of ibapi 10.30.1, once per id and name."""

import inspect

import pytest
from ibapi.message import IN, OUT
from ibapi.wrapper import EWrapper

from fake_tws.protocol import table
from fake_tws.protocol.messages import Request, Response


def ids_of(cls) -> set[int]:
    return {v for k, v in vars(cls).items() if k.isupper() and isinstance(v, int)}


def test_every_request_id_ibapi_can_send_has_a_type():
    assert ids_of(OUT) - table.REQUEST_TYPES.keys() == set()


def test_every_message_id_ibapi_can_decode_has_a_type():
    # 60 is unused; every other id ibapi's decoder knows must be producible by us.
    assert ids_of(IN) - set(table.RESPONSE_IDS.values()) == set()


def test_each_type_has_exactly_one_id_and_a_unique_name():
    assert len(table.REQUEST_IDS) == len(table.REQUEST_TYPES)
    assert len(table.REQUESTS_BY_NAME) == len(table.REQUEST_TYPES)
    assert len(table.RESPONSES_BY_NAME) == len(table.RESPONSE_IDS)


@pytest.mark.parametrize("cls", sorted(table.RESPONSE_IDS, key=lambda c: c.__name__))
def test_response_names_are_ewrapper_callbacks(cls: type[Response]):
    # Assertions and scenarios name responses as IB's documentation does.
    callbacks = {name for name, _ in inspect.getmembers(EWrapper, inspect.isfunction)}
    assert cls.api_name in callbacks, cls


def test_request_names_are_eclient_methods():
    from ibapi.client import EClient

    methods = {name for name, _ in inspect.getmembers(EClient, inspect.isfunction)}
    missing = [c.api_name for c in table.REQUEST_TYPES.values() if c.api_name not in methods]
    assert missing == []
    assert all(issubclass(c, Request) for c in table.REQUEST_TYPES.values())


def test_a_row_naming_a_missing_type_fails_at_import():
    with pytest.raises(ImportError, match=r"requests\.connection\.NoSuchThing"):
        table._resolve("requests", ((999, "connection.NoSuchThing"),))
