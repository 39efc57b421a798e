"""The layer cost: each middleware against the raw kernel mechanism it rides on.

Every ratio reads the same way: above 1 is the factor the layer costs, below 1 a gain. Latency and
CPU are middleware / base; throughput, where more is better, is base / middleware. Each side is the
median over repetitions (report.Cell), and a ratio exists only where both sides have a value: a
side that is skipped, failed, unavailable or not in the report stays missing, with its reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

from .report import Cell, Report
from .units import format_ns, format_rate, format_size

MIDDLEWARE_FAMILY = "middleware"

# The one place that says which raw mechanism each middleware id rides on, and why: the kernel
# path its messages take on this harness (docs/mechanisms.md "Middleware" and the adapters' notes).
LAYER_BASES: dict[str, tuple[str, str]] = {
    "zeromq.ipc": (
        "unix_stream",
        "ZeroMQ's ipc:// transport is a Unix-domain stream socket on a path",
    ),
    "zeromq.tcp": ("tcp", "ZeroMQ's tcp:// transport is a TCP connection over loopback"),
    "nng.ipc": ("unix_stream", "nng's ipc:// transport is a Unix-domain stream socket on a path"),
    "grpc.uds": (
        "unix_stream",
        "gRPC on unix:PATH is HTTP/2 over a Unix-domain stream socket, a unary call per "
        "round trip",
    ),
    "grpc.uds.stream": (
        "unix_stream",
        "the same HTTP/2 connection over a Unix-domain stream socket, one bidirectional stream",
    ),
    "dbus.bus": (
        "unix_stream",
        "D-Bus messages go over Unix-domain stream sockets, here two hops through dbus-daemon",
    ),
    "dbus.p2p": (
        "unix_stream",
        "the same D-Bus marshalling over one Unix stream socket pair, without the daemon",
    ),
    "iceoryx.copy": (
        "posix_shm.futex",
        "iceoryx carries chunks in POSIX shared memory; our ring in a POSIX shared memory "
        "segment with blocking futex waits is the raw form",
    ),
    "iceoryx.zerocopy": (
        "posix_shm.futex",
        "the same shared memory transport, the producer writing straight into a loaned chunk",
    ),
    "boost.message_queue": (
        "posix_shm.futex",
        "Boost.Interprocess message_queue lives in POSIX shared memory and blocks on a "
        "process-shared condition variable (a futex)",
    ),
}


@dataclass(frozen=True)
class LayerMetric:
    key: str  # counter name in the report
    pattern: str
    name: str
    inverse: bool  # True: more is better, the ratio is base / middleware
    fmt: Callable[[float], str]

    @property
    def formula(self) -> str:
        return (
            f"base {self.name} / middleware {self.name}"
            if self.inverse
            else f"middleware {self.name} / base {self.name}"
        )


LAYER_METRICS = (
    LayerMetric("rtt_p50_ns", "latency", "p50 RTT", False, format_ns),
    LayerMetric("cpu_ns_per_message", "latency", "CPU per round trip", False, format_ns),
    LayerMetric("bytes_per_second", "throughput", "throughput", True, format_rate),
    LayerMetric("cpu_ns_per_message", "throughput", "CPU per message", False, format_ns),
)


@dataclass(frozen=True)
class Side:
    """One side of a ratio: its value, or why it has none."""

    id: str
    value: float  # NaN when missing
    missing: str  # "" when there is a value

    @property
    def short(self) -> str:
        """`skipped`, `failed`, `unavailable`, `not run` or `no <counter>`, for a table cell."""
        return self.missing.split(":", 1)[0].removesuffix(" in this report")


@dataclass(frozen=True)
class LayerCell:
    metric: LayerMetric
    size: int
    middleware: Side
    base: Side

    @property
    def ratio(self) -> float:
        """Above 1: the factor the layer costs; NaN where a side is missing or a divisor is 0."""
        top, bottom = (self.base, self.middleware) if self.metric.inverse else (
            self.middleware,
            self.base,
        )
        if self.missing or bottom.value <= 0:
            return math.nan
        return top.value / bottom.value

    @property
    def missing(self) -> str:
        """Why there is no ratio, naming the side(s); "" when there is one."""
        reasons = [f"{s.id} {s.missing}" for s in (self.middleware, self.base) if s.missing]
        if reasons:
            return "; ".join(reasons)
        divisor = self.middleware if self.metric.inverse else self.base
        return f"{divisor.id} {self.metric.name} is 0" if divisor.value <= 0 else ""


@dataclass
class LayerPair:
    """One middleware series and its base, with the cells of every metric and size run."""

    series: str  # the middleware's series (its id, plus the placement when it ran in several)
    id: str
    base: str
    why: str
    placement: str
    cells: list[LayerCell] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # whole metrics or the whole id missing

    def metric_cells(self, metric: LayerMetric) -> list[LayerCell]:
        return [c for c in self.cells if c.metric == metric]


@dataclass
class LayerTable:
    pairs: list[LayerPair]
    unmapped: list[str]  # middleware ids without a base in LAYER_BASES

    def __bool__(self) -> bool:
        return bool(self.pairs or self.unmapped)


def layer_table(report: Report) -> LayerTable:
    """Every mapped middleware of the report against its base; empty when it ran none."""
    index: dict[tuple[str, str, str, int], tuple[str, Cell]] = {}
    for (series, pattern, size), cell in report.cells.items():
        index[(cell.id, cell.placement, pattern, size)] = (series, cell)
    ran = {key[0] for key in index}
    registered = [
        m.get("id")
        for m in report.ipcbench.get("mechanisms") or []
        if isinstance(m, dict) and m.get("family") == MIDDLEWARE_FAMILY
    ]
    seen = [c.id for c in report.cells.values() if c.family == MIDDLEWARE_FAMILY]
    middleware = [i for i in dict.fromkeys(registered + seen) if isinstance(i, str)]
    relevant = [i for i in middleware if i in ran or report.unavailable(i)]
    unmapped = [i for i in relevant if i not in LAYER_BASES]
    if not any(i in LAYER_BASES for i in relevant):
        return LayerTable([], unmapped)
    pairs = []
    for bench_id in (i for i in LAYER_BASES if i in middleware):
        base, why = LAYER_BASES[bench_id]
        placements = sorted({key[1] for key in index if key[0] == bench_id})
        if not placements:
            pair = LayerPair(bench_id, bench_id, base, why, "")
            reason = report.unavailable(bench_id)
            pair.notes.append(f"unavailable: {reason}" if reason else "not run in this report")
            pairs.append(pair)
            continue
        for placement in placements:
            pairs.append(_pair(report, index, bench_id, base, why, placement))
    return LayerTable(pairs, unmapped)


def _pair(report: Report, index: dict, bench_id: str, base: str, why: str, placement: str):
    series = next(s for (i, p, _, _), (s, _) in index.items() if i == bench_id and p == placement)
    pair = LayerPair(series, bench_id, base, why, placement)
    for metric in LAYER_METRICS:
        wanted = (bench_id, placement, metric.pattern)
        sizes = sorted(size for (i, p, pat, size) in index if (i, p, pat) == wanted)
        if not sizes:
            note = f"no {metric.pattern} benchmark in this report"
            if report.mechanism(bench_id).get("supports_throughput") is False:
                note = f"no {metric.pattern}: latency only (supports_throughput false)"
            if note not in pair.notes:
                pair.notes.append(note)
            continue
        for size in sizes:
            top = _side(report, bench_id, index[(bench_id, placement, metric.pattern, size)][1],
                        metric)
            below = index.get((base, placement, metric.pattern, size))
            bottom = _side(report, base, below[1] if below else None, metric)
            pair.cells.append(LayerCell(metric, size, top, bottom))
    return pair


def _side(report: Report, bench_id: str, cell: Cell | None, metric: LayerMetric) -> Side:
    if cell is None:
        reason = report.unavailable(bench_id)
        return Side(
            bench_id, math.nan, f"unavailable: {reason}" if reason else "not run in this report"
        )
    if not cell.ok:
        return Side(bench_id, math.nan, f"{cell.status}: {cell.reason}")
    value = cell.values.get(metric.key, math.nan)
    if not math.isfinite(value):
        return Side(bench_id, math.nan, f"no {metric.key}")
    return Side(bench_id, value, "")


def format_ratio(ratio: float) -> str:
    return f"{ratio:.3g}×" if math.isfinite(ratio) else "—"


def missing_summary(pair: LayerPair) -> list[str]:
    """The pair's notes, then its missing cells: one line per reason and set of sizes."""
    by_metric: dict[tuple[str, str], list[int]] = {}
    for cell in pair.cells:
        if cell.missing:
            by_metric.setdefault((cell.metric.name, cell.missing), []).append(cell.size)
    groups: dict[tuple[str, tuple[int, ...]], list[str]] = {}
    for (name, why), sizes in by_metric.items():
        groups.setdefault((why, tuple(sizes)), []).append(name)
    every = tuple(sorted({c.size for c in pair.cells}))
    lines = [f"{pair.series}: {note}" for note in pair.notes]
    for (why, sizes), names in groups.items():
        at = "every size" if sizes == every else ", ".join(format_size(s) for s in sizes)
        lines.append(f"{pair.series} ({', '.join(names)}) at {at}: {why}")
    return lines
