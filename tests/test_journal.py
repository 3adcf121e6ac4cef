"""The journal records conversations and asserts on them in IB's terms."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from fake_tws.ibtypes import Contract, Order
from fake_tws.journal import Direction, Journal, RawMessage, format_message, received, sent
from fake_tws.protocol.table import REQUESTS_BY_NAME as REQ
from fake_tws.protocol.table import RESPONSES_BY_NAME as RESP

START = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


class StepClock:
    """Virtual time advancing 250ms per reading."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        now, self.now = self.now, self.now + timedelta(milliseconds=250)
        return now


def place(order_id=1, symbol="AAPL", order_type="LMT", qty=100, price=150.25):
    return REQ["placeOrder"](
        orderId=order_id,
        contract=Contract(symbol=symbol, secType="STK", exchange="SMART", currency="USD"),
        order=Order(
            orderId=order_id,
            action="BUY",
            totalQuantity=Decimal(qty),
            orderType=order_type,
            lmtPrice=price,
        ),
    )


def status(order_id, state, filled=0, remaining=100):
    return RESP["orderStatus"](
        orderId=order_id, status=state, filled=Decimal(filled), remaining=Decimal(remaining)
    )


def error(code, text, req_id=-1):
    return RESP["error"](reqId=req_id, errorCode=code, errorString=text)


@pytest.fixture
def journal():
    j = Journal(clock=StepClock())
    j.record_event(1, "connected v187")
    j.record_received(1, REQ["startApi"](clientId=1))
    j.record_sent(1, error(2104, "Market data farm connection is OK:usfarm"))
    j.record_received(1, place(1, "AAPL"))
    j.record_sent(1, status(1, "PreSubmitted"))
    j.record_sent(1, status(1, "Submitted"))
    j.record_sent(1, status(1, "Submitted"))
    j.record_received(2, place(2, "MSFT", "MKT", 10, None))
    j.record_sent(1, status(1, "Filled", 100, 0))
    return j


def test_transcript_is_one_line_per_message_with_time_client_and_arrow(journal):
    lines = journal.transcript().splitlines()
    assert lines[0] == "#1    14:30:00.000 c1 · connected v187"
    assert lines[1] == "#2    14:30:00.250 c1 → startApi clientId=1"
    assert lines[2] == (
        "#3    14:30:00.500 c1 ← error reqId=-1 errorCode=2104 "
        'errorString="Market data farm connection is OK:usfarm"'
    )
    assert lines[3] == (
        "#4    14:30:00.750 c1 → placeOrder orderId=1 "
        "contract={symbol=AAPL secType=STK exchange=SMART currency=USD} "
        "order={orderId=1 action=BUY totalQuantity=100 orderType=LMT lmtPrice=150.25}"
    )
    assert lines[7] == (
        "#8    14:30:01.750 c2 → placeOrder orderId=2 "
        "contract={symbol=MSFT secType=STK exchange=SMART currency=USD} "
        "order={orderId=2 action=BUY totalQuantity=10 orderType=MKT}"
    )
    assert len(lines) == 9


def test_transcript_without_a_clock_shows_seconds_since_start():
    j = Journal()
    j.record_received(1, REQ["reqCurrentTime"]())
    assert re.fullmatch(r"#1    \+0\.\d{3}s c1 → reqCurrentTime", j.transcript())


def test_transcript_keeps_the_most_recent_lines():
    j = Journal(transcript_limit=2)
    for _ in range(5):
        j.record_received(1, REQ["reqIds"](numIds=1))
    lines = j.transcript().splitlines()
    assert lines[0] == "… 3 earlier message(s) not shown"
    assert [line.split()[0] for line in lines[1:]] == ["#4", "#5"]


def test_raw_frames_and_notes_render_plainly():
    assert format_message(RawMessage(("4", "2", "-1", "2104", "OK"))) == "raw [4, 2, -1, 2104, OK]"


def test_assert_received_with_nested_and_bare_field_names(journal):
    (msg,) = journal.assert_received("placeOrder", orderType="LMT", **{"contract.symbol": "AAPL"})
    assert msg.orderId == 1
    journal.assert_received("placeOrder", times=2)
    journal.assert_received("placeOrder", totalQuantity=100.0)  # Decimal vs float
    journal.assert_received("placeOrder", client_id=2, symbol="MSFT")
    journal.assert_received("placeOrder", lmtPrice=lambda p: p is not None and p > 150)
    journal.assert_received("placeOrder", symbol=re.compile("MS.*"))


