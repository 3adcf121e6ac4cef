"""fake-tws: a scriptable fake Interactive Brokers TWS / IB Gateway."""

__version__ = "0.1.0"
