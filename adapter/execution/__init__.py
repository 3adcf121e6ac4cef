"""``InteractiveBrokersExecutionClient`` (see ``adapter.execution.client`` for what it does).

One module per concern, as mixins of the client: ``orders`` (commands to IB), ``events``
(IB's order messages to NautilusTrader events), ``account``, ``reports`` (reports and
reconciliation after a reconnect); ``records`` is what it remembers of each order.
"""

from adapter.execution.client import InteractiveBrokersExecutionClient

__all__ = ["InteractiveBrokersExecutionClient"]
