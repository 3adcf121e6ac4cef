"""`fake-tws record` and `fake-tws replay` on the command line."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import pytest

from fake_tws.cli import build_parser, main
from fake_tws.clock import VirtualClock
from fake_tws.scenario import load_scenario, validate_files
from fake_tws.server import ServerThread
from tests.record.support import ACCOUNT, START, converse, normalise
from tests.record.test_proxy import free_port

TIMEOUT = 20


def command(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "fake_tws.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def ready(process: subprocess.Popen, kind: str) -> dict:
    banner = process.stdout.readline()
    assert banner.startswith("fake-tws "), banner + process.stderr.read()
    line = json.loads(process.stdout.readline())
    assert line["fake_tws"] == kind and line["pid"] == process.pid
    return line


def finish(process: subprocess.Popen) -> str:
    """Wait for a --once command to exit 0 by itself; its stderr (the log)."""
    try:
        assert process.wait(timeout=TIMEOUT) == 0, process.stderr.read()
        return process.stderr.read()
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
        process.stderr.close()


def test_help_lists_record_and_replay(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    text = capsys.readouterr().out
    assert "record" in text and "replay" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["record", "--listen", "0", "--out", "x.yaml"], "--upstream"),
        (["record", "--upstream", "h:1", "--out", "x.yaml"], "--listen"),
        (["record", "--upstream", "h:1", "--listen", "0"], "--out"),
        (["replay"], "FILE"),
    ],
)
def test_missing_options_are_usage_errors(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("upstream", "min_delay"), [("nohost:port", "10ms"), ("h:99999", "10ms"), ("h:1", "soon")]
)
def test_bad_values_exit_2(capsys, tmp_path, upstream, min_delay):
    argv = ["record", "--upstream", upstream, "--listen", "0", "--out", str(tmp_path / "x.yaml")]
    assert main([*argv, "--min-delay", min_delay]) == 2
    assert capsys.readouterr().err.startswith("fake-tws record: ")


def test_an_unreachable_upstream_exits_1_with_a_clear_message(capsys, tmp_path):
    port = free_port()
    out = tmp_path / "x.yaml"
    argv = ["record", "--upstream", f"127.0.0.1:{port}", "--listen", "0", "--out", str(out)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert f"fake-tws record: upstream cannot reach 127.0.0.1:{port}" in err
    assert "is TWS / IB Gateway running" in err
    assert not out.exists()


def test_a_taken_listen_port_exits_1(capsys, tmp_path):
    with ServerThread() as upstream, ServerThread() as other:
        argv = ["record", "--upstream", f"127.0.0.1:{upstream.port}", "--listen"]
        assert main([*argv, str(other.port), "--out", str(tmp_path / "x.yaml")]) == 1
    assert f"cannot listen on 127.0.0.1:{other.port}" in capsys.readouterr().err


def test_record_then_replay_on_the_command_line(tmp_path):
    out = tmp_path / "session.yaml"
    with ServerThread(accounts=(ACCOUNT,), clock=VirtualClock(START)) as upstream:
        recorder = command(
            "record", "--upstream", f"127.0.0.1:{upstream.port}", "--listen", "0",
            "--out", str(out), "--once", "--name", "aapl-session",
        )  # fmt: skip
        line = ready(recorder, "recording")
        assert line["upstream"] == f"127.0.0.1:{upstream.port}" and line["out"] == str(out)
        recorded = converse(line["port"])
        log = finish(recorder)
    assert re.search(r"#1 → reqContractDetails \(1 request\(s\), \d+ message\(s\) so far\)", log)
    assert "#1: closed by client" in log and f"wrote {out}: 3 rules" in log
    assert ACCOUNT not in log
    assert validate_files([str(out)]) == []
    assert load_scenario(out).name == "aapl-session"

    replayer = command("replay", str(out), "--port", "0", "--once")
    line = ready(replayer, "ready")
    assert line["rules"] == 3
    replayed = converse(line["port"], client_id=2, details_id=11, order_offset=3)
    log = finish(replayer)
    assert normalise(replayed) == normalise(recorded)
    assert "rule r001-reqContractDetails fired (1/3)" in log
    assert "all 3 recorded rules have fired" in log
    assert "client 2 disconnected; 3/3 rules fired" in log


def test_ctrl_c_writes_the_recording_of_a_client_still_connected(tmp_path):
    from tests.record.support import RecordingClient

    out = tmp_path / "session.yaml"
    with ServerThread(accounts=(ACCOUNT,), clock=VirtualClock(START)) as upstream:
        recorder = command(
            "record", "--upstream", f"127.0.0.1:{upstream.port}", "--listen", "0", "--out", str(out)
        )  # fmt: skip
        line = ready(recorder, "recording")
        client = RecordingClient().open(line["port"], 1)
        try:
            client.wait_for_bootstrap()
            client.reqCurrentTime()
            client.wait_for(lambda: client.named("currentTime"))
            recorder.send_signal(signal.SIGINT)
            log = finish(recorder)
        finally:
            client.close()
    assert "SIGINT received, writing" in log
    assert validate_files([str(out)]) == []
    assert [r.id for r in load_scenario(out).rules] == ["r001-reqCurrentTime"]


def test_replaying_a_file_that_does_not_load_exits_1(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - id: x\n    when: {request: placeOrdr}\n    do: [cancel]\n")
    assert main(["replay", str(bad), "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert "placeOrdr" in err and f"fake-tws replay: cannot load {bad}" in err
