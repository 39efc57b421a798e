#!/usr/bin/python3
"""How well `ipcbench-history changes` finds steps in this machine's own noise: a benchmark of
the detector, not a test. See history/README.md, "How well it finds steps".

usage: /usr/bin/python3 history/replay_noise.py REPORT.json REPORT.json [MORE...]
                        [--series N] [--runs 30] [--step 0.10] [--seed S] [--json FILE]
                        [--noise-factor F] [--resample runs|repetitions]
                        [--pool stored|regimes] [--no-pool]

The reports are runs of one build on one machine (A/A). For each benchmark, the replay keeps
each run's value as `ipcbench-history add` stores it: the median of the run's repetitions in the
regime its estimate took its value from (the reference regime), however few they are, their
best, and the medians of the floors beside them. A synthetic run draws one of those real runs
(its residual around the k runs' mean) and adds a normal jitter of 1 / k of the runs' variance
in logarithms, to the value and the best alike (a smoothed bootstrap: k residuals carry
(k - 1) / k of it, and two draws of one run must still differ). Its floors are the drawn run's.
This replays the run-to-run noise of what the history holds; the JSON's "noise_check" compares it
with the real runs' own. The drawn run also brings its other host regime as `add` stores it (the
median and best of its repetitions there, with their own jitter, and their number), which `changes`
pools in; --no-pool leaves it out, as the detector before 2026-11-27 had none. Each synthetic run
carries the drawn run's repetitions, by which `changes` weighs it. (--pool regimes: the replay until
the second half of 2026-11-26, which replayed every regime a run met with two repetitions or more:
regimes whose values the history never stores, and none of the values `add` stores from a single
repetition. --resample repetitions: the replay before 2026-11-26, which drew as many repetitions as
the report used from one real run, with replacement, and took their median; that adds the draw's
noise to the runs' and overstates the noise, about 1.3x in the median.)
Three kinds of series of --runs runs:
- null: one regime throughout, no step: any regression found is a false alarm;
- step: a step of --step in the slower direction at a run drawn between a third and two thirds
  of the way; found when a regression (not explained by the floors) starts within one run of
  it, checking after each new run, at most 5 runs after the step;
- regime: the host moves from the fast regime to the slow one half-way, the build unchanged: a
  regression found is an alarm the floors should have prevented. These draw on every regime a
  run met with two repetitions or more: a history holds a fast regime's values only from runs
  whose reference regime it was.
The step series are also split by what `changes` says each can see (detect.sensitivity, from the
runs before the step): how many of those that can see a step of --step found it.
"""

import argparse
import json
import math
import random
import statistics
import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ipcbench_history import detect, store  # noqa: E402


MIN_RUNS = {"runs": 3, "repetitions": 2}  # real runs of a benchmark in a regime to replay it
HOST: dict = {}  # regime -> the median over the reports of its cache-line round trip
SWITCH: list = []  # the regime series' fast and slow regimes


def regime_classes(found: dict) -> dict:
    """{(report, regime index): class} for found = {report: {regime index: its cache-line round
    trip}}. A regime is a class of cache-line round trips over all the reports, grouped as
    `changes` groups them (detect.host_classes): a report's regime index says nothing of another
    report's (a run that met a third regime numbers its others differently)."""
    keys = [(report, i) for report, regimes_of in found.items() for i in regimes_of]
    return dict(zip(keys, detect.host_classes(
        [SimpleNamespace(host=found[report][i]) for report, i in keys])))


