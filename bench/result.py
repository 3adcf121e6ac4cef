"""One benchmark measurement and how it is reported."""

from __future__ import annotations

import time
from collections.abc import Callable

import msgspec


class Result(msgspec.Struct, frozen=True):
    """`value` is our measurement, `baseline` the reference measured in the same run, both
    in `unit`. `ratio` compares them oriented so that bigger is better: value / baseline
    for rates, baseline / value for latencies and memory (each benchmark's docstring says
    which). `goal` is the ratio the benchmark must reach."""

    name: str
    value: float
    unit: str
    baseline: float
    ratio: float
    goal: float

    @property
    def met(self) -> bool:
        return self.ratio >= self.goal


def best_rate(fn: Callable[[], int], repeats: int = 5) -> float:
    """Operations per second of `fn` (which returns how many operations it did):
    the best of several runs, since a noisy machine only ever slows a run down."""
    best = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        n = fn()
        dt = time.perf_counter() - t0
        best = max(best, n / dt)
    return best


def throughput(
    name: str, ours: Callable[[], int], baseline: Callable[[], int], unit: str, goal: float
) -> Result:
    value = best_rate(ours)
    base = best_rate(baseline)
    return Result(name, round(value, 1), unit, round(base, 1), round(value / base, 4), goal)