def test_assert_received_failure_shows_near_misses_and_the_conversation(journal):
    with pytest.raises(AssertionError) as caught:
        journal.assert_received("placeOrder", orderType="STP", **{"contract.symbol": "AAPL"})
    text = str(caught.value)
    assert text.splitlines()[:4] == [
        "expected received placeOrder(orderType=STP, contract.symbol=AAPL) at least once, "
        "found 0 times",
        "near misses:",
        "  #4 placeOrder: orderType is LMT",
        "  #8 placeOrder: orderType is MKT, contract.symbol is MSFT",
    ]
    assert "transcript (9 messages):" in text
    assert "#4    14:30:00.750 c1 → placeOrder orderId=1" in text


def test_times_counts_exactly(journal):
    journal.assert_sent("orderStatus", times=2, status="Submitted")
    journal.assert_received("cancelOrder", times=0)
    with pytest.raises(
        AssertionError,
        match=r"expected sent orderStatus\(status=Submitted\) "
        r"once, found 2 times\nmatching: #6, #7",
    ):
        journal.assert_sent("orderStatus", times=1, status="Submitted")


def test_client_filter_shows_in_near_misses(journal):
    with pytest.raises(AssertionError, match="#8 placeOrder: client is 2"):
        journal.assert_received("placeOrder", client_id=3, symbol="MSFT")


def test_assert_sent(journal):
    journal.assert_sent("orderStatus", status="Filled", filled=100)
    with pytest.raises(AssertionError, match="status is Filled"):
        journal.assert_sent("orderStatus", status="Cancelled")


def test_mistyped_names_fail_loudly_not_silently(journal):
    with pytest.raises(
        ValueError, match="orderStatus has no field 'statsu'; did you mean \"status\""
    ):
        journal.assert_sent("orderStatus", statsu="Filled")
    with pytest.raises(
        ValueError, match="unknown request name 'placeOrdr'; did you mean \"placeOrder\""
    ):
        journal.assert_received("placeOrdr")
    with pytest.raises(ValueError, match="unknown response name 'orderStat'"):
        journal.responses("orderStat")


def test_requests_and_responses_return_the_messages(journal):
    assert [m.orderId for m in journal.requests("placeOrder")] == [1, 2]
    assert [m.orderId for m in journal.requests("placeOrder", client_id=2)] == [2]
    assert [m.status for m in journal.responses("orderStatus", orderId=1)] == [
        "PreSubmitted",
        "Submitted",
        "Submitted",
        "Filled",
    ]
    assert journal.responses("error", errorCode=2104)[0].reqId == -1


def test_assert_in_order_allows_messages_between(journal):
    entries = journal.assert_in_order(
        received("placeOrder", symbol="AAPL"),
        sent("orderStatus", status="Submitted"),
        received("placeOrder", symbol="MSFT"),
        sent("orderStatus", status="Filled"),
    )
    assert [e.seq for e in entries] == [4, 6, 8, 9]
    assert entries[0].direction is Direction.RECEIVED and entries[0].client_id == 1


def test_assert_in_order_failure_says_which_step_and_notes_out_of_order(journal):
    with pytest.raises(AssertionError) as caught:
        journal.assert_in_order(
            sent("orderStatus", status="Filled"), sent("orderStatus", status="Submitted")
        )
    assert str(caught.value).splitlines()[:3] == [
        "step 2 of 2 not found after #9: sent orderStatus(status=Submitted)",
        "  step 1 matched #9",
        "  (it did happen earlier, out of order: #6, #7)",
    ]


def test_order_statuses_collapse_repeats(journal):
    journal.assert_order_statuses(1, "PreSubmitted", "Submitted", "Filled")
    journal.assert_order_statuses(2)
    with pytest.raises(
        AssertionError,
        match=(
            "order 1: expected statuses Submitted -> Filled, got PreSubmitted -> Submitted -> Filled"
        ),
    ):
        journal.assert_order_statuses(1, "Submitted", "Filled")


def test_nothing_unexpected(journal):
    journal.assert_nothing_unexpected(allowed=["placeOrder"])  # startApi always allowed
    journal.assert_nothing_unexpected(
        allowed=[received("placeOrder", orderType=re.compile("LMT|MKT"))]
    )
    with pytest.raises(AssertionError) as caught:
        journal.assert_nothing_unexpected(allowed=[received("placeOrder", symbol="AAPL")])
    assert str(caught.value).splitlines()[:2] == [
        "1 unexpected request(s):",
        "  #8    14:30:01.750 c2 → placeOrder orderId=2 "
        "contract={symbol=MSFT secType=STK exchange=SMART currency=USD} "
        "order={orderId=2 action=BUY totalQuantity=10 orderType=MKT}",
    ]


