"""The order engine's indexes agree with scanning every order.

Placing an order used to look at every order ever placed (for its parent's children,
OCA partners, the next id) and time passing sorted them all; the engine now keeps the
orders not done yet, children filed by (client, parentId) and each client's last id.
These tests drive random order flow (brackets, modifications that move a child to
another parent, cancels, fills, global cancels, time passing) and check after every
step that each index gives what a scan of all orders gives.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fake_tws.broker import World, WorldConfig
from fake_tws.broker.orders import OrderEngine, OrderRecord
from fake_tws.ibtypes import Contract, Order

from .conftest import MIDDAY, ManualClock

AAPL = Contract(conId=265598)
CLIENTS = (0, 1, 2)

step = st.one_of(
    st.tuples(st.just("mkt"), st.sampled_from(CLIENTS), st.sampled_from(["BUY", "SELL"])),
    st.tuples(
        st.just("lmt"),
        st.sampled_from(CLIENTS),
        st.sampled_from(["BUY", "SELL"]),
        st.integers(-30, 30),
        st.booleans(),  # transmit
        st.sampled_from(["", "oca"]),
    ),
    st.tuples(st.just("bracket"), st.sampled_from(CLIENTS), st.booleans()),
    st.tuples(st.just("child"), st.integers(0, 50), st.integers(0, 50)),  # add to a parent
    st.tuples(st.just("reparent"), st.integers(0, 50), st.integers(0, 50)),
    st.tuples(st.just("transmit"), st.integers(0, 50)),
    st.tuples(st.just("cancel"), st.integers(0, 50)),
    st.tuples(st.just("fill"), st.integers(0, 50)),
    st.tuples(st.just("global_cancel")),
    st.tuples(st.just("wait"), st.sampled_from([1, 30, 600, 4 * 3600, 86400])),
)


def scanned_children(engine: OrderEngine, rec: OrderRecord) -> list[OrderRecord]:
    return sorted(
        (
            r
            for r in engine._orders.values()
            if r.client_id == rec.client_id and r.order.parentId == rec.order_id and r is not rec
        ),
        key=lambda r: r.seq,
    )


def check(engine: OrderEngine) -> None:
    every = sorted(engine._orders.values(), key=lambda r: r.seq)
    for rec in every:
        assert engine._children(rec) == scanned_children(engine, rec)
    assert engine._open_records() == [r for r in every if not r.done]
    for client in (*CLIENTS, 7):
        used = [oid for (cid, oid) in engine._orders if cid == client]
        assert engine.next_order_id(client) == max(used, default=0) + 1
    assert [v.order_id for v in engine.open_orders()] == [r.order_id for r in every if r.live]


def run(steps) -> World:
    clock = ManualClock(MIDDAY)
    world = World(clock, WorldConfig(seed=5))
    engine = world.orders
    placed: list[tuple[int, int]] = []

    def new_id(client: int) -> int:
        return world.next_order_id(client)

    def pick(i: int) -> OrderRecord | None:
        return engine.record(*placed[i % len(placed)]) if placed else None

    def place(client: int, order_id: int, order: Order) -> None:
        world.place_order(client, order_id, AAPL, order)
        if (client, order_id) not in placed and engine.record(client, order_id) is not None:
            placed.append((client, order_id))

    for s in steps:
        kind = s[0]
        last = world.quote(AAPL).last
        if kind == "mkt":
            place(s[1], new_id(s[1]), Order(action=s[2], orderType="MKT", totalQuantity=100))
        elif kind == "lmt":
            order = Order(
                action=s[2],
                orderType="LMT",
                totalQuantity=Decimal(200),
                lmtPrice=round(last + s[3] * 0.01, 2),
                transmit=s[4],
                ocaGroup=s[5],
            )
            place(s[1], new_id(s[1]), order)
        elif kind == "bracket":
            client, parent = s[1], new_id(s[1])
            place(client, parent, Order(action="BUY", orderType="LMT", totalQuantity=100,
                                        lmtPrice=round(last - 0.05, 2), transmit=False))  # fmt: skip
            place(client, parent + 1, Order(action="SELL", orderType="LMT", totalQuantity=100,
                                            lmtPrice=round(last + 0.5, 2), parentId=parent,
                                            transmit=False))  # fmt: skip
            place(client, parent + 2, Order(action="SELL", orderType="STP", totalQuantity=100,
                                            auxPrice=round(last - 0.5, 2), parentId=parent,
                                            transmit=s[2]))  # fmt: skip
        elif kind in ("child", "reparent"):
            parent, other = pick(s[1]), pick(s[2])
            if parent is None or other is None:
                continue
            if kind == "child":
                order = Order(action="SELL", orderType="LMT", totalQuantity=100,
                              lmtPrice=round(last + 1, 2), parentId=parent.order_id)  # fmt: skip
                place(parent.client_id, new_id(parent.client_id), order)
            elif not other.done:  # a modification that moves the order to another parent
                moved = msgspec.structs.replace(other.order, parentId=parent.order_id)
                place(other.client_id, other.order_id, moved)
        elif kind == "transmit":
            rec = pick(s[1])
            if rec is not None and not rec.transmitted and not rec.done:
                place(
                    rec.client_id, rec.order_id, msgspec.structs.replace(rec.order, transmit=True)
                )
        elif kind == "cancel":
            rec = pick(s[1])
            if rec is not None:
                world.cancel_order(rec.client_id, rec.order_id)
        elif kind == "fill":
            rec = pick(s[1])
            if rec is not None:
                world.fill_order(rec.client_id, rec.order_id)
        elif kind == "global_cancel":
            world.global_cancel()
        else:
            clock.advance(seconds=s[1])
            world.advance()
        check(engine)
        clock.advance(seconds=1)
    return world


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=40))
def test_indexes_agree_with_a_scan_of_every_order(steps):
    run(steps)


def test_a_bracket_child_moved_to_another_parent_follows_its_new_parent():
    clock = ManualClock(MIDDAY)
    world = World(clock, WorldConfig(seed=5))
    last = world.quote(AAPL).last
    low = round(last - 5, 2)
    world.place_order(1, 1, AAPL, Order(action="BUY", orderType="LMT", totalQuantity=100,
                                        lmtPrice=low))  # fmt: skip
    world.place_order(1, 2, AAPL, Order(action="BUY", orderType="LMT", totalQuantity=100,
                                        lmtPrice=low))  # fmt: skip
    child = Order(action="SELL", orderType="LMT", totalQuantity=100, lmtPrice=round(last + 5, 2),
                  parentId=1)  # fmt: skip
    world.place_order(1, 3, AAPL, child)
    engine = world.orders
    assert [r.order_id for r in engine._children(engine.record(1, 1))] == [3]
    world.place_order(1, 3, AAPL, msgspec.structs.replace(child, parentId=2))
    assert engine._children(engine.record(1, 1)) == []
    assert [r.order_id for r in engine._children(engine.record(1, 2))] == [3]
    world.cancel_order(1, 2)  # its children go with it
    assert world.order(1, 3).status == "Cancelled"
    assert world.order(1, 1).status != "Cancelled"
    check(engine)


def test_done_orders_leave_the_open_set_and_placing_stays_cheap():
    clock = ManualClock(MIDDAY)
    world = World(clock, WorldConfig(seed=5, check_margin=False))
    engine = world.orders
    for i in range(1, 401):
        side = "BUY" if i % 2 else "SELL"
        world.place_order(1, i, AAPL, Order(action=side, orderType="MKT", totalQuantity=100))
        clock.advance(seconds=1)
    assert world.completed_orders()[-1].status == "Filled"
    assert engine._open_records() == [] and engine._open == {}
    assert engine.next_order_id(1) == 401
    # the parentId-0 file holds every top-level order; looking up a real parent's
    # children does not go through it
    assert len(engine._by_parent[(1, 0)]) == 400
    assert engine._children(engine.record(1, 7)) == []
    clock.advance(days=1)
    assert world.advance() == []
    check(engine)


def test_oca_partners_and_global_cancel_see_only_open_orders():
    clock = ManualClock(MIDDAY)
    world = World(clock, WorldConfig(seed=5))
    last = world.quote(AAPL).last
    for i in range(1, 4):
        world.place_order(1, i, AAPL, Order(action="BUY", orderType="LMT", totalQuantity=100,
                                            lmtPrice=round(last - 3, 2), ocaGroup="g",
                                            ocaType=1))  # fmt: skip
    world.fill_order(1, 2)
    assert [world.order(1, i).status for i in (1, 2, 3)] == ["Cancelled", "Filled", "Cancelled"]
    world.place_order(1, 4, AAPL, Order(action="BUY", orderType="LMT", totalQuantity=100,
                                        lmtPrice=round(last - 3, 2)))  # fmt: skip
    clock.advance(seconds=1)
    events = world.global_cancel()
    assert {e.order_id for e in events} == {4}
    check(world.orders)
