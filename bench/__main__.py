"""`make bench`: run every benchmark, print a table of ratios, write bench/results.json.

Each benchmark module `bench/bench_*.py` has `run() -> list[Result]`. Ratios compare a
measurement with a baseline taken in the same run, so a noisy machine affects both.
`python -m bench codec` runs only the modules whose name contains "codec";
`--out PATH` writes the results there instead.
Exit status 1 if any ratio misses its goal.

With FAKE_TWS_BENCH_QUICK=1 every benchmark runs for a fraction of a second (a smoke test
of the machinery, tests/test_bench.py): its numbers mean nothing, so missed goals do not
change the exit status then; only a benchmark that fails does.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

import msgspec

from .harness import QUICK
from .result import Result

HERE = Path(__file__).parent


def discover(filters: list[str]) -> list[str]:
    names = sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("bench_"))
    return [n for n in names if not filters or any(f in n for f in filters)]


def render(results: list[Result]) -> str:
    rows = [("benchmark", "value", "unit", "baseline", "ratio", "goal", "")]
    for r in results:
        rows.append(
            (
                r.name,
                f"{r.value:,.1f}",
                r.unit,
                f"{r.baseline:,.1f}",
                f"{r.ratio:.3f}",
                f"{r.goal:.3f}",
                "ok" if r.met else "MISSED",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def main(argv: list[str]) -> int:
    out = HERE / "results.json"
    if "--out" in argv:
        at = argv.index("--out")
        out = Path(argv[at + 1])
        argv = argv[:at] + argv[at + 2 :]
    if QUICK:
        print("quick mode (FAKE_TWS_BENCH_QUICK): the numbers mean nothing", file=sys.stderr)
    results: list[Result] = []
    for name in discover(argv):
        module = importlib.import_module(f"bench.{name}")
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results.extend(module.run())
    print(render(results))
    out.write_bytes(msgspec.json.format(msgspec.json.encode(results)))
    print(f"\nwrote {out}", file=sys.stderr)
    return 0 if QUICK or all(r.met for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
