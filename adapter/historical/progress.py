"""A progress bar for long downloads: tqdm on a terminal, nothing otherwise.

``show=None`` shows it when stderr is a terminal (not in tests, pipes or logs);
``True``/``False`` force it. Without tqdm installed there is no bar.
"""

from __future__ import annotations

import sys
from typing import Any


class Progress:
    def __init__(self, total: float, description: str, unit: str, show: bool | None) -> None:
        self._bar: Any = None
        if show is None:
            show = sys.stderr.isatty()
        if not show:
            return
        try:
            from tqdm import tqdm
        except ImportError:  # pragma: no cover - tqdm comes with nautilus_trader
            return
        self._bar = tqdm(total=total, desc=description, unit=unit, leave=False, file=sys.stderr)

    @property
    def shown(self) -> bool:
        return self._bar is not None

    def advance(self, amount: float = 1, **postfix: Any) -> None:
        if self._bar is not None:
            self._bar.update(amount)
            if postfix:
                self._bar.set_postfix(postfix, refresh=False)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
