"""Historical data from IB for backtests: ``HistoricInteractiveBrokersClient``."""

from adapter.historical.client import HistoricInteractiveBrokersClient

__all__ = ["HistoricInteractiveBrokersClient"]
