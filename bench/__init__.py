"""Benchmarks: each reports ratios against a baseline measured in the same run.

`python -m bench [NAME...]` (`make bench`) runs every `bench/bench_*.py` module's
`run() -> list[Result]` and prints one row per Result (see bench.result). Keep a module
under ~30 s at its normal size and under a fraction of a second with
FAKE_TWS_BENCH_QUICK=1 (`harness.scaled(normal, quick)`); tests/test_bench.py runs them
all that way and lists the row names it expects.

What bench.harness offers a new benchmark:

- `BenchServer(**ServerConfig fields)`: fake-tws on a VirtualClock in a trio thread with a
  capped journal; `drive(steps, consumed=...)` moves the clock one stream step at a time
  as fast as the clients read (no client is ever cut off), `halt()` / `wait_driven()`.
- `FrameBlaster(frames, consumed=...)`: a baseline server that only writes frames, with
  the same back-pressure.
- `BenchClient` (bench.ibapi_client): ibapi with its reader thread, counting ticks and
  frames and signalling answers; `request_bytes` for raw clients.
- `peak_rss()`, `percentile()`, `wait_until()`; a server in its own process, for memory
  or to keep it off the load generator's GIL: see bench_many_clients (`--serve`).

Still to come: ours vs NautilusTrader's IB adapter for ticks into the DataEngine and the
order round trip (count at a message bus subscriber, pass it as `consumed` to `drive`),
both against the same BenchServer. (Historical bars into a catalog, ours vs theirs, is
bench_historical.)
"""
