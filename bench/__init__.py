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

Benchmarks still to come, and what each needs:

- Scenario test wall time: run the shipped scenarios (`Server(scenario=...)` on a
  BenchServer-like virtual clock, or `pytest tests/scenarios` in a subprocess) against
  a baseline of the same tests' fixture cost with the scenario engine idle; QUICK: one
  scenario.
- A 6.5-hour virtual session replay: `drive(steps=23_400)` with subscriptions and
  resting orders, journal capped, wall time per virtual hour against the clock driven
  with no subscriptions; peak RSS as in bench_many_clients. It will show the broker's
  costs that grow with the time of day and with the number of orders.
- Ours vs NautilusTrader's IB adapter: ticks into the DataEngine (count at a message
  bus subscriber, pass it as `consumed` to `drive`) and historical bars into a
  ParquetDataCatalog (bars/s), ours (adapter/) as value, theirs as baseline, both
  against the same BenchServer; needs nautilus_trader's adapter importable in the venv.
"""
