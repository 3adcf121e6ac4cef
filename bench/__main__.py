"""`make bench`: run every benchmark, print a table of ratios, write bench/results.json.

Each benchmark module `bench/bench_*.py` has `run() -> list[Result]`. Ratios compare a
measurement with a baseline taken in the same run, so a noisy machine affects both.
`python -m bench codec` runs only the modules whose name contains "codec";
`--out PATH` writes the results there instead. `--write-readme` also rewrites the README's
benchmark table from this run; `--readme-from FILE` rewrites it from an earlier run's
results without running anything. Exit status 1 if any ratio misses its goal.

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
README = HERE.parent / "README.md"
README_START = "<!-- bench-table:start -->"
README_END = "<!-- bench-table:end -->"


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


def markdown(results: list[Result]) -> str:
    """The results as a Markdown table (what the README shows)."""
    lines = [
        "| benchmark | value | baseline | ratio | goal | |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.value:,.1f} {r.unit} | {r.baseline:,.1f} | {r.ratio:.3f} "
            f"| {r.goal:.3f} | {'ok' if r.met else 'missed'} |"
        )
    return "\n".join(lines)


def write_readme(results: list[Result], readme: Path = README) -> None:
    """Replace the README's table between its markers with these results."""
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        raise SystemExit(f"{readme} has no {README_START} ... {README_END} block")
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    table = markdown(results)
    readme.write_text(f"{head}{README_START}\n{table}\n{README_END}{tail}")


def _option(argv: list[str], name: str) -> tuple[str | None, list[str]]:
    if name not in argv:
        return None, argv
    at = argv.index(name)
    return argv[at + 1], argv[:at] + argv[at + 2 :]


def main(argv: list[str]) -> int:
    source, argv = _option(argv, "--readme-from")
    if source is not None:
        write_readme(msgspec.json.decode(Path(source).read_bytes(), type=list[Result]))
        print(f"wrote the benchmark table of {source} into {README}", file=sys.stderr)
        return 0
    out_path, argv = _option(argv, "--out")
    out = Path(out_path) if out_path else HERE / "results.json"
    readme = "--write-readme" in argv
    argv = [a for a in argv if a != "--write-readme"]
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
    if readme:
        write_readme(results)
    return 0 if QUICK or all(r.met for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
