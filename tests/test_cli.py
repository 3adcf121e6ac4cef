"""The `fake-tws` command line."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest

from fake_tws.cli import build_parser, main
from fake_tws.server import ServerThread
from tests.server.test_server_thread import handshake


def test_serve_options():
    args = build_parser().parse_args(
        ["serve", "--port", "0", "--accounts", "DU1, DU2", "--log-level", "debug"]
    )
    assert (args.port, args.accounts, args.log_level) == (0, ("DU1", "DU2"), "DEBUG")
    defaults = build_parser().parse_args(["serve"])
    assert (defaults.host, defaults.port, defaults.accounts) == ("127.0.0.1", 7497, ("DU123456",))
    assert (defaults.min_version, defaults.max_version) == (100, 187)


def test_a_subcommand_is_required(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2


def test_empty_accounts_are_refused(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--accounts", " , "])
    assert "at least one account" in capsys.readouterr().err


def test_an_impossible_version_range_is_refused(capsys):
    assert main(["serve", "--min-version", "180", "--max-version", "150"]) == 2
    assert "empty version range 180..150" in capsys.readouterr().err


def test_a_taken_port_is_reported(capsys):
    with ServerThread() as other:
        assert main(["serve", "--port", str(other.port)]) == 1
    assert "cannot listen on 127.0.0.1" in capsys.readouterr().err


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_serve_runs_until_ctrl_c_and_exits_cleanly(stop_signal):
    process = subprocess.Popen(
        [sys.executable, "-m", "fake_tws.cli", "serve", "--port", "0", "--accounts", "DU9"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        banner = process.stdout.readline()
        port = int(re.search(r"listening on 127\.0\.0\.1:(\d+)", banner).group(1))
        assert "accounts DU9" in banner
        assert handshake(port)[0][0] == "187"
        process.send_signal(stop_signal)
        assert process.wait(timeout=10) == 0
        assert "received, stopping" in process.stderr.read()
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
        process.stderr.close()
