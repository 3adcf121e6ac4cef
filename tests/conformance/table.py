"""The conformance table: which client passes which checklist item against fake-tws.

    python -m tests.conformance.table                  # run the tests, print the table
    python -m tests.conformance.table --write-readme   # ... and rewrite README's block
    python -m tests.conformance.table -- -n 4          # extra pytest arguments after --
    python -m tests.conformance.table --from results.json   # table of an earlier run

It runs pytest on tests/conformance with this module as a plugin (`-p
tests.conformance.table`), selecting the tests marked `@pytest.mark.conformance(client=...,
item=...)` (items and clients: `tests/conformance/checklist.py`). The plugin checks each
marker names a checklist cell and writes every test's outcome to a JSON file
(`--conformance-json`); it runs in the pytest-xdist controller too, so `-n` works. The
table is built from that file. A cell is:

    ✅ pass          every test of the cell passed
    ❌ fail          a test failed (a bug to fix; the note names the tests)
    ❌ known bug     every test is an expected failure (xfail strict): the note is its reason
    ⚠️ partly        some pass, some are known bugs (the note says which)
    —                no test yet

The exit status is pytest's: 0 unless a test failed unexpectedly.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.checklist import CLIENTS, ITEMS, check

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
START_MARK = "<!-- conformance-table:start -->"
END_MARK = "<!-- conformance-table:end -->"
PROPERTY = "conformance"

# -- the pytest plugin ----------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--conformance-json",
        default=None,
        help="write each conformance test's outcome to this JSON file",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Check every conformance marker and copy it into the test's reports."""
    problems = []
    for item in items:
        for mark in item.iter_markers("conformance"):
            client, name = mark.kwargs.get("client"), mark.kwargs.get("item")
            try:
                check(str(client), str(name))
            except ValueError as exc:
                problems.append(f"{item.nodeid}: {exc}")
                continue
            item.user_properties.append((PROPERTY, f"{client}:{name}"))
    if problems:
        raise pytest.UsageError("bad conformance markers:\n" + "\n".join(problems))


