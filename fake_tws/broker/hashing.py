"""Counter-based randomness: every random choice is addressed by what it is for.

The world never draws from a shared stream, so any day, minute or second of any
instrument can be computed on its own, in any order, and always comes out the same
for the same seed. Python's `hash()` is salted per process, so keys go through blake2b.
"""

from __future__ import annotations

import hashlib
import math
import random

_MASK = (1 << 64) - 1


def stable_key(*parts: object) -> int:
    """A 64-bit integer determined only by `parts` (ints, strings, dates...)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def rng(*parts: object) -> random.Random:
    """A private random generator for one purpose, seeded by `parts`."""
    return random.Random(stable_key(*parts))


def mix64(x: int) -> int:
    """splitmix64's finaliser: a cheap bijective scramble of a 64-bit integer."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def unit(x: int) -> float:
    """A uniform float in [0, 1) derived from an integer key."""
    return (mix64(x) >> 11) * (1.0 / (1 << 53))


def normal(x: int) -> float:
    """A standard normal derived from an integer key (Box-Muller)."""
    u1 = 1.0 - unit(x)  # (0, 1]: log stays finite
    u2 = unit(x ^ 0x5DEECE66D)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
