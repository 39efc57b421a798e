"""The history: one SQLite file of runs (one per report) and their estimates.

A run is keyed by the SHA-256 of its report's JSON text (after decompression), so adding the same
report twice changes nothing. A series is one benchmark's main metric on one machine in one mode
(idle states, process model, peers): runs in another mode are another series, never a step.
"""

import gzip
import hashlib
import json
import lzma
import sqlite3
import statistics
from dataclasses import dataclass
from pathlib import Path

SCHEMA_VERSION = 3  # 2 adds results.best, 3 the other host regime (results.other_*); an older
# history gains the columns, empty

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY,
  digest TEXT NOT NULL UNIQUE,      -- SHA-256 of the report's JSON text
  date TEXT NOT NULL,               -- context.date (ISO 8601), the run's start
  machine TEXT NOT NULL,            -- fingerprint: host, CPU model, CPU count
  host TEXT NOT NULL,
  cpu_model TEXT,
  cpu_count INTEGER,
  kernel TEXT,
  mode TEXT NOT NULL,               -- idle states / process model / peers
  git_commit TEXT,
  tree_modified INTEGER,
  version TEXT,
  conditions TEXT NOT NULL,         -- JSON: cpuidle, placement, sweep, regimes, run conditions
  source TEXT NOT NULL,             -- the path the report was added from
  added TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE TABLE IF NOT EXISTS results (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  benchmark TEXT NOT NULL,
  metric TEXT NOT NULL,             -- rtt_p50_ns (lower is better) or bytes_per_second
  value REAL NOT NULL,              -- the report's estimate (or the median of its repetitions)
  lo REAL, hi REAL,                 -- the estimate's interval, when the report gives one
  repetitions INTEGER NOT NULL,     -- repetitions behind the value
  best REAL,                        -- the best of them: the lowest latency, highest throughput
  regime INTEGER,                   -- the host regime the value was taken in
  line_floor_ns REAL,               -- medians over those repetitions of the floors beside them
  wake_floor_ns REAL,
  copy_floor_bps REAL,
  regime_line_ns REAL,              -- the cache-line round trip of that regime (the report's)
  stopped TEXT,
  other_value REAL,                 -- the run's other host regime (the one with most repetitions
  other_best REAL,                  -- beside the value's): the median and best of its
  other_repetitions INTEGER,        -- repetitions there, and their number
  other_regime_line_ns REAL,
  PRIMARY KEY (run_id, benchmark, metric)
);
CREATE INDEX IF NOT EXISTS results_by_benchmark ON results (benchmark, metric);
"""


_ADDED_COLUMNS = ("best REAL", "other_value REAL", "other_best REAL",  # since schema 1
                  "other_repetitions INTEGER", "other_regime_line_ns REAL")


class HistoryError(Exception):
    """Bad input: the message is the one line the user sees (exit 2)."""


def lower_is_better(metric: str) -> bool:
    return metric != "bytes_per_second"


def open_db(path: Path, create: bool = True) -> sqlite3.Connection:
    path = Path(path)
    if not create and not path.is_file():
        raise HistoryError(f"no history at '{path}' (ipcbench-history add makes one)")
    if create and path.parent and not path.parent.exists():
        raise HistoryError(f"cannot create '{path}': no folder '{path.parent}'")
    try:
        db = sqlite3.connect(path)
        db.execute("PRAGMA foreign_keys = ON")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, 1, 2, SCHEMA_VERSION):
            raise HistoryError(f"'{path}' is a history of schema {version}; this is schema "
                               f"{SCHEMA_VERSION}")
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if version == 0 and tables:
            raise HistoryError(f"'{path}' is an SQLite file but not an ipcbench history")
        db.executescript(_SCHEMA)
        # Schema 1 had no results.best, schema 2 no other regime: their runs keep none.
        have = {r[1] for r in db.execute("PRAGMA table_info(results)")}
        for column in _ADDED_COLUMNS:
            if column.split()[0] not in have:
                db.execute(f"ALTER TABLE results ADD COLUMN {column}")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.commit()
        return db
    except sqlite3.DatabaseError as error:
        raise HistoryError(f"cannot open '{path}': {error}") from None


def read_report_text(path: Path) -> str:
    path = Path(path)
    opener = {".xz": lzma.open, ".gz": gzip.open}.get(path.suffix, open)
    try:
        with opener(path, "rt", encoding="utf-8") as stream:
            return stream.read()
    except FileNotFoundError:
        raise HistoryError(f"no such report: '{path}'") from None
    except (lzma.LZMAError, EOFError, gzip.BadGzipFile, UnicodeDecodeError) as error:
        raise HistoryError(f"cannot read '{path}': not valid compressed data: {error}") from None
    except OSError as error:
        raise HistoryError(f"cannot read '{path}': {error.strerror or error}") from None


@dataclass
class AddResult:
    run_id: int
    added: bool  # False: the same report was already there
    results: int


def _median(values):
    values = [v for v in values if isinstance(v, (int, float)) and v > 0]
    return statistics.median(values) if values else None


def best_of(values, metric: str):
    """The best of a benchmark's values: the highest throughput, the lowest latency (None when
    none is positive)."""
    values = [v for v in values if isinstance(v, (int, float)) and v > 0]
    if not values:
        return None
    return max(values) if metric == "bytes_per_second" else min(values)


def _floors(reps, key):
    return _median([(r.get("floors") or {}).get(key) for r in reps])


def parse_report(text: str, path: Path):
    """(run fields, result rows) of one report; HistoryError when it is not an ipcbench report."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise HistoryError(f"cannot read '{path}': malformed JSON: {error}") from None
    return parse_data(data, path)


