"""ipcbench-history: results over time and across hosts, in one SQLite file. See history/README.md.

Exit status: 0 done; 1 `changes` found a regression in the window, or `fleet` found a host that
failed, timed out or ran other code; 2 bad input (one line naming it, before any work).
"""

import argparse
import csv
import datetime as dt
import json
import re
import statistics
import sys
from pathlib import Path

from . import store

try:  # change points need Debian's python3-scipy (and its numpy); add, export and fleet do not
    from . import detect, page
except ImportError as missing:
    detect = page = None
    _MISSING = str(missing)


def _need_scipy():
    if detect is None:
        raise store.HistoryError(f"change points need python3-scipy ({_MISSING}): "
                                 "sudo apt-get install python3-scipy")

DEFAULT_DB = Path(__file__).resolve().parents[2] / "results" / "history.sqlite"
# The step `changes` reports, per series, whether it would show within 5 runs (sensitivity).
VISIBLE_STEP = 0.10


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise store.HistoryError(message)


def _since(text: str) -> dt.datetime | None:
    if text == "all":
        return None
    m = re.fullmatch(r"([1-9][0-9]{0,5})([hdw])", text)
    now = dt.datetime.now(dt.timezone.utc)
    if m:
        hours = int(m.group(1)) * {"h": 1, "d": 24, "w": 168}[m.group(2)]
        return now - dt.timedelta(hours=hours)
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise store.HistoryError(f"--since '{text}': expected Nh, Nd, Nw, an ISO date or all") \
            from None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def _date(text: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def fmt(metric: str, value: float) -> str:
    if metric == "bytes_per_second":
        return f"{value / 2**30:.3g} GiB/s" if value >= 2**30 else f"{value / 2**20:.3g} MiB/s"
    if value >= 1e6:
        return f"{value / 1e6:.3g} ms"
    return f"{value / 1e3:.3g} us" if value >= 1e3 else f"{value:.3g} ns"


def _short(commit):
    return (commit or "?")[:12]


def find_changes(series, options=None):
    """[(series, change)] over the whole history (`series`: store.series), oldest first."""
    options = options or detect.Options()
    found = []
    for s in series:
        if len(s.points) < 2 * options.min_segment:
            continue
        for c in detect.analyse(s.points, s.metric, store.lower_is_better(s.metric), options):
            found.append((s, c))
    return found


def find_blind(series, options=None, step=VISIBLE_STEP):
    """(series with enough runs, [(series, smallest visible step)] of those that would not show
    a step of `step` within 5 runs: too noisy for it)."""
    options = options or detect.Options()
    checked, blind = 0, []
    for s in series:
        smallest = detect.sensitivity(s.points, s.metric, options)
        if smallest is None:
            continue
        checked += 1
        if smallest > step:
            blind.append((s, smallest))
    return checked, blind


def _blind_line(checked: int, blind: list) -> str:
    if not checked:
        return (f"sensitivity: no series has {2 * detect.MIN_SEGMENT} runs in its host's regime "
                "yet")
    text = (f"sensitivity: {checked - len(blind)} of {checked} series would show a "
            f"{VISIBLE_STEP * 100:.0f} % step within 5 runs")
    if blind:
        worst = sorted(x for _, x in blind)
        text += (f"; {len(blind)} are too noisy for it (the smallest step they would show: "
                 f"median {statistics.median(worst) * 100:.0f} %, up to {worst[-1] * 100:.0f} %; "
                 "--json lists them)")
    return text


def describe(s, c) -> dict:
    after = s.points[c.index]
    before = s.points[c.index - 1]
    kind = "host moved" if c.explained_by else ("regression" if c.regression else "improvement")
    return {
        "kind": kind, "machine": s.machine, "mode": s.mode, "benchmark": s.benchmark,
        "metric": s.metric, "ratio": c.ratio, "before": c.before, "after": c.after,
        "date": after.date, "run": c.index + 1, "runs": len(s.points),
        "commit_before": before.commit, "commit_after": after.commit,
        "kernel_changed": before.kernel != after.kernel, "pvalue": c.pvalue,
        "aa_noise": c.noise, "basis": c.basis, "basis_ratio": c.basis_ratio,
        "explained_by": c.explained_by, "floor_ratio": c.floor_ratio,
    }


_BASES = {
    "best": "each run's best repetition",
    "pooled": "with each run's other host regime pooled in",
    "pooled_best": "each run's best repetition, its other host regime's pooled in",
    "mid": "the geometric mean of each run's value and best repetition",
    "pooled_mid": "the geometric mean of each run's value and best repetition, its other host "
                  "regime's pooled in",
}


def _line(d: dict) -> str:
    text = (f"{d['kind']:<11} {d['benchmark']} on {d['machine']} [{d['mode']}]: "
            f"{(d['ratio'] - 1) * 100:+.1f} % ({fmt(d['metric'], d['before'])} -> "
            f"{fmt(d['metric'], d['after'])}) from {d['date']} (run {d['run']} of {d['runs']}), "
            f"commit {_short(d['commit_before'])} -> {_short(d['commit_after'])}")
    if d["kernel_changed"]:
        text += ", kernel changed"
    if d["basis"] in _BASES:
        text += f"; {_BASES[d['basis']]}: {(d['basis_ratio'] - 1) * 100:+.1f} %"
    elif d["basis"] != "raw":
        text += (f"; in multiples of the {detect.floor_name(d['basis'])} beside each run: "
                 f"{(d['basis_ratio'] - 1) * 100:+.1f} %")
    if d["explained_by"] == "regime":
        text += f"; p {d['pvalue']:.1g}"
    else:
        text += f"; p {d['pvalue']:.1g}, A/A noise {d['aa_noise'] * 100:.1f} %"
    if d["explained_by"]:
        text += (f"; the {detect.floor_name(d['explained_by'])} moved x{d['floor_ratio']:.2f} "
                 "with it")
    return text


def cmd_add(args) -> int:
    # Every file is read and checked before the first is added.
    parsed = [store.read_report(path) for path in args.reports]
    db = store.open_db(args.db)
    for path, report in zip(args.reports, parsed):
        r = store.add_report(db, path, report)
        print(f"{path}: " + (f"added as run {r.run_id} ({r.results} results)" if r.added
                             else f"already in the history as run {r.run_id}"))
    return 0


def cmd_changes(args) -> int:
    since = _since(args.since)
    _need_scipy()
    db = store.open_db(args.db, create=False)
    options = detect.Options(max_pvalue=args.max_pvalue)
    series = list(store.series(db, args.machine, args.filter))  # read once, for both passes
    found = [describe(s, c) for s, c in find_changes(series, options)]
    found = [d for d in found if since is None or _date(d["date"]) >= since]
    found.sort(key=lambda d: (d["date"], d["machine"], d["benchmark"]))
    regressions = [d for d in found if d["kind"] == "regression"]
    checked, blind = find_blind(series, options)
    if args.json:
        json.dump({"since": args.since, "changes": found,
                   "sensitivity": {
                       "step": VISIBLE_STEP, "runs_after": 5, "series": checked,
                       "too_noisy": [{"machine": s.machine, "mode": s.mode,
                                      "benchmark": s.benchmark, "metric": s.metric,
                                      "smallest_visible_step": x} for s, x in blind]}},
                  sys.stdout, indent=1)
        print()
    else:
        for d in found:
            print(_line(d))
        count = {k: sum(d["kind"] == k for d in found)
                 for k in ("regression", "improvement", "host moved")}
        print(f"{count['regression']} regressions, {count['improvement']} improvements, "
              f"{count['host moved']} steps the host explains (its regime or floors), "
              f"since {args.since}")
        print(_blind_line(checked, blind))
    return 1 if regressions else 0


def cmd_export(args) -> int:
    db = store.open_db(args.db, create=False)
    out = open(args.out, "w", newline="", encoding="utf-8") if args.out else sys.stdout
    try:
        w = csv.writer(out)
        cols = ["date", "machine", "mode", "host", "kernel", "git_commit", "benchmark", "metric",
                "value", "lo", "hi", "repetitions", "best", "regime", "line_floor_ns",
                "wake_floor_ns", "copy_floor_bps", "other_value", "other_best",
                "other_repetitions", "other_regime_line_ns"]
        w.writerow(cols)
        for row in db.execute(
                "SELECT r.date, r.machine, r.mode, r.host, r.kernel, r.git_commit, s.benchmark, "
                "s.metric, s.value, s.lo, s.hi, s.repetitions, s.best, s.regime, s.line_floor_ns, "
                "s.wake_floor_ns, s.copy_floor_bps, s.other_value, s.other_best, "
                "s.other_repetitions, s.other_regime_line_ns "
                "FROM results s JOIN runs r ON r.id = s.run_id "
                "ORDER BY r.date, r.id, s.benchmark, s.metric"):
            w.writerow(row)
    finally:
        if args.out:
            out.close()
    return 0


def cmd_page(args) -> int:
    _need_scipy()
    db = store.open_db(args.db, create=False)
    path = page.write(db, Path(args.out), args.machine, args.filter)
    print(f"wrote {path}")
    return 0


def _load_run_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise store.HistoryError(f"cannot read '{path}': {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("host"), str):
        raise store.HistoryError(f"cannot read '{path}': not a run record (no host)")
    return data


def cmd_fleet(args) -> int:
    folder = Path(args.folder)
    if not folder.is_dir():
        raise store.HistoryError(f"no such folder: '{folder}'")
    records = {}
    for path in sorted(folder.glob("*.run.json")):
        record = _load_run_json(path)
        records[record["host"]] = record
    expected = [h for h in (args.expect or "").split(",") if h]
    if not records and not expected:
        raise store.HistoryError(f"'{folder}' holds no <host>.run.json")
    db = store.open_db(args.db)
    bad = False
    ran = {}
    for host in sorted(set(records) | set(expected)):
        record = records.get(host)
        report = folder / f"{host}.json"
        if record is None:
            print(f"{host}: no run record (unreachable, or the run never started)")
            bad = True
        elif record.get("timed_out"):
            print(f"{host}: timed out after {record.get('seconds')} s")
            bad = True
        elif record.get("exit") != 0:
            print(f"{host}: the run failed (exit {record.get('exit')})")
            bad = True
        elif not report.is_file():
            print(f"{host}: the run ended but its report '{report.name}' is missing")
            bad = True
        else:
            try:
                r = store.add_report(db, report)
            except store.HistoryError as error:
                print(f"{host}: {error}")
                bad = True
                continue
            ran[host] = record
            print(f"{host}: " + (f"added as run {r.run_id}" if r.added else
                                 f"already in the history as run {r.run_id}"))
    for key, what in (("commit", "commits"), ("binary_sha256", "binaries (SHA-256)")):
        values = {h: r.get(key) for h, r in ran.items()}
        if len(set(values.values())) > 1:
            bad = True
            groups: dict = {}
            for h, v in values.items():
                groups.setdefault(v, []).append(h)
            print(f"the hosts ran different {what}: " + "; ".join(
                f"{_short(v) if key == 'commit' else (v or '?')[:16]} on {', '.join(hs)}"
                for v, hs in sorted(groups.items(), key=lambda kv: str(kv[0]))))
    print(f"{len(ran)} of {len(set(records) | set(expected))} hosts added" +
          ("" if not bad else "; see the lines above"))
    return 1 if bad else 0


def main(argv=None) -> int:
    parser = _Parser(prog="ipcbench-history", description=__doc__.split("\n")[0])
    parser.add_argument("--db", default=str(DEFAULT_DB),
                        help=f"the history file (default {DEFAULT_DB})")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("add", help="store reports (the same report twice: no-op)")
    p.add_argument("reports", nargs="+", metavar="REPORT")
    p = sub.add_parser("changes", help="change points per benchmark; exit 1 on a regression")
    p.add_argument("--since", default="30d", help="Nh, Nd, Nw, an ISO date or all (default 30d)")
    p.add_argument("--machine", help="one machine (its fingerprint or host name)")
    p.add_argument("--filter", help="benchmarks whose name matches this regular expression")
    p.add_argument("--max-pvalue", type=float, default=0.001,
                   help="the t-test's threshold (default 0.001, Otava's)")
    p.add_argument("--json", action="store_true", help="the changes as JSON")
    p = sub.add_parser("page", help="an offline HTML trend page")
    p.add_argument("--out", required=True, help="the folder to write index.html into")
    p.add_argument("--machine")
    p.add_argument("--filter")
    p = sub.add_parser("export", help="every result as CSV")
    p.add_argument("--out", help="a file (default: standard output)")
    p = sub.add_parser("fleet", help="add a fleet run's reports, naming hosts that failed")
    p.add_argument("folder", metavar="DIR")
    p.add_argument("--expect", help="comma-separated hosts that should have reported")
    for sub_parser in sub.choices.values():  # --db after the command works too
        sub_parser.add_argument("--db", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    try:
        args = parser.parse_args(argv)
        if getattr(args, "filter", None):
            try:
                re.compile(args.filter)
            except re.error as error:
                raise store.HistoryError(f"--filter '{args.filter}': {error}") from None
        if getattr(args, "max_pvalue", 0.5) is not None and \
                not 0 < getattr(args, "max_pvalue", 0.5) < 1:
            raise store.HistoryError("--max-pvalue must lie between 0 and 1")
        return {"add": cmd_add, "changes": cmd_changes, "page": cmd_page, "export": cmd_export,
                "fleet": cmd_fleet}[args.command](args)
    except store.HistoryError as error:
        print(f"ipcbench-history: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
