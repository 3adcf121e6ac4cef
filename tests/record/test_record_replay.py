"""Record a conversation through the proxy with fake-tws as the upstream, then replay the
file on a fresh fake-tws whose world would answer differently: the client must see the
same conversation (ids aside)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fake_tws.clock import VirtualClock
from fake_tws.control.settings import build_config
from fake_tws.ibtypes import Contract
from fake_tws.record import RecorderThread
from fake_tws.scenario import load_scenario, validate_files
from fake_tws.server import ServerThread
from tests.record.support import ACCOUNT, START, converse, eventually, normalise

AAPL = Contract(symbol="AAPL", secType="STK", exchange="SMART", currency="USD")


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """(file, the recording client's callbacks, the upstream's perm ids and exec ids)."""
    out = tmp_path_factory.mktemp("record") / "session.yaml"
    with ServerThread(accounts=(ACCOUNT,), clock=VirtualClock(START)) as upstream:
        recorder = RecorderThread(("127.0.0.1", upstream.port), out).start()
        try:
            calls = converse(recorder.port)
            eventually(lambda: recorder.recorder.written >= 1)
        finally:
            recorder.stop()
    perm_ids = {str(a[5]) for n, a in calls if n == "orderStatus"}
    exec_ids = {a[2].execId for n, a in calls if n == "execDetails"}
    return out, calls, perm_ids | exec_ids


def test_the_recording_loads_and_is_sanitised(recording):
    out, _, secrets = recording
    assert validate_files([str(out)]) == []
    text = out.read_text()
    assert ACCOUNT not in text and "DU0000001" in text
    for secret in secrets:
        assert secret not in text
    assert "strategy-7" not in text  # the order ref: captured from the replay client
    scenario = load_scenario(out)
    world = scenario.world
    assert world.managed == ("DU0000001",)
    assert (world.server_version.min, world.server_version.max) == (187, 187)
    assert world.next_order_id == 1
    assert world.farms == ("usfarm", "ushmds", "secdefnj")
    assert world.clock == "realtime"
    names = [rule.when.request for rule in scenario.rules]
    assert names == ["reqContractDetails", "placeOrder", "reqExecutions"]


def test_each_rule_answers_its_request_with_the_recorded_messages(recording):
    out, _, _ = recording
    scenario = load_scenario(out)
    details, order, executions = scenario.rules
    assert details.when.where == {
        "contract.symbol": "AAPL",
        "contract.secType": "STK",
        "contract.exchange": "SMART",
        "contract.currency": "USD",
    }
    # The recorded reply replaces the world's; request ids follow the replay client's.
    assert details.do[0].kind == "respond"
    assert details.do[-1].respond == ({"contractDetailsEnd": {"reqId": "$reqId"}},)
    assert order.when.where["orderId"] == "$order2"  # captured for later messages
    assert order.when.where["order.orderRef"] == "$ref2"
    kinds = [step.kind for step in order.do]
    assert kinds.count("raw") == 4  # openOrder x2, execDetails, commissionReport
    statuses = [s.respond[0]["orderStatus"] for s in order.do if s.kind == "respond" and s.respond]
    assert [s["status"] for s in statuses] == ["PreSubmitted", "Filled"]
    assert all(s["orderId"] == "$orderId" and s["clientId"] == "$clientId" for s in statuses)
    raw_exec = next(s.raw for s in executions.do if s.kind == "raw" and s.raw[0] == 11)
    assert raw_exec[1:3] == ("$reqId", "$order2")  # this request's id, the captured order's


def test_a_replay_gives_the_client_the_same_conversation(recording):
    out, recorded, _ = recording
    scenario = load_scenario(out)
    # A world that would answer differently: another seed, another AAPL price.
    config = build_config({"port": 0, "seed": 99}, scenario=scenario)
    with ServerThread(config, scenario=scenario) as replay:
        replay.run_sync(lambda: replay.server.gateway.world.set_price(AAPL, 123.45))
        # ... and a client using other ids: client id, request ids, order id, order ref.
        replayed = converse(
            replay.port,
            client_id=5,
            details_id=70,
            executions_id=90,
            order_offset=10,
            ref="another-ref",
        )
        fired = [rule_id for rule_id, _ in replay.engine.fired]
    assert normalise(replayed) == normalise(recorded)
    assert fired == ["r001-reqContractDetails", "r002-placeOrder", "r003-reqExecutions"]
    # The ids are the replay client's own, the fill the recorded one (not the world's).
    [(order_id, *_)] = [a for n, a in replayed if n == "orderStatus" and a[1] == "Filled"]
    [(_, _, execution)] = [a for n, a in replayed if n == "execDetails" and a[0] == 90]
    assert order_id == 11 and execution.orderId == 11 and execution.clientId == 5
    assert execution.orderRef == "another-ref" and execution.acctNumber == "DU0000001"
    recorded_price = next(a[2].price for n, a in recorded if n == "execDetails")
    assert execution.price == recorded_price != 123.45


def test_the_file_says_what_it_holds(recording):
    out, _, _ = recording
    text = out.read_text()
    header = text.splitlines()[:3]
    assert header[0].startswith("# Recorded by fake-tws")
    assert re.search(r"3 rules from 1 connection\(s\), 3 request\(s\)", header[1])
    assert "sanitised 1 account id, 1 perm id, 1 exec id, 1 order ref" in header[1]
    assert "# client 1 at +" in text and "# contractDetails" in text


def test_progress_is_logged_while_recording(tmp_path, caplog):
    caplog.set_level("INFO", logger="fake_tws.record")
    out = tmp_path / "progress.yaml"
    with (
        ServerThread(accounts=(ACCOUNT,), clock=VirtualClock(START)) as upstream,
        RecorderThread(("127.0.0.1", upstream.port), out) as recorder,
    ):
        converse(recorder.port)
        eventually(lambda: recorder.recorder.written >= 1)
    lines = [r.getMessage() for r in caplog.records if r.name == "fake_tws.record"]
    assert any(line.startswith("#1: client 127.0.0.1:") for line in lines)
    assert "#1: startApi, client id 1" in lines
    assert any(line.startswith("#1 → placeOrder (2 request(s)") for line in lines)
    assert any(
        re.match(r"#1: closed by client: 4 request\(s\), \d+ message\(s\)", x) for x in lines
    )
    assert any(line.startswith(f"wrote {out}: 3 rules") for line in lines)
    assert not any(ACCOUNT in line for line in lines)  # no account id in the logs


def test_the_replay_server_reports_progress(recording, caplog):
    from fake_tws.record.replay import ReplayProgress

    out, _, _ = recording
    scenario = load_scenario(out)
    said: list[str] = []
    with ServerThread(build_config({"port": 0}, scenario=scenario), scenario=scenario) as s:
        s.run_sync(lambda: ReplayProgress(s.engine, said.append).attach(s.server.gateway))
        converse(s.port)
        eventually(lambda: any("disconnected" in line for line in said))
    assert said[:3] == [
        "rule r001-reqContractDetails fired (1/3)",
        "rule r002-placeOrder fired (2/3)",
        "rule r003-reqExecutions fired (3/3)",
    ]
    assert "all 3 recorded rules have fired" in said
    assert said[-1] == "client 1 disconnected; 3/3 rules fired"


def test_a_request_the_recording_never_saw_is_reported(recording):
    from fake_tws.record.replay import ReplayProgress
    from tests.record.support import RecordingClient

    out, _, _ = recording
    scenario = load_scenario(out)
    said: list[str] = []
    with ServerThread(build_config({"port": 0}, scenario=scenario), scenario=scenario) as s:
        s.run_sync(lambda: ReplayProgress(s.engine, said.append).attach(s.server.gateway))
        client = RecordingClient().open(s.port, 1)
        try:
            client.wait_for_bootstrap()
            client.reqCurrentTime()
            client.wait_for(lambda: client.named("currentTime"))  # the world answers
        finally:
            client.close()
        eventually(lambda: any("disconnected" in line for line in said))
    assert "client 1: reqCurrentTime matches no recorded rule (the replay world answers it)" in said
    assert said[-1].startswith("client 1 disconnected; 0/3 rules fired; not fired: r001-")


def test_recording_writes_to_a_new_directory(tmp_path):
    out = tmp_path / "deep" / "er" / "session.yaml"
    with (
        ServerThread(accounts=(ACCOUNT,), clock=VirtualClock(START)) as upstream,
        RecorderThread(("127.0.0.1", upstream.port), out) as recorder,
    ):
        converse(recorder.port)
        eventually(lambda: recorder.recorder.written >= 1)
    assert validate_files([str(out)]) == []
    assert not [p for p in Path(out.parent).iterdir() if p.name.startswith(".")]  # no temp left
