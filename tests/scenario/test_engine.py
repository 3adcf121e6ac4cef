"""The scenario engine at the session level: triggers, bindings, timing and actions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fake_tws.journal import RawMessage, received, sent
from fake_tws.protocol.responses.market_data import TickPrice
from tests.scenario.engine_harness import EngineRun


def errors(run: EngineRun, client_id: int | None = None) -> list[tuple[int, int, str]]:
    """(reqId, code, text) of the errors sent after each client's bootstrap."""
    out = []
    for client in run.clients:
        if client_id is not None and client.client_id != client_id:
            continue
        sent_errors = run.journal.responses("error", client_id=client.client_id)
        out += [(m.reqId, m.errorCode, m.errorString) for m in sent_errors[3:]]
    return out


def statuses(run: EngineRun, order_id: int) -> list[str]:
    return [m.status for m in run.journal.responses("orderStatus", orderId=order_id)]


# --- request triggers -------------------------------------------------------------------


def test_a_request_rule_runs_before_the_default_reply():
    run = EngineRun.of("""
        rules:
          - id: warn
            when: {request: reqCurrentTime}
            do: [{error: {code: 2110, text: "heads up"}}]
    """)
    client = run.connect(1)
    client.send(lambda c: c.reqCurrentTime())
    run.journal.assert_in_order(
        received("reqCurrentTime"), sent("error", errorCode=2110, reqId=-1), sent("currentTime")
    )


def test_respond_replaces_the_default_reply_with_bindings_substituted():
    run = EngineRun.of("""
        rules:
          - id: fixed-time
            when: {request: reqIds, where: {numIds: $n}}
            do:
              - respond: [{nextValidId: {orderId: $n}}, {currentTime: {time: 1234}}]
    """)
    client = run.connect(1)
    client.send(lambda c: c.reqIds(77))
    assert [m.orderId for m in run.journal.responses("nextValidId")] == [1, 77]
    assert [m.time for m in run.journal.responses("currentTime")] == [1234]
    assert run.engine.bindings == {"n": 77}


def test_where_client_nth_and_times_decide_which_requests_fire():
    run = EngineRun.of("""
        rules:
          - id: second-and-third
            nth: 2
            times: 2
            when: {request: reqCurrentTime, client: 2}
            do: [{error: {code: 2110}}]
    """)
    one, two = run.connect(1), run.connect(2)
    for _ in range(2):
        one.send(lambda c: c.reqCurrentTime())
    for _ in range(5):
        two.send(lambda c: c.reqCurrentTime())
    assert errors(run, 1) == []
    # matches 1..5 of client 2: the 2nd and 3rd fire
    assert [e[1] for e in errors(run, 2)] == [2110, 2110]
    assert run.engine.states["second-and-third"].matches == 5
    text = errors(run, 2)[0][2]
    assert text.startswith("Connectivity between Trader Workstation and server is broken")


def test_explicit_captures_are_shared_and_must_match_later():
    run = EngineRun.of("""
        rules:
          - id: first-symbol
            when: {request: placeOrder, where: {contract.symbol: $sym}}
            do: [{error: {code: 399, text: "seen"}}]
            times: 0
    """)
    client = run.connect(1)
    client.place(1, "AAPL")
    client.place(2, "MSFT")
    client.place(3, "AAPL")
    assert [e[0] for e in errors(run) if e[1] == 399] == [1, 3]


def test_delays_run_on_the_server_clock():
    run = EngineRun.of("""
        rules:
          - id: later
            when: {request: reqCurrentTime}
            do:
              - error: {code: 2110, text: now}
              - delay: 2s
              - error: {code: 2110, text: later}
    """)
    client = run.connect(1)
    client.send(lambda c: c.reqCurrentTime())
    assert [e[2] for e in errors(run)] == ["now"]
    run.advance(1.9)
    assert [e[2] for e in errors(run)] == ["now"]
    run.advance(0.1)
    assert [e[2] for e in errors(run)] == ["now", "later"]


# --- orders ---------------------------------------------------------------------------


def test_fill_of_a_market_order_goes_presubmitted_to_filled_at_the_given_price():
    run = EngineRun.of("""
        rules:
          - id: fill
            when: {request: placeOrder}
            do: [{fill: {price: 101.5}}]
    """)
    client = run.connect(1)
    client.place(1, "AAPL", quantity=100)
    assert statuses(run, 1) == ["PreSubmitted", "Filled"]
    [execution] = run.journal.responses("execDetails")
    assert execution.execution.price == 101.5
    assert execution.execution.shares == 100


