"""Handlers for the historical family of requests."""

from fake_tws.session import Handlers

HANDLERS = Handlers()
