"""Handlers for the accounts family of requests."""

from fake_tws.session import Handlers

HANDLERS = Handlers()
