"""Safe defaults: where the server listens, who may connect, a read-only API, a frame cap,
and no credential in any log line."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import trio
from ibapi.contract import Contract
from ibapi.order import Order
from ibapi.order_cancel import OrderCancel

from adapter.config import DockerizedIBGatewayConfig
from fake_tws.cli import build_parser, main
from fake_tws.clock import VirtualClock
from fake_tws.config import ServerConfig, is_trusted, trusted_networks
from fake_tws.control import ControlClient
from fake_tws.gateway_standin import FakeTwsGateway
from fake_tws.server import ServerThread
from fake_tws.session import READ_ONLY_TEXT
from tests.conformance.ibapi_client import IbapiClient
from tests.ibapi_harness import ibapi_request_payloads
from tests.server.raw_client import RawClient, running
from tests.wire import REQ_CURRENT_TIME, request

START = datetime(2026, 4, 6, 14, 30, tzinfo=UTC)
EPOCH = str(int(START.timestamp()))
SECRET = "hunter2-Sup3rSecret!"  # a password that must never reach a log


def virtual(**config) -> ServerConfig:
    return ServerConfig(clock=VirtualClock(START), **config)


def ibapi_frame(call) -> bytes:
    return b"".join(len(p).to_bytes(4, "big") + p for p in ibapi_request_payloads(187, call))


def stock() -> Contract:
    c = Contract()
    c.symbol, c.secType, c.exchange, c.currency = "AAPL", "STK", "SMART", "USD"
    return c


def option() -> Contract:
    c = stock()
    c.secType, c.lastTradeDateOrContractMonth, c.strike, c.right = "OPT", "20260619", 200, "C"
    return c


def market_order() -> Order:
    o = Order()
    o.action, o.orderType, o.totalQuantity = "BUY", "MKT", Decimal(10)
    return o


# -- where it listens -------------------------------------------------------------------------


def test_the_defaults_listen_on_localhost_only():
    assert ServerConfig().host == "127.0.0.1"
    assert build_parser().parse_args(["serve"]).host == "127.0.0.1"
    assert FakeTwsGateway().host == "127.0.0.1"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_a_loopback_host_logs_no_warning(caplog, host):
    with caplog.at_level(logging.WARNING, "fake_tws.server"), ServerThread(host=host):
        pass
    assert "not on localhost" not in caplog.text


def test_listening_on_every_interface_logs_a_warning(caplog):
    with caplog.at_level(logging.WARNING, "fake_tws.server"), ServerThread(host="0.0.0.0"):
        pass
    assert "listening on 0.0.0.0, not on localhost: fake-tws has no login" in caplog.text
    assert "restrict them with trusted_ips / --trusted-ip" in caplog.text
    caplog.clear()
    with (
        caplog.at_level(logging.WARNING, "fake_tws.server"),
        ServerThread(host="0.0.0.0", trusted_ips=("10.1.2.3",)),
    ):
        pass
    assert "accepts connections only from 10.1.2.3 and localhost" in caplog.text


# -- trusted IPs ------------------------------------------------------------------------------


def test_trusted_addresses_and_networks():
    networks = trusted_networks(("10.1.2.3", "192.168.0.0/16", "fd00::/8"))
    assert is_trusted("10.1.2.3", networks)
    assert is_trusted("192.168.40.7", networks)
    assert is_trusted("fd12::1", networks)
    assert is_trusted("::ffff:10.1.2.3", networks)  # as a dual-stack listener sees it
    assert is_trusted("127.0.0.1", networks) and is_trusted("::1", networks)  # always
    assert not is_trusted("10.1.2.4", networks)
    assert not is_trusted("127.0.0.2", networks)
    assert not is_trusted("?", networks)
    assert is_trusted("203.0.113.9", ())  # no list: everyone who can reach the port


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (("10.0.0.300",), "trusted IP '10.0.0.300' is not an IP address or network"),
        (("example.com",), "'example.com' is not an IP address"),
        ("10.0.0.1", "trusted_ips is a tuple of addresses, not the text '10.0.0.1'"),
    ],
)
def test_a_bad_trusted_ip_fails_at_configuration(entries, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ServerConfig(trusted_ips=entries)


@pytest.mark.trio
async def test_a_connection_from_an_untrusted_address_is_closed_at_once(caplog):
    async with running(virtual(trusted_ips=("10.1.2.3",))) as server:
        with caplog.at_level(logging.INFO, "fake_tws"):
            # 127.0.0.2 is this machine too, but not localhost's own address.
            stranger = RawClient(
                await trio.open_tcp_stream("127.0.0.1", server.port, local_address="127.0.0.2")
            )
            await stranger.send(b"API\0")  # whatever it says, it is not answered
            assert await stranger.until_closed() == []
            local = await RawClient.connect(server.port)  # localhost is always trusted
            await local.log_on(1)
            await local.send(REQ_CURRENT_TIME)
            assert await local.message() == ["49", "1", EPOCH]
        assert server.gateway.client_ids == {1}
    assert re.search(
        r"connection from 127\.0\.0\.2:\d+ refused: not a trusted IP \(trusted: localhost, "
        r"10\.1\.2\.3\)",
        caplog.text,
    )
    assert "connection opened" in caplog.text  # the local one; the stranger got no session
    assert caplog.text.count("connection opened") == 1


@pytest.mark.trio
async def test_a_trusted_network_lets_its_addresses_in():
    async with running(virtual(trusted_ips=("127.0.0.0/8",))) as server:
        client = RawClient(
            await trio.open_tcp_stream("127.0.0.1", server.port, local_address="127.0.0.2")
        )
        await client.log_on(5)
        assert server.gateway.client_ids == {5}


# -- read-only API ----------------------------------------------------------------------------


@pytest.mark.trio
async def test_a_read_only_api_refuses_what_would_trade_as_tws_does(caplog):
    async with running(virtual(read_only=True)) as server:
        client = await RawClient.connect(server.port)
        await client.log_on(1)
        with caplog.at_level(logging.INFO, "fake_tws.session"):
            await client.send(
                ibapi_frame(lambda c: c.placeOrder(5, stock(), market_order()))
                + ibapi_frame(lambda c: c.cancelOrder(5, OrderCancel()))
                + ibapi_frame(lambda c: c.reqGlobalCancel())
                + ibapi_frame(
                    lambda c: c.exerciseOptions(9, option(), 1, 1, "DU123456", 0, "", "", False)
                )
                + REQ_CURRENT_TIME
                + request(17, 1)  # reqManagedAccts: reading is fine
            )
            answers = await client.messages(6)
        assert answers[:4] == [
            ["4", "2", req_id, "321", READ_ONLY_TEXT, ""] for req_id in ("5", "5", "-1", "9")
        ]
        assert answers[4:] == [["49", "1", EPOCH], ["15", "1", "DU123456"]]
        assert server.gateway.world.open_orders() == []  # nothing reached the world
        assert server.gateway.world.completed_orders() == []
        server.gateway.journal.assert_received("placeOrder")  # but it is on the record
    assert "placeOrder refused: the API is read-only" in caplog.text


def test_the_read_only_text_is_tws_own():
    assert READ_ONLY_TEXT == (
        "Error validating request.-'bN' : cause - The API interface is currently in Read-Only mode."
    )


# -- frame size ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1023, 2**32])
def test_max_frame_is_checked(size):
    with pytest.raises(ValueError, match=re.escape("max_frame must be 1024..4294967295 bytes")):
        ServerConfig(max_frame=size)


@pytest.mark.trio
async def test_a_frame_over_the_configured_cap_closes_the_connection(caplog):
    async with running(virtual(max_frame=2048)) as server:
        client = await RawClient.connect(server.port)
        await client.log_on(1)
        with caplog.at_level(logging.WARNING, "fake_tws"):
            await client.send(REQ_CURRENT_TIME + (2049).to_bytes(4, "big") + b"x" * 10)
            assert await client.until_closed() == [["49", "1", EPOCH]]
    assert "frame of 2049 bytes exceeds the 2048-byte limit" in caplog.text


# -- the command line -------------------------------------------------------------------------


def test_serve_takes_the_safety_options(monkeypatch):
    seen = {}
    monkeypatch.setattr(
        "fake_tws.cli._run_server", lambda config, *_: seen.setdefault("config", config) and 0
    )
    argv = ["serve", "--read-only", "--max-frame", "64K", "--trusted-ip", "10.0.0.7"]
    assert main([*argv, "--trusted-ip", "192.168.1.0/24"]) == 0
    config = seen.pop("config")
    assert (config.read_only, config.max_frame) == (True, 65536)
    assert config.trusted_ips == ("10.0.0.7", "192.168.1.0/24")
    assert main(["serve"]) == 0
    config = seen.pop("config")
    assert (config.host, config.read_only, config.trusted_ips) == ("127.0.0.1", False, ())
    assert config.max_frame == 16 * 1024 * 1024
    assert config.journal_limit == 100_000  # serve runs long: its journal is capped
    assert main(["serve", "--journal-limit", "0"]) == 0
    assert seen.pop("config").journal_limit is None  # 0: keep everything


def test_serve_refuses_a_size_that_is_not_one(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--max-frame", "lots"])
    assert exit_info.value.code == 2
    assert "not a size in bytes: 'lots' (e.g. 65536, 64K, 16M)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--max-frame", "100"], "max_frame must be 1024..4294967295 bytes, not 100"),
        (["serve", "--trusted-ip", "nowhere"], "trusted IP 'nowhere' is not an IP address"),
    ],
)
def test_serve_refuses_safety_options_that_cannot_work(capsys, argv, message):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_serve_help_documents_the_safety_options(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for words in (
        "--trusted-ip ADDRESS",
        "--read-only",
        "--max-frame BYTES",
        "default 127.0.0.1: this machine only; 0.0.0.0 exposes the fake gateway",
        "Safety: serve listens on 127.0.0.1 unless --host says otherwise",
    ):
        assert words in text, words


# -- no secrets in the logs -------------------------------------------------------------------

SECRET_SCENARIO = f"""\
name: with a secret
description: "the live account's password is {SECRET}; it must stay out of the logs"
rules:
  - id: notice
    description: "token {SECRET}"
    when: {{request: reqCurrentTime}}
    do:
      - error: {{code: 2107, text: "HMDS data farm connection is inactive but should be available upon demand.ushmds"}}
