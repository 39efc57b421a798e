#!/usr/bin/python3
"""Merge the two reports of a `run_all.sh --twice` pair into one report of twice the repetitions,
for history/replay_noise.py: what a run of twice the budget (and twice the cap) would store, two
runs back to back standing for one that interleaves its repetitions over their whole length. A
benchmark of the first report, not a test. See history/README.md, "How well it finds steps".

usage: /usr/bin/python3 history/merge_pair.py OUT.json FIRST.json [SECOND.json]

The pair's host regimes are grouped by their cache-line round trips, 1.5x apart (as `changes`
groups them); every repetition keeps its own, and each estimate's value is the median of both
runs' repetitions in the regime of the first run's estimate, with every regime's median and
count beside it (as `ipcbench-history add` reads them). Given one report, it recomputes that one
the same way, to replay single runs on the same footing.
"""

import copy
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ipcbench_history import store  # noqa: E402
from replay_noise import regime_classes  # noqa: E402


def merge(datas: list) -> dict:
    found = {k: {r["index"]: r["cache_line_rtt_p50_ns"]["median"]
                 for r in data["context"]["ipcbench"]["regimes"]["regimes"]}
             for k, data in enumerate(datas)}
    klass = regime_classes(found)
    members: dict = {}
    for (k, i), c in klass.items():
        members.setdefault(c, []).append(found[k][i])
    context = copy.deepcopy(datas[0]["context"])
    context["ipcbench"]["regimes"]["regimes"] = [
        {"index": c, "cache_line_rtt_p50_ns": {"median": statistics.median(v)}, "share": None}
        for c, v in sorted(members.items())]
    rows: dict = {}
    for k, data in enumerate(datas):
        for b in data["benchmarks"]:
            if b.get("run_type") != "iteration" or b.get("status") != "ok" or \
                    b.get("regime") is None:
                continue
            rows.setdefault(b["name"], []).append(dict(b, regime=klass[(k, b["regime"])]))
    estimates = {}
    for name, e in (datas[0].get("estimates") or {}).items():
        if not isinstance(e, dict) or e.get("regime") is None or name not in rows:
            continue
        metric, ref = e["metric"], klass[(0, e["regime"])]
        by: dict = {}
        for b in rows[name]:
            if (b.get(metric) or 0) > 0:
                by.setdefault(b["regime"], []).append(b[metric])
        if ref not in by:
            continue
        estimates[name] = {
            "metric": metric, "regime": ref, "value": statistics.median(by[ref]),
            "used": len(by[ref]), "stopped": e.get("stopped"), "interval": None,
            "by_regime": [{"regime": g, "value": statistics.median(v), "repetitions": len(v)}
                          for g, v in sorted(by.items())]}
    return {"context": context, "benchmarks": [b for v in rows.values() for b in v],
            "estimates": estimates}


def main() -> int:
    if len(sys.argv) not in (3, 4):
        print(next(x for x in __doc__.splitlines() if x.startswith("usage:")), file=sys.stderr)
        return 2
    try:
        datas = [json.loads(store.read_report_text(Path(p))) for p in sys.argv[2:]]
        merged = merge(datas)
    except (store.HistoryError, ValueError, KeyError, TypeError) as error:
        print(f"merge_pair.py: not a pair of ipcbench reports with host regimes: {error}",
              file=sys.stderr)
        return 2
    Path(sys.argv[1]).write_text(json.dumps(merged), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
