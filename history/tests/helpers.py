"""Small ipcbench reports made up for the history's tests, and a way to run the tool."""

import io
import json
import math
import random
import statistics
import subprocess
import sys
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

HISTORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HISTORY))

from ipcbench_history import cli  # noqa: E402


def report(date: str, values: dict, *, host="box", commit="c0ffee", line=115.0, wake=5000.0,
           copy=40e9, kernel="Linux 6.1", reps=5, noise=0.0, rng=None, estimates=True,
           factors=None, other=None) -> dict:
    """A report of one run: values maps a benchmark name (…/latency/… or …/throughput/…) to
    its main metric; every repetition carries the floors given, `noise` is a relative spread;
    `factors` (one per repetition) multiply each repetition's value. `other` (factor,
    repetitions, cache-line round trip) adds a second host regime (index 1) beside the value's,
    in which each benchmark has that many repetitions of its value x factor (x the repetition's
    own factor and noise, as in the first)."""
    rng = rng or random.Random(0)
    benchmarks, est = [], {}
    for name, value in values.items():
        pattern = "throughput" if "/throughput/" in name else "latency"
        metric = "bytes_per_second" if pattern == "throughput" else "rtt_p50_ns"
        run_values = []
        for k in range(reps):
            v = value * math.exp(rng.gauss(0, noise)) if noise else value
            v *= factors[k] if factors else 1.0
            run_values.append(v)
            floors = {"cache_line_rtt_p50_ns": line}
            if pattern == "latency":
                floors["wakeup_rtt_p50_ns"] = wake
            else:
                floors["copy_floor_bytes_per_second"] = copy
            benchmarks.append({"name": name, "run_type": "iteration", "status": "ok",
                               "pattern": pattern, metric: v, "regime": 0, "order": k,
                               "floors": floors})
        other_values = []
        for k in range(other[1] if other else 0):
            v = value * other[0] * (math.exp(rng.gauss(0, noise)) if noise else 1.0)
            v *= factors[k % len(factors)] if factors else 1.0
            other_values.append(v)
            benchmarks.append({"name": name, "run_type": "iteration", "status": "ok",
                               "pattern": pattern, metric: v, "regime": 1, "order": reps + k,
                               "floors": {"cache_line_rtt_p50_ns": other[2]}})
        run_values.sort()
        other_values.sort()
        if estimates:
            est[name] = {"metric": metric, "value": run_values[len(run_values) // 2],
                         "interval": [run_values[0], run_values[-1]], "regime": 0,
                         "used": reps, "stopped": "converged",
                         "by_regime": [{"regime": 0, "value": run_values[len(run_values) // 2],
                                        "repetitions": reps}]}
            if other_values:
                est[name]["by_regime"].append({"regime": 1, "repetitions": len(other_values),
                                               "value": statistics.median(other_values)})
    ctx = {"date": date, "host_name": host, "num_cpus": 2, "ipcbench": {
        "cpu_model": "Test CPU", "cpu_count": 2, "kernel": kernel, "git_commit": commit,
        "git_tree_modified": False, "version": "0.1.0", "placement": "cross",
        "process_model": "fork", "peers": "processes", "sweep": "quick",
        "idle_states": {"in_force": "held"},
        "regimes": {"regimes": [{"index": 0, "cache_line_rtt_p50_ns": {"median": line},
                                 "share": 1.0}]}}}
    if other:
        ctx["ipcbench"]["regimes"]["regimes"].append(
            {"index": 1, "cache_line_rtt_p50_ns": {"median": other[2]}, "share": 0.0})
    out = {"context": ctx, "benchmarks": benchmarks}
    if estimates:
        out["estimates"] = est
    return out


def write(folder: Path, name: str, data: dict) -> Path:
    path = Path(folder) / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def day(k: int) -> str:
    """A date k days after 2026-01-01, as reports write it."""
    return f"2026-{1 + k // 28:02d}-{1 + k % 28:02d}T03:00:00+00:00"


def run(*args) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ipcbench-history in this process."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = cli.main([str(a) for a in args])
    return status, out.getvalue(), err.getvalue()


def run_program(*args) -> subprocess.CompletedProcess:
    """The installed-style entry point, as a user runs it."""
    return subprocess.run([sys.executable, str(HISTORY / "ipcbench-history"),
                           *map(str, args)], capture_output=True, text=True, timeout=120)


class Folder:
    """A temporary folder removed on exit."""

    def __enter__(self) -> Path:
        self._tmp = tempfile.TemporaryDirectory(prefix="ipcbench-history-test-")
        return Path(self._tmp.name)

    def __exit__(self, *exc):
        self._tmp.cleanup()
