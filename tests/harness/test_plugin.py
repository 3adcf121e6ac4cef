"""The pytest plugin, run on small test files through pytester (in-process unless noted)."""

from __future__ import annotations

import socket
import threading

import pytest

# Loaded before pytester snapshots sys.modules, so inner runs reuse them instead of
# importing the server afresh each time.
import fake_tws.control.handle
import fake_tws.control.settings  # noqa: F401

pytest_plugins = ["pytester"]  # here, not in conftest.py: pytest refuses it in a sub-conftest

INI = """\
[pytest]
asyncio_mode = strict
asyncio_default_fixture_loop_scope = function
"""

# A helper the inner tests share: a raw TWS API logon (greeting + startApi).
HELPERS = """\
import socket

from fake_tws.protocol.framing import frame


def logon(port, client_id):
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(b"API\\0" + frame(b"v100..187"))
    sock.sendall(frame(f"71\\x002\\x00{client_id}\\x00\\x00".encode()))
    return sock
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    pytester.makepyfile(helpers=HELPERS)
    pytester.syspathinsert()
    return pytester


def server_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "fake-tws-server"]


def test_sync_asyncio_and_trio_tests_each_get_a_server(project):
    project.makepyfile(
        test_kinds="""
        import pytest
        import trio
        from ib_async import IB

        from fake_tws.clock import VirtualClock
        from fake_tws.journal import received
        from helpers import logon

        def test_sync(fake_tws):
            ib = IB()
            ib.connect(fake_tws.host, fake_tws.port, clientId=1)
            try:
                assert ib.managedAccounts() == ["DU123456"]
                assert ib.reqCurrentTime() == fake_tws.now()
            finally:
                ib.disconnect()
            assert isinstance(fake_tws.clock, VirtualClock)
            fake_tws.journal.assert_received("reqCurrentTime")

        @pytest.mark.asyncio
        async def test_asyncio(fake_tws):
            ib = IB()
            await ib.connectAsync(fake_tws.host, fake_tws.port, clientId=2)
            try:
                fake_tws.advance(3600)
                assert await ib.reqCurrentTimeAsync() == fake_tws.now()
                fake_tws.send_error(1100, client_id=2)
                await fake_tws.wait_for_async(received("reqCurrentTime", client_id=2))
            finally:
                ib.disconnect()
            fake_tws.journal.assert_sent("error", errorCode=1100, client_id=2)

        @pytest.mark.trio
        async def test_trio(fake_tws):
            with logon(fake_tws.port, 3):
                await fake_tws.wait_for_async(received("startApi", clientId=3))
                assert fake_tws.client_ids == {3}
                fake_tws.disconnect(3)
        """
    )
    project.runpytest().assert_outcomes(passed=3)
    assert server_threads() == []


def test_markers_configure_the_server(project):
    project.makepyfile(
        test_markers="""
        from datetime import datetime, UTC

        import pytest

        from fake_tws.clock import RealClock

        pytestmark = pytest.mark.fake_tws(accounts=("DU7",))

        def test_module_marker(fake_tws):
            assert fake_tws.config.accounts == ("DU7",)

        @pytest.mark.fake_tws(
            accounts="DU1,DU2", min_version=150, max_version=170,
            start="2026-02-02T15:00:00Z", first_order_id=50, timezone="America/New_York",
        )
        def test_test_marker_wins(fake_tws):
            config = fake_tws.config
            assert config.accounts == ("DU1", "DU2")
            assert (config.min_version, config.max_version) == (150, 170)
            assert config.first_order_id == 50 and config.timezone == "America/New_York"
            assert fake_tws.now() == datetime(2026, 2, 2, 15, tzinfo=UTC)

        @pytest.mark.fake_tws(clock="real")
        def test_real_clock(fake_tws):
            assert isinstance(fake_tws.clock, RealClock)
        """
    )
    project.runpytest().assert_outcomes(passed=3)


def test_marker_mistakes_are_clear_setup_errors(project):
    project.makepyfile(
        test_mistakes="""
        import pytest

        @pytest.mark.fake_tws("DU1")
        def test_positional(fake_tws):
            pass

        @pytest.mark.fake_tws(acounts=("DU1",))
        def test_typo(fake_tws):
            pass

        @pytest.mark.fake_tws(clock="wall")
        def test_bad_clock(fake_tws):
            pass

        @pytest.mark.scenario("nowhere.yaml")
        def test_missing_scenario(fake_tws):
            pass
        """
    )
    result = project.runpytest()
    result.assert_outcomes(errors=4)
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.fake_tws takes keyword arguments only*",
            "*fake_tws: bad @pytest.mark.fake_tws: unknown option(s) acounts (known: accounts,*",
            '*unknown clock \'wall\': expected "virtual" or "real"*',
            "*@pytest.mark.scenario: cannot load nowhere.yaml:",
            "*nowhere.yaml: no such file, and *",
        ]
    )


WORLD_YAML = """\
name: two accounts
world:
  start: 2026-03-02T09:30:00-05:00
  accounts:
    - {id: DU111, cash: 50000}
    - {id: DU222}
  server_version: {min: 160, max: 176}
  next_order_id: 1000
  seed: 42