def test_partial_fills_at_different_prices_with_a_delay_between():
    run = EngineRun.of("""
        rules:
          - id: slices
            when: {request: placeOrder, where: {symbol: MSFT}}
            do:
              - partial_fill: ["40@150.10", {quantity: 35, price: 150.2}, {quantity: 25, price: 150.3, delay: 1s}]
    """)
    client = run.connect(1)
    client.place(7, "MSFT", quantity=100)
    prices = [m.execution.price for m in run.journal.responses("execDetails")]
    assert prices == [150.1, 150.2]
    assert statuses(run, 7)[-1] == "Submitted"
    run.advance(1)
    prices = [m.execution.price for m in run.journal.responses("execDetails")]
    assert prices == [150.1, 150.2, 150.3]
    final = run.journal.responses("orderStatus", orderId=7)[-1]
    assert final.status == "Filled"
    assert final.avgFillPrice == pytest.approx((40 * 150.1 + 35 * 150.2 + 25 * 150.3) / 100)


def test_an_order_a_rule_acts_on_is_held_from_the_market():
    run = EngineRun.of("""
        rules:
          - id: fill-later
            when: {request: placeOrder}
            do: [{delay: 5s}, {fill: {quantity: 10}}]
    """)
    client = run.connect(1)
    client.place(1, "AAPL", quantity=30)  # a market order: the world would fill it at once
    assert run.journal.responses("execDetails") == []
    assert statuses(run, 1) == ["PreSubmitted", "Submitted"]
    run.advance(5)
    view = run.world.order(1, 1)
    assert (view.status, view.filled) == ("Submitted", Decimal(10))


def test_a_resting_limit_order_is_filled_later_by_a_timed_rule_at_its_limit():
    run = EngineRun.of("""
        world:
          market_data: {mode: static}
          instruments:
            - contract: {symbol: AAPL, secType: STK}
              price: 200
        rules:
          - id: fill-resting
            when: {at: "+1m"}
            do: [{fill: {order: 3}}]
    """)
    client = run.connect(1)
    client.place(3, "AAPL", quantity=50, order_type="LMT", limit=190.0)
    assert statuses(run, 3) == ["PreSubmitted", "Submitted"]
    run.advance(59)
    assert run.journal.responses("execDetails") == []
    run.advance(1)
    [fill] = run.journal.responses("execDetails")
    assert fill.execution.price == 190.0
    assert statuses(run, 3)[-1] == "Filled"


def test_reject_replaces_the_world_taking_the_order():
    run = EngineRun.of("""
        rules:
          - id: refuse
            when: {request: placeOrder}
            do: [{reject: {text: "Order rejected - reason:insufficient margin"}}]
    """)
    client = run.connect(1)
    client.place(4, "AAPL", quantity=10)
    assert errors(run) == [(4, 201, "Order rejected - reason:insufficient margin")]
    [status] = run.journal.responses("orderStatus")
    assert (status.orderId, status.status, status.remaining) == (4, "Inactive", 10)
    assert run.world.order(1, 4) is None
    assert run.journal.responses("openOrder") == []
    client.send(lambda c: c.reqIds(1))
    assert run.journal.responses("nextValidId")[-1].orderId > 4  # the id counts as used


def test_an_error_before_the_order_status():
    run = EngineRun.of("""
        rules:
          - id: preset-warning
            when: {request: placeOrder}
            do:
              - error: {code: 10349, text: "Order TIF was set to DAY based on order preset."}
    """)
    client = run.connect(1)
    client.place(2, "AAPL", order_type="LMT", limit=1.0, quantity=1)
    run.journal.assert_in_order(
        sent("error", errorCode=10349, reqId=2), sent("openOrder"), sent("orderStatus")
    )


