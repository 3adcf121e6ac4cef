"""Handlers for the orders family of requests."""

from fake_tws.session import Handlers

HANDLERS = Handlers()
