"""Steering a running fake-tws: shared actions, the HTTP control API and its client.

- `actions`: what a test can do to a server (inject errors, disconnect a client, move the
  virtual clock, read status and journal), used by the pytest plugin and the API.
- `server`: `ControlServer`, a small HTTP/1.1 JSON API on 127.0.0.1 (`fake-tws serve
  --control-port`).
- `client`: `ControlClient`, its Python client (stdlib only).
- `settings`: scenario files and options -> `ServerConfig`.

Importing this package imports only the client; the others load on first use.
"""

from .client import ControlClient, ControlError, ControlUnavailable

__all__ = ["ControlClient", "ControlError", "ControlUnavailable"]
