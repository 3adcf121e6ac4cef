"""Handlers for the contracts family of requests."""

from fake_tws.session import Handlers

HANDLERS = Handlers()
