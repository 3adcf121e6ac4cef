"""The historic client under its older module name (``...interactive_brokers.historic``),
so scripts written against it switch by changing the package only."""

from adapter.historical.client import HistoricInteractiveBrokersClient

__all__ = ["HistoricInteractiveBrokersClient"]
