"""pytest fixtures and markers for testing trading code against fake-tws.

Installed with fake-tws (a `pytest11` entry point), so any project that has fake-tws in
its environment can write:

    from ib_async import IB

    def test_connects(fake_tws):
        ib = IB()
        ib.connect(fake_tws.host, fake_tws.port, clientId=1)
        ...
        fake_tws.journal.assert_received("placeOrder", orderType="LMT")
        fake_tws.assert_all_orders_terminal()

Fixtures
    fake_tws            a fresh server for one test, on a free port, on a virtual clock
                        (time moves only when the test says: `fake_tws.advance(60)`).
    fake_tws_session    one server shared by the whole session (one per xdist worker),
                        configured by `fake_tws_session_options` only.
    fake_tws_options    override (function scope) to give every `fake_tws` in a directory
                        the same options, e.g. `return {"accounts": ("DU1", "DU2")}`.
    fake_tws_session_options    the same for `fake_tws_session` (session scope).
    fake_tws_handlers   override (session scope) to serve another `Handlers` table.

Markers (on a test, class or module; they configure `fake_tws`)
    @pytest.mark.fake_tws(accounts=("DU1",), min_version=..., max_version=...,
                          clock="virtual" | "real", start="2026-01-05T14:30:00Z",
                          first_order_id=..., timezone=...)
    @pytest.mark.scenario("fills/partial.yaml", ...)
        Loads scenario files (paths relative to the test file, else the working
        directory, else names in the scenario library; several compose in order). Their
        `world` sets managed accounts (with cash and positions), the server version
        range, clock and start time, next order id and seed, and with the scenario
        engine present also farms, instruments and prices; fake_tws marker options win
        over it. The loaded `Scenario` is `fake_tws.scenario`; its rules run when this
        fake-tws has the scenario engine (`fake_tws.engine`), and are only kept otherwise.

Options
    --fake-tws-transcripts  attach the transcript to passing tests' reports too (a failing
                            test always gets it); pytest shows them with -rP.
    --fake-tws-clock        the default clock, "virtual" or "real" (ini: fake_tws_clock).

Every test gets its own server on a port the OS picks, so tests run in parallel under
pytest-xdist with nothing shared. At teardown the server stops and the fixture checks
that its thread ended, no connection is left and the port is closed.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from fake_tws.control.handle import FakeTws, LeftBehind
    from fake_tws.scenario import Scenario
    from fake_tws.session import Handlers

__all__ = ["FakeTws", "LeftBehind"]

CLOCK_KINDS = ("virtual", "real")
TRANSCRIPT_TITLE = "fake-tws transcript"
# The server, scenario and handle modules load when a fixture first needs them, so a
# project that merely has fake-tws installed pays nothing at pytest startup.
_HANDLE_MODULE = "fake_tws.control.handle"


def __getattr__(name: str) -> Any:
    if name in ("FakeTws", "LeftBehind"):
        from fake_tws.control import handle

        return getattr(handle, name)
    raise AttributeError(name)


def _handle_class() -> type | None:
    """FakeTws if its module is loaded (no handle can exist before it is)."""
    module = sys.modules.get(_HANDLE_MODULE)
    return None if module is None else module.FakeTws


# -- pytest hooks ----------------------------------------------------------------------------

_SESSION_HANDLE = pytest.StashKey["FakeTws"]()
_SINCE = pytest.StashKey[dict[int, int]]()  # per test: handle id -> last seq before it ran
_MARKER_OPTIONS = (
    "accounts, min_version, max_version, clock, start, first_order_id (or next_order_id), "
    "timezone, seed, outbox_limit, max_frame"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fake-tws")
    group.addoption(
        "--fake-tws-transcripts",
        action="store_true",
        default=False,
        help="attach the fake-tws transcript to every test's report, passing tests too "
        "(failing tests always get it); show passing ones with -rP",
    )
    group.addoption(
        "--fake-tws-clock",
        choices=CLOCK_KINDS,
        default=None,
        help="the clock fake_tws servers run on unless a marker or scenario says otherwise "
        "(default: the fake_tws_clock ini value, else virtual)",
    )
    parser.addini(
        "fake_tws_clock",
        'default clock of fake_tws servers: "virtual" or "real"',
        default="virtual",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "fake_tws(**options): configure this test's fake_tws server: " + _MARKER_OPTIONS,
    )
    config.addinivalue_line(
        "markers",
        "scenario(*files): load scenario files (relative to the test file, or library names) "
        "into this test's fake_tws server",
    )
    if _default_clock(config) not in CLOCK_KINDS:
        raise pytest.UsageError(
            f'fake_tws_clock = {_default_clock(config)!r}: expected "virtual" or "real"'
        )


def _default_clock(config: pytest.Config) -> str:
    return config.getoption("fake_tws_clock", None) or str(config.getini("fake_tws_clock"))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    shared = item.config.stash.get(_SESSION_HANDLE, None)
    if shared is not None and not shared.closed:
        entries = shared.journal.entries
        item.stash[_SINCE] = {id(shared): entries[-1].seq if entries else 0}
    names = getattr(item, "fixturenames", ())
    marked = item.get_closest_marker("fake_tws") or item.get_closest_marker("scenario")
    if marked and "fake_tws_session" in names and "fake_tws" not in names:
        pytest.fail(
            f"@pytest.mark.{marked.name} configures the per-test fake_tws fixture; the shared "
            "fake_tws_session is configured by overriding fake_tws_session_options",
            pytrace=False,
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    keep = item.config.getoption("fake_tws_transcripts", False)
    if report.failed or (keep and report.when == "call" and report.passed):
        for title, text in _transcripts(item):
            report.sections.append((title, text))
    return report


def _transcripts(item: pytest.Item) -> Iterator[tuple[str, str]]:
    handle_class = _handle_class()
    funcargs = getattr(item, "funcargs", None) or {}
    if handle_class is None:
        return
    since = item.stash.get(_SINCE, {})
    seen: set[int] = set()
    for value in funcargs.values():
        if not isinstance(value, handle_class) or id(value) in seen:
            continue
        seen.add(id(value))
        entries = value.journal.entries
        title = f"{TRANSCRIPT_TITLE} ({value.host}:{value.port})"
        mark = since.get(id(value))
        if mark is not None:
            entries = [e for e in entries if e.seq > mark]
            title += f", shared server, messages after #{mark}"
        yield title, value.journal.transcript(entries) or "(no messages)"


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def fake_tws_options() -> dict[str, Any]:
    """Options for every `fake_tws` server in scope; override in a conftest.py."""
    return {}


@pytest.fixture(scope="session")
def fake_tws_session_options() -> dict[str, Any]:
    """Options for the shared `fake_tws_session` server; override in a conftest.py."""
    return {}


@pytest.fixture(scope="session")
def fake_tws_handlers() -> Handlers | None:
    """The request handlers fake_tws servers answer with (None: the server's default)."""
    return None


@pytest.fixture
def fake_tws(
    request: pytest.FixtureRequest,
    fake_tws_options: dict[str, Any],
    fake_tws_handlers: Handlers | None,
) -> Iterator[FakeTws]:
    """A fake TWS / IB Gateway for this test, on a free port (see the module docstring)."""
    scenario = _marked_scenario(request)
    options = _marker_options(request)
    defaults = {"clock": _default_clock(request.config), **fake_tws_options}
    handle = _start(defaults, scenario, fake_tws_handlers, options, "@pytest.mark.fake_tws")
    try:
        yield handle
    finally:
        handle.close()


@pytest.fixture(scope="session")
def fake_tws_session(
    request: pytest.FixtureRequest,
    fake_tws_session_options: dict[str, Any],
    fake_tws_handlers: Handlers | None,
) -> Iterator[FakeTws]:
    """One fake gateway shared by every test of the session (of an xdist worker).

    Its journal keeps everything; a failing test's report shows only its own part."""
    defaults = {"clock": _default_clock(request.config)}
    handle = _start(defaults, None, fake_tws_handlers, fake_tws_session_options, "options")
    request.config.stash[_SESSION_HANDLE] = handle
    try:
        yield handle
    finally:
        del request.config.stash[_SESSION_HANDLE]
        handle.close()


def _start(
    defaults: dict[str, Any],
    scenario: Scenario | None,
    handlers: Handlers | None,
    options: dict[str, Any],
    source: str,
) -> FakeTws:
    from fake_tws.control.handle import FakeTws

    try:
        return FakeTws.start(scenario=scenario, handlers=handlers, defaults=defaults, **options)
    except ValueError as exc:
        problem = str(exc)
    where = f" (with scenario {scenario.name})" if scenario is not None else ""
    pytest.fail(f"fake_tws: bad {source}{where}: {problem}", pytrace=False)


def _marker_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("fake_tws")
    if marker is None:
        return {}
    if marker.args:
        pytest.fail(
            "@pytest.mark.fake_tws takes keyword arguments only, e.g. "
            f'fake_tws(accounts=("DU1",)); got {marker.args!r}',
            pytrace=False,
        )
    return dict(marker.kwargs)


def _marked_scenario(request: pytest.FixtureRequest) -> Scenario | None:
    marker = request.node.get_closest_marker("scenario")
    if marker is None:
        return None
    names = list(marker.args)
    if marker.kwargs or not names or not all(isinstance(n, str | Path) for n in names):
        pytest.fail(
            '@pytest.mark.scenario takes scenario files, e.g. scenario("fills/partial.yaml"); '
            f"got args {marker.args!r} kwargs {marker.kwargs!r}",
            pytrace=False,
        )
    from fake_tws.control.settings import load_scenarios
    from fake_tws.scenario import ScenarioError

    try:
        return load_scenarios(names, relative_to=Path(request.node.path).parent)
    except ScenarioError as exc:
        problems = "\n".join(f"  {issue}" for issue in exc.issues)
    shown = ", ".join(str(n) for n in names)
    pytest.fail(f"@pytest.mark.scenario: cannot load {shown}:\n{problems}", pytrace=False)