def load_pools(paths):
    """Two pools, {(benchmark, metric): {regime: {"runs": [...]}}} each:
    - "stored": what `ipcbench-history add` stores (its own parser, store.parse_data), one
      value per benchmark and run: the median of its repetitions in the regime its estimate
      took its value from (the reference regime; all of them where the estimate names none),
      however few, their best and the floors' medians;
    - "regimes": every regime in which the run had two repetitions or more (the replay until
      the second half of 2026-11-26, which also replayed regimes the history never stores a
      value of). The regime series draw on it: they need both regimes' values."""
    stored: dict = {}
    regimes: dict = {}
    lines: dict = {}
    found: dict = {}  # each report's regimes: index -> cache-line round trip
    stored_at, regimes_at = [], []  # (pool key, report, regime index, run) until the classes
    for path in paths:
        data = json.loads(store.read_report_text(Path(path)))
        found[path] = {r["index"]: r["cache_line_rtt_p50_ns"]["median"]
                       for r in data["context"]["ipcbench"]["regimes"]["regimes"]}
        # What `add` stores, by add's own parser.
        for row in store.parse_data(data, Path(path))[1]:
            stored_at.append(((row["benchmark"], row["metric"]), path, row["regime"], {
                "used": row["repetitions"], "metric": row["metric"],
                "stored": (math.log(row["value"]), row["line_floor_ns"], row["wake_floor_ns"],
                           row["copy_floor_bps"], math.log(row["best"])),
                "other": (math.log(row["other_value"]), math.log(row["other_best"]),
                          row["other_repetitions"], row["other_regime_line_ns"])
                if row["other_value"] and row["other_best"] else None}))
        estimates = data.get("estimates") or {}
        by_name: dict = {}
        for b in data["benchmarks"]:
            if b.get("run_type") == "iteration" and b.get("status") == "ok" and \
                    b.get("regime") is not None:
                by_name.setdefault(b["name"], []).append(b)
        for name, reps in by_name.items():
            metric = "bytes_per_second" if reps[0]["pattern"] == "throughput" else "rtt_p50_ns"
            used = (estimates.get(name) or {}).get("used") or 3
            for g in {r["regime"] for r in reps}:
                mine = [r for r in reps if r["regime"] == g and (r.get(metric) or 0) > 0]
                if len(mine) < 2:
                    continue
                regimes_at.append(((name, metric), path, g, {
                    "used": int(used), "metric": metric, "reps": [
                        (r[metric], (r.get("floors") or {}).get("cache_line_rtt_p50_ns"),
                         (r.get("floors") or {}).get("wakeup_rtt_p50_ns"),
                         (r.get("floors") or {}).get("copy_floor_bytes_per_second"))
                        for r in mine]}))
    klass = regime_classes(found)
    for (path, i), c in klass.items():
        lines.setdefault(c, []).append(found[path][i])
    for pool, at in ((stored, stored_at), (regimes, regimes_at)):
        for key, path, g, run in at:
            pool.setdefault(key, {}).setdefault(klass.get((path, g)), {"runs": []})[
                "runs"].append(run)
    HOST.update({g: statistics.median(v) for g, v in lines.items()})
    # The regime series switch between the two regimes most reports met, the faster first.
    met = sorted(lines, key=lambda g: -len(lines[g]))[:2]
    SWITCH[:] = sorted(met, key=lambda g: HOST[g])
    return {"stored": stored, "regimes": regimes}


def _med(values):
    values = [v for v in values if v]
    return statistics.median(values) if values else None


class Replay:
    """Synthetic runs of one benchmark in one regime, drawn from its real runs' values there (the
    median of each run's repetitions in the regime, as `add` stores it): one real run's residual
    around the runs' mean (see the module's docstring), with that run's floors. With
    resample="repetitions", the older replay: as many of one real run's repetitions as the report
    used, drawn with replacement, and their medians."""

    def __init__(self, slot, rng, host, resample="runs", pool=True):
        self.runs, self.rng, self.host, self.resample = slot["runs"], rng, host, resample
        # (log value, line, wake and copy floors, log best) of each run: as `add` stored it, or
        # from the run's repetitions in the regime.
        self.values = [run.get("stored") or
                       (math.log(_med([r[0] for r in run["reps"]])),
                        *(_med([r[k] for r in run["reps"]]) for k in (1, 2, 3)),
                        math.log(store.best_of([r[0] for r in run["reps"]], run["metric"])))
                       for run in self.runs]
        k = len(self.values)
        # k residuals carry (k - 1) / k of the runs' variance; a normal jitter of the other 1 / k
        # makes it whole (a smoothed bootstrap), and two draws of one run still differ.
        self.jitter = [statistics.stdev(v[i] for v in self.values) / math.sqrt(k) if k > 1 else 0.0
                       for i in (0, 4)]
        # The runs' other host regime, as `add` stores it (where pooled): the same jitter, of
        # the runs that have one.
        self.others = [run.get("other") for run in self.runs] if pool else [None] * k
        have = [o for o in self.others if o]
        self.other_jitter = [statistics.stdev(o[i] for o in have) / math.sqrt(len(have))
                             if len(have) > 1 else 0.0 for i in (0, 1)]

    def run(self, factor=1.0):
        if self.resample == "repetitions":
            run = self.rng.choice(self.runs)
            reps = [self.rng.choice(run["reps"]) for _ in range(run["used"])]
            return store.Point(0, "", None, None, _med([r[0] for r in reps]) * factor,
                               _med([r[1] for r in reps]), _med([r[2] for r in reps]),
                               _med([r[3] for r in reps]), self.host,
                               store.best_of([r[0] for r in reps], run["metric"]) * factor,
                               run["used"])
        k = self.rng.randrange(len(self.values))
        log_value, line, wake, copy, log_best = self.values[k]
        z = self.rng.gauss(0.0, 1.0)  # the run's value and its best move together
        other = self.others[k]
        zo = self.rng.gauss(0.0, 1.0)  # and so do its other regime's
        return store.Point(0, "", None, None, math.exp(log_value + z * self.jitter[0]) * factor,
                           line, wake, copy, self.host,
                           math.exp(log_best + z * self.jitter[1]) * factor,
                           self.runs[k]["used"],
                           math.exp(other[0] + zo * self.other_jitter[0]) * factor
                           if other else None,
                           math.exp(other[1] + zo * self.other_jitter[1]) * factor
                           if other else None,
                           other[2] if other else None, other[3] if other else None)