def parse_data(data, path: Path):
    """parse_report of a report already parsed from JSON (`path` names it in errors)."""
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise HistoryError(f"cannot read '{path}': not an ipcbench report (no benchmarks list)")
    context = data.get("context") if isinstance(data.get("context"), dict) else {}
    ib = context.get("ipcbench") if isinstance(context.get("ipcbench"), dict) else None
    if ib is None or not isinstance(context.get("date"), str):
        raise HistoryError(f"cannot read '{path}': not an ipcbench report (no context.ipcbench "
                           "or context.date)")
    host = str(context.get("host_name") or "unknown")
    cpu_model = ib.get("cpu_model")
    cpu_count = ib.get("cpu_count") or context.get("num_cpus")
    machine = f"{host} ({cpu_model or 'unknown CPU'}, {cpu_count or '?'} CPUs)"
    idle = (ib.get("idle_states") or {}).get("in_force") or "unknown"
    mode = f"idle {idle}, {ib.get('process_model') or 'fork'}, {ib.get('peers') or 'processes'}"
    regimes = ib.get("regimes") if isinstance(ib.get("regimes"), dict) else {}
    conditions = {
        "cpuidle": ib.get("cpuidle"),
        "placement": ib.get("placement"),
        "sweep": ib.get("sweep"),
        "regimes": [{"line_ns": (r.get("cache_line_rtt_p50_ns") or {}).get("median"),
                     "share": r.get("share")} for r in regimes.get("regimes") or []
                    if isinstance(r, dict)],
        "run_conditions": ib.get("run_conditions"),
    }
    run = {
        "date": context["date"], "machine": machine, "host": host, "cpu_model": cpu_model,
        "cpu_count": cpu_count, "kernel": ib.get("kernel"), "mode": mode,
        "git_commit": ib.get("git_commit"), "tree_modified": ib.get("git_tree_modified"),
        "version": ib.get("version"), "conditions": json.dumps(conditions, sort_keys=True),
    }
    regime_line = {r.get("index", k): (r.get("cache_line_rtt_p50_ns") or {}).get("median")
                   for k, r in enumerate(regimes.get("regimes") or []) if isinstance(r, dict)}
    reps: dict[str, list] = {}
    for b in data["benchmarks"]:
        if isinstance(b, dict) and b.get("run_type") == "iteration" and b.get("status") == "ok" \
                and isinstance(b.get("name"), str):
            reps.setdefault(b["name"], []).append(b)
    estimates = data.get("estimates") if isinstance(data.get("estimates"), dict) else {}
    rows = []
    for name, items in sorted(reps.items()):
        metric = "bytes_per_second" if items[0].get("pattern") == "throughput" else "rtt_p50_ns"
        est = estimates.get(name) if isinstance(estimates.get(name), dict) else None
        regime = None
        lo = hi = None
        if est and isinstance(est.get("value"), (int, float)) and \
                est.get("metric", metric) == metric:
            value = float(est["value"])
            regime = est.get("regime")
            used = [r for r in items if regime is None or r.get("regime") == regime]
            interval = est.get("interval")
            if isinstance(interval, list) and len(interval) == 2 and \
                    all(isinstance(v, (int, float)) for v in interval):
                lo, hi = float(interval[0]), float(interval[1])
            count = int(est.get("used") or len(used))
            stopped = est.get("stopped")
        else:
            used = items
            value = _median([r.get(metric) for r in items])
            count, stopped = len(items), None
        if value is None or value <= 0:
            continue
        other = _other_regime(est, regime, items, metric)
        rows.append({
            "benchmark": name, "metric": metric, "value": value, "lo": lo, "hi": hi,
            "repetitions": count, "regime": regime,
            "best": best_of([r.get(metric) for r in used], metric),
            "line_floor_ns": _floors(used, "cache_line_rtt_p50_ns"),
            "wake_floor_ns": _floors(used, "wakeup_rtt_p50_ns"),
            "copy_floor_bps": _floors(used, "copy_floor_bytes_per_second"),
            "regime_line_ns": regime_line.get(regime) if regime is not None else
            (regime_line.get(0) if len(regime_line) == 1 else None),
            "stopped": stopped,
            "other_value": other[0], "other_best": other[1], "other_repetitions": other[2],
            "other_regime_line_ns": regime_line.get(other[3]) if other[3] is not None else None,
        })
    return run, rows


