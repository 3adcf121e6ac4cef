"""Contract details between ibapi's objects, our structs and an instrument's ``info``.

An instrument keeps its contract details in ``info`` in exactly the form NautilusTrader's
adapter uses (the details' fields, the contract as a dict, ``secIdList`` as
``{tag: value}``), so instruments cached by either adapter serve the other.
"""

from __future__ import annotations

from typing import Any

from ibapi.contract import Contract, ContractDetails

from adapter.common import IBContract, IBContractDetails


def ib_contract_from_ibapi(contract: Contract) -> IBContract:
    """Our contract for an ``ibapi`` one; attributes newer ibapi versions add are dropped."""
    return IBContract(**_known_fields(IBContract, vars(contract)))


def contract_details_to_ib_contract_details(details: ContractDetails) -> IBContractDetails:
    """Our struct for ``ibapi`` contract details (the ibapi object is left untouched)."""
    fields = _known_fields(IBContractDetails, vars(details))
    fields["contract"] = ib_contract_from_ibapi(details.contract)
    return IBContractDetails(**fields)


def contract_details_to_dict(details: IBContractDetails) -> dict[str, Any]:
    """The ``info`` form of contract details; ``common.dict_to_contract_details`` inverts it."""
    info = details.dict()
    info["contract"] = details.contract.dict() if details.contract is not None else None
    if details.secIdList:
        info["secIdList"] = {tag_value.tag: tag_value.value for tag_value in details.secIdList}
    return info


def _known_fields(struct_type: type, attributes: dict[str, Any]) -> dict[str, Any]:
    return {name: attributes[name] for name in struct_type.__struct_fields__ if name in attributes}
