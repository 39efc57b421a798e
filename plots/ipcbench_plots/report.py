"""Reading an ipcbench report (results/README.md) into one median cell per benchmark.

A report is Google Benchmark JSON plus ipcbench fields. With --benchmark_repetitions it holds one
`iteration` entry per repetition and `aggregate` rows; a cell takes the median of the iteration
entries and falls back to the `median` (then `mean`) aggregate when only aggregates exist. A report
with top-level `estimates` (regimes and the stop rule, DESIGN rules 13-16) takes each cell's median
over its estimate's basis only: the repetitions in the run's reference regime, or every one.
"""

from __future__ import annotations

import gzip
import json
import lzma
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from .units import format_ns, n_repetitions

CALIBRATION_FAMILY = "calibration"
PATTERNS = ("latency", "throughput")

# The names below are results/README.md's (report/schema.hpp defines them for the C++ tools);
# plots/tests/test_schema.py checks that the page documents every name this module reads.

# A benchmark's name is `<id>/<pattern>/<size>/<placement>[.spawn|.threads]`; its fields say the
# same.
NAME_FIELDS = ("id", "pattern", "message_size", "placement")
SPAWN_SUFFIX = ".spawn"
THREADS_SUFFIX = ".threads"
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
    regime: int | None = None  # index into context.ipcbench.regimes.regimes


@dataclass(frozen=True)
class Spread:
    """A floor over a set of repetitions: its median and range."""

    median: float
    low: float
    high: float

    def text(self, fmt) -> str:
        return f"{fmt(self.median)} ({fmt(self.low)} to {fmt(self.high)})"


@dataclass(frozen=True)
class Regime:
    """One cluster of the cache-line floor over the run (context.ipcbench.regimes.regimes)."""

    index: int
    share: float  # of the run's repetitions with a cache-line floor
    repetitions: int
    cache_line: Spread | None
    wakeup: Spread | None
    # Set where the run told several wake-up states apart in this regime's cache-line state: the
    # regimes of one cache-line state then differ in their wake-up round trip alone.
    split_by_wake: bool = False

    def describe(self) -> str:
        """"regime 0 (cache line ~125 ns, 47 % of the run)", or with the wake-up round trip
        where it alone tells the regime apart: "regime 1 (cache line ~488 ns, wake-up ~8.7 µs,
        33 % of the run)"."""
        line = f"cache line ~{format_ns(self.cache_line.median)}, " if self.cache_line else ""
        if self.split_by_wake and self.wakeup:
            line += f"wake-up ~{format_ns(self.wakeup.median)}, "
        return f"regime {self.index} ({line}{self.share * 100:.0f} % of the run)"


@dataclass(frozen=True)
class Regimes:
    """context.ipcbench.regimes: the regimes, lowest cache-line round trip first, and the floors
    over the whole run; `reference` is the regime the estimates are taken in."""

    method: str
    repetitions: int
    reference: int | None
    regimes: list[Regime]
    cache_line: Spread | None
    wakeup: Spread | None

    def regime(self, index: int | None) -> Regime | None:
        return next((r for r in self.regimes if r.index == index), None)


@dataclass(frozen=True)
class Mode:
    value: float
    share: float  # of the estimate's basis
    repetitions: int


def intervals_overlap(a: tuple[float, float] | None, b: tuple[float, float] | None) -> bool:
    """Whether both intervals are known and overlap: a tie (DESIGN rule 16)."""
    return a is not None and b is not None and a[0] <= b[1] and b[0] <= a[1]


@dataclass(frozen=True)
class StateValue:
    """An estimate's value in one host regime (`by_regime`): the median of its ok repetitions
    there, how many, and that median's interval where the report states one."""

    value: float
    repetitions: int
    interval: tuple[float, float] | None