def test_no_errors_ignores_the_farm_notices(journal):
    journal.assert_no_errors()
    journal.record_sent(2, error(201, "Order rejected - reason:margin", req_id=2))
    with pytest.raises(AssertionError, match=r"1 error\(s\) sent:\n  #10 .* errorCode=201"):
        journal.assert_no_errors()
    journal.assert_no_errors(ignore={201, 2104})


def test_wait_for_a_message_recorded_by_another_thread():
    j = Journal()
    timer = threading.Timer(0.05, lambda: j.record_sent(1, status(7, "Filled", 1, 0)))
    timer.start()
    entry = j.wait_for(sent("orderStatus", orderId=7, status="Filled"), timeout=5)
    assert entry.message.orderId == 7
    assert j.wait_for(sent("orderStatus", orderId=7), timeout=0).seq == 1  # already there
    timer.join()


def test_wait_for_times_out_with_the_conversation():
    j = Journal()
    j.record_sent(1, status(7, "Submitted"))
    with pytest.raises(
        AssertionError,
        match=(
            r"waited 0.05s for sent orderStatus\(status=Filled\), it did not come\n\n"
            r"transcript \(1 messages\):\n#1 .* status=Submitted"
        ),
    ):
        j.wait_for(sent("orderStatus", status="Filled"), timeout=0.05)


def test_concurrent_appends_keep_every_message_with_unique_order():
    j = Journal()

    def client(cid):
        for _ in range(500):
            j.record_received(cid, REQ["reqIds"](numIds=cid))

    threads = [threading.Thread(target=client, args=(cid,)) for cid in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    entries = j.entries
    assert len(j) == 4000
    assert [e.seq for e in entries] == list(range(1, 4001))
    for cid in range(8):
        assert len(j.requests("reqIds", client_id=cid)) == 500


def test_clear_forgets_but_keeps_counting(journal):
    journal.clear()
    assert len(journal) == 0
    entry = journal.record_received(1, REQ["reqCurrentTime"]())
    assert entry.seq == 10
    assert entry.wall_time > 0 and entry.virtual_time == START + timedelta(milliseconds=2250)


def test_explicit_virtual_time_overrides_the_clock():
    j = Journal(clock=StepClock())
    entry = j.record(3, Direction.SENT, RESP["currentTime"](time=1), virtual_time=START)
    assert entry.virtual_time == START and entry.name == "currentTime"


# -- a bounded journal (ServerConfig.journal_limit) -------------------------------------------


def test_a_limited_journal_forgets_its_oldest_entries_a_block_at_a_time():
    j = Journal(limit=100)
    for i in range(100):
        j.record_sent(1, status(i, "Submitted"))
    assert len(j) == 100 and j.dropped == 0  # up to the limit, everything is kept
    j.record_sent(1, status(100, "Submitted"))
    # One past the limit: the oldest tenth goes at once (plus the one over).
    assert len(j) == 90 and j.dropped == 11
    assert [e.seq for e in j.entries] == list(range(12, 102))  # seqs go on
    for i in range(101, 1000):
        j.record_sent(1, status(i, "Submitted"))
    assert len(j) <= 100 and j.dropped == 1000 - len(j)
    assert j.entries[-1].seq == 1000
    j.assert_sent("orderStatus", orderId=999)
    with pytest.raises(AssertionError, match="found 0 times"):
        j.assert_sent("orderStatus", times=1, orderId=5)  # forgotten


def test_listeners_see_every_entry_of_a_limited_journal():
    j = Journal(limit=10)
    seen = []
    j.listen(lambda e: seen.append(e.seq))
    for i in range(50):
        j.record_sent(1, status(i, "Submitted"))
    assert seen == list(range(1, 51))


def test_wait_for_finds_new_entries_after_old_ones_were_forgotten():
    j = Journal(limit=10)
    for i in range(25):
        j.record_sent(1, status(i, "Submitted"))

    def later():
        for i in range(25, 60):
            j.record_sent(1, status(i, "Submitted"))
        j.record_sent(1, status(7, "Filled", 100, 0))

    timer = threading.Timer(0.05, later)
    timer.start()
    entry = j.wait_for(sent("orderStatus", orderId=7, status="Filled"), timeout=5)
    timer.join()
    assert entry.seq == 61 and j.dropped > 0
    assert j.wait_for(sent("orderStatus", orderId=59), timeout=0).seq == 60  # already there


def test_journal_limit_must_be_positive_and_reaches_the_gateway():
    from fake_tws.config import ServerConfig
    from fake_tws.session import Gateway

    with pytest.raises(ValueError, match="at least 1"):
        Journal(limit=0)
    with pytest.raises(ValueError, match="journal_limit"):
        ServerConfig(journal_limit=0)
    assert Gateway(ServerConfig()).journal.limit is None  # tests keep everything
    assert Gateway(ServerConfig(journal_limit=500)).journal.limit == 500
