"""Reading an ipcbench report (results/README.md) into one median cell per benchmark.

A report is Google Benchmark JSON plus ipcbench fields. With --benchmark_repetitions it holds one
`iteration` entry per repetition and `aggregate` rows; a cell takes the median of the iteration
entries and falls back to the `median` (then `mean`) aggregate when only aggregates exist.
"""

from __future__ import annotations

import gzip
import json
import lzma
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path

CALIBRATION_FAMILY = "calibration"
PATTERNS = ("latency", "throughput")

# The names below are results/README.md's (report/schema.hpp defines them for the C++ tools);
# plots/tests/test_schema.py checks that the page documents every name this module reads.

# A benchmark's name is `<id>/<pattern>/<size>/<placement>[.spawn]`; its fields say the same.
NAME_FIELDS = ("id", "pattern", "message_size", "placement")
SPAWN_SUFFIX = ".spawn"
# Topology benchmarks (`<id>/<topology>/<N>/<pattern>/<size>/<placement>`) are kept apart from
# the one-pair cells: `Report.topology` holds one TopologyPoint per benchmark.
TOPOLOGIES = ("pairs", "fan_in", "fan_out")

# Counters flat on an entry; anything else numeric is ignored.
COUNTERS = (
    "messages",
    "integrity_errors",
    "rtt_p50_ns",
    "rtt_p90_ns",
    "rtt_p99_ns",
    "rtt_p999_ns",
    "rtt_max_ns",
    "rtt_mean_ns",
    "one_way_p50_ns",
    "bytes_per_second",
    "messages_per_second",
    "loss_rate",
    "target_messages_per_second",
    "rate_trials",
    "cpu_ns_per_message",
    "helper_cpu_ns_per_message",
    "rtt_p50_per_line_floor",
    "rtt_p50_per_wake_floor",
    "bytes_per_second_per_copy_floor",
)


class ReportError(Exception):
    """Bad input; the message is one line meant for the user."""


class _Invalid(Exception):
    """A structural problem inside a report, turned into a ReportError naming the file."""


@dataclass
class Run:
    """One benchmark entry (a repetition or an aggregate row)."""

    status: str
    reason: str
    counters: dict[str, float]
    percentiles: dict[float, float]