rules:
  - id: fill-everything
    when: {request: placeOrder}
    do: [{fill: {}}]
"""


def test_the_scenario_marker_applies_the_world_and_keeps_the_rules(project):
    project.mkdir("scenarios")
    project.path.joinpath("scenarios", "world.yaml").write_text(WORLD_YAML)
    project.path.joinpath("scenarios", "later.yaml").write_text("world: {next_order_id: 5}\n")
    project.path.joinpath("scenarios", "broken.yaml").write_text("world:\n  seed: many\n")
    project.makepyfile(
        test_scenario="""
        from datetime import datetime, UTC

        import pytest

        @pytest.mark.scenario("scenarios/world.yaml")
        def test_world(fake_tws):
            config = fake_tws.config
            assert config.accounts == ("DU111", "DU222")
            assert (config.min_version, config.max_version) == (160, 176)
            assert config.first_order_id == 1000
            assert fake_tws.now() == datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
            assert fake_tws.scenario.name == "two accounts"
            assert [r.id for r in fake_tws.scenario.rules] == ["fill-everything"]
            if fake_tws.world is not None:
                assert fake_tws.world.config.seed == 42

        @pytest.mark.fake_tws(first_order_id=7, accounts=("DU222",))
        @pytest.mark.scenario("scenarios/world.yaml")
        def test_marker_options_win(fake_tws):
            assert fake_tws.config.first_order_id == 7
            assert fake_tws.config.accounts == ("DU222",)

        @pytest.mark.scenario("scenarios/world.yaml", "scenarios/later.yaml")
        def test_composed(fake_tws):
            assert fake_tws.config.first_order_id == 5
            assert fake_tws.config.accounts == ("DU111", "DU222")
            assert fake_tws.scenario.name == "world + later"

        @pytest.mark.scenario("scenarios/broken.yaml")
        def test_broken(fake_tws):
            pass
        """
    )
    result = project.runpytest()
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*scenarios/broken.yaml:2:9: world.seed: expected an integer*"])


def test_options_fixture_sets_defaults_for_a_directory(project):
    project.makeconftest(
        """
        import pytest

        @pytest.fixture
        def fake_tws_options():
            return {"accounts": ("DU900",), "first_order_id": 300}
        """
    )
    project.makepyfile(
        test_defaults="""
        import pytest

        def test_defaults(fake_tws):
            assert fake_tws.config.accounts == ("DU900",)
            assert fake_tws.config.first_order_id == 300

        @pytest.mark.fake_tws(accounts=("DU1",))
        def test_marker_wins(fake_tws):
            assert fake_tws.config.accounts == ("DU1",)
            assert fake_tws.config.first_order_id == 300
        """
    )
    project.runpytest().assert_outcomes(passed=2)


def test_the_clock_option_and_ini(project):
    project.makepyfile(
        test_clock="""
        from fake_tws.clock import RealClock

        def test_real(fake_tws):
            assert isinstance(fake_tws.clock, RealClock)
        """
    )
    project.runpytest("--fake-tws-clock", "real").assert_outcomes(passed=1)
    project.makeini(INI + "fake_tws_clock = real\n")
    project.runpytest().assert_outcomes(passed=1)
    project.makeini(INI + "fake_tws_clock = sundial\n")
    result = project.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(['*fake_tws_clock = \'sundial\': expected "virtual" or "real"*'])


def test_the_session_server_is_shared_and_not_configured_by_markers(project):
    project.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def fake_tws_session_options():
            return {"accounts": ("DU55",)}
        """
    )
    project.makepyfile(
        test_session="""
        import pytest

        ports = []

        def test_one(fake_tws_session):
            ports.append(fake_tws_session.port)
            assert fake_tws_session.config.accounts == ("DU55",)

        def test_two(fake_tws_session, fake_tws):
            ports.append(fake_tws_session.port)
            assert ports[0] == ports[1] != fake_tws.port

        @pytest.mark.fake_tws(accounts=("DU1",))
        def test_marked(fake_tws_session):
            pass
        """
    )
    result = project.runpytest()
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*configures the per-test fake_tws fixture; the shared*"])
    assert server_threads() == []


def test_a_failing_test_gets_the_transcript(project):
    project.makepyfile(
        test_fails="""
        from helpers import logon
        from fake_tws.journal import sent

        def test_fails(fake_tws):
            with logon(fake_tws.port, 1):
                fake_tws.wait_for(sent("error", errorCode=2158))
            assert False, "the strategy did not trade"

        def test_passes(fake_tws):
            with logon(fake_tws.port, 2):
                fake_tws.wait_for(sent("error", errorCode=2158))
        """
    )
    result = project.runpytest("-rP")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: the strategy did not trade*",
            "*- fake-tws transcript (127.0.0.1:*) -*",
            "#1 * c1 → startApi clientId=1",
            "#3 * c1 ← managedAccounts accountsList=DU123456",
        ]
    )
    assert "c2 → startApi" not in result.stdout.str()  # a passing test's is not kept