@dataclass(frozen=True)
class Estimate:
    """One benchmark's entry in the top-level `estimates`: the median of `metric` over the
    repetitions of its basis, with a confidence interval and, when multimodal, the modes."""

    metric: str
    value: float | None
    interval: tuple[float, float] | None
    relative_width: float | None
    basis: str  # "regime" (only the repetitions of `regime`) or "all"
    regime: int | None
    repetitions: int  # ok repetitions run
    used: int  # those in the basis
    stopped: str  # converged, cap, budget, failed, skipped
    modes: tuple[Mode, ...]  # empty when unimodal
    mode_cause: str
    spread: float | None = None  # max / min of the basis repetitions
    spread_cause: str = ""  # why a spread over 1.5x without modes, where the report names it
    # One repetition that makes the spread over 1.5x alone (`spread_outlier`): its value over the
    # others' median, and the others' own spread; None where none does.
    outlier_ratio: float | None = None
    outlier_rest_spread: float | None = None
    by_regime: dict[int, StateValue] = field(default_factory=dict)  # by regime index
    # The repetitions' own median, where `value` was taken to the reference regime's median floor
    # (latency, from whichever regime: the estimate's `adjusted`) or to the run's pace
    # (throughput: `paced`); None where it was not.
    raw_value: float | None = None
    at_run_pace: bool = False  # `value` was taken to the run's pace beside each repetition

    @property
    def multimodal(self) -> bool:
        return len(self.modes) > 1

    @property
    def at_floor(self) -> bool:
        """`value` was taken to the reference regime's median floor (a latency's `adjusted`)."""
        return self.raw_value is not None and not self.at_run_pace

    def overlaps(self, other: Estimate | None) -> bool:
        """Whether both intervals are known and overlap: a tie (DESIGN rule 16)."""
        return other is not None and intervals_overlap(self.interval, other.interval)

    def modes_text(self, fmt, cause: bool = True) -> str:
        """"2 modes: 4.9 µs (60 %) and 7.2 µs (40 %)", with the cause when known and asked for;
        "" when unimodal. A median of two modes is never shown without this (DESIGN rule 15)."""
        if not self.multimodal:
            return ""
        each = [f"{fmt(m.value)} ({m.share * 100:.0f} %)" for m in self.modes]
        listed = ", ".join(each[:-1]) + " and " + each[-1]
        why = f" — {self.mode_cause}" if cause and self.mode_cause else ""
        return f"{len(self.modes)} modes: {listed}{why}"

    def interval_text(self, fmt) -> str:
        """"CI 4.89 µs–5.23 µs", or "" without an interval."""
        return f"CI {fmt(self.interval[0])}–{fmt(self.interval[1])}" if self.interval else ""

    def note(self, fmt) -> str:
        """What a value of this estimate is quoted with: " [CI lo–hi; the modes]", or, without an
        interval, how few repetitions it rests on (no claim is made without saying so)."""
        interval = self.interval_text(fmt) or (
            f"no interval: {n_repetitions(self.used)}" if self.value is not None else "")
        parts = [p for p in (interval, self.modes_text(fmt)) if p]
        return f" [{'; '.join(parts)}]" if parts else ""


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
    estimate: Estimate | None = None

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
    estimates: dict[str, Estimate] = field(default_factory=dict)  # by benchmark name
    regimes: Regimes | None = None
    # The textbooks' efficiency comparison as computed verdicts, the process, namespace and
    # relay taxes (results/README.md#claims, #process_tax, #namespace_tax, #relay_tax); empty in
    # reports before them.
    claims: list[dict] = field(default_factory=list)
    process_tax: list[dict] = field(default_factory=list)
    namespace_tax: list[dict] = field(default_factory=list)
    relay_tax: list[dict] = field(default_factory=list)

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

    def estimate(self, series: str, pattern: str, size: int, key: str) -> Estimate | None:
        """The estimate of an ok cell when it is of the counter `key`, else None."""
        cell = self.cell(series, pattern, size)
        if cell is None or not cell.ok or cell.estimate is None:
            return None
        return cell.estimate if cell.estimate.metric == key else None

    def basis(self) -> str:
        """Which repetitions every value is the median of, for chart subtitles and the page."""
        if not self.estimates:
            return f"median of {n_repetitions(self.repetitions())}"
        reference = self.regimes.regime(self.regimes.reference) if self.regimes else None
        if reference is None:
            return "median of every ok repetition (the run recorded no regimes)"
        others = sum(e.value is not None and (e.basis != "regime" or e.regime != reference.index)
                     for e in self.estimates.values())
        adjusted = any(e.at_floor for e in self.estimates.values())
        paced = any(e.at_run_pace for e in self.estimates.values())
        return f"values in {reference.describe()}" + (
            f"; {others} benchmark(s) in another regime (none of their repetitions in that one)"
            if others else "") + (
            "; latency taken to the run's median floor (regimes.latency_to_floor)"
            if adjusted else "") + (
            "; throughput taken to the run's pace beside each repetition (estimates' at_run_pace)"
            if paced else "")

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
    estimates = _estimates(data.get("estimates"))
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
        key, family, run_type, aggregate, name = _entry_key(entry)
        group = groups.setdefault(key, {"iteration": [], "aggregate": {}, "name": name})
        families.setdefault(key[0], family)
        run = _parse_run(entry, key)
        if run_type == "aggregate":
            group["aggregate"][aggregate] = run
        else:
            group["iteration"].append(run)
    cells = _cells(groups, families, estimates)
    if not cells and not topology:
        raise _Invalid("no ipcbench benchmarks in 'benchmarks'")
    probes = data.get("probes", [])
    if not isinstance(probes, list) or not all(isinstance(p, dict) for p in probes):
        raise _Invalid("'probes' is not an array of objects")
    lists = {}
    for key in ("claims", "process_tax", "namespace_tax", "relay_tax"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise _Invalid(f"'{key}' is not an array of objects")
        lists[key] = value
    series_family = _series_order(cells, context)
    family_order = list(dict.fromkeys(series_family.values()))
    return Report(
        path, label, context, cells, series_family, family_order, probes,
        [_merge_repetitions(points) for points in topology.values()], estimates,
        _regimes(context), lists["claims"], lists["process_tax"], lists["namespace_tax"],
        lists["relay_tax"],
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


def entry_topology(entry: dict):
    """The topology of an entry's benchmark (its `topology` field, else its name's second part
    when the name has a topology's six parts), or None for a one-pair benchmark."""
    name = entry.get("run_name") or entry.get("name")
    parts = name.split("/") if isinstance(name, str) else []
    topo = entry.get("topology")
    if topo is None and len(parts) >= 6 and parts[1] in TOPOLOGIES:
        topo = parts[1]
    return topo


def _topology_point(entry: object) -> TopologyPoint | None:
    """The topology benchmark an entry belongs to, or None for a one-pair benchmark."""
    if not isinstance(entry, dict):
        return None
    topo = entry_topology(entry)
    if topo is None:
        return None
    name = entry.get("run_name") or entry.get("name")
    parts = name.split("/") if isinstance(name, str) else []
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


def _entry_key(entry: object) -> tuple[tuple[str, str, int, str], str, str, str, str]:
    """((id, pattern, size, placement), family, run_type, aggregate_name, run name) of one
    entry; the run name keys the benchmark's estimate."""
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
    # Thread peers (--peers threads) are another series of the same id: "pipe (cross.threads)".
    if entry.get("process") == "threads" and not placement.endswith(THREADS_SUFFIX):
        placement += THREADS_SUFFIX
    family = str(entry.get("family") or "other")
    run_type = str(entry.get("run_type", "iteration"))
    aggregate = str(entry.get("aggregate_name"))
    return (bench_id, pattern, size, placement), family, run_type, aggregate, str(name)


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
    return Run(str(status), str(reason), counters, percentiles, _index(entry.get("regime")))


def _cells(
    groups: dict[tuple, dict], families: dict[str, str], estimates: dict[str, Estimate]
) -> dict[tuple[str, str, int], Cell]:
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
        estimate = estimates.get(group["name"])
        cells[(series, pattern, size)] = _reduce(name, key, families[bench_id], runs, estimate)
    return cells


def _aggregate_runs(aggregates: dict[str, Run]) -> list[Run]:
    for name in ("median", "mean"):
        if name in aggregates:
            return [aggregates[name]]
    return []


def _reduce(
    name: str, key: tuple, family: str, runs: list[Run], estimate: Estimate | None
) -> Cell:
    bench_id, pattern, size, placement = key
    cell = Cell(name, bench_id, family, pattern, size, placement, "ok", "", len(runs),
                estimate=estimate)
    bad = [r for r in runs if r.status != "ok"]
    if bad:
        cell.status = bad[0].status
        cell.reason = bad[0].reason
        if len(bad) < len(runs):
            cell.reason = f"{len(bad)} of {len(runs)} repetitions {bad[0].status}: {bad[0].reason}"
        return cell
    basis = _basis(runs, estimate)
    cell.values = _median_by_key([r.counters for r in basis])
    # The estimate's value where it has one: the median of the same repetitions, or, for latency
    # the report took to the run's floor, that value (its interval is around it).
    if estimate is not None and estimate.value is not None and estimate.metric:
        cell.values[estimate.metric] = estimate.value
    cell.percentiles = _median_by_key([r.percentiles for r in basis])
    return cell


def _basis(runs: list[Run], estimate: Estimate | None) -> list[Run]:
    """The repetitions an estimate stands on: with basis "regime" those of its regime; every one
    otherwise, and where none carries that regime (only aggregate rows)."""
    if estimate is None or estimate.basis != "regime":
        return runs
    return [r for r in runs if r.regime == estimate.regime] or runs


def _median_by_key(maps: list[dict]) -> dict:
    keys = sorted({k for m in maps for k in m})
    return {k: statistics.median(m[k] for m in maps if k in m) for k in keys}


def _optional(value) -> float | None:
    return float(value) if _is_number(value) else None


def _index(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _spread(value) -> Spread | None:
    """{"median", "min", "max"} as a Spread; None where a number is missing (a null floor)."""
    keys = ("median", "min", "max")
    if not isinstance(value, dict) or not all(_is_number(value.get(k)) for k in keys):
        return None
    return Spread(float(value["median"]), float(value["min"]), float(value["max"]))


def _estimates(raw: object) -> dict[str, Estimate]:
    """The top-level `estimates` by benchmark name; {} for a report without them."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(e, dict) for e in raw.values()):
        raise _Invalid("'estimates' is not an object of objects")
    return {name: _estimate(e) for name, e in raw.items()}


def _interval(raw: dict) -> tuple[float, float] | None:
    interval = raw.get("interval")
    if not (isinstance(interval, list) and len(interval) == 2 and all(map(_is_number, interval))):
        return None
    return float(interval[0]), float(interval[1])


def _by_regime(raw: object) -> dict[int, StateValue]:
    """`by_regime` by regime index; entries without a number for a value are left out."""
    out = {}
    for entry in raw if isinstance(raw, list) else []:
        if not isinstance(entry, dict) or _index(entry.get("regime")) is None:
            continue
        if not _is_number(entry.get("value")):
            continue
        out[entry["regime"]] = StateValue(float(entry["value"]),
                                          _index(entry.get("repetitions")) or 0,
                                          _interval(entry))
    return out


def _estimate(raw: dict) -> Estimate:
    interval = _interval(raw)
    modes = raw.get("modes") if isinstance(raw.get("modes"), list) else []
    return Estimate(
        metric=text(raw.get("metric")),
        value=_optional(raw.get("value")),
        interval=interval,
        relative_width=_optional(raw.get("relative_width")),
        basis=text(raw.get("basis")) or "all",
        regime=_index(raw.get("regime")),
        repetitions=_index(raw.get("repetitions")) or 0,
        used=_index(raw.get("used")) or 0,
        stopped=text(raw.get("stopped")),
        modes=tuple(
            Mode(float(m["value"]), _optional(m.get("share")) or 0.0,
                 _index(m.get("repetitions")) or 0)
            for m in modes
            if isinstance(m, dict) and _is_number(m.get("value"))
        ),
        mode_cause=text(raw.get("mode_cause")),
        spread=_optional(raw.get("spread")),
        spread_cause=text(raw.get("spread_cause")),
        outlier_ratio=_optional(raw["spread_outlier"].get("ratio"))
        if isinstance(raw.get("spread_outlier"), dict) else None,
        outlier_rest_spread=_optional(raw["spread_outlier"].get("rest_spread"))
        if isinstance(raw.get("spread_outlier"), dict) else None,
        by_regime=_by_regime(raw.get("by_regime")),
        raw_value=_optional(raw["adjusted"].get("raw_value"))
        if isinstance(raw.get("adjusted"), dict)
        else _optional(raw["at_run_pace"].get("raw_value"))
        if isinstance(raw.get("at_run_pace"), dict) else None,
        at_run_pace=isinstance(raw.get("at_run_pace"), dict),
    )


def _regimes(context: dict) -> Regimes | None:
    """context.ipcbench.regimes, or None (an older report, or no repetition had a floor)."""
    ipcbench = context.get("ipcbench")
    raw = ipcbench.get("regimes") if isinstance(ipcbench, dict) else None
    if not isinstance(raw, dict):
        return None
    listed = [r for r in raw.get("regimes") or []
              if isinstance(r, dict) and _index(r.get("index")) is not None]
    states = [_index(r.get("cache_line_state")) for r in listed]
    regimes = [
        Regime(r["index"], _optional(r.get("share")) or 0.0, _index(r.get("repetitions")) or 0,
               _spread(r.get("cache_line_rtt_p50_ns")), _spread(r.get("wakeup_rtt_p50_ns")),
               states[k] is not None and states.count(states[k]) > 1)
        for k, r in enumerate(listed)
    ]
    floors = raw.get("floors") if isinstance(raw.get("floors"), dict) else {}
    return Regimes(
        text(raw.get("method")),
        _index(raw.get("repetitions")) or 0,
        _index(raw.get("reference")),
        regimes,
        _spread(floors.get("cache_line_rtt_p50_ns")),
        _spread(floors.get("wakeup_rtt_p50_ns")),
    )


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