def test_cancel_by_ib_after_a_delay_and_events_for_it():
    run = EngineRun.of("""
        rules:
          - id: exchange-cancels
            when: {event: order_submitted, where: {symbol: AAPL}}
            do:
              - delay: 1s
              - cancel: {text: "Order Canceled - reason:exchange closed"}
          - id: notice
            when: {event: order_cancelled}
            do: [{error: {code: 399, reqId: $orderId, text: "saw the cancel"}}]
    """)
    client = run.connect(1)
    client.place(5, "AAPL", order_type="LMT", limit=1.0, quantity=1)
    run.pending()
    run.advance(1)
    assert statuses(run, 5)[-1] == "Cancelled"
    run.journal.assert_in_order(
        sent("orderStatus", orderId=5, status="Cancelled"),
        sent("error", errorCode=202, errorString="Order Canceled - reason:exchange closed"),
        sent("error", errorCode=399, reqId=5),
    )


def test_a_fill_racing_a_cancel_wins_and_the_cancel_fails():
    run = EngineRun.of("""
        rules:
          - id: race
            when: {request: cancelOrder}
            do: [fill]
    """)
    client = run.connect(1)
    client.place(6, "AAPL", order_type="LMT", limit=1.0, quantity=5)
    client.cancel(6)
    assert statuses(run, 6)[-1] == "Filled"
    codes = [e[1] for e in errors(run)]
    assert codes and codes[-1] in (161, 10148)
    run.journal.assert_in_order(sent("execDetails"), sent("error", reqId=6))


def test_reject_of_a_working_order_goes_inactive():
    run = EngineRun.of("""
        rules:
          - id: late-reject
            when: {event: order_submitted}
            do: [{delay: 1s}, {reject: {code: 201, text: "Order rejected - reason:late"}}]
          - id: seen
            when: {event: order_rejected}
            do: [{error: {code: 399, reqId: $orderId, text: "rejected $code"}}]
    """)
    client = run.connect(1)
    client.place(8, "AAPL", order_type="LMT", limit=1.0, quantity=5)
    run.pending()
    run.advance(1)
    run.pending()
    assert statuses(run, 8)[-1] == "Inactive"
    assert (8, 201, "Order rejected - reason:late") in errors(run)
    assert (8, 399, "rejected $code") in errors(run)


def test_an_order_step_on_a_missing_order_is_noted_and_the_rule_goes_on():
    run = EngineRun.of("""
        rules:
          - id: ghost
            when: {at: "+1s"}
            do: [{fill: {order: 99}}, {error: {code: 2110, text: after}}]
    """)
    run.connect(1)
    run.advance(1)
    assert [e[2] for e in errors(run)] == ["after"]
    notes = [e.message.text for e in run.journal.entries if e.name == "note"]
    assert any("fill skipped: no live order with id 99" in n for n in notes)


# --- event, time and after triggers ------------------------------------------------------


def test_after_rules_follow_with_the_bindings_of_the_firing():
    run = EngineRun.of("""
        rules:
          - id: first
            when: {request: placeOrder, where: {order.orderRef: $ref}}
            do: [{delay: 1s}, {fill: {quantity: 1}}]
          - id: then
            when: {after: first, delay: 2s}
            do: [{error: {code: 399, reqId: $orderId, text: "followed"}}, cancel]
    """)
    client = run.connect(1)
    client.place(9, "AAPL", quantity=3, orderRef="abc")
    run.advance(1)
    assert errors(run) == []
    run.advance(2)
    assert (9, 399, "followed") in errors(run)
    assert statuses(run, 9)[-1] == "Cancelled"
    assert run.engine.bindings["ref"] == "abc"


def test_at_rules_fire_at_their_time_for_every_client():
    run = EngineRun.of("""
        world:
          start: 2026-03-02T14:30:00Z
        rules:
          - id: flap
            when: {at: "+30s"}
            do:
              - farm_status: {farm: usfarm, state: broken}
              - delay: 500ms
              - farm_status: {farm: usfarm, state: ok}
          - id: absolute
            when: {at: "2026-03-02T14:31:00Z"}
            do: [{farm_status: {farm: ushmds, state: inactive}}]
    """)
    one, two = run.connect(1), run.connect(2)
    run.advance(30)
    assert [e[1] for e in errors(run, 1)] == [2103]
    assert errors(run, 2) == [(-1, 2103, "Market data farm connection is broken:usfarm")]
    # a client connecting now is told the farm is broken at its bootstrap
    three = run.connect(3)
    assert three.link.fields()[3][3:5] == ["2103", "Market data farm connection is broken:usfarm"]
    run.advance(0.5)
    assert [e[1] for e in errors(run, 2)] == [2103, 2104]
    run.advance(29.5)
    assert errors(run, 1)[-1] == (
        -1,
        2107,
        "HMDS data farm connection is inactive but should be available upon demand.ushmds",
    )
    assert one.session.started and two.session.started