class _Recorder:
    def __init__(self, path: str) -> None:
        self.path = path
        self.tests: dict[str, dict[str, Any]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        cells = [v for k, v in report.user_properties if k == PROPERTY]
        if not cells:
            return
        test = self.tests.setdefault(
            report.nodeid, {"cells": cells, "outcome": "pass", "reason": "", "seconds": 0.0}
        )
        test["seconds"] += report.duration
        outcome, reason = _outcome(report)
        if _RANK[outcome] > _RANK[test["outcome"]]:
            test["outcome"], test["reason"] = outcome, reason

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        Path(self.path).write_text(json.dumps(self.tests, indent=1, sort_keys=True))


_RANK = {"pass": 0, "xpass": 1, "skip": 2, "xfail": 3, "fail": 4, "error": 5}


def _outcome(report: pytest.TestReport) -> tuple[str, str]:
    wasxfail = getattr(report, "wasxfail", None)
    if report.when != "call" and report.failed:
        return "error", f"{report.when} failed"
    if report.skipped:
        if wasxfail is not None:
            return "xfail", wasxfail
        return "skip", str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
    if report.failed:
        return "fail", ""
    if wasxfail is not None:
        return "xpass", wasxfail
    return "pass", ""


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("--conformance-json")
    # Under pytest-xdist the controller writes the file; workers only send reports.
    if path and not hasattr(config, "workerinput"):
        config.pluginmanager.register(_Recorder(path), "conformance-recorder")


# -- the table ------------------------------------------------------------------------------


@dataclass
class Cell:
    tests: list[tuple[str, str, str]] = field(default_factory=list)  # (nodeid, outcome, reason)

    def status(self) -> str:
        outcomes = {o for _, o, _ in self.tests}
        if not outcomes:
            return "none"
        if outcomes & {"fail", "error"}:
            return "fail"
        if outcomes <= {"pass", "xpass"}:
            return "pass"
        if "xfail" in outcomes and outcomes & {"pass", "xpass"}:
            return "partly"
        if "xfail" in outcomes:
            return "known"
        return "skip"

    def note(self) -> str:
        status = self.status()
        if status == "fail":
            failed = [n for n, o, _ in self.tests if o in ("fail", "error")]
            return "failing: " + ", ".join(f"`{_short(n)}`" for n in failed)
        reasons = [r for _, o, r in self.tests if o in ("xfail", "skip") and r]
        if status == "partly":
            passed = [n for n, o, _ in self.tests if o in ("pass", "xpass")]
            reasons.append("passes: " + ", ".join(f"`{_short(n)}`" for n in passed))
        return "; ".join(dict.fromkeys(reasons))


LABELS = {
    "pass": "✅ pass",
    "fail": "❌ fail",
    "known": "❌ known bug",
    "partly": "⚠️ partly",
    "skip": "⏭ skipped",
    "none": "—",
}


LEGEND = (
    "✅ every test of the item passes · ❌ fail: a test fails · ❌ known bug: the client's "
    "own bug, kept as a strict xfail that flips when fixed · ⚠️ partly: some pass, some are "
    "known bugs · — no test yet. Tests carry `@pytest.mark.conformance(client=..., item=...)`; "
    "the items are in `tests/conformance/checklist.py`."
)


def _short(nodeid: str) -> str:
    return nodeid.rsplit("::", 1)[-1]


def cells_from(results: dict[str, dict[str, Any]]) -> dict[tuple[str, str], Cell]:
    cells: dict[tuple[str, str], Cell] = defaultdict(Cell)
    for nodeid, test in sorted(results.items()):
        for cell in test["cells"]:
            client, item = cell.split(":", 1)
            cells[(client, item)].tests.append((nodeid, test["outcome"], test["reason"]))
    return cells


def render(results: dict[str, dict[str, Any]]) -> str:
    """The Markdown table (with numbered notes) of one run's results."""
    cells = cells_from(results)
    notes: list[str] = []
    header = ["Checklist item", *CLIENTS.values()]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for item, title in ITEMS.items():
        row = [title]
        for client in CLIENTS:
            cell = cells.get((client, item), Cell())
            label = LABELS[cell.status()]
            if note := cell.note():
                notes.append(f"{len(notes) + 1}. {client}, {title}: {note}")
                label += f" [{len(notes)}]"
            row.append(label)
        lines.append("| " + " | ".join(row) + " |")
    total = len(results)
    counts = defaultdict(int)
    for test in results.values():
        counts[test["outcome"]] += 1
    summary = ", ".join(f"{n} {o}" for o, n in sorted(counts.items()))
    parts = [
        "Generated by `python -m tests.conformance.table --write-readme` from "
        f"{total} marked tests ({summary}); do not edit by hand.",
        "",
        LEGEND,
        "",
        *lines,
    ]
    if notes:
        parts += ["", *notes]
    return "\n".join(parts) + "\n"


def write_readme(table: str, readme: Path = README) -> None:
    """Put `table` between the README's markers (adding a section if there are none)."""
    text = readme.read_text(encoding="utf-8")
    block = f"{START_MARK}\n{table}{END_MARK}"
    if START_MARK in text and END_MARK in text:
        head, rest = text.split(START_MARK, 1)
        _, tail = rest.split(END_MARK, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n## Conformance\n\n" + block + "\n"
    readme.write_text(text, encoding="utf-8")


def run_tests(results_path: Path, pytest_args: list[str]) -> int:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "tests/conformance",
        "-p",
        "tests.conformance.table",
        "-m",
        "conformance",
        f"--conformance-json={results_path}",
        "-q",
        *pytest_args,
    ]
    return subprocess.call(command, cwd=REPO)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.conformance.table", description=__doc__)
    parser.add_argument("--write-readme", action="store_true", help="rewrite README's block")
    parser.add_argument("--from", dest="source", type=Path, help="a results JSON to render")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)
    code = 0
    if args.source is not None:
        results = json.loads(args.source.read_text())
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "conformance.json"
            code = run_tests(path, args.pytest_args)
            if not path.exists():
                print("pytest wrote no results", file=sys.stderr)
                return code or 1
            results = json.loads(path.read_text())
    table = render(results)
    print(table)
    if args.write_readme:
        write_readme(table)
        print(f"wrote the table into {README}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
