"""The library never imports its clients: ibapi, ib_async and the adapter stay outside.

Checked in a fresh interpreter, since the test process itself imports all of them.
"""

import subprocess
import sys

LIBRARY_MODULES = ["fake_tws.cli", "fake_tws.server", "fake_tws.session", "fake_tws.clock"]
FORBIDDEN = ["ibapi", "ib_async", "adapter", "nautilus_trader"]


def test_library_modules_do_not_import_clients():
    code = (
        f"import sys\nfor m in {LIBRARY_MODULES!r}: __import__(m)\n"
        f"print(sorted(m for m in {FORBIDDEN!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