def test_connected_rules_run_right_after_the_bootstrap():
    run = EngineRun.of("""
        rules:
          - id: hello
            when: {event: connected, client: 5}
            do: [{error: {code: 2110}}]
    """)
    run.connect(1)
    five = run.connect(5)
    assert errors(run, 1) == []
    assert five.link.fields()[-1][3] == "2110"  # right after the farm notices


def test_disconnected_rules_see_who_closed():
    run = EngineRun.of("""
        rules:
          - id: gone
            when: {event: disconnected, where: {reason: client}}
            do: [{error: {code: 2110, client: 2, text: "1 left"}}]
    """)
    one, two = run.connect(1), run.connect(2)
    one.session.connection_lost()
    run.pending()
    assert errors(run, 2) == [(-1, 2110, "1 left")]
    assert two.session.started


def test_execution_and_fill_events_carry_the_order_facts():
    run = EngineRun.of("""
        rules:
          - id: fills
            when: {request: placeOrder}
            do: [{partial_fill: ["2@10", "3@11"]}]
          - id: each
            times: 0
            when: {event: execution, where: {side: BOT}}
            do: [{error: {code: 399, reqId: $orderId, text: "exec"}}]
          - id: done
            when: {event: order_filled, where: {filled: 5, symbol: IBM}}
            do: [{error: {code: 399, reqId: $orderId, text: "done"}}]
    """)
    client = run.connect(1)
    client.place(11, "IBM", quantity=5)
    run.pending()
    assert [e[2] for e in errors(run)] == ["exec", "exec", "done"]


# --- faults -------------------------------------------------------------------------------


def test_connectivity_lost_mutes_data_until_restored_and_1101_drops_streams():
    run = EngineRun.of("""
        rules:
          - id: outage
            when: {at: "+10s"}
            do:
              - connectivity_lost
              - connectivity_restored: {data: lost, delay: 5s}
    """)
    client = run.connect(1)
    handle = client.session.spawn("mktData-1", lambda: None)
    run.advance(10)
    assert errors(run) == [
        (-1, 1100, "Connectivity between IB and Trader Workstation has been lost.")
    ]
    client.session.send(TickPrice(reqId=1, tickType=1, price=1.0, size=Decimal(1)))
    assert run.journal.responses("tickPrice") == []
    client.send(lambda c: c.reqCurrentTime())  # answers still flow
    assert run.journal.responses("currentTime")
    run.advance(5)
    assert errors(run)[-1][1] == 1101
    assert handle.cancelled
    client.session.send(TickPrice(reqId=1, tickType=1, price=1.0, size=Decimal(1)))
    assert len(run.journal.responses("tickPrice")) == 1


def test_1102_keeps_the_streams():
    run = EngineRun.of("""
        rules:
          - id: blip
            when: {at: "+1s"}
            do: [connectivity_lost, connectivity_restored]
    """)
    client = run.connect(1)
    handle = client.session.spawn("mktData-1", lambda: None)
    run.advance(1)
    assert [e[1] for e in errors(run)] == [1100, 1102]
    assert not handle.cancelled


def test_disconnect_modes_reach_the_link():
    run = EngineRun.of("""
        rules:
          - id: drop
            when: {request: reqCurrentTime}
            do: [{disconnect: {mode: truncate}}]
          - id: hang
            when: {event: connected, client: 2}
            do: [{disconnect: {mode: silence}}]
    """)
    one = run.connect(1)
    one.send(lambda c: c.reqCurrentTime())
    assert one.link.aborted is not None and one.link.aborted[0] == "truncate"
    assert one.link.aborted[1]  # a frame to cut in half
    assert run.journal.responses("currentTime", client_id=1) == []  # no reply after it
    assert 1 not in run.gateway.client_ids
    two = run.connect(2)
    assert two.link.aborted == ("silence", b"")
    assert 2 in run.gateway.client_ids  # a half-open connection keeps its client id
    again = run.connect(2)
    assert again.link.fields()[-1][3] == "326"


