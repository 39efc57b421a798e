"""Human-readable numbers: message sizes in binary units, times and rates in decimal ones."""

from __future__ import annotations

import math

KIB = 1024
MIB = 1024 * 1024


def n_repetitions(count: int) -> str:
    """"1 repetition", "3 repetitions"."""
    return f"{count} repetition{'' if count == 1 else 's'}"


def format_size(size: float) -> str:
    """1 B, 4095 B, 4 KiB, 64 KiB, 1 MiB: binary units only where the size is an exact multiple."""
    size = int(size)
    for unit, scale in (("GiB", MIB * KIB), ("MiB", MIB), ("KiB", KIB)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} B"


def format_ns(ns: float) -> str:
    if not math.isfinite(ns):
        return "—"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if abs(ns) >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def format_rate(bytes_per_second: float) -> str:
    if not math.isfinite(bytes_per_second):
        return "—"
    for unit, scale in (("TB/s", 1e12), ("GB/s", 1e9), ("MB/s", 1e6), ("kB/s", 1e3)):
        if abs(bytes_per_second) >= scale:
            return f"{bytes_per_second / scale:.3g} {unit}"
    return f"{bytes_per_second:.3g} B/s"


def size_ticks(low: int, high: int) -> list[int]:
    """Powers of four from low to high: 1 B, 4 B, ..., 4 KiB, 16 KiB, 64 KiB, ... 4 MiB."""
    ticks = []
    tick = 1
    while tick <= high:
        if tick >= low:
            ticks.append(tick)
        tick *= 4
    return ticks or [low]
