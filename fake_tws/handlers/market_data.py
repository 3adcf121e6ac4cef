"""Handlers for the market data family of requests."""

from fake_tws.session import Handlers

HANDLERS = Handlers()
