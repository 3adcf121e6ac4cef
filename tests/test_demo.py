"""`python -m fake_tws.demo` (what `make demo` runs) shows a whole round trip and exits 0."""

import io
import threading

from fake_tws import demo


def test_demo_prints_bootstrap_and_current_time_and_leaves_no_threads():
    before = set(threading.enumerate())
    out = io.StringIO()
    assert demo.run(out) == 0
    text = out.getvalue()
    assert "connected: server version 187" in text
    assert "managedAccounts  DU123456" in text
    assert "nextValidId      1" in text
    for code in ("2104", "2106", "2158"):
        assert f"code={code}" in text
    assert "currentTime" in text
    assert text.rstrip().endswith("disconnected")
    assert set(threading.enumerate()) <= before
