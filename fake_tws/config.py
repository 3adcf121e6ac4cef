"""How one fake gateway is set up: where it listens and what it tells its clients."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from .broker import AccountConfig, WorldConfig
from .clock import Clock, RealClock
from .protocol import versions as V
from .protocol.framing import DEFAULT_MAX_FRAME

# Bounds of ServerConfig.max_frame: a frame must hold any request ibapi sends (placeOrder
# is the longest, under 1 KiB), and its length must fit the 4-byte prefix.
MIN_FRAME = 1024
MAX_FRAME = 2**32 - 1

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(entries: tuple[str, ...]) -> tuple[IpNetwork, ...]:
    """ServerConfig.trusted_ips as networks (an address is a one-address network).
    Raises ValueError naming a bad entry."""
    if isinstance(entries, str):
        raise ValueError(f"trusted_ips is a tuple of addresses, not the text {entries!r}")
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(str(entry).strip(), strict=False))
        except ValueError:
            raise ValueError(
                f"trusted IP {entry!r} is not an IP address or network "
                "(e.g. 10.0.0.7, 192.168.1.0/24, ::1)"
            ) from None
    return tuple(networks)


def is_trusted(host: str, networks: tuple[IpNetwork, ...]) -> bool:
    """Whether a peer at `host` may connect: no list, localhost, or in the list."""
    if not networks:
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # a dual-stack listener sees ::ffff:10.0.0.7
    if address == ipaddress.ip_address("127.0.0.1") or address == ipaddress.ip_address("::1"):
        return True
    return any(address in network for network in networks)


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 0  # 0: the OS picks a free port (see Server.port)
    accounts: tuple[str, ...] = ("DU123456",)
    min_version: int = V.MIN_SUPPORTED
    max_version: int = V.MAX_SUPPORTED
    first_order_id: int = 1
    clock: Clock = field(default_factory=RealClock)
    # The time zone the connection time is shown in ("20260405 09:30:00 EST" for
    # "America/New_York"); clients only log it.
    timezone: str = "UTC"
    # Bytes queued for one client before it counts as not reading and is disconnected.
    outbox_limit: int = 8 * 1024 * 1024
    # The largest request frame accepted, in bytes; a bigger length prefix closes the
    # connection before its body is buffered.
    max_frame: int = DEFAULT_MAX_FRAME
    # Like TWS's "Trusted IPs": when not empty, a connection from any other address is
    # closed at once (and logged); localhost (127.0.0.1, ::1) is always trusted, as in
    # TWS. Entries are addresses or networks ("10.0.0.7", "192.168.1.0/24"). Empty: every
    # address that can reach `host` may connect.
    trusted_ips: tuple[str, ...] = ()
    # Like TWS's "Read-Only API" setting: placeOrder, cancelOrder, reqGlobalCancel and
    # exerciseOptions are refused with error 321; everything else is served.
    read_only: bool = False
    # The simulated world (seed, accounts with cash and positions, instruments). None:
    # one default account per managed account id above.
    world: WorldConfig | None = None
    # Markets trade at every hour of every day (regular hours stay as they are), so a
    # client that subscribes sees quotes and trades move whenever it looks. False: each
    # instrument trades only in its exchange's hours, as at IB. A configured `world` that
    # says otherwise (WorldConfig.around_the_clock True or False) wins.
    around_the_clock: bool = True
    # Instruments the account has no real-time market data permission for, by symbol or
    # secType ("AAPL", "OPT", "*" for all): live requests are refused (10089, 10189, 420),
    # delayed ones (reqMarketDataType 3 or 4) get 15-minute-old data.
    no_live_data: tuple[str, ...] = ()
    # The data farms reported OK at every bootstrap (2104 market data, 2106 HMDS, 2158
    # sec-def; the kind follows the name as IB names them: ...hmds..., secdef...).
    farms: tuple[str, ...] = ("usfarm", "ushmds", "secdefnj")
    # How many messages the journal keeps (None: all, what tests want). A server that
    # runs long (a benchmark, `serve`) should cap it: the journal otherwise grows with
    # every tick sent. Past the cap the oldest entries are forgotten, a block at a time.
    journal_limit: int | None = None

    def __post_init__(self) -> None:
        if not self.accounts:
            raise ValueError("a gateway needs at least one managed account")
        if self.min_version > self.max_version:
            raise ValueError(f"empty version range {self.min_version}..{self.max_version}")
        if not (self.min_version >= V.MIN_SUPPORTED and self.max_version <= V.MAX_SUPPORTED):
            raise ValueError(
                f"versions {self.min_version}..{self.max_version} are outside what fake-tws "
                f"speaks ({V.MIN_SUPPORTED}..{V.MAX_SUPPORTED})"
            )
        if self.journal_limit is not None and self.journal_limit < 1:
            raise ValueError(
                f"journal_limit must be at least 1 (or None), not {self.journal_limit}"
            )
        if self.outbox_limit < 1:
            raise ValueError(f"outbox_limit must be at least 1 byte, not {self.outbox_limit}")
        if not MIN_FRAME <= self.max_frame <= MAX_FRAME:
            raise ValueError(
                f"max_frame must be {MIN_FRAME}..{MAX_FRAME} bytes, not {self.max_frame}"
            )
        trusted_networks(self.trusted_ips)  # a bad entry fails here, not at a connection
        ZoneInfo(self.timezone)  # an unknown zone fails here, not at the first connection
        if self.world is not None:
            unknown = set(self.accounts) - {a.account_id for a in self.world.accounts}
            if unknown:
                raise ValueError(
                    f"managed accounts {sorted(unknown)} are not accounts of the world "
                    f"({[a.account_id for a in self.world.accounts]})"
                )

    def world_config(self) -> WorldConfig:
        """The world to simulate: as configured, or a default account per managed id."""
        if self.world is None:
            return WorldConfig(
                accounts=tuple(AccountConfig(account_id=a) for a in self.accounts),
                around_the_clock=self.around_the_clock,
            )
        if self.world.around_the_clock is not None:
            return self.world
        return replace(self.world, around_the_clock=self.around_the_clock)