@dataclass
class Cell:
    """One benchmark (id, pattern, size, placement) reduced over its repetitions."""

    name: str
    id: str
    family: str
    pattern: str
    size: int
    placement: str
    status: str
    reason: str
    repetitions: int
    values: dict[str, float] = field(default_factory=dict)
    percentiles: dict[float, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class TopologyPoint:
    """One topology benchmark (the median of its `iteration` entries' counters): what the charts
    against N read."""

    id: str
    topology: str
    n: int
    pattern: str
    size: int
    status: str
    counters: dict[str, float]
    oversubscribed: bool | None


@dataclass
class Report:
    path: Path
    label: str
    context: dict
    cells: dict[tuple[str, str, int], Cell]  # (series, pattern, size)
    series_family: dict[str, str]  # series in display order -> family
    families: list[str]
    probes: list[dict]
    topology: list[TopologyPoint] = field(default_factory=list)

    @property
    def ipcbench(self) -> dict:
        value = self.context.get("ipcbench")
        return value if isinstance(value, dict) else {}

    def section(self, name: str) -> dict:
        value = self.ipcbench.get(name)
        return value if isinstance(value, dict) else {}

    def limit(self, name: str, default: int | None = None) -> int | None:
        value = self.section("limits").get(name)
        return value if _is_number(value) and value > 0 else default

    def sizes(self, pattern: str) -> list[int]:
        """Payload sizes, for the size axes; notifications (size 0) are in all_sizes() only."""
        return [size for size in self.all_sizes(pattern) if size > 0]

    def all_sizes(self, pattern: str) -> list[int]:
        return sorted({size for (_, p, size) in self.cells if p == pattern})

    def cell(self, series: str, pattern: str, size: int) -> Cell | None:
        return self.cells.get((series, pattern, size))

    def value(self, series: str, pattern: str, size: int, key: str) -> float:
        """The median of a counter, or NaN when the cell is absent, skipped or failed."""
        cell = self.cell(series, pattern, size)
        if cell is None or not cell.ok:
            return math.nan
        return cell.values.get(key, math.nan)

    def mechanism(self, bench_id: str) -> dict:
        """The context's entry for an id (context.ipcbench.mechanisms), or {} when it has none."""
        for entry in self.ipcbench.get("mechanisms") or []:
            if isinstance(entry, dict) and entry.get("id") == bench_id:
                return entry
        return {}

    def unavailable(self, bench_id: str) -> str:
        """Why an id cannot run in this build (its `unavailable` reason), or ""."""
        return text(self.mechanism(bench_id).get("unavailable"))

    def series(self, family: str | None = None) -> list[str]:
        return [s for s, f in self.series_family.items() if family is None or f == family]

    def repetitions(self) -> int:
        return max((c.repetitions for c in self.cells.values()), default=0)

    def machine_line(self) -> str:
        """CPU model, kernel and date, for chart subtitles."""
        ib = self.ipcbench
        cpu = text(ib.get("cpu_model")) or "unknown CPU"
        count = ib.get("cpu_count", self.context.get("num_cpus"))
        if _is_number(count):
            cpu += f" ×{count}"
        kernel = " ".join(text(ib.get("kernel")).split()[:2]) or "unknown kernel"
        date = text(self.context.get("date")) or "unknown date"
        host = text(self.context.get("host_name"))
        parts = [p for p in (host, cpu, kernel, date) if p]
        return " · ".join(parts)


def text(value) -> str:
    """A context value as display text: objects as `k: v` pairs, lists comma-separated."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return ", ".join(f"{k}: {text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(text(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def read_json(path: Path) -> object:
    """The JSON in `path`; a name ending in .xz or .gz is decompressed first (docs/run keeps its
    report as report.json.xz)."""
    opener = {".xz": lzma.open, ".gz": gzip.open}.get(Path(path).suffix, open)
    try:
        with opener(path, "rt", encoding="utf-8") as stream:
            return json.load(stream)
    except (lzma.LZMAError, EOFError, gzip.BadGzipFile) as error:
        raise ReportError(f"cannot read '{path}': not valid compressed data: {error}") from None
    except OSError as error:
        raise ReportError(f"cannot read '{path}': {error.strerror or error}") from None
    except (ValueError, RecursionError) as error:
        raise ReportError(f"cannot read '{path}': malformed JSON: {error}") from None


def load_report(path: Path, label: str) -> Report:
    data = read_json(path)
    try:
        return _parse_report(data, path, label)
    except _Invalid as error:
        raise ReportError(f"cannot read '{path}': not an ipcbench report: {error}") from None


def _parse_report(data: object, path: Path, label: str) -> Report:
    if not isinstance(data, dict):
        raise _Invalid("the top level is not an object")
    entries = data.get("benchmarks")
    if not isinstance(entries, list):
        raise _Invalid("no 'benchmarks' array")
    context = data.get("context", {})
    if not isinstance(context, dict):
        raise _Invalid("'context' is not an object")
    groups: dict[tuple, dict] = {}
    families: dict[str, str] = {}
    topology: dict[tuple, list[TopologyPoint]] = {}
    for entry in entries:
        point = _topology_point(entry)
        if point is _AGGREGATE:
            continue
        if point is not None:
            key = (point.id, point.topology, point.n, point.pattern, point.size)
            topology.setdefault(key, []).append(point)
            continue
        key, family, run_type, aggregate = _entry_key(entry)
        group = groups.setdefault(key, {"iteration": [], "aggregate": {}})
        families.setdefault(key[0], family)
        run = _parse_run(entry, key)
        if run_type == "aggregate":
            group["aggregate"][aggregate] = run
        else:
            group["iteration"].append(run)
    cells = _cells(groups, families)
    if not cells and not topology:
        raise _Invalid("no ipcbench benchmarks in 'benchmarks'")
    probes = data.get("probes", [])
    if not isinstance(probes, list) or not all(isinstance(p, dict) for p in probes):
        raise _Invalid("'probes' is not an array of objects")
    series_family = _series_order(cells, context)
    family_order = list(dict.fromkeys(series_family.values()))
    return Report(
        path, label, context, cells, series_family, family_order, probes,
        [_merge_repetitions(points) for points in topology.values()],
    )


_AGGREGATE = TopologyPoint("", "", 0, "", 0, "aggregate", {}, None)


def _merge_repetitions(points: list[TopologyPoint]) -> TopologyPoint:
    """One point per topology benchmark, as the one-pair cells: the median of each counter over
    its repetitions; a repetition that failed or was skipped makes the benchmark that status (a
    gap in the charts), as one failed repetition fails a one-pair benchmark."""
    first = points[0]
    bad = next((p for p in points if p.status != "ok"), None)
    if bad is not None:
        return bad
    keys = set.intersection(*(set(p.counters) for p in points))
    counters = {k: statistics.median(p.counters[k] for p in points) for k in keys}
    return TopologyPoint(
        first.id, first.topology, first.n, first.pattern, first.size, "ok", counters,
        first.oversubscribed,
    )


def _topology_point(entry: object) -> TopologyPoint | None:
    """The topology benchmark an entry belongs to, or None for a one-pair benchmark."""
    if not isinstance(entry, dict):
        return None
    name = entry.get("run_name") or entry.get("name")
    parts = name.split("/") if isinstance(name, str) else []
    topo = entry.get("topology")
    if topo is None and len(parts) >= 6 and parts[1] in TOPOLOGIES:
        topo = parts[1]
    if topo is None:
        return None
    if entry.get("run_type", "iteration") != "iteration":
        return _AGGREGATE
    try:
        n = int(entry.get("fan", parts[2] if len(parts) > 2 else 0))
        size = int(entry.get("message_size", parts[4] if len(parts) > 4 else 0))
    except (TypeError, ValueError):
        raise _Invalid(f"benchmark '{name}' has a topology N or size that is not an integer") from None
    counters = {k: float(v) for k, v in entry.items() if _is_number(v) and not isinstance(v, bool)}
    status = str(entry.get("status", "failed" if entry.get("error_occurred") else "ok"))
    group = entry.get("group") if isinstance(entry.get("group"), dict) else {}
    over = group.get("oversubscribed")
    return TopologyPoint(
        str(entry.get("id", parts[0] if parts else "")),
        str(topo),
        n,
        str(entry.get("pattern", parts[3] if len(parts) > 3 else "")),
        size,
        status,
        counters,
        over if isinstance(over, bool) else None,
    )


def _entry_key(entry: object) -> tuple[tuple[str, str, int, str], str, str, str]:
    """((id, pattern, size, placement), family, run_type, aggregate_name) of one entry."""
    if not isinstance(entry, dict):
        raise _Invalid("a 'benchmarks' entry is not an object")
    name = entry.get("run_name") or entry.get("name")
    parts = name.split("/") if isinstance(name, str) else []
    fallback = dict(zip(NAME_FIELDS, parts))
    if fallback.get("placement", "").endswith(SPAWN_SUFFIX):
        fallback["placement"] = fallback["placement"][: -len(SPAWN_SUFFIX)]
    where = f"benchmark '{name}'" if isinstance(name, str) else "a benchmark without a name"

    def field_of(key: str, default=None):
        value = entry.get(key, fallback.get(key, default))
        if value is None:
            raise _Invalid(f"{where} has no '{key}'")
        return value

    bench_id = str(field_of("id"))
    pattern = str(field_of("pattern"))
    try:
        size = int(field_of("message_size"))
    except (TypeError, ValueError):
        raise _Invalid(f"{where} has a 'message_size' that is not an integer") from None
    if size < 0:
        raise _Invalid(f"{where} has a 'message_size' that is negative")
    placement = str(field_of("placement", "none"))
    family = str(entry.get("family") or "other")
    run_type = str(entry.get("run_type", "iteration"))
    return (bench_id, pattern, size, placement), family, run_type, str(entry.get("aggregate_name"))


def _parse_run(entry: dict, key: tuple) -> Run:
    status = entry.get("status") or ("failed" if entry.get("error_occurred") else "ok")
    reason = entry.get("reason") or entry.get("error_message") or ""
    counters = {k: float(entry[k]) for k in COUNTERS if _is_number(entry.get(k))}
    raw = entry.get("latency_percentiles_ns") or {}
    if not isinstance(raw, dict):
        raise _Invalid(
            f"benchmark '{'/'.join(map(str, key))}': 'latency_percentiles_ns' is not an object"
        )
    percentiles = {}
    for p, v in raw.items():
        try:
            percentile = float(p)
        except ValueError:
            raise _Invalid(
                f"benchmark '{'/'.join(map(str, key))}': percentile '{p}' is not a number"
            ) from None
        if _is_number(v):
            percentiles[percentile] = float(v)
    return Run(str(status), str(reason), counters, percentiles)


def _cells(groups: dict[tuple, dict], families: dict[str, str]) -> dict[tuple[str, str, int], Cell]:
    placements: dict[str, set[str]] = {}
    for bench_id, _, _, placement in groups:
        placements.setdefault(bench_id, set()).add(placement)
    cells = {}
    for key, group in groups.items():
        bench_id, pattern, size, placement = key
        runs = group["iteration"] or _aggregate_runs(group["aggregate"])
        if not runs:
            continue
        # An id run with several placements becomes one series per placement.
        series = bench_id if len(placements[bench_id]) == 1 else f"{bench_id} ({placement})"
        name = f"{bench_id}/{pattern}/{size}/{placement}"
        cells[(series, pattern, size)] = _reduce(name, key, families[bench_id], runs)
    return cells


def _aggregate_runs(aggregates: dict[str, Run]) -> list[Run]:
    for name in ("median", "mean"):
        if name in aggregates:
            return [aggregates[name]]
    return []


def _reduce(name: str, key: tuple, family: str, runs: list[Run]) -> Cell:
    bench_id, pattern, size, placement = key
    cell = Cell(name, bench_id, family, pattern, size, placement, "ok", "", len(runs))
    bad = [r for r in runs if r.status != "ok"]
    if bad:
        cell.status = bad[0].status
        cell.reason = bad[0].reason
        if len(bad) < len(runs):
            cell.reason = f"{len(bad)} of {len(runs)} repetitions {bad[0].status}: {bad[0].reason}"
        return cell
    cell.values = _median_by_key([r.counters for r in runs])
    cell.percentiles = _median_by_key([r.percentiles for r in runs])
    return cell


def _median_by_key(maps: list[dict]) -> dict:
    keys = sorted({k for m in maps for k in m})
    return {k: statistics.median(m[k] for m in maps if k in m) for k in keys}


def _series_order(cells: dict[tuple[str, str, int], Cell], context: dict) -> dict[str, str]:
    """Series grouped by family, families in the order the context lists mechanisms."""
    series_family = {}
    for (series, _, _), cell in sorted(cells.items(), key=lambda kv: kv[0]):
        series_family.setdefault(series, cell.family)
    declared = []
    ipcbench = context.get("ipcbench")
    mechanisms = ipcbench.get("mechanisms") if isinstance(ipcbench, dict) else None
    if isinstance(mechanisms, list):
        declared = [m.get("family") for m in mechanisms if isinstance(m, dict)]
    order = list(dict.fromkeys([f for f in declared if f] + list(series_family.values())))
    # The calibration floor goes last: it is a reference, not a mechanism.
    order.sort(key=lambda f: f == CALIBRATION_FAMILY)
    return dict(sorted(series_family.items(), key=lambda sf: order.index(sf[1])))