def _other_regime(est, regime, items, metric):
    """(median, best, repetitions, regime) of the run's other host regime: of the regimes its
    estimate lists beside the one the value was taken in, the one with most repetitions (all
    None where there is none)."""
    none = (None, None, None, None)
    if not est or regime is None or not isinstance(est.get("by_regime"), list):
        return none
    other = None
    for g in est["by_regime"]:
        if not isinstance(g, dict) or g.get("regime") == regime or \
                not isinstance(g.get("value"), (int, float)) or g["value"] <= 0 or \
                not isinstance(g.get("repetitions"), int) or g["repetitions"] < 1:
            continue
        if other is None or g["repetitions"] > other["repetitions"]:
            other = g
    if other is None:
        return none
    best = best_of([r.get(metric) for r in items if r.get("regime") == other.get("regime")],
                   metric)
    return float(other["value"]), best, other["repetitions"], other.get("regime")


def read_report(path: Path):
    """(digest, run fields, result rows) of the report at `path`; HistoryError when it cannot."""
    text = read_report_text(path)
    return (hashlib.sha256(text.encode("utf-8")).hexdigest(), *parse_report(text, path))


def add_report(db: sqlite3.Connection, path: Path, parsed=None) -> AddResult:
    digest, run, rows = parsed or read_report(path)
    existing = db.execute("SELECT id FROM runs WHERE digest = ?", (digest,)).fetchone()
    if existing:
        return AddResult(existing[0], False, 0)
    with db:
        cursor = db.execute(
            "INSERT INTO runs (digest, date, machine, host, cpu_model, cpu_count, kernel, mode, "
            "git_commit, tree_modified, version, conditions, source) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (digest, run["date"], run["machine"], run["host"], run["cpu_model"],
             run["cpu_count"], run["kernel"], run["mode"], run["git_commit"],
             None if run["tree_modified"] is None else int(bool(run["tree_modified"])),
             run["version"], run["conditions"], str(Path(path).resolve())))
        run_id = cursor.lastrowid
        db.executemany(
            "INSERT INTO results (run_id, benchmark, metric, value, lo, hi, repetitions, best, "
            "regime, line_floor_ns, wake_floor_ns, copy_floor_bps, regime_line_ns, stopped, "
            "other_value, other_best, other_repetitions, other_regime_line_ns) "
            "VALUES (:run_id, :benchmark, :metric, :value, :lo, :hi, :repetitions, :best, "
            ":regime, :line_floor_ns, :wake_floor_ns, :copy_floor_bps, :regime_line_ns, :stopped, "
            ":other_value, :other_best, :other_repetitions, :other_regime_line_ns)",
            [dict(r, run_id=run_id) for r in rows])
    return AddResult(run_id, True, len(rows))


@dataclass
class Point:
    run_id: int
    date: str
    commit: str | None
    kernel: str | None
    value: float
    line: float | None
    wake: float | None
    copy: float | None
    host: float | None  # the cache-line round trip of the host regime the value was taken in
    best: float | None = None  # the best repetition behind the value (None: not stored)
    repetitions: int | None = None  # how many repetitions stand behind the value
    other: float | None = None  # the run's other host regime: the median of its repetitions
    other_best: float | None = None  # there, their best and their number (None: none stored)
    other_repetitions: int | None = None
    other_host: float | None = None  # the cache-line round trip of that regime


@dataclass
class Series:
    machine: str
    mode: str
    benchmark: str
    metric: str
    points: list  # of Point, oldest first


def series(db: sqlite3.Connection, machine: str | None = None, benchmark: str | None = None):
    """Every series in the history, oldest run first; filtered by machine (exact, or a host
    name) and by a benchmark regular expression."""
    import re
    pattern = re.compile(benchmark) if benchmark else None
    query = ("SELECT r.machine, r.mode, s.benchmark, s.metric, r.id, r.date, r.git_commit, "
             "r.kernel, s.value, s.line_floor_ns, s.wake_floor_ns, s.copy_floor_bps, "
             "s.regime_line_ns, s.best, s.repetitions, s.other_value, s.other_best, "
             "s.other_repetitions, s.other_regime_line_ns "
             "FROM results s JOIN runs r ON r.id = s.run_id")
    args: tuple = ()
    if machine:
        query += " WHERE r.machine = ? OR r.host = ?"
        args = (machine, machine)
    query += " ORDER BY r.machine, r.mode, s.benchmark, s.metric, r.date, r.id"
    out: dict[tuple, Series] = {}
    for row in db.execute(query, args):
        key = row[:4]
        if pattern and not pattern.search(key[2]):
            continue
        s = out.get(key)
        if s is None:
            s = out[key] = Series(*key, points=[])
        s.points.append(Point(*row[4:]))
    return list(out.values())