def test_the_option_keeps_passing_tests_transcripts_too(project):
    project.makepyfile(
        test_passes="""
        from helpers import logon
        from fake_tws.journal import sent

        def test_passes(fake_tws):
            with logon(fake_tws.port, 2):
                fake_tws.wait_for(sent("error", errorCode=2158))
        """
    )
    result = project.runpytest("--fake-tws-transcripts", "-rP")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*- fake-tws transcript (127.0.0.1:*) -*", "#1 * c2 → startApi*"])


def test_a_session_server_transcript_shows_only_the_failing_tests_part(project):
    project.makepyfile(
        test_shared="""
        from helpers import logon
        from fake_tws.journal import sent

        def test_first(fake_tws_session):
            with logon(fake_tws_session.port, 1):
                fake_tws_session.wait_for(sent("error", errorCode=2158, client_id=1))

        def test_second(fake_tws_session):
            with logon(fake_tws_session.port, 2):
                fake_tws_session.wait_for(sent("error", errorCode=2158, client_id=2))
            assert False
        """
    )
    result = project.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*fake-tws transcript (127.0.0.1:*, shared server, messages after #*"]
    )
    out = result.stdout.str()
    assert "c2 → startApi clientId=2" in out
    assert "c1 → startApi clientId=1" not in out


def test_assert_all_orders_terminal_in_a_test(project):
    project.makepyfile(
        test_orders="""
        from decimal import Decimal

        from fake_tws.protocol.responses.orders import OrderStatus

        def record(fake_tws, order_id, status):
            fake_tws.journal.record_sent(
                1, OrderStatus(orderId=order_id, status=status, filled=Decimal(0), remaining=Decimal(1))
            )

        def test_all_ended(fake_tws):
            record(fake_tws, 1, "Submitted")
            record(fake_tws, 1, "Filled")
            fake_tws.assert_all_orders_terminal()

        def test_one_still_working(fake_tws):
            record(fake_tws, 1, "Filled")
            record(fake_tws, 2, "PreSubmitted")
            fake_tws.assert_all_orders_terminal()
        """
    )
    result = project.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "E * 1 of 2 order(s) did not reach a terminal status (ApiCancelled, Cancelled, Filled, Inactive):",
            "E *   order 2 (client 1): last status PreSubmitted (#2)",
        ]
    )


def test_nothing_is_left_behind(project):
    project.makepyfile(
        test_ports="""
        import pytest
        from helpers import logon
        from fake_tws.journal import received

        @pytest.mark.parametrize("n", range(3))
        def test_port(fake_tws, n):
            with open(f"port-{n}.txt", "w") as f:
                f.write(str(fake_tws.port))
            logon(fake_tws.port, n).close()
            client = logon(fake_tws.port, 10 + n)  # left connected: teardown must cope
            fake_tws.wait_for(received("startApi", clientId=10 + n))
        """
    )
    project.runpytest().assert_outcomes(passed=3)
    assert server_threads() == []
    for n in range(3):
        port = int(project.path.joinpath(f"port-{n}.txt").read_text())
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_parallel_workers_under_xdist(project):
    project.makepyfile(
        test_parallel="""
        import os

        import pytest
        from helpers import logon
        from fake_tws.journal import received

        @pytest.mark.parametrize("n", range(6))
        def test_each_gets_its_own_server(fake_tws, fake_tws_session, n):
            worker = os.environ["PYTEST_XDIST_WORKER"]
            with open(f"{worker}-{n}.txt", "w") as f:
                f.write(f"{fake_tws.port} {fake_tws_session.port}")
            with logon(fake_tws.port, 1):
                fake_tws.wait_for(received("startApi", clientId=1))
            assert len(fake_tws.journal.requests("startApi")) == 1
        """
    )
    # (hypothesis's and faker's plugins only slow the three interpreters' start here)
    unrelated = ("-p", "no:hypothesispytest", "-p", "no:faker")
    result = project.runpytest_subprocess("-n", "2", *unrelated, timeout=60)
    result.assert_outcomes(passed=6)
    files = sorted(project.path.glob("gw*-*.txt"))
    assert len(files) == 6
    workers = {f.name.split("-")[0] for f in files}
    assert workers == {"gw0", "gw1"}
    session_ports = {
        worker: {f.read_text().split()[1] for f in files if f.name.startswith(worker)}
        for worker in workers
    }
    assert all(len(ports) == 1 for ports in session_ports.values())  # one per worker
    assert session_ports["gw0"] != session_ports["gw1"]
