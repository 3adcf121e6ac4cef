from __future__ import annotations

import pytest

from tests.adapter.node.support import server_options


@pytest.fixture
def fake_tws_options():
    """Every node test's fake-tws: virtual time from the wall clock's now, one account,
    static prices (see support.server_options)."""
    return server_options()
