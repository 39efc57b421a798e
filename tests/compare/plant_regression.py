#!/usr/bin/env python3
"""Plant a known slowdown into a benchmark report, to check that the regression gate sees it.

Reads an ipcbench report (or plain Google Benchmark JSON), scales the samples of the benchmarks
whose name matches a regex by a factor, and writes a new report. A factor f > 1 is a slowdown:
time-like values (real_time, rtt_*_ns, one_way_*_ns, latency_percentiles_ns) are multiplied by f,
rates (bytes_per_second, messages_per_second) divided by f. Aggregate rows are scaled the same way
(except those in percent, such as cv). CPU-time counters and counts are left alone.

    plant_regression.py results/a.json /tmp/b.json --plant '^pipe/latency/' 1.10
    plant_regression.py a.json b.json --plant 'throughput' 1.25 --plant '^tcp/' 1.02

Exit status: 0 written, 1 a pattern matched nothing, 2 bad input. Python 3 standard library only.
"""

import argparse
import json
import re
import sys

TIME_KEYS = ("real_time",)
TIME_PATTERN = re.compile(r"^(rtt_.*_ns|one_way_.*_ns)$")
RATE_PATTERN = re.compile(r".*_per_second$")


def scale_entry(entry, factor):
    """Scales one benchmark entry in place; returns the names of the fields it changed."""
    changed = []
    if entry.get("aggregate_unit") == "percentage":
        return changed
    for key, value in list(entry.items()):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if key in TIME_KEYS or TIME_PATTERN.match(key):
            entry[key] = value * factor
            changed.append(key)
        elif RATE_PATTERN.match(key):
            entry[key] = value / factor
            changed.append(key)
    percentiles = entry.get("latency_percentiles_ns")
    if isinstance(percentiles, dict):
        for key, value in percentiles.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                percentiles[key] = value * factor
        changed.append("latency_percentiles_ns")
    return changed


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"factor must be > 0: {text!r}")
    return value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", help="report to read")
    parser.add_argument("output", help="report to write ('-' for stdout)")
    parser.add_argument("--plant", nargs=2, action="append", metavar=("REGEX", "FACTOR"),
                        required=True,
                        help="scale benchmarks whose name (run_name where present) matches REGEX "
                             "(re.search) by FACTOR; > 1 is a slowdown; repeatable, the first "
                             "matching REGEX wins")
    args = parser.parse_args(argv)

    plants = []
    for pattern, factor_text in args.plant:
        try:
            plants.append([re.compile(pattern), positive_float(factor_text), 0])
        except (re.error, argparse.ArgumentTypeError) as e:
            print(f"plant_regression.py: bad --plant {pattern!r} {factor_text!r}: {e}",
                  file=sys.stderr)
            return 2

    try:
        with open(args.input, encoding="utf-8") as f:
            report = json.load(f)
    except (OSError, ValueError) as e:
        print(f"plant_regression.py: cannot read {args.input!r}: {e}", file=sys.stderr)
        return 2
    if not isinstance(report, dict) or not isinstance(report.get("benchmarks"), list):
        print(f"plant_regression.py: {args.input!r} is not a benchmark report", file=sys.stderr)
        return 2

    for entry in report["benchmarks"]:
        if not isinstance(entry, dict):
            continue
        name = entry.get("run_name", entry.get("name", ""))
        for plant in plants:
            if plant[0].search(str(name)):
                if scale_entry(entry, plant[1]):
                    plant[2] += 1
                break

    text = json.dumps(report, indent=2) + "\n"
    try:
        if args.output == "-":
            sys.stdout.write(text)
        else:
            with open(args.output, "w", encoding="utf-8") as f:
                f.write(text)
    except OSError as e:
        print(f"plant_regression.py: cannot write {args.output!r}: {e}", file=sys.stderr)
        return 2

    status = 0
    for regex, factor, count in plants:
        print(f"plant_regression.py: x{factor:g} on {count} entries matching {regex.pattern!r}",
              file=sys.stderr)
        if count == 0:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
