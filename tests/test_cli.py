"""The `fake-tws` command line."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from fake_tws.cli import build_parser, main
from fake_tws.control import ControlClient
from fake_tws.scenario import library
from fake_tws.server import ServerThread
from tests.conformance.ibapi_client import IbapiClient
from tests.server.test_server_thread import handshake

GOOD = """\
name: good
world:
  accounts: [{id: DU77}]
  start: 2026-04-06T13:30:00Z
  server_version: {max: 176}
  next_order_id: 900
"""
BAD = """\
world:
  seed: many
rules:
  - id: x
    when: {request: placeOrdr}
    do: [cancel]
"""


def serve(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "fake_tws.cli", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def ready_line(process: subprocess.Popen) -> dict:
    """The JSON line serve prints once listening (the banner comes just before it)."""
    banner = process.stdout.readline()
    assert banner.startswith("fake-tws "), banner + process.stderr.read()
    ready = json.loads(process.stdout.readline())
    assert ready["fake_tws"] == "ready" and ready["pid"] == process.pid
    return {"banner": banner, **ready}


def stop(process: subprocess.Popen, stop_signal: int = signal.SIGINT) -> str:
    """Stop serve as Ctrl-C would; returns its stderr (the log)."""
    try:
        process.send_signal(stop_signal)
        assert process.wait(timeout=10) == 0
        return process.stderr.read()
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
        process.stderr.close()


# -- parsing and usage errors -----------------------------------------------------------------


def test_serve_options():
    args = build_parser().parse_args(
        ["serve", "--port", "0", "--accounts", "DU1, DU2", "--log-level", "debug"]
    )
    assert (args.port, args.accounts, args.log_level) == (0, ("DU1", "DU2"), "DEBUG")
    defaults = build_parser().parse_args(["serve"])
    assert (defaults.host, defaults.port, defaults.control_port) == ("127.0.0.1", 7497, None)
    # Unset options leave the choice to a scenario's world, else ServerConfig's defaults.
    assert (defaults.accounts, defaults.min_version, defaults.clock) == (None, None, None)
    more = build_parser().parse_args(
        ["serve", "--scenario", "a.yaml", "--scenario", "b", "--seed", "3", "--clock", "virtual"]
    )
    assert (more.scenario, more.seed, more.clock) == (["a.yaml", "b"], 3, "virtual")


def test_help_documents_the_commands_and_exit_statuses(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for word in ("serve", "validate", "schema", "list-scenarios", "exit status:"):
        assert word in out
    assert re.search(r"^  2  usage error", out, re.MULTILINE)


def test_a_subcommand_is_required(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--accounts", " , "], "at least one account"),
        (["serve", "--control-port", "70000"], "a port is 0..65535"),
        (["serve", "--clock", "sundial"], "invalid choice: 'sundial'"),
        (["validate"], "the following arguments are required: FILE"),
    ],
)
def test_usage_errors_exit_2(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--min-version", "180", "--max-version", "150"], "empty version range 180..150"),
        (["serve", "--start", "2026-01-05 14:30"], "has no time zone"),
        (["serve", "--clock", "real", "--start", "2026-01-05T14:30Z"], "needs the virtual clock"),
    ],
)
def test_options_that_cannot_work_exit_2(capsys, argv, message):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_a_taken_port_is_reported(capsys):
    with ServerThread() as other:
        assert main(["serve", "--port", str(other.port)]) == 1
        assert "cannot listen on 127.0.0.1" in capsys.readouterr().err
        assert main(["serve", "--port", "0", "--control-port", str(other.port)]) == 1
    assert f"cannot listen on 127.0.0.1:{other.port}" in capsys.readouterr().err


def test_a_scenario_that_does_not_load_exits_1(capsys, tmp_path):
    (tmp_path / "bad.yaml").write_text(BAD)
    assert main(["serve", "--scenario", str(tmp_path / "bad.yaml")]) == 1
    err = capsys.readouterr().err
    assert "bad.yaml:2:9: world.seed: expected an integer" in err
    assert "fake-tws serve: cannot load" in err


# -- validate, schema, list-scenarios --------------------------------------------------------


def test_validate_exits_0_when_every_file_is_valid(capsys, tmp_path):
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "also.yml").write_text("name: also\n")
    assert main(["validate", str(tmp_path / "good.yaml"), str(tmp_path / "sub")]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "2 scenario file(s) valid" in captured.err


def test_validate_prints_located_problems_one_per_line_and_exits_1(capsys, tmp_path):
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "bad.yaml").write_text(BAD)
    argv = ["validate", str(tmp_path / "good.yaml"), str(tmp_path / "bad.yaml"), "missing.yaml"]
    assert main(argv) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0] == f'{tmp_path / "bad.yaml"}:2:9: world.seed: expected an integer, got "many"'
    assert lines[-1].startswith("missing.yaml: no such file")
    assert all(re.match(r"^\S+?(:\d+:\d+)?: ", line) for line in lines)
    assert f"{len(lines)} problem(s) in 3 file(s)" in captured.err


def test_validate_an_empty_directory_is_a_usage_error(capsys, tmp_path):
    assert main(["validate", str(tmp_path)]) == 2
    assert "no .yaml or .yml files" in capsys.readouterr().err


def test_schema_prints_the_json_schema(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["$ref"] == "#/$defs/ScenarioFile"
    assert "World" in schema["$defs"]


def test_list_scenarios_prints_library_names(capsys, monkeypatch, tmp_path):
    (tmp_path / "fills").mkdir()
    (tmp_path / "fills" / "partial.yaml").write_text(GOOD)
    (tmp_path / "faults.yml").write_text(GOOD)
    monkeypatch.setenv(library.ENV_VAR, str(tmp_path))
    assert main(["list-scenarios"]) == 0
    names = capsys.readouterr().out.splitlines()
    assert {"fills/partial.yaml", "faults.yml"} <= set(names)
    assert main(["list-scenarios", "--paths"]) == 0
    out = capsys.readouterr().out
    assert f"fills/partial.yaml\t{tmp_path / 'fills' / 'partial.yaml'}" in out


# -- serve -------------------------------------------------------------------------------


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_serve_runs_until_ctrl_c_and_exits_cleanly(stop_signal):
    process = serve("--port", "0", "--accounts", "DU9")
    ready = ready_line(process)
    port = int(re.search(r"listening on 127\.0\.0\.1:(\d+)", ready["banner"]).group(1))
    assert port == ready["port"] and ready["control_port"] is None
    assert "accounts DU9" in ready["banner"] and "real clock" in ready["banner"]
    assert handshake(port)[0][0] == "187"
    log = stop(process, stop_signal)
    assert "received, stopping" in log


def test_serve_with_a_scenario_and_the_control_api(tmp_path):
    """A test in one process steers a server in another while its client stays connected."""
    scenario = tmp_path / "good.yaml"
    scenario.write_text(GOOD)
    process = serve(
        "--port", "0", "--control-port", "0", "--scenario", str(scenario), "--seed", "5"
    )
    client = None
    try:
        ready = ready_line(process)
        assert "virtual clock at 2026-04-06T13:30:00Z" in ready["banner"]
        control = ControlClient(ready["control_url"])
        status = control.status()
        assert status["port"] == ready["port"]
        assert status["accounts"] == ["DU77"]
        assert status["server_versions"] == {"min": 100, "max": 176}
        assert status["scenario"]["name"] == "good" and status["seed"] == 5

        client = IbapiClient().open(ready["port"], 3)
        client.wait_for_bootstrap()
        assert client.named("nextValidId") == [(900,)]
        assert [c["clientId"] for c in control.status()["clients"]] == [3]

        later = datetime(2026, 4, 6, 13, 31, tzinfo=UTC)
        assert control.advance(60) == later
        client.reqCurrentTime()
        client.wait_for(lambda: client.named("currentTime"))
        assert client.named("currentTime") == [(int(later.timestamp()),)]
        entry = control.wait_for("reqCurrentTime", direction="received", client_id=3)
        assert entry["text"] == "reqCurrentTime"
        names = [e["name"] for e in control.entries(since=entry["seq"] - 1)]
        assert names[:2] == ["reqCurrentTime", "currentTime"]

        assert control.send_error(1100, client_id=3) == [3]
        assert client.wait_for_error(1100)[2].startswith("Connectivity between IB and Trader")
        control.disconnect(3)
        assert client.reader_finished()
    finally:
        if client is not None:
            client.close()
        log = stop(process)
    assert "client 3 → reqCurrentTime" in log  # requests are logged at INFO
    assert "POST /faults/error -> 200" in log