def test_raw_send_and_error_targets():
    run = EngineRun.of("""
        rules:
          - id: shout
            when: {at: "+1s"}
            do:
              - raw: ["4", "2", -1, 2104, "Market data farm connection is OK:usfarm"]
              - error: {code: 2110, client: 2}
    """)
    one, two = run.connect(1), run.connect(2)
    run.advance(1)
    for client in (one, two):
        assert client.link.fields()[-2 if client is two else -1] == [
            "4",
            "2",
            "-1",
            "2104",
            "Market data farm connection is OK:usfarm",
        ]
    raws = [e.message for e in run.journal.entries if isinstance(e.message, RawMessage)]
    assert len(raws) == 2
    assert [e[1] for e in errors(run, 2)] == [2110]
    assert errors(run, 1) == []


def test_pacing_violation_on_historical_requests_replaces_the_data():
    run = EngineRun.of("""
        rules:
          - id: too-fast
            nth: 2
            when: {request: reqHistoricalData}
            do: [pacing_violation]
    """)
    client = run.connect(1)
    from tests.scenario.engine_harness import stock

    for req_id in (1, 2):
        client.send(
            lambda c, r=req_id: c.reqHistoricalData(
                r, stock("AAPL"), "", "1 D", "1 min", "TRADES", 1, 1, False, []
            )
        )
    assert (
        2,
        162,
        "Historical Market Data Service error message:Historical data request pacing violation",
    ) in errors(run)
    assert not [m for m in run.journal.responses("historicalData") if m.reqId == 2]


def test_built_in_historical_pacing():
    run = EngineRun.of("""
        world:
          pacing: {historical: true}
    """)
    client = run.connect(1)
    from tests.scenario.engine_harness import stock

    def ask(req_id: int, duration: str = "1 D") -> None:
        client.send(
            lambda c: c.reqHistoricalData(
                req_id, stock("AAPL"), "", duration, "1 min", "TRADES", 1, 1, False, []
            )
        )

    ask(1)
    ask(2)  # identical within 15 s
    assert [e[:2] for e in errors(run) if e[1] == 162] == [(2, 162)]
    run.advance(15)
    ask(3)
    assert [e[0] for e in errors(run) if e[1] == 162] == [2]
    for req_id, duration in zip(
        range(4, 10), ("2 D", "3 D", "4 D", "5 D", "6 D", "7 D"), strict=True
    ):
        ask(req_id, duration)  # same contract: 6 within 2 s are allowed (3 counts), 4..8
    assert [e[0] for e in errors(run) if e[1] == 162] == [2, 9]


def test_the_message_rate_limit_sends_100_and_drops_the_excess():
    run = EngineRun.of("""
        world:
          pacing: {max_messages_per_second: 3}
    """)
    client = run.connect(1)
    for _ in range(5):
        client.send(lambda c: c.reqCurrentTime())
    assert len(run.journal.responses("currentTime")) == 3
    assert errors(run) == [
        (-1, 100, "Max rate of messages per second has been exceeded:max=3 rec=4 (1)")
    ]
    assert not client.link.closed


def test_the_message_rate_limit_may_disconnect():
    run = EngineRun.of("""
        world:
          pacing: {max_messages_per_second: 2, disconnect_on_violation: true}
    """)
    client = run.connect(1)
    for _ in range(3):
        client.send(lambda c: c.reqCurrentTime())
    assert client.link.closed


def test_market_data_type_move_price_and_advance_clock():
    run = EngineRun.of("""
        world:
          market_data: {mode: static, type: 3}
        rules:
          - id: change
            when: {request: reqCurrentTime}
            do:
              - market_data_type: 4
              - move_price: {AAPL: 190.5}
              - advance_clock: 1h
    """)
    client = run.connect(1)
    assert client.session.market_data_type == 3
    start = run.clock.time()
    client.send(lambda c: c.reqCurrentTime())
    assert client.session.market_data_type == 4
    [reply] = run.journal.responses("currentTime")
    assert reply.time == int(start) + 3600
    from fake_tws.ibtypes import Contract

    assert run.world.quote(Contract(symbol="AAPL", secType="STK")).last == 190.5


# --- bar streams (watched on the wire) ----------------------------------------------------


def _bar(date: str, close: float, volume: int):
    from fake_tws.ibtypes import BarData

    return BarData(
        date=date,
        open=10.0,
        high=max(10.0, close),
        low=min(10.0, close),
        close=close,
        volume=Decimal(volume),
        wap=Decimal("10"),
        barCount=3,
    )