def noise_check(pools, rng, resample, draws=100):
    """The real runs' run-to-run noise against the replay's, over the benchmarks and regimes that
    at least 3 runs met: the mean |log ratio| of two real runs (every pair of them), and of two
    consecutive synthetic runs; their medians, and the share of 0.05 or more (as by_aa_noise).
    The same for each run's best repetition under "best"."""
    real, replayed, real_best, replayed_best = [], [], [], []
    for regimes in pools.values():
        for g, slot in regimes.items():
            if len(slot["runs"]) < MIN_RUNS["runs"]:
                continue
            r = Replay(slot, rng, HOST.get(g), resample)
            points = [r.run() for _ in range(draws)]
            for k, mine, theirs in ((0, real, replayed), (4, real_best, replayed_best)):
                logs = [v[k] for v in r.values]
                mine.append(statistics.fmean(abs(a - b) for i, a in enumerate(logs)
                                             for b in logs[i + 1:]))
                xs = [math.log(p.value if k == 0 else p.best) for p in points]
                theirs.append(statistics.fmean(abs(xs[i] - xs[i - 1]) for i in range(1, draws)))

    def summary(values):
        return {"median": statistics.median(values) if values else None,
                "share_0.05_or_more": sum(v >= 0.05 for v in values) /
                max(len(values), 1)}
    return {"pools": len(real), "real_runs": summary(real), "replay": summary(replayed),
            "best": {"real_runs": summary(real_best), "replay": summary(replayed_best)}}


