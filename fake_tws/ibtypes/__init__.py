"""The TWS API's vocabulary as plain value types: Contract, Order, Execution, Bar...

Both the wire codec (`protocol/`) and the simulated world (`broker/`) speak in these
types, so neither has to translate a 100-field Order into its own twin. This package
knows no bytes, no message ids and no world state. Field names follow IB's API.
"""

from .contract import ComboLeg, Contract, DeltaNeutralContract, TagValue

__all__ = ["ComboLeg", "Contract", "DeltaNeutralContract", "TagValue"]
