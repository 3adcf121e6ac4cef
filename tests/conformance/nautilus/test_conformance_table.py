"""The machinery behind the README's conformance table (tests/conformance/table.py): its
pytest plugin, the table it renders and the README block it rewrites."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from tests.conformance.checklist import CLIENTS, ITEMS
from tests.conformance.table import END_MARK, REPO, START_MARK, render, write_readme

SAMPLE = textwrap.dedent(
    """
    import pytest

    @pytest.mark.conformance(client="ibapi", item="quotes")
    def test_passes():
        pass

    @pytest.mark.conformance(client="nautilus", item="quotes")
    @pytest.mark.xfail(strict=True, reason="theirs: a known bug")
    def test_known_bug():
        assert False

    @pytest.mark.conformance(client="nautilus", item="orders")
    @pytest.mark.conformance(client="nautilus", item="positions")
    def test_fails():
        assert False

    def test_not_a_conformance_test():
        pass
    """
)


def run_plugin(tmp_path, source: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_sample.py").write_text(source)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(tmp_path / "test_sample.py"),
            "--rootdir",
            str(tmp_path),
            "-p",
            "tests.conformance.table",
            f"--conformance-json={tmp_path / 'results.json'}",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=REPO,
        # Only this plugin: the installed ones (faker, hypothesis via pytest-trio) cost
        # seconds to import and are not needed here.
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_plugin_records_each_marked_tests_outcome(tmp_path):
    done = run_plugin(tmp_path, SAMPLE)
    assert done.returncode == 1, done.stdout  # test_fails fails
    results = json.loads((tmp_path / "results.json").read_text())
    by_name = {nodeid.rsplit("::", 1)[1]: test for nodeid, test in results.items()}
    assert sorted(by_name) == ["test_fails", "test_known_bug", "test_passes"]
    assert by_name["test_passes"]["cells"] == ["ibapi:quotes"]
    assert (by_name["test_known_bug"]["outcome"], by_name["test_known_bug"]["reason"]) == (
        "xfail",
        "theirs: a known bug",
    )
    assert by_name["test_fails"]["outcome"] == "fail"
    assert sorted(by_name["test_fails"]["cells"]) == ["nautilus:orders", "nautilus:positions"]


def test_the_plugin_refuses_a_marker_outside_the_checklist(tmp_path):
    source = SAMPLE.replace('item="quotes")\ndef test_passes', 'item="qoutes")\ndef test_passes')
    done = run_plugin(tmp_path, source)
    assert done.returncode == 4  # a usage error: nothing runs
    assert "unknown conformance item 'qoutes'" in done.stderr


def test_render_labels_cells_and_numbers_the_notes():
    results = {
        "a.py::test_ok": {"cells": ["ibapi:quotes"], "outcome": "pass", "reason": ""},
        "a.py::test_bug": {"cells": ["nautilus:quotes"], "outcome": "xfail", "reason": "theirs: x"},
        "a.py::test_ok2": {"cells": ["nautilus:orders"], "outcome": "pass", "reason": ""},
        "a.py::test_bug2": {"cells": ["nautilus:orders"], "outcome": "xfail", "reason": "ours: y"},
        "a.py::test_broken": {"cells": ["ib_async:connect"], "outcome": "fail", "reason": ""},
    }
    table = render(results)
    rows = {line.split(" | ")[0].lstrip("| "): line for line in table.splitlines()}
    assert len([r for r in rows if r in ITEMS.values()]) == len(ITEMS)
    assert rows[ITEMS["quotes"]] == f"| {ITEMS['quotes']} | ✅ pass | — | ❌ known bug [2] |"
    assert rows[ITEMS["orders"]].endswith("| — | — | ⚠️ partly [3] |")
    assert rows[ITEMS["connect"]] == f"| {ITEMS['connect']} | — | ❌ fail [1] | — |"
    assert "1. ib_async, Connect (handshake, managed accounts, next order id): failing:" in table
    assert "2. nautilus, Streaming quotes: theirs: x" in table
    assert "3. nautilus, Market and limit orders with partial fills: ours: y; passes:" in table
    header = "| Checklist item | " + " | ".join(CLIENTS.values()) + " |"
    assert header in table.splitlines()


def test_write_readme_replaces_only_its_block(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# title\n\nintro\n")
    write_readme("| old |\n", readme)
    first = readme.read_text()
    assert first.startswith("# title\n\nintro\n\n## Conformance\n\n" + START_MARK)
    write_readme("| new |\n", readme)
    again = readme.read_text()
    assert again == first.replace("| old |", "| new |")
    assert again.count(START_MARK) == again.count(END_MARK) == 1