def regressions(points, metric, opt, near=None):
    changes = detect.analyse(points, metric, store.lower_is_better(metric), opt)
    return [c for c in changes if c.regression and not c.explained_by and
            (near is None or abs(c.index - near) <= 1)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("reports", nargs="+")
    ap.add_argument("--series", type=int, default=3000, help="series of each kind (at most)")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--step", type=float, default=0.10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json")
    ap.add_argument("--noise-factor", type=float, default=detect.NOISE_FACTOR,
                    help="the detector's A/A noise filter (default: the detector's own)")
    ap.add_argument("--resample", choices=("runs", "repetitions"), default="runs",
                    help="replay the runs' values (default) or, as before, their repetitions")
    ap.add_argument("--pool", choices=("stored", "regimes"), default="stored",
                    help="the null and step series replay what `add` stores (default: the "
                         "estimate's regime, one repetition or more) or, as until 2026-11-26, "
                         "every regime a run met with two repetitions or more")
    ap.add_argument("--no-pool", action="store_true",
                    help="replay the runs without their other host regime (the detector before "
                         "2026-11-27, which did not pool it in)")
    args = ap.parse_args()
    # The runs' own noise needs at least three runs of a benchmark in a regime to be replayed
    # (two give one difference: pools whose noise happens to be low are found, the others not,
    # and the share found comes out high); the repetitions' replay needs two.
    if args.pool == "stored" and args.resample == "repetitions":
        ap.error("--resample repetitions needs --pool regimes: what add stores keeps no "
                 "repetitions")
    least = MIN_RUNS[args.resample]
    if len(args.reports) < least:
        ap.error(f"at least {least} reports of one build (--resample {args.resample})")
    rng = random.Random(args.seed)
    opt = detect.Options(noise_factor=args.noise_factor)
    try:
        loaded = load_pools(args.reports)
    except store.HistoryError as error:
        ap.error(str(error))
    except (ValueError, KeyError, TypeError) as error:
        ap.error(f"not an ipcbench report with host regimes: {error!r}")
    pools, by_regime = loaded[args.pool], loaded["regimes"]
    # A benchmark's noise is replayable in a regime that at least `least` runs met.
    single = [(k, g) for k, regimes in pools.items() for g, s in regimes.items()
              if len(s["runs"]) >= least]
    both = [k for k, regimes in by_regime.items() if len(SWITCH) == 2 and
            all(g in regimes and len(regimes[g]["runs"]) >= least for g in SWITCH)]
    if not single:
        ap.error(f"no benchmark met one host regime in {least} of these reports: nothing to replay")
    rng.shuffle(single)
    n = args.runs
    out = {"reports": args.reports, "runs": n, "step": args.step, "replayable": len(single),
           "max_pvalue": opt.max_pvalue, "noise_factor": opt.noise_factor,
           "resample": args.resample, "pool": args.pool,
           "other_regime_pooled": not args.no_pool}

    false_alarms = 0
    nulls = [single[i % len(single)] for i in range(min(args.series, 3 * len(single)))]
    for (key, g) in nulls:
        r = Replay(pools[key][g], rng, HOST.get(g), args.resample, not args.no_pool)
        false_alarms += bool(regressions([r.run() for _ in range(n)], key[1], opt))
    out["null"] = {"series": len(nulls), "false_alarms": false_alarms,
                   "per_100": 100 * false_alarms / max(len(nulls), 1)}

    found, delays, steps = 0, [], 0
    noise_of, sees = [], []
    for (key, g) in nulls:
        r = Replay(pools[key][g], rng, HOST.get(g), args.resample, not args.no_pool)
        at = rng.randint(n // 3, 2 * n // 3)
        factor = (1 + args.step) if store.lower_is_better(key[1]) else 1 / (1 + args.step)
        points = [r.run() for _ in range(at)] + [r.run(factor) for _ in range(5)]
        steps += 1
        hit = None
        for extra in range(1, 6):
            if regressions(points[:at + extra], key[1], opt, near=at):
                hit = extra
                break
        _, quietest, _ = detect._quietest_basis(points[:at], key[1])  # as the detector picks it
        noise_of.append((detect.aa_noise(quietest, []), hit is not None))
        # What `changes` says the series can see, from the runs before the step alone.
        sees.append((detect.sensitivity(points[:at], key[1], opt), hit is not None))
        if hit:
            found += 1
            delays.append(hit)
    buckets = []
    for lo, hi in ((0, .01), (.01, .02), (.02, .03), (.03, .05), (.05, .10), (.10, math.inf)):
        sel = [hit for noise, hit in noise_of if lo <= noise < hi]
        buckets.append({"aa_noise": [lo, hi if hi < math.inf else None], "series": len(sel),
                        "found": sum(sel), "share": sum(sel) / max(len(sel), 1)})
    seen = [hit for step, hit in sees if step is not None and step <= args.step]
    blind = [hit for step, hit in sees if step is None or step > args.step]
    sensitivity = {
        "series_that_see_the_step": len(seen), "found_there": sum(seen),
        "share_found_there": sum(seen) / max(len(seen), 1),
        "series_too_noisy": len(blind), "found_there_anyway": sum(blind)}
    out["step"] = {
        "series": steps, "found_within_5": found, "share": found / max(steps, 1),
        "median_runs_after": statistics.median(delays) if delays else None,
        "by_aa_noise": buckets,
        "by_sensitivity": sensitivity,
    }

    alarms = at_switch = 0
    regime_series = [both[i % len(both)] for i in range(min(args.series, 3 * len(both)))] \
        if both else []
    for key in regime_series:
        fast = Replay(by_regime[key][SWITCH[0]], rng, HOST[SWITCH[0]], args.resample)
        slow = Replay(by_regime[key][SWITCH[1]], rng, HOST[SWITCH[1]], args.resample)
        points = [fast.run() for _ in range(n // 2)] + [slow.run() for _ in range(n - n // 2)]
        found_here = regressions(points, key[1], opt)
        alarms += bool(found_here)
        at_switch += any(abs(c.index - n // 2) <= 1 for c in found_here)
    out["regime"] = {"series": len(regime_series), "alarms": alarms,
                     "alarms_at_the_switch": at_switch}
    out["noise_check"] = noise_check(pools, random.Random(args.seed + 1), args.resample)
    print(json.dumps(out, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