def _keep_up_to_date(run: EngineRun, client, req_id: int = 4) -> None:
    from fake_tws.protocol.responses.historical import HistoricalData
    from tests.scenario.engine_harness import stock

    client.send(
        lambda c: c.reqHistoricalData(
            req_id, stock("AAPL"), "", "600 S", "1 min", "TRADES", 1, 1, True, []
        )
    )
    # the historical family's answer, as the stream would send it
    client.session.send(HistoricalData(reqId=req_id, bars=(_bar("20260105 09:30:00", 10, 100),)))


def test_bar_closed_fires_when_a_stream_moves_to_the_next_bar():
    from fake_tws.protocol.responses.historical import HistoricalDataUpdate

    run = EngineRun.of("""
        rules:
          - id: closed
            times: 0
            when: {event: bar_closed, where: {symbol: AAPL, barSize: 1 min}}
            do: [{error: {code: 2110, text: "closed $reqId"}}]
          - id: closed-volume
            when: {event: bar_closed, where: {volume: {ge: 150}}}
            do: [{error: {code: 2110, reqId: $reqId, text: "big"}}]
    """)
    client = run.connect(1)
    _keep_up_to_date(run, client)
    for date, close, volume in (
        ("20260105 09:30:00", 10.5, 160),
        ("20260105 09:31:00", 10.4, 20),
        ("20260105 09:31:00", 10.3, 30),
    ):
        client.session.send(HistoricalDataUpdate(reqId=4, bar=_bar(date, close, volume)))
    run.pending()
    assert [e[2] for e in errors(run)] == ["closed $reqId", "big"]
    assert errors(run)[1][0] == 4


def test_revise_bar_sends_the_current_bar_again_and_later_updates_keep_the_delta():
    from fake_tws.protocol.responses.historical import HistoricalDataUpdate

    run = EngineRun.of("""
        rules:
          - id: revise
            when: {request: reqHistoricalData}
            do: [{delay: 1s}, {revise_bar: {volume: 500, close: 0.25}}]
    """)
    client = run.connect(1)
    _keep_up_to_date(run, client)
    client.session.send(HistoricalDataUpdate(reqId=4, bar=_bar("20260105 09:30:00", 10.0, 120)))
    run.advance(1)
    updates = [m.bar for m in run.journal.responses("historicalDataUpdate")]
    assert [(b.date, b.volume, b.close, b.high) for b in updates] == [
        ("20260105 09:30:00", 120, 10.0, 10.0),
        ("20260105 09:30:00", 620, 10.25, 10.25),  # revised: same bar, more volume
    ]
    client.session.send(HistoricalDataUpdate(reqId=4, bar=_bar("20260105 09:30:00", 10.1, 130)))
    client.session.send(HistoricalDataUpdate(reqId=4, bar=_bar("20260105 09:31:00", 10.1, 5)))
    later = [(m.bar.volume, m.bar.close) for m in run.journal.responses("historicalDataUpdate")]
    assert later[2:] == [(630, 10.35), (5, 10.1)]  # the delta stays with its bar only


def test_revise_bar_without_a_stream_is_skipped():
    run = EngineRun.of("""
        rules:
          - id: revise
            when: {at: "+1s"}
            do: [{revise_bar: {volume: 1}}]
    """)
    run.connect(1)
    run.advance(1)
    notes = [e.message.text for e in run.journal.entries if e.name == "note"]
    assert any("revise_bar skipped: no keep-up-to-date bar stream" in n for n in notes)


def test_a_link_without_abort_is_closed_for_any_disconnect_mode():
    from fake_tws.session import Session
    from tests.scenario.engine_harness import Tasks
    from tests.server.test_session import RecordingLink, make_gateway
    from tests.wire import greeting, start_api

    gateway = make_gateway()
    link = RecordingLink()
    session = Session(gateway, link)
    session.tasks = Tasks()
    session.receive_data(greeting() + start_api(3))
    session.disconnect("reset", reason="test")
    assert link.close_reason == "test"
    assert session.closed and session.closed_by_server
    assert 3 not in gateway.client_ids
    with pytest.raises(ValueError, match="unknown disconnect mode"):
        session.disconnect("explode")
