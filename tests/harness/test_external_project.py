"""The issue's "done when" (a): a project outside this repository, with nothing installed
but what fake-tws brought, uses the plugin's fixtures; its first test is the README's."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

MORE_TESTS = """\
import pytest

from fake_tws.journal import received


@pytest.mark.fake_tws(accounts=("DU1", "DU2"), first_order_id=100)
def test_marked(fake_tws):
    assert fake_tws.config.accounts == ("DU1", "DU2")


@pytest.mark.trio
async def test_trio(fake_tws):
    import trio

    from fake_tws.protocol.framing import frame

    stream = await trio.open_tcp_stream(fake_tws.host, fake_tws.port)
    async with stream:
        await stream.send_all(b"API\\0" + frame(b"v100..187") + frame(b"71\\x002\\x005\\x00\\x00"))
        entry = await fake_tws.wait_for_async(received("startApi", clientId=5))
        assert entry.client_id == 5


def test_session(fake_tws_session):
    assert fake_tws_session.port
"""


def readme_first_test() -> str:
    section = (REPO / "README.md").read_text().split("## Your first test", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def test_a_project_outside_the_repo_uses_the_installed_plugin(tmp_path):
    first = readme_first_test()
    assert len(first.strip().splitlines()) < 15
    (tmp_path / "test_first.py").write_text(first)
    (tmp_path / "test_more.py").write_text(MORE_TESTS)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "PYTHONPATH"))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-W", "ignore"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"rootdir: {tmp_path}" in output  # not this repository's configuration
    assert "plugins: " in output and "fake-tws-" in output  # found through its entry point
    assert "4 passed" in output
