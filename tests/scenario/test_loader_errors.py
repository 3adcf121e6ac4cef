"""Each kind of mistake in a scenario file gives one error naming file:line:col, the
field path, and what was expected."""

from __future__ import annotations

import pytest

from fake_tws.scenario import ScenarioError, load_scenario, parse_scenario, validate_files
from tests.scenario.helpers import errors_of, write

# (kind of mistake, file text, the errors as "line:col: path: message")
CASES = [
    (
        "wrong type in a nested list item",
        """
        rules:
          - id: a
            when: {request: reqMktData}
            do:
              - partial_fill: [{quantity: 40, price: 150}, {quantity: 60, price: abc}]
        """,
        ['6:74: rules[0].do[0].partial_fill[1].price: expected a number, got "abc"'],
    ),
    (
        "bad number in a qty@price slice",
        """
        rules:
          - id: a
            when: {event: order_submitted}
            do:
              - partial_fill: ["40@150.10", "60@abc"]
        """,
        ['6:37: rules[0].do[0].partial_fill[1].price: expected a number, got "abc"'],
    ),
    (
        "slice text without @",
        """
        rules:
          - id: a
            when: {event: order_submitted}
            do: [{partial_fill: ["40"]}]
        """,
        [
            "5:26: rules[0].do[0].partial_fill[0]: expected a slice like "
            '"40@150.25" or {quantity: 40, price: 150.25}, got "40"'
        ],
    ),
    (
        "unknown field, with a suggestion",
        """
        world:
          seeed: 3
        """,
        ['3:3: world.seeed: unknown field "seeed"; did you mean "seed"?'],
    ),
    (
        "unknown field, no close match: the fields are listed",
        """
        world:
          server_version: {lowest: 100}
        """,
        ['3:20: world.server_version.lowest: unknown field "lowest" (fields: min, max)'],
    ),
    (
        "unknown field inside an IB Contract (lenient on the wire, strict in files)",
        """
        world:
          instruments:
            - contract: {symbol: XYZ, secTyp: STK}
              price: 10
        """,
        [
            '4:31: world.instruments[0].contract.secTyp: unknown field "secTyp"; '
            'did you mean "secType"?'
        ],
    ),
    (
        "unknown action, with a suggestion",
        """
        rules:
          - id: a
            when: {event: order_submitted}
            do: [{fil: {price: 1}}]
        """,
        ['5:11: rules[0].do[0].fil: unknown action "fil"; did you mean "fill"?'],
    ),
    (
        "unknown bare action",
        """
        rules:
          - id: a
            when: {event: order_submitted}
            do: [cancell]
        """,
        ['5:10: rules[0].do[0]: unknown action "cancell"; did you mean "cancel"?'],
    ),
    (
        "bare action that needs a value",
        """
        rules:
          - id: a
            when: {event: order_submitted}
            do: [delay]
        """,
        ['5:10: rules[0].do[0]: "delay" needs a value: write "delay: ..."'],
    ),
    (
        "two actions in one step",
        """
        rules:
          - id: a
            when: {event: order_submitted}
            do:
              - cancel: {}
                delay: 1s
        """,
        [
            "6:9: rules[0].do[0]: one action per step, got cancel and delay: "
            "write them as separate list items"
        ],
    ),
    (
        "empty do",
        """
        rules:
          - id: a
            when: {event: connected}
            do: []
        """,
        ["5:9: rules[0].do: expected a list that is not empty, got an empty list"],
    ),
    (
        "unknown request api name, with a suggestion",
        """
        rules:
          - id: a
            when: {request: placeOrdr}
            do: [{delay: 1s}]
        """,
        ['4:21: rules[0].when.request: unknown request "placeOrdr"; did you mean "placeOrder"?'],
    ),
    (
        "unknown matcher field, with a suggestion",
        """
        rules:
          - id: a
            when:
              request: placeOrder
              where: {contract.symbl: AAPL}
            do: [fill]
        """,
        [
            '6:15: rules[0].when.where["contract.symbl"]: contract has no field '
            "'symbl'; did you mean \"symbol\"?"
        ],
    ),
    (
        "unknown bare matcher field",
        """
        rules:
          - id: a
            when: {request: placeOrder, where: {orderTyp: LMT}}
            do: [fill]
        """,
        [
            "4:41: rules[0].when.where.orderTyp: placeOrder has no field "
            "'orderTyp'; did you mean \"orderType\"?"
        ],
    ),
    (
        "matcher path into a list",
        """
        rules:
          - id: a
            when: {request: placeOrder, where: {order.algoParams.tag: x}}
            do: [fill]
        """,
        [
            '4:41: rules[0].when.where["order.algoParams.tag"]: order.algoParams is a list; '
            "a path cannot go inside it"
        ],
    ),
    (
        "matcher literal of the wrong type",
        """
        rules:
          - id: a
            when: {request: placeOrder, where: {contract.symbol: 123}}
            do: [fill]
        """,
        [
            '4:58: rules[0].when.where["contract.symbol"]: contract.symbol is a string; '
            'got 123 (quote it: "123")'
        ],
    ),
    (
        "operator that does not suit the field",
        """
        rules:
          - id: a
            when: {request: placeOrder, where: {order.orderType: {gt: 3}}}
            do: [fill]
        """,
        [
            '4:63: rules[0].when.where["order.orderType"].gt: gt compares numbers; '
            "order.orderType is a string"
        ],
    ),
    (
        "unknown operator",
        """
        rules:
          - id: a
            when: {request: placeOrder, where: {order.lmtPrice: {gte: 3}}}
            do: [fill]
        """,
        [
            '4:58: rules[0].when.where["order.lmtPrice"].gte: unknown field "gte"; '
            'did you mean "gt"?'
        ],
    ),
    (
        "regex that does not compile",
        """
        rules:
          - id: a
            when: {request: placeOrder, where: {order.orderRef: {regex: "(a"}}}
            do: [fill]
        """,
        [
            "4:65: rules[0].when.where[\"order.orderRef\"].regex: regex '(a' does not compile: "
            "missing ), unterminated subpattern at position 0"
        ],
    ),
    (
        "event matcher of the wrong type",
        """
        rules:
          - id: a
            when: {event: order_filled, where: {filled: many}}
            do: [{delay: 1s}]
        """,
        ['4:49: rules[0].when.where.filled: filled is a number; got "many"'],
    ),
    (
        "badly named binding",
        """
        rules:
          - id: a
            when: {request: reqMktData, where: {reqId: $1}}
            do: [{error: {code: 354}}]
        """,
        [
            '4:48: rules[0].when.where.reqId: "$1" is not a binding name ($ then letters, '
            'digits, _); to match the text itself write {eq: "$1"}'
        ],
    ),
    (
        "unknown binding used by an action, with a suggestion",
        """
        rules:
          - id: a
            when: {request: reqContractDetails}
            do: [{error: {code: 200, reqId: $reqid}}]
        """,
        [
            '5:37: rules[0].do[0].error.reqId: unknown binding "$reqid"; did you mean '
            '"$reqId"? (bound here: $clientId, $contract, $reqId)'
        ],
    ),
    (
        "order action whose trigger binds no order",
        """
        rules:
          - id: a
            when: {at: "+30s"}
            do: [cancel]
        """,
        [
            "5:10: rules[0].do[0].cancel: cancel acts on $orderId, but this rule's `at` "
            "trigger binds no order id; say which order with `order:`"
        ],
    ),
    (
        "bad duration",
        """
        rules:
          - id: a
            when: {event: connected}
            do: [{delay: 5 seconds}]
        """,
        [
            '5:18: rules[0].do[0].delay: expected a duration like "500ms", "30s", "2m" or '
            '"1h30m", got "5 seconds"'
        ],
    ),
    (
        "bad time",
        """
        rules:
          - id: a
            when: {at: soon}
            do: [{delay: 1s}]
        """,
        [
            '4:16: rules[0].when.at: expected an offset from the start like "+30s" or an ISO '
            'date-time with a UTC offset, got "soon"'
        ],
    ),
    (
        "time without a UTC offset",
        """
        rules:
          - id: a
            when: {at: 2026-01-05T09:30:00}
            do: [{delay: 1s}]
        """,
        [
            "4:16: rules[0].when.at: expected a date-time with a UTC offset (add Z or "
            "+00:00) so the moment is unambiguous, got 2026-01-05T09:30:00"
        ],
    ),
    (
        "absolute time before the world starts",
        """
        world: {start: "2026-01-05T14:30:00Z"}
        rules:
          - id: a
            when: {at: "2026-01-05T14:00:00Z"}
            do: [{delay: 1s}]
        """,
        [
            "5:16: rules[0].when.at: this is before the world starts "
            "(2026-01-05T14:30:00+00:00); it would never fire"
        ],
    ),
    (
        "world start without a time zone",
        """
        world: {start: 2026-01-05T09:30:00}
        """,
        [
            "2:16: world.start: expected a date-time with a UTC offset, e.g. "
            "2026-01-05T09:30:00-05:00, got 2026-01-05T09:30:00"
        ],
    ),
    (
        "missing required field",
        """
        rules:
          - id: a
            when: {request: reqMktData}
            do: [{error: {text: boom}}]
        """,
        ['5:18: rules[0].do[0].error: missing required field "code"'],
    ),
    (
        "missing rule id",
        """
        rules:
          - when: {request: reqMktData}
            do: [{error: {code: 354}}]
        """,
        ['3:5: rules[0]: missing required field "id"'],
    ),
    (
        "duplicate rule id",
        """
        rules:
          - id: same
            when: {event: connected}
            do: [{delay: 1s}]
          - id: same
            when: {event: disconnected}
            do: [{delay: 1s}]
        """,
        ['6:9: rules[1].id: duplicate rule id "same" (first at test.yaml:3)'],
    ),
    (
        "after names an unknown rule",
        """
        rules:
          - id: place-ack
            when: {event: order_submitted}
            do: [{delay: 1s}]
          - id: then
            when: {after: place-akc, delay: 2s}
            do: [cancel]
        """,
        ['7:19: rules[1].when.after: no rule has id "place-akc"; did you mean "place-ack"?'],
    ),
    (
        "trigger of two kinds",
        """
        rules:
          - id: a
            when: {request: reqMktData, at: "+1s"}
            do: [{delay: 1s}]
        """,
        [
            "4:11: rules[0].when: expected exactly one of request, event, at, after; got request and at"
        ],
    ),
    (
        "where on a trigger without fields",
        """
        rules:
          - id: a
            when: {at: "+1s", where: {reqId: 1}}
            do: [{delay: 1s}]
        """,
        ["4:11: rules[0].when: `where` matches message fields; an `at` trigger has none"],
    ),
    (
        "unknown event, with a suggestion",
        """
        rules:
          - id: a
            when: {event: order_fild}
            do: [{delay: 1s}]
        """,
        [
            "4:19: rules[0].when.event: expected one of bar_closed, connected, disconnected, "
            "execution, order_cancelled, order_filled, order_rejected, order_submitted; "
            'got "order_fild"; did you mean "order_filled"?'
        ],
    ),
    (
        "choice not among the allowed ones",
        """
        rules:
          - id: a
            when: {event: connected}
            do: [{disconnect: {mode: rst}}]
        """,
        [
            "5:30: rules[0].do[0].disconnect.mode: expected one of close, reset, silence, "
            'truncate; got "rst"; did you mean "reset"?'
        ],
    ),
    (
        "negative quantity",
        """
        rules:
          - id: a
            when: {event: order_submitted}
            do: [{fill: {quantity: -5}}]
        """,
        ["5:28: rules[0].do[0].fill.quantity: expected a number > 0, got -5"],
    ),
    (
        "error code not an integer",
        """
        rules:
          - id: a
            when: {event: connected}
            do: [{error: {code: "10089x"}}]
        """,
        ['5:25: rules[0].do[0].error.code: expected an integer, got "10089x"'],
    ),
    (
        "market data type out of range",
        """
        rules:
          - id: a
            when: {event: connected}
            do: [{market_data_type: 5}]
        """,
        ["5:29: rules[0].do[0].market_data_type: expected an integer <= 4, got 5"],
    ),
    (
        "bad price inside a symbol -> price mapping",
        """
        rules:
          - id: a
            when: {event: connected}
            do: [{move_price: {AAPL: 150, MSFT: up}}]
        """,
        ['5:41: rules[0].do[0].move_price.MSFT: expected a number, got "up"'],
    ),
    (
        "farm state IB has no notice for",
        """
        rules:
          - id: a
            when: {event: connected}
            do: [{farm_status: {farm: secdefnj, state: inactive}}]
        """,
        ["5:24: rules[0].do[0].farm_status: a secdef farm has no 'inactive' notice in IB"],
    ),
    (
        "respond to a trigger that is not a request",
        """
        rules:
          - id: a
            when: {event: connected}
            do: [{respond: []}]
        """,
        ["5:10: rules[0].do[0]: respond answers a request; this rule's trigger is `event`"],
    ),
    (
        "respond with an unknown message",
        """
        rules:
          - id: a
            when: {request: reqCurrentTime}
            do: [{respond: [{curentTime: {time: 1}}]}]
        """,
        [
            '5:22: rules[0].do[0].respond[0].curentTime: unknown response "curentTime"; '
            'did you mean "currentTime"?'
        ],
    ),
    (
        "respond with a field of the wrong type",
        """
        rules:
          - id: a
            when: {request: reqMktData}
            do: [{respond: [{tickPrice: {reqId: $reqId, tickType: bid, price: 1.5}}]}]
        """,
        ['5:59: rules[0].do[0].respond[0].tickPrice.tickType: expected an integer, got "bid"'],
    ),
    (
        "send with an unknown nested field",
        """
        rules:
          - id: a
            when: {event: connected}
            do:
              - send: [{contractDetails: {reqId: 1, contractDetails: {contract: {symbl: X}}}}]
        """,
        [
            "6:74: rules[0].do[0].send[0].contractDetails.contractDetails.contract.symbl: "
            'unknown field "symbl"; did you mean "symbol"?'
        ],
    ),
    (
        "advance_clock on a real-time clock",
        """
        world: {clock: realtime}
        rules:
          - id: a
            when: {event: connected}
            do: [{advance_clock: 1m}]
        """,
        ["6:10: rules[0].do[0]: advance_clock needs `clock: virtual` in the world"],
    ),
    (
        "server version range upside down",
        """
        world:
          server_version: {min: 180, max: 150}
        """,
        ["3:19: world.server_version: min (180) is above max (150)"],
    ),
    (
        "server version out of the supported range",
        """
        world:
          server_version: {min: 10}
        """,
        ["3:25: world.server_version.min: expected an integer >= 100, got 10"],
    ),
    (
        "managed account that is not an account",
        """
        world:
          accounts: [{id: DU111}]
          managed_accounts: [DU112]
        """,
        [
            '4:22: world.managed_accounts[0]: "DU112" is not one of the accounts; did you mean "DU111"?'
        ],
    ),
    (
        "duplicate account id",
        """
        world:
          accounts: [{id: DU111}, {id: DU111}]
        """,
        ['3:32: world.accounts[1].id: duplicate account "DU111"'],
    ),
    (
        "two matchers for the same field",
        """
        rules:
          - id: a
            when: {request: placeOrder, where: {order.orderType: LMT, orderType: MKT}}
            do: [fill]
        """,
        ['4:63: rules[0].when.where.orderType: "orderType" names order.orderType again'],
    ),
    (
        "duplicate key in a mapping",
        """
        rules:
          - id: a
            id: b
        """,
        ['4:5: duplicate key "id" (first given on line 3)'],
    ),
    (
        "bad YAML syntax",
        """
        rules:
          - id: a
            when: {request: reqMktData
            do: [cancel]
        """,
        ["5:7: YAML: did not find expected ',' or '}'"],
    ),
    (
        "top level is not a mapping",
        """
        - id: a
        """,
        ["2:1: expected a mapping at the top level (world:, rules:, include:)"],
    ),
    (
        "id with spaces",
        """
        rules:
          - id: my rule
            when: {event: connected}
            do: [{delay: 1s}]
        """,
        ['3:9: rules[0].id: expected an id of letters, digits and _ . : -, got "my rule"'],
    ),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_mistake_is_reported_where_it_is(text, expected):
    assert errors_of(text) == expected


def test_there_are_at_least_twenty_kinds_of_mistake():
    assert len({c[0] for c in CASES}) >= 20


def test_error_names_the_file(tmp_path):
    path = write(tmp_path, "fills/partial.yaml", "world:\n  sed: 1\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value) == f'{path}:2:3: world.sed: unknown field "sed"; did you mean "seed"?'
    (issue,) = caught.value.issues
    assert (issue.file, issue.line, issue.column, issue.path) == (str(path), 2, 3, "world.sed")


def test_every_unknown_key_is_reported_at_once():
    text = """
    world: {sed: 1, clok: virtual}
    rules:
      - id: a
        when: {event: connected}
        do: [{delay: 1s, dely: 2s}]
    """
    assert errors_of(text) == [
        '2:9: world.sed: unknown field "sed"; did you mean "seed"?',
        '2:17: world.clok: unknown field "clok"; did you mean "clock"?',
        '6:22: rules[0].do[0].dely: unknown action "dely"; did you mean "delay"?',
    ]


def test_include_not_found(tmp_path):
    root = write(tmp_path, "root.yaml", "include: [shared/nothing.yaml]\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(root)
    (issue,) = caught.value.issues
    assert (issue.line, issue.column, issue.path) == (1, 11, "include[0]")
    assert issue.message.startswith(
        f'include "shared/nothing.yaml" is not next to this file ({tmp_path / "shared"}), and '
    )


def test_include_cycle_names_the_chain(tmp_path):
    a = write(tmp_path, "a.yaml", "include: [b.yaml]\n")
    write(tmp_path, "b.yaml", "world: {seed: 1}\ninclude: [c.yaml]\n")
    write(tmp_path, "c.yaml", "include: [a.yaml]\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(a)
    (issue,) = caught.value.issues
    assert issue.file.endswith("c.yaml")
    assert (issue.line, issue.column, issue.path) == (1, 11, "include[0]")
    assert issue.message == (
        f"include cycle: {tmp_path / 'a.yaml'} -> {tmp_path / 'b.yaml'} -> "
        f"{tmp_path / 'c.yaml'} -> {tmp_path / 'a.yaml'}"
    )


def test_file_including_itself_is_a_cycle(tmp_path):
    a = write(tmp_path, "a.yaml", "include: [./a.yaml]\n")
    with pytest.raises(ScenarioError, match="include cycle"):
        load_scenario(a)


def test_error_in_an_included_file_names_that_file(tmp_path):
    root = write(tmp_path, "root.yaml", "include: [lib/faults.yaml]\n")
    write(
        tmp_path,
        "lib/faults.yaml",
        """
        rules:
          - id: flap
            when: {at: "+1m"}
            do: [{farm_status: {farm: usfarm, state: flaky}}]
        """,
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(root)
    (issue,) = caught.value.issues
    assert issue.file == str(tmp_path / "lib" / "faults.yaml")
    assert str(issue).endswith(
        '5:46: rules[0].do[0].farm_status.state: expected one of broken, inactive, ok; got "flaky"'
    )


def test_duplicate_rule_id_across_included_files(tmp_path):
    root = write(
        tmp_path,
        "root.yaml",
        """
        include: [lib.yaml]
        rules:
          - id: flap
            when: {event: connected}
            do: [{delay: 1s}]
        """,
    )
    write(
        tmp_path,
        "lib.yaml",
        "rules:\n  - id: flap\n    when: {event: connected}\n    do: [{delay: 1s}]\n",
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(root)
    (issue,) = caught.value.issues
    assert issue.file == str(root)
    assert issue.message == f'duplicate rule id "flap" (first at {tmp_path / "lib.yaml"}:2)'


def test_after_may_name_a_rule_of_an_included_file(tmp_path):
    root = write(
        tmp_path,
        "root.yaml",
        """
        include: [lib.yaml]
        rules:
          - id: later
            when: {after: ack, delay: 1s}
            do: [cancel]
        """,
    )
    write(
        tmp_path,
        "lib.yaml",
        "rules:\n  - id: ack\n    when: {event: order_submitted}\n    do: [{delay: 1s}]\n",
    )
    scenario = load_scenario(root)
    assert [r.id for r in scenario.rules] == ["ack", "later"]


def test_missing_file():
    (issue,) = validate_files(["/nonexistent/dir/x.yaml"])
    assert str(issue) == "/nonexistent/dir/x.yaml: no such file"


def test_missing_relative_name_is_looked_up_in_the_library(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_TWS_SCENARIO_PATH", str(tmp_path))
    write(tmp_path, "fills/partial.yaml", "name: p\n")
    (issue,) = validate_files(["fills/partail.yaml"])
    assert issue.message.startswith("no such file, and not in the scenario library (")
    assert issue.message.endswith('did you mean "fills/partial.yaml"?')


def test_a_file_that_is_not_text(tmp_path):
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\xff\xfe\x00")
    (issue,) = validate_files([path])
    assert issue.message.startswith("cannot read:")


def test_validate_files_collects_every_files_problems(tmp_path):
    good = write(tmp_path, "good.yaml", "world: {seed: 1}\n")
    bad1 = write(tmp_path, "bad1.yaml", "world: {seed: x}\n")
    bad2 = write(tmp_path, "bad2.yaml", "rules: 3\n")
    issues = validate_files([good, bad1, bad2])
    assert [str(i) for i in issues] == [
        f'{bad1}:1:15: world.seed: expected an integer, got "x"',
        f"{bad2}:1:8: rules: expected a list, got 3",
    ]


def test_a_file_included_twice_reports_its_problem_once(tmp_path):
    write(tmp_path, "lib.yaml", "world: {seed: x}\n")
    one = write(tmp_path, "one.yaml", "include: [lib.yaml]\n")
    two = write(tmp_path, "two.yaml", "include: [lib.yaml]\n")
    assert len(validate_files([one, two])) == 1


def test_errors_from_text_name_the_given_source():
    with pytest.raises(ScenarioError) as caught:
        parse_scenario("world: {seed: x}\n", "inline.yaml")
    assert str(caught.value) == 'inline.yaml:1:15: world.seed: expected an integer, got "x"'
