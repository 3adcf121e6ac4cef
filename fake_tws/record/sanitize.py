"""Replace what identifies a real account in a recording, consistently.

Account ids, perm ids, exec ids and order refs become placeholders: the same original
always gives the same placeholder (DU1234567 -> DU0000001, 1523457891 -> 1000000001,
"0000e0d5.6553b1b6.01.01" -> "00000001.00000000.01.01", "my-ref" -> "ref0001"), so a
recording still reads as one consistent conversation.

Values are found where the protocol puts them (positions from `layouts`, typed request
fields, managedAccounts) and then replaced wherever they occur: accounts as whole tokens
inside any text (an error text may name one), perm ids and exec ids as whole fields, order
refs as whole fields where the protocol puts them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import msgspec

from fake_tws.protocol import table
from fake_tws.protocol.messages import Request

from .layouts import Layout, layout_of

ACCOUNT_LEAVES = (
    "account",
    "acctNumber",
    "accountName",
    "acctCode",
    "customerAccount",
    "clearingAccount",
)
PERM_LEAVES = ("permId", "parentPermId")
EXEC_LEAVES = ("execId",)
REF_LEAVES = ("orderRef",)
# How an account id looks (DU1234567, U1234567, DF123456, F1234567).
ACCOUNT_SHAPE = re.compile(r"^[A-Z]{1,3}\d{3,10}[A-Z]?$")
# Where a message's layout may shift (repeated groups); positions are trusted before it.
TRUSTED_HEAD = 40
_UNSET = frozenset({"", "0", "-1", "2147483647", "9223372036854775807"})
# Requests whose fields may carry secrets; never written into a recording.
SECRET_REQUESTS = frozenset(
    {"verifyRequest", "verifyMessage", "verifyAndAuthRequest", "verifyAndAuthMessage"}
)
SECRET_RESPONSES = frozenset({"verifyMessageAPI", "verifyAndAuthMessageAPI"})
_ORDER_BOUND = table.RESPONSES_BY_NAME["orderBound"]


class Sanitizer:
    def __init__(self) -> None:
        self.accounts: dict[str, str] = {}
        self.perm_ids: dict[str, str] = {}
        self.exec_ids: dict[str, str] = {}
        self.order_refs: dict[str, str] = {}
        self._account_re: re.Pattern[str] | None = None

    # -- learning --------------------------------------------------------------------------

    def learn_accounts(self, text: str) -> None:
        """Account ids from a managedAccounts list ("DU1,DU2")."""
        for part in text.split(","):
            self._account(part.strip())

    def learn_request(self, request: Request) -> None:
        for path, value in _request_leaves(request):
            leaf = path[-1]
            if leaf in ACCOUNT_LEAVES and isinstance(value, str):
                self._account(value)
            elif leaf in REF_LEAVES and isinstance(value, str) and value:
                self._ref(value)

    def learn_message(self, fields: list[str], version: int) -> None:
        lay = layout_of(fields, version)
        if lay is None:
            return
        if lay.cls.api_name == "managedAccounts" and len(fields) > 2:
            self.learn_accounts(fields[2])
            return
        for path in lay.paths_named(*ACCOUNT_LEAVES):
            value = _at(lay, fields, path)
            if value:
                self._account(value)
        for path in lay.paths_named(*PERM_LEAVES):
            self._perm(_at(lay, fields, path))
        if lay.cls is _ORDER_BOUND:  # its "reqId" is the order's perm id
            self._perm(_at(lay, fields, "reqId"))
        for path in lay.paths_named(*EXEC_LEAVES):
            value = _at(lay, fields, path)
            if value:
                self._exec(value)
        for path in lay.paths_named(*REF_LEAVES):
            value = _at(lay, fields, path)
            if value:
                self._ref(value)

    # -- replacing -------------------------------------------------------------------------

    def fields(self, fields: list[str], version: int) -> list[str]:
        """A recorded message with every known sensitive value replaced."""
        out = list(fields)
        lay = layout_of(fields, version)
        if lay is not None:
            if lay.cls.api_name in SECRET_RESPONSES:
                return [out[0], *("" for _ in out[1:])]
            for path in lay.paths_named(*REF_LEAVES):
                i = _trusted(lay, fields, path)
                if i is not None and out[i] in self.order_refs:
                    out[i] = self.order_refs[out[i]]
            for path in lay.paths_named(*PERM_LEAVES):
                i = _trusted(lay, fields, path)
                if i is not None and out[i] in self.perm_ids:
                    out[i] = self.perm_ids[out[i]]
            if lay.cls is _ORDER_BOUND and out[1] in self.perm_ids:
                out[1] = self.perm_ids[out[1]]
        for i, value in enumerate(out):
            if i == 0:
                continue
            if value in self.exec_ids:
                out[i] = self.exec_ids[value]
            elif value in self.perm_ids and len(value) >= 6:
                out[i] = self.perm_ids[value]
            else:
                out[i] = self.text(value)
        return out

    def text(self, value: str) -> str:
        """Account ids inside any text replaced."""
        if not self.accounts or not value:
            return value
        if self._account_re is None:
            names = sorted(self.accounts, key=len, reverse=True)
            alternatives = "|".join(re.escape(n) for n in names)
            self._account_re = re.compile(rf"(?<![A-Za-z0-9])({alternatives})(?![A-Za-z0-9])")
        return self._account_re.sub(lambda m: self.accounts[m.group(1)], value)

    def value(self, value: Any) -> Any:
        """A typed request field's value, sanitised (text only)."""
        if isinstance(value, str):
            if value in self.order_refs:
                return self.order_refs[value]
            return self.text(value)
        return value

    def summary(self) -> str:
        parts = [
            _count(len(self.accounts), "account id"),
            _count(len(self.perm_ids), "perm id"),
            _count(len(self.exec_ids), "exec id"),
            _count(len(self.order_refs), "order ref"),
        ]
        return ", ".join(parts)

    def originals(self) -> Iterable[str]:
        """Every original value replaced (for checks that none is left)."""
        yield from self.accounts
        yield from self.perm_ids
        yield from self.exec_ids
        yield from self.order_refs

    # -- placeholders ----------------------------------------------------------------------

    def _account(self, value: str) -> None:
        if not ACCOUNT_SHAPE.match(value) or value in self.accounts:
            return
        prefix = re.match(r"[A-Z]*", value).group(0)  # type: ignore[union-attr]
        self.accounts[value] = f"{prefix}{len(self.accounts) + 1:07d}"
        self._account_re = None

    def _perm(self, value: str | None) -> None:
        if value is None or value in _UNSET or value in self.perm_ids:
            return
        if not value.lstrip("-").isdigit():
            return
        self.perm_ids[value] = str(1_000_000_000 + len(self.perm_ids) + 1)

    def _exec(self, value: str) -> None:
        if value in self.exec_ids:
            return
        n = len(self.exec_ids) + 1
        parts = value.split(".")
        if len(parts) >= 3:  # IB's shape: route.serial.NN.NN, the tail says which correction
            self.exec_ids[value] = ".".join([f"{n:08x}", "00000000", *parts[2:]])
        else:
            self.exec_ids[value] = f"exec{n:06d}"

    def _ref(self, value: str) -> None:
        if value not in self.order_refs:
            self.order_refs[value] = f"ref{len(self.order_refs) + 1:04d}"


def _at(lay: Layout, fields: list[str], path: str) -> str | None:
    i = _trusted(lay, fields, path)
    return fields[i] if i is not None else None


def _trusted(lay: Layout, fields: list[str], path: str) -> int | None:
    i = lay.position(path)
    if i is None or i >= len(fields):
        return None
    if len(fields) != lay.length and i >= TRUSTED_HEAD:
        return None
    return i


def _request_leaves(message: Any, prefix: tuple[str, ...] = ()):
    """(path, value) of a request's scalar fields, nested structs included."""
    if not isinstance(message, msgspec.Struct):
        return
    for f in msgspec.structs.fields(message):
        value = getattr(message, f.name)
        path = (*prefix, f.name)
        if isinstance(value, msgspec.Struct):
            if len(path) < 3:
                yield from _request_leaves(value, path)
        elif not isinstance(value, tuple | list | dict):
            yield path, value


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"
