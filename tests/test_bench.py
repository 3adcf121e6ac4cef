"""`make bench` still runs: every benchmark at its quick size (FAKE_TWS_BENCH_QUICK=1, a
fraction of a second each), writing results of the documented shape.

Nothing here is about speed: quick numbers mean nothing, and quick mode exits 0 whether
goals are met or not. What fails is a benchmark that breaks, a row that goes missing,
or a result that is not a number.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Row names start with these (their tails name sizes, which depend on the mode).
EXPECTED = (
    "codec: tickPrice frames encoded/s",
    "codec: reqMktData frames decoded/s",
    "ticks: ibapi from",
    "ticks: ib_async from",
    "orders: placeOrder->Filled p50",
    "orders: placeOrder->Filled p99",
    "many clients: messages lost",
    "many clients: server peak RSS",
    "scenarios: orders/partial_fills test median",
    "scenarios: orders/partial_fills test p90",
    "session replay: wall s vs 2 s goal",
    "session replay: wall s vs bare clock",
    "session replay: 1-min bars complete",
)
FIELDS = {
    "name": str,
    "value": float,
    "unit": str,
    "baseline": float,
    "ratio": float,
    "goal": float,
}


def test_make_bench_runs_every_benchmark_quickly_and_writes_results(tmp_path):
    out = tmp_path / "results.json"
    env = {**os.environ, "FAKE_TWS_BENCH_QUICK": "1"}
    # The real bench/results.json is left alone: it holds the last full run's numbers.
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr

    results = json.loads(out.read_text())
    assert isinstance(results, list)
    for row in results:
        assert set(row) == set(FIELDS), row
        for key, kind in FIELDS.items():
            value = row[key]
            if kind is float:
                assert isinstance(value, int | float) and math.isfinite(value), row
            else:
                assert isinstance(value, kind) and value, row
        assert row["baseline"] > 0 and row["goal"] > 0, row
    names = [row["name"] for row in results]
    for prefix in EXPECTED:
        assert sum(n.startswith(prefix) for n in names) == 1, (prefix, names)
    # The table printed is the same rows.
    for name in names:
        assert name in done.stdout

    # Not speed, but correctness: no client of the many-clients run lost a message.
    (lost,) = [r for r in results if r["name"].startswith("many clients: messages lost")]
    assert lost["value"] == 0 and lost["ratio"] == 1.0


def test_the_readme_table_is_written_from_results_between_its_markers(tmp_path):
    from bench.__main__ import README_END, README_START, write_readme
    from bench.result import Result

    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{README_START}\nold\n{README_END}\n\nafter\n")
    write_readme([Result("codec: x", 2.0, "frames/s", 4.0, 0.5, 0.1)], readme)
    text = readme.read_text()
    assert "old" not in text and text.endswith("\n\nafter\n")
    assert "| codec: x | 2.0 frames/s | 4.0 | 0.500 | 0.100 | ok |" in text
