"""A Python client for the control API (stdlib only), to steer a fake-tws server that runs
in another process:

    control = ControlClient(port=8123)          # or ControlClient("http://127.0.0.1:8123")
    control.status()["clients"]
    control.advance(60)
    control.send_error(1100, client_id=1)
    entry = control.wait_for("placeOrder", orderType="LMT")
    control.disconnect(1)

Every method raises `ControlError` (with the HTTP `status` and the server's message)
when the server refuses, and `ControlUnavailable` when it cannot be reached.
`request()` calls any route, including ones added after this client was written.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections import deque
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

DEFAULT_TIMEOUT = 10.0


class ControlError(Exception):
    """The control API refused a request."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class ControlUnavailable(ControlError, ConnectionError):
    """The control API could not be reached (the server is not running, wrong port)."""

    def __init__(self, message: str) -> None:
        ControlError.__init__(self, 0, message)


class ControlClient:
    def __init__(
        self,
        url: str | None = None,
        *,
        port: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if (url is None) == (port is None):
            raise ValueError("give the control API's url or its port (one of them)")
        self.url = (url or f"http://127.0.0.1:{port}").rstrip("/")
        self.timeout = timeout
        # Never through a proxy: the API is on this machine, whatever $http_proxy says.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def __repr__(self) -> str:
        return f"ControlClient({self.url!r})"

    # -- any route -------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        query: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Call a route; returns the decoded JSON answer."""
        url = self.url + path
        if query:
            url += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with self._opener.open(req, timeout=timeout or self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            with exc:
                raw = exc.read()
            try:
                message = json.loads(raw)["error"]
            except (ValueError, KeyError, TypeError):
                message = raw.decode(errors="replace") or exc.reason
            raise ControlError(exc.code, message) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ControlUnavailable(
                f"cannot reach the fake-tws control API at {self.url}: {reason}"
            ) from None

    # -- the routes ------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Port, clients, server versions, clock, journal size, scenario."""
        return self.request("GET", "/status")

    def journal(
        self, since: int = 0, *, wait: float | None = None, limit: int | None = None
    ) -> dict[str, Any]:
        """{"entries": [...], "next": seq}; `wait` seconds for a first new entry."""
        timeout = self.timeout + (wait or 0)
        query = {"since": since, "wait": wait, "limit": limit}
        return self.request("GET", "/journal", query=query, timeout=timeout)

    def entries(self, since: int = 0) -> list[dict[str, Any]]:
        """Journal entries after `since`, oldest first."""
        return self.journal(since)["entries"]

    def advance(self, seconds: float) -> datetime:
        """Move the virtual clock on; returns the new time."""
        answer = self.request("POST", "/clock/advance", {"seconds": seconds})
        return datetime.fromisoformat(answer["time"])

    def set_time(self, when: datetime | str) -> datetime:
        """Jump the virtual clock to `when` (aware datetime or ISO text)."""
        text = when.isoformat() if isinstance(when, datetime) else when
        answer = self.request("POST", "/clock/set", {"time": text})
        return datetime.fromisoformat(answer["time"])

    def send_error(
        self,
        code: int,
        text: str | None = None,
        *,
        req_id: int = -1,
        client_id: int | None = None,
    ) -> list[int]:
        """Send an error/notice to one client or all; returns the client ids reached."""
        body: dict[str, Any] = {"code": code, "reqId": req_id}
        if text is not None:
            body["text"] = text
        if client_id is not None:
            body["clientId"] = client_id
        return self.request("POST", "/faults/error", body)["sent_to"]

    def farm_status(
        self, farm: str, state: str = "broken", *, client_id: int | None = None
    ) -> list[int]:
        """Announce a data farm's state (ok, broken, inactive) to one client or all."""
        body: dict[str, Any] = {"farm": farm, "state": state}
        if client_id is not None:
            body["clientId"] = client_id
        return self.request("POST", "/faults/farm", body)["sent_to"]

    def disconnect(self, client_id: int) -> None:
        """Close a client's connection from the server side."""
        self.request("POST", "/faults/disconnect", {"clientId": client_id})

    # -- waiting ---------------------------------------------------------------------------

    def wait_for(
        self,
        name: str,
        *,
        direction: str | None = None,
        client_id: int | None = None,
        since: int = 0,
        timeout: float = 5.0,
        **fields: Any,
    ) -> dict[str, Any]:
        """The first journal entry named `name` (after `since`) whose message has these
        field values (dotted paths, or a bare name found at any depth), waiting up to
        `timeout` seconds for it. `direction` is "received", "sent" or "event"."""
        deadline = time.monotonic() + timeout
        seen: deque[str] = deque(maxlen=20)
        while True:
            remaining = deadline - time.monotonic()
            answer = self.journal(since, wait=max(0.0, min(remaining, 1.0)))
            for entry in answer["entries"]:
                seen.append(f"#{entry['seq']} c{entry['clientId']} {entry['text']}")
                if _entry_matches(entry, name, direction, client_id, fields):
                    return entry
            since = answer["next"]
            if remaining <= 0:
                wanted = ", ".join(f"{k}={v!r}" for k, v in fields.items())
                recent = "\n  ".join(seen) or "(nothing)"
                raise AssertionError(
                    f"waited {timeout}s for {name}({wanted}), it did not come; "
                    f"latest entries:\n  {recent}"
                )


def _entry_matches(
    entry: dict[str, Any],
    name: str,
    direction: str | None,
    client_id: int | None,
    fields: dict[str, Any],
) -> bool:
    if entry["name"] != name or (direction is not None and entry["direction"] != direction):
        return False
    if client_id is not None and entry["clientId"] != client_id:
        return False
    message = entry["message"]
    return all(_same(_lookup(message, key), value) for key, value in fields.items())


_MISSING = object()


def _lookup(message: Any, key: str) -> Any:
    if "." in key:
        value = message
        for part in key.split("."):
            if not isinstance(value, dict) or part not in value:
                return _MISSING
            value = value[part]
        return value
    queue: deque[Any] = deque([message])  # a bare name: the nearest field of that name
    while queue:
        value = queue.popleft()
        if isinstance(value, dict):
            if key in value:
                return value[key]
            queue.extend(value.values())
    return _MISSING


def _same(actual: Any, wanted: Any) -> bool:
    if actual is _MISSING:
        return False
    if actual == wanted:
        return True
    try:  # quantities travel as text ("100"); compare numbers as numbers
        return float(actual) == float(wanted)
    except (TypeError, ValueError):
        return False