"""


def test_no_credential_reaches_the_log_of_a_gateway_session(caplog, monkeypatch, tmp_path):
    """The stand-in is given a DockerizedIBGatewayConfig with a password (and the password
    is in the environment too, as TWS_PASSWORD); a scenario's texts carry it as well. A
    whole session logged at DEBUG never shows it."""
    monkeypatch.setenv("TWS_PASSWORD", SECRET)
    monkeypatch.setenv("TWS_USERNAME", f"user-{SECRET}")
    scenario = tmp_path / "secret.yaml"
    scenario.write_text(SECRET_SCENARIO)
    config = DockerizedIBGatewayConfig(
        username="trader", password=SECRET, trading_mode="paper", read_only_api=True
    )
    caplog.set_level(logging.DEBUG)
    gateway = FakeTwsGateway(config, port=0, scenario=scenario)
    with gateway:
        client = IbapiClient().open(gateway.port, 1)
        try:
            client.wait_for_bootstrap()
            client.reqCurrentTime()
            client.wait_for_error(2107)
            client.placeOrder(1, stock(), market_order())
            client.wait_for_error(321)
        finally:
            client.close()
        logs = gateway.logs()
        text = repr(gateway) + gateway.server.server.gateway.journal.transcript()
    assert "placeOrder refused: the API is read-only" in caplog.text  # the session was logged
    for where, seen in (("caplog", caplog.text), ("container logs", logs), ("other", text)):
        assert SECRET not in seen, where


def test_no_credential_reaches_the_log_of_serve(tmp_path):
    """`fake-tws serve` at DEBUG, with the password in its environment and in a scenario,
    its control API asked with a token in the query: none of it in stdout or stderr."""
    scenario = tmp_path / "secret.yaml"
    scenario.write_text(SECRET_SCENARIO)
    serve = ["serve", "--port", "0", "--control-port", "0", "--scenario", str(scenario)]
    serve += ["--log-level", "DEBUG", "--host", "0.0.0.0", "--read-only"]
    serve += ["--trusted-ip", "10.9.9.9", "--max-frame", "64K"]
    process = subprocess.Popen(
        [sys.executable, "-m", "fake_tws.cli", *serve],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "TWS_PASSWORD": SECRET},
    )
    try:
        banner = process.stdout.readline()
        ready = process.stdout.readline()
        assert "read-only API" in banner, banner + process.stderr.read()
        port = int(re.search(r'"port": (\d+)', ready).group(1))
        control_url = re.search(r'"control_url": "([^"]+)"', ready).group(1)
        client = IbapiClient().open(port, 3)  # from 127.0.0.1: always trusted
        try:
            client.wait_for_bootstrap()
            client.reqCurrentTime()
            client.wait_for_error(2107)
            client.placeOrder(1, stock(), market_order())
            assert client.wait_for_error(321)[2] == READ_ONLY_TEXT
        finally:
            client.close()
        ControlClient(control_url).request("GET", "/status", query={"token": SECRET})
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        process.kill()
        process.wait()
    assert "listening on 0.0.0.0, not on localhost" in err
    assert "client 3 → placeOrder" in err  # requests are logged (at INFO)
    assert "GET /status -> 200" in err
    assert SECRET not in banner + ready + out + err
