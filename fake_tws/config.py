"""How one fake gateway is set up: where it listens and what it tells its clients."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from .broker import AccountConfig, WorldConfig
from .clock import Clock, RealClock
from .protocol import versions as V
from .protocol.framing import DEFAULT_MAX_FRAME


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
    max_frame: int = DEFAULT_MAX_FRAME
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
