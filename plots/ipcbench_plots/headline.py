"""Headline findings: the report's answers as sentences with numbers, for the top of the page.

Every sentence is computed from one report's medians (report.py) and its context; where the data
a sentence needs is missing, skipped or failed, the sentence says so instead of a number. With
estimates (DESIGN rules 13-16) a value is quoted with its interval and, when multimodal, its
modes, and a best whose interval overlaps another's is a tie. The same findings render as HTML
(html.py) and as markdown (docs.py).
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass

from .report import CALIBRATION_FAMILY, Regimes, Report, intervals_overlap, text
from .units import KIB, MIB, format_ns, format_rate, format_size, n_repetitions

# Size classes the findings speak of: the textbooks' two boundaries (PIPE_BUF 4 KiB is inside
# "medium"; the default pipe capacity, 64 KiB, is its upper end).
SIZE_CLASSES = (
    ("Small messages, 1 B to 512 B", 1, 512),
    ("Medium messages, 513 B to 64 KiB", 513, 64 * KIB),
    ("Large messages, above 64 KiB", 64 * KIB + 1, math.inf),
)
# A mechanism spins when its trait `wait` starts so ("busy-wait ...", "spin").
SPINNING = re.compile(r"^\s*(busy|spin)", re.IGNORECASE)
SPIN_SIZE = 64  # the latency size the spinning finding prefers
DETAIL_CHARS = 260
# A group of more names than this (a tie) is named by its first NAMES_LISTED - 1 and a count.
NAMES_LISTED = 4
# An estimate's `stopped`, in the words of the reproducibility finding.
STOPPED = (
    ("converged", "converged"),
    ("cap", "hit the cap"),
    ("budget", "ran out of the time budget"),
    ("failed", "failed"),
    ("skipped", "were skipped"),
)
MULTIMODAL_NAMED = 3
# A host state (regime) other than the reference that held at least this share of the run gets
# its own answer in the host-states finding, at the sizes of the two rankings.
STATE_SHARE = 0.1
STATE_RANKINGS = (
    ("latency", 64, "rtt_p50_ns", format_ns, "the lowest p50 round trip"),
    ("throughput", MIB, "bytes_per_second", format_rate, "the highest throughput"),
)


@dataclass(frozen=True)
class Finding:
    topic: str  # a short bold lead-in: "Latency", "Wake-up", ...
    text: str  # one or more sentences, plain text with units


def findings(report: Report) -> list[Finding]:
    """The headline, in reading order: the run, the fastest per size class (latency, then
    throughput), the wake-up, spinning, the textbooks' comparison as computed claims (when the
    report has them), the probes; with estimates, reproducibility after the run."""
    out = [_run(report)]
    if report.estimates:
        out.append(reproducibility(report))
    out += _fastest(report)
    states = host_states(report)
    if states:
        out.append(states)
    out += [_wakeup(report), _spinning(report)]
    if report.claims:
        out.append(_comparison(report))
    out.append(_probes(report))
    return out


def _run(report: Report) -> Finding:
    ib = report.ipcbench
    counts: dict[str, int] = {}
    for cell in report.cells.values():
        counts[cell.status] = counts.get(cell.status, 0) + 1
    reps = report.repetitions()
    sentence = (
        f"Measured on {report.machine_line()}; {text(ib.get('sweep')) or 'unrecorded'} sweep, "
        f"{'up to ' if report.estimates else ''}{n_repetitions(reps)} "
        "per benchmark, placement "
        f"{text(ib.get('placement')) or 'unrecorded'}. "
        f"{counts.get('ok', 0)} benchmarks ok, {counts.get('skipped', 0)} skipped, "
        f"{counts.get('failed', 0)} failed"
    )
    failed = [c for c in report.cells.values() if c.status == "failed"]
    if failed:
        sentence += " (" + "; ".join(f"{c.name}: {c.reason}" for c in failed[:3])
        sentence += f"; {len(failed) - 3} more" if len(failed) > 3 else ""
        sentence += ")"
    sentence += " (the table of all numbers gives every reason)."
    if reps < 3:
        sentence += (
            f" With {n_repetitions(reps)}, differences of a few percent "
            "between mechanisms are within the noise."
        )
    return Finding("Run", sentence)


def reproducibility(report: Report) -> Finding:
    """The stop rule, how the benchmarks stopped, the width reached, the multimodal ones and
    which repetitions the values come from."""
    estimates = report.estimates
    rule = report.section("stop_rule")
    sentence = ""
    if rule:
        sentence = (
            f"Stop rule: repetitions until the {_percent(rule.get('confidence'))} confidence "
            f"interval of the median is within {_percent(rule.get('relative_width'))} of it "
            f"({text(rule.get('metrics')) or 'metrics unrecorded'}; basis: "
            f"{text(rule.get('basis')) or 'unrecorded'}), {text(rule.get('min_repetitions'))} to "
            f"{text(rule.get('max_repetitions'))} repetitions, a budget of "
            f"{text(rule.get('budget_s'))} s. ")
    counts = Counter(e.stopped for e in estimates.values())
    stopped = [f"{counts.pop(k)} {words}" for k, words in STOPPED if k in counts]
    stopped += [f"{n} stopped “{k or 'unrecorded'}”" for k, n in counts.items()]
    sentence += f"Of {len(estimates)} benchmarks, " + ", ".join(stopped)
    widths = [e.relative_width for e in estimates.values() if e.relative_width is not None]
    if widths:
        sentence += (f"; the median relative width of the intervals reached is "
                     f"{_percent(statistics.median(widths))}")
    multimodal = [name for name, e in estimates.items() if e.multimodal]
    sentence += f". {len(multimodal)} {'is' if len(multimodal) == 1 else 'are'} multimodal"
    if multimodal:
        sentence += (": " + ", ".join(multimodal[:MULTIMODAL_NAMED])
                     + (f" and {len(multimodal) - MULTIMODAL_NAMED} more"
                        if len(multimodal) > MULTIMODAL_NAMED else "")
                     + " (the table of all numbers gives the modes)")
    return Finding("Reproducibility", f"{sentence}. {_cap(report.basis())}.")


def host_states(report: Report) -> Finding | None:
    """The answer in each other state the host held for a good part of the run (STATE_SHARE):
    how many benchmarks ran there, and who leads the two rankings there against the reference
    state's leaders. None without estimates or without two regimes."""
    regimes = report.regimes
    if not report.estimates or regimes is None or len(regimes.regimes) < 2:
        return None
    reference = regimes.regime(regimes.reference)
    if reference is None:
        return None
    sentences = [
        f"The host moved the vCPUs under this run. The values on this page are taken in "
        f"{reference.describe()}, the reference state."
    ]
    measured = [e for e in report.estimates.values() if e.by_regime]
    for state in regimes.regimes:
        if state.index == reference.index:
            continue
        if state.share < STATE_SHARE:
            sentences.append(f"{_cap(state.describe())} is too short for an answer of its own.")
            continue
        ran = sum(state.index in e.by_regime for e in measured)
        parts = []
        for pattern, size, key, fmt, what in STATE_RANKINGS:
            here, n, of = _state_leaders(report, pattern, size, key, state.index)
            there, _, _ = _state_leaders(report, pattern, size, key, reference.index)
            if not here:
                continue
            value = report.estimate(here[0], pattern, size, key).by_regime[state.index]
            quote = (f"{_names(here, tie=True)} ({fmt(value.value)}"
                     f"{'' if len(here) > 1 else _state_note(value, fmt)})")
            same = set(here) == set(there)
            parts.append(f"{what} at {format_size(size)}, of the {n} of {of} mechanisms measured "
                         f"there: {quote}, "
                         + ("as in the reference state" if same else
                            f"where the reference state has {_names(there, tie=True)}"
                            if there else "with no leader in the reference state"))
        sentence = (f"In {state.describe()}, {ran} of {len(measured)} benchmarks ran at least "
                    "once")
        sentences.append(sentence + ("; " + "; ".join(parts) if parts else "") + ".")
    sentences.append("Each benchmark's value in each state is in the report "
                     "(estimates.*.by_regime); ipcbench-compare --same-answer compares two runs "
                     "state by state.")
    return Finding("Host states", " ".join(sentences))


def _state_leaders(report: Report, pattern: str, size: int, key: str,
                   regime: int) -> tuple[tuple[str, ...], int, int]:
    """The best series in one regime at one size, then those whose interval there overlaps the
    best's (a tie; the best alone without an interval); how many series have a value there, and
    how many have an estimate at all."""
    values, states, of = {}, {}, 0
    for series in _candidates(report, pattern):
        estimate = report.estimate(series, pattern, size, key)
        if estimate is None or estimate.value is None:
            continue
        of += 1
        state = estimate.by_regime.get(regime)
        if state is not None and math.isfinite(state.value) and state.value > 0:
            values[series], states[series] = state.value, state
    if not values:
        return (), 0, of
    ranked = sorted(values, key=values.get, reverse=pattern != "latency")
    best = states[ranked[0]].interval
    tied = tuple(s for s in ranked[1:] if intervals_overlap(best, states[s].interval))
    return (ranked[0],) + tied, len(values), of


def _state_note(value, fmt) -> str:
    if value.interval:
        return f", CI {fmt(value.interval[0])}–{fmt(value.interval[1])}"
    return f", no interval: {n_repetitions(value.repetitions)}"


def _percent(value) -> str:
    finite = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return f"{value * 100:.3g} %" if finite else "?"


def _candidates(report: Report, pattern: str) -> list[str]:
    """Series that compete: no calibration floor, and for throughput nothing lossy (UDP's
    goodput is what arrives of an overrun stream, not a rate the channel sustains)."""
    series = []
    for name in report.series():
        if report.series_family.get(name) == CALIBRATION_FAMILY:
            continue
        traits = report.mechanism(name.split(" (")[0])
        if pattern == "throughput" and traits.get("lossy") is True:
            continue
        series.append(name)
    return series


def _spins(report: Report, series: str) -> bool:
    return bool(SPINNING.match(text(report.mechanism(series.split(" (")[0]).get("wait"))))


def _fastest(report: Report) -> list[Finding]:
    """One finding per size class: the fastest in latency, then in throughput."""
    classes = list(SIZE_CLASSES)
    if 0 in report.all_sizes("latency"):
        classes.insert(0, ("Notifications (no payload, size 0)", 0, 0))
    out = []
    for label, low, high in classes:
        parts = []
        for pattern in ("latency", "throughput") if high > 0 else ("latency",):
            sizes = [s for s in report.all_sizes(pattern) if low <= s <= high]
            if not sizes:
                parts.append(f"{_cap(pattern)}: the report ran no {pattern} benchmark of "
                             "this size class.")
                continue
            parts.append(_class_sentence(report, pattern, sizes))
        out.append(Finding(_cap(label), " ".join(parts)))
    return out


def _class_sentence(report: Report, pattern: str, sizes: list[int]) -> str:
    if pattern == "latency":
        key, fmt, what = "rtt_p50_ns", format_ns, "the lowest p50 round trip (RTT)"
    else:
        key, fmt, what = "bytes_per_second", format_rate, "the highest throughput"
    candidates = _candidates(report, pattern)
    # Keyed by the best and those tied with it.
    wins: dict[tuple[str, ...], list[int]] = {}
    sleeper_wins: dict[tuple[str, ...], list[int]] = {}
    decided = []
    apart: dict[str, list[int]] = {}  # measured only in another host state, by series
    for size in sizes:
        values = {s: report.value(s, pattern, size, key) for s in candidates}
        values = {s: v for s, v in values.items() if math.isfinite(v) and v > 0}
        for series in [s for s in values if _elsewhere(report, s, pattern, size, key)]:
            apart.setdefault(series, []).append(size)
            del values[series]
        if not values:
            continue
        decided.append(size)
        _tally(wins, _leaders(report, pattern, key, size, values), size)
        sleeping = {s: v for s, v in values.items() if not _spins(report, s)}
        if sleeping:
            _tally(sleeper_wins, _leaders(report, pattern, key, size, sleeping), size)
    head = _cap(pattern)
    if not decided:
        return (f"{head}: no mechanism has a value at {_sizes(sizes)} (every benchmark there "
                "was skipped or failed).")
    winner = _most(wins)
    where = _where(report, winner, pattern, key, fmt, wins[winner])
    has = f"{_names(winner)} tie for" if len(winner) > 1 else f"{winner[0]} has"
    if len(decided) == 1:
        sentence = f"{head}: {has} {what}, {where}"
    else:
        sentence = (f"{head}: {has} {what} at {len(wins[winner])} of {len(decided)} "
                    f"sizes ({where})")
    others = [f"{_names(s, tie=True)} at {_sizes(v)}" for s, v in wins.items() if s != winner]
    if others:
        sentence += "; " + ", ".join(others)
    if all(_spins(report, s) for s in winner) and sleeper_wins:
        sleeper = _most(sleeper_wins)
        sentence += (f"; of the mechanisms that sleep while they wait, "
                     f"{_names(sleeper, tie=True)} "
                     f"({_where(report, sleeper, pattern, key, fmt, sleeper_wins[sleeper])})")
    sentence += "."
    if len(decided) < len(sizes):
        missing = [s for s in sizes if s not in decided]
        sentence += f" No value at {_sizes(missing)}."
    if apart:
        named = tuple(f"{series} at {_sizes(at)}" for series, at in apart.items())
        sentence += (f" Not compared: {_names(named)}, measured only in another host state "
                     "(estimates.*.regime) and not taken to the reference state's floor.")
    return sentence


def _elsewhere(report: Report, series: str, pattern: str, size: int, key: str) -> bool:
    """Whether the value was measured only in a regime other than the reference and was not
    taken to the reference's floor (a latency is, where its repetitions have their floors): it
    is not comparable with the values taken in the reference (DESIGN rule 13: within a regime, or
    normalised by the floors beside them)."""
    regimes = report.regimes
    estimate = report.estimate(series, pattern, size, key)
    if regimes is None or estimate is None or estimate.basis != "regime":
        return False
    if estimate.regime is None or estimate.regime == regimes.reference:
        return False
    return not estimate.at_floor


def _cap(label: str) -> str:
    return label[:1].upper() + label[1:]


def _leaders(report: Report, pattern: str, key: str, size: int,
             values: dict[str, float]) -> tuple[str, ...]:
    """The best series at one size, then every other whose interval overlaps the best's, best
    first: a tie (DESIGN rule 16). The best alone without an interval."""
    ranked = sorted(values, key=values.get, reverse=pattern != "latency")
    best = report.estimate(ranked[0], pattern, size, key)
    return (ranked[0],) + tuple(s for s in ranked[1:] if best is not None
                                and best.overlaps(report.estimate(s, pattern, size, key)))


def _tally(wins: dict[tuple[str, ...], list[int]], group: tuple[str, ...], size: int) -> None:
    """Counts a size for a group; the same ids in another order (a tie whose best changed) are
    the same group, named in the order first seen."""
    key = next((k for k in wins if set(k) == set(group)), group)
    wins.setdefault(key, []).append(size)


def _most(wins: dict[tuple[str, ...], list[int]]) -> tuple[str, ...]:
    # Most sizes won; a tie goes to the one that won the largest size.
    return max(wins, key=lambda s: (len(wins[s]), max(wins[s])))


def _names(group: tuple[str, ...], tie: bool = False) -> str:
    """"a", "a and b", "a, b and c"; past NAMES_LISTED, the first NAMES_LISTED - 1 and "and N
    more" (a tie of 22 mechanisms at 4 KiB is no sentence); with tie, a group says "(tie)"."""
    if len(group) == 1:
        return group[0]
    if len(group) > NAMES_LISTED:
        shown = NAMES_LISTED - 1
        names = ", ".join(group[:shown]) + f" and {len(group) - shown} more"
    else:
        names = ", ".join(group[:-1]) + f" and {group[-1]}"
    return names + (" (tie)" if tie else "")


def _sizes(sizes: list[int]) -> str:
    return ", ".join(format_size(s) for s in sizes)


def _quote(report: Report, series: str, pattern: str, key: str, fmt, size: int) -> str:
    """A value with its interval and, for a median of modes, the modes (DESIGN rules 15, 16)."""
    estimate = report.estimate(series, pattern, size, key)
    return fmt(report.value(series, pattern, size, key)) + (estimate.note(fmt) if estimate else "")


def _where(report: Report, group: tuple[str, ...], pattern: str, key: str, fmt,
           sizes: list[int]) -> str:
    """One id's values over the sizes it won (_range), or a tie's intervals at the first."""
    if len(group) == 1:
        return _range(report, group[0], pattern, key, fmt, sizes)
    at = format_size(min(sizes))
    shown = group if len(group) <= NAMES_LISTED else group[:NAMES_LISTED - 1]
    quotes = ", ".join(f"{s} {_quote(report, s, pattern, key, fmt, min(sizes))}" for s in shown)
    if len(shown) < len(group):
        quotes += f" and {len(group) - len(shown)} more"
    return (f"intervals overlap at {at}: {quotes}" if len(sizes) == 1
            else f"intervals overlap at each; at {at}: {quotes}")


def _range(report: Report, series: str, pattern: str, key: str, fmt, sizes: list[int]) -> str:
    """"6.1 µs at 1 B to 6.4 µs at 512 B", from the sizes given."""
    first, last = min(sizes), max(sizes)
    low, high = (_quote(report, series, pattern, key, fmt, s) for s in (first, last))
    if first == last:
        return f"{low} at {format_size(first)}"
    if low == high:
        return f"{low} at {format_size(first)} and at {format_size(last)}"
    return f"{low} at {format_size(first)} to {high} at {format_size(last)}"


def _wakeup(report: Report) -> Finding:
    calibration = report.section("calibration")
    idle = report.section("idle_states")
    mode = text(idle.get("in_force"))
    mode_text = f"idle states {mode}" if mode else "the idle-state mode is not recorded"
    if mode == "held" and idle.get("held_by") == "poller":
        # The PM QoS request reached nothing here (or was not made): pollers held the CPUs.
        mode_text += (f" ({text(idle.get('effect')).removeprefix('idle CPUs never halt: ')}; "
                      f"the PM QoS request {text(idle.get('pm_qos'))})")
    elif mode == "held":
        request = (f"PM QoS: {text(idle.get('device')) or 'cpu_dma_latency'} = "
                   f"{text(idle.get('latency_us')) or '0'} µs")
        # Made, and nothing honours it (no cpuidle driver): said so.
        mode_text += (f" ({request}) to no effect, "
                      f"{text(idle.get('effect')).removeprefix('none: ')}"
                      if idle.get("takes_effect") is False else f" ({request}, idle CPUs poll)")
    elif mode == "allowed":
        mode_text += " (idle CPUs may enter deep idle states)"
    if idle.get("reason"):
        mode_text += f"; {text(idle.get('requested'))} was requested but: {text(idle['reason'])}"
    cpuidle = report.section("cpuidle")
    if cpuidle:
        mode_text += (f", cpuidle driver {text(cpuidle.get('driver')) or 'unknown'}, governor "
                      f"{text(cpuidle.get('governor')) or 'unknown'}")
    wake = calibration.get("wakeup_rtt_ns")
    regimes = report.regimes
    reference = regimes.regime(regimes.reference) if regimes is not None else None
    if reference is not None and reference.wakeup is not None and reference.cache_line is not None:
        # The values are taken in the reference regime: its floors lead, not the start's.
        sentence = _reference_floors(reference, mode_text)
        if isinstance(wake, dict) and _number(wake.get("p50")):
            sentence += " " + _start_floors(calibration, wake)
        sentence += _run_floors(regimes)
        return Finding("Wake-up", sentence + _blocking_example(
            report, reference.wakeup.median, f"the wake-up floor of regime {reference.index}"))
    if isinstance(wake, dict) and _number(wake.get("p50")):
        sentence = _calibration_floors(calibration, wake, mode_text)
        floor, floor_name = wake["p50"], "that floor"
    elif regimes is not None:
        sentence = f"The start-of-run calibration has no wake-up floor; {mode_text}."
        floor, floor_name = math.nan, ""
    else:
        placement = text(report.ipcbench.get("placement")) or "unrecorded"
        return Finding("Wake-up", (
            "The report has no wake-up floor (context.ipcbench.calibration.wakeup_rtt_ns is "
            "absent: an older report, or a placement other than cross; this run's placement: "
            f"{placement}); {mode_text}."))
    if regimes is not None:
        sentence += _run_floors(regimes)
        # The values are taken in the reference regime: its floor is the one beside them.
        if reference is not None and reference.wakeup is not None:
            floor = reference.wakeup.median
            floor_name = f"the wake-up floor of regime {reference.index}"
    if math.isfinite(floor):
        sentence += _blocking_example(report, floor, floor_name)
    return Finding("Wake-up", sentence)


def _calibration_floors(calibration: dict, wake: dict, mode_text: str) -> str:
    """The wake-up and cache-line floors of the start-of-run calibration."""
    p50 = wake["p50"]
    one_way = wake.get("one_way_p50") if _number(wake.get("one_way_p50")) else p50 / 2
    cpus = wake.get("cpus")
    between = (f" between CPUs {cpus[0]} and {cpus[1]}"
               if isinstance(cpus, list) and len(cpus) == 2 else "")
    sentence = (
        f"One cross-CPU wake-up costs about {format_ns(one_way)} on this machine: half the "
        f"p50 round trip of a futex ping-pong{between} ({format_ns(p50)}"
    )
    if _number(wake.get("p10")) and _number(wake.get("p90")):
        sentence += f"; p10 {format_ns(wake['p10'])}, p90 {format_ns(wake['p90'])}"
    sentence += f"), with {mode_text}."
    line = calibration.get("cache_line_rtt_ns")
    if isinstance(line, dict) and _number(line.get("p50")):
        sentence += (f" A bare cache line bounces between the same CPUs in "
                     f"{format_ns(line['p50'])} (p50 round trip), so a mechanism that sleeps "
                     f"pays about {p50 / line['p50']:.0f}× what one that spins can reach.")
    return sentence


def _reference_floors(reference, mode_text: str) -> str:
    """The wake-up and cache-line floors measured beside the repetitions of the reference
    regime, the one the values are taken in."""
    wake, line = reference.wakeup.median, reference.cache_line.median
    return (f"One cross-CPU wake-up costs about {format_ns(wake / 2)} on this machine in the "
            f"state the values are taken in, {reference.describe()}: half the median p50 round "
            f"trip of a futex ping-pong measured beside its repetitions ({format_ns(wake)}), "
            f"with {mode_text}. A bare cache line bounces between the same CPUs in "
            f"{format_ns(line)} there (p50 round trip), so a mechanism that sleeps pays about "
            f"{wake / line:.0f}× what one that spins can reach.")


def _start_floors(calibration: dict, wake: dict) -> str:
    """The start-of-run calibration, one moment of the run."""
    cpus = wake.get("cpus")
    between = (f" between CPUs {cpus[0]} and {cpus[1]}"
               if isinstance(cpus, list) and len(cpus) == 2 else "")
    sentence = f"The start-of-run calibration, one moment of it: a futex ping-pong{between} " \
               f"({format_ns(wake['p50'])}"
    if _number(wake.get("p10")) and _number(wake.get("p90")):
        sentence += f"; p10 {format_ns(wake['p10'])}, p90 {format_ns(wake['p90'])}"
    sentence += ")"
    line = calibration.get("cache_line_rtt_ns")
    if isinstance(line, dict) and _number(line.get("p50")):
        sentence += f", a cache line {format_ns(line['p50'])}"
    return sentence + "."


def _run_floors(regimes: Regimes) -> str:
    """The floors measured beside the repetitions: over the run, then each regime's."""
    over = [f"{name} {spread.text(format_ns)}"
            for name, spread in (("cache-line round trip", regimes.cache_line),
                                 ("wake-up round trip", regimes.wakeup)) if spread]
    each = []
    for r in regimes.regimes:
        reference = " (the reference)" if r.index == regimes.reference else ""
        floors = ([f"cache line {r.cache_line.text(format_ns)}"] if r.cache_line else []) + (
            [f"wake-up {format_ns(r.wakeup.median)}"] if r.wakeup else [])
        each.append(f"regime {r.index}{reference}, {r.share * 100:.0f} % of the run: "
                    + ", ".join(floors))
    n = len(each)
    return (f" Measured beside the repetitions ({regimes.repetitions} with a floor), the "
            "floors' medians over the run (and ranges): " + ", ".join(over)
            + f"; in {n} regime{'s' if n != 1 else ''}: " + "; ".join(each) + ".")


def _blocking_example(report: Report, wake_p50: float, floor_name: str) -> str:
    """The pipe's smallest-payload round trip against a wake-up floor, when the report has it."""
    for size in report.sizes("latency"):
        value = report.value("pipe", "latency", size, "rtt_p50_ns")
        if math.isfinite(value):
            sentence = (f" A pipe's round trip at {format_size(size)} is {format_ns(value)}, "
                        f"{value / wake_p50:.2f}× {floor_name}")
            if value < wake_p50:
                sentence += (": below it, because in a back-to-back ping-pong the partner has "
                             "not fallen asleep yet, while each round of the floor waits 20 µs "
                             "so that it has")
            return sentence + "."
    return ""


def _spinning(report: Report) -> Finding:
    """Each spinning id against the futex variant of its mechanism: RTT and the CPU it burns."""
    spinners = [s for s in report.series()
                if _spins(report, s) and report.series_family.get(s) != CALIBRATION_FAMILY]
    if not spinners:
        return Finding("Spinning", "The report has no spinning mechanism (posix_shm.spin, "
                                   "posix_shm.adaptive), so what spinning buys is not measured.")
    sentences = []
    for spinner in spinners:
        # The futex variant of the same mechanism and layout: posix_shm.spin.inplace against
        # posix_shm.futex.inplace, posix_shm.spin against posix_shm.futex.
        parts = spinner.split(".")
        sleeper = ".".join([parts[0], "futex", *parts[2:]])
        if sleeper not in report.series_family:
            sentences.append(f"{spinner} has no sleeping counterpart ({sleeper}) in the report.")
            continue
        sentences.append(_spin_latency(report, spinner, sleeper, first=len(sentences) == 0))
        sentences.append(_spin_throughput(report, spinner, sleeper))
    return Finding("Spinning", " ".join(s for s in sentences if s))


def _spin_size(report: Report, pattern: str, a: str, b: str, prefer: int) -> int | None:
    ok = [s for s in report.sizes(pattern)
          if (ca := report.cell(a, pattern, s)) and ca.ok and (cb := report.cell(b, pattern, s))
          and cb.ok]
    if not ok:
        return None
    return prefer if prefer in ok else min(ok, key=lambda s: abs(math.log2(s / prefer)))


def _why_missing(report: Report, pattern: str, names: tuple[str, ...]) -> str:
    parts = []
    for name in names:
        cells = [c for s in report.all_sizes(pattern) if (c := report.cell(name, pattern, s))]
        bad = next((c for c in cells if not c.ok), None)
        if not cells:
            parts.append(f"{name} did not run it")
        elif bad and not any(c.ok for c in cells):
            parts.append(f"{name} {bad.status}: {bad.reason}")
    return "; ".join(parts) or "they share no size that both ran"


def _spin_latency(report: Report, spinner: str, sleeper: str, first: bool = True) -> str:
    size = _spin_size(report, "latency", spinner, sleeper, SPIN_SIZE)
    if size is None:
        return (f"{spinner} against {sleeper}: no latency size where both have a value "
                f"({_why_missing(report, 'latency', (spinner, sleeper))}).")
    v = {n: {k: report.value(n, "latency", size, k)
             for k in ("rtt_p50_ns", "rtt_mean_ns", "cpu_ns_per_message")}
         for n in (spinner, sleeper)}
    rtt_s, rtt_f = v[spinner]["rtt_p50_ns"], v[sleeper]["rtt_p50_ns"]
    sentence = (f"At {format_size(size)}, {spinner}'s p50 round trip is {format_ns(rtt_s)} "
                f"against {format_ns(rtt_f)} for {sleeper} ({_times(rtt_f, rtt_s)} lower)")
    cpu_s, cpu_f = v[spinner]["cpu_ns_per_message"], v[sleeper]["cpu_ns_per_message"]
    if math.isfinite(cpu_s) and math.isfinite(cpu_f):
        sentence += (f"; it spends {format_ns(cpu_s)} of CPU"
                     + (" (both peers, user+sys)" if first else "")
                     + f" per round trip against {format_ns(cpu_f)}")
        busy = [cpu / v[n]["rtt_mean_ns"] for n, cpu in ((spinner, cpu_s), (sleeper, cpu_f))]
        if all(math.isfinite(b) for b in busy):
            sentence += (f", which keeps {busy[0]:.2f} CPUs busy against {busy[1]:.2f}"
                         + (" (CPU time per round trip ÷ mean round trip)" if first else ""))
    else:
        sentence += "; the report has no CPU time per message for one of them"
    return sentence + "."


def _spin_throughput(report: Report, spinner: str, sleeper: str) -> str:
    sizes = [s for s in report.sizes("throughput")
             if math.isfinite(report.value(spinner, "throughput", s, "bytes_per_second"))
             and math.isfinite(report.value(sleeper, "throughput", s, "bytes_per_second"))]
    if not sizes:
        return (f"In streams, {spinner} and {sleeper} share no size with a value "
                f"({_why_missing(report, 'throughput', (spinner, sleeper))}).")
    size = max(sizes)
    bps_s = report.value(spinner, "throughput", size, "bytes_per_second")
    bps_f = report.value(sleeper, "throughput", size, "bytes_per_second")
    sentence = (f"In a {format_size(size)} stream {spinner} moves {format_rate(bps_s)} against "
                f"{format_rate(bps_f)} ({bps_s / bps_f:.2f}×)")
    cpu_s = report.value(spinner, "throughput", size, "cpu_ns_per_message")
    cpu_f = report.value(sleeper, "throughput", size, "cpu_ns_per_message")
    if math.isfinite(cpu_s) and math.isfinite(cpu_f):
        sentence += (f", for {format_ns(cpu_s)} against {format_ns(cpu_f)} of CPU per message")
    return sentence + "."


def _times(high: float, low: float) -> str:
    ratio = high / low
    return f"{ratio:.1f}×" if ratio < 10 else f"{ratio:.0f}×"


def _comparison(report: Report) -> Finding:
    """The report's computed claims (results/README.md#claims), each with its verdict and where
    it holds, as the report states them."""
    sentences = []
    for claim in report.claims:
        verdict = text(claim.get("verdict")) or "no verdict"
        summary = text(claim.get("summary"))
        sentence = f"“{text(claim.get('claim')) or claim.get('id')}”: {verdict}"
        if summary and summary != verdict:
            sentence += f" ({summary})"
        sentences.append(sentence + ".")
    return Finding("The textbooks' comparison", " ".join(sentences))


def _probes(report: Report) -> Finding:
    probes = report.probes
    if not probes:
        return Finding("Textbook claims", "The report has no probes (the run used --no-probes, "
                                          "or the probe program did not run).")
    verdicts: dict[str, list[dict]] = {}
    for probe in probes:
        verdicts.setdefault(text(probe.get("verdict")) or "no verdict", []).append(probe)
    holding = len(verdicts.get("holds", []))
    sentence = f"{holding} of {len(probes)} textbook claims checked on this machine hold"
    rest = [f"{len(v)} {'do not hold' if k == 'does not hold' and len(v) > 1 else k}"
            for k, v in verdicts.items() if k != "holds"]
    sentence += (" (" + ", ".join(rest) + ")." if rest else ".")
    for verdict in ("does not hold", "inconclusive", "untested", "not applicable",
                    "no verdict"):
        for probe in verdicts.get(verdict, []):
            detail = _short(text(probe.get("detail")) or "no detail given")
            sentence += (f" {_cap(verdict)}: “{text(probe.get('claim')) or probe.get('id')}”"
                         f" — {detail}{'' if detail.endswith('…') else '.'}")
    return Finding("Textbook claims", sentence)


def _short(detail: str) -> str:
    """The detail's first sentence, cut to DETAIL_CHARS."""
    first = re.split(r"(?<=[^.\d])\. ", detail, maxsplit=1)[0].rstrip(".")
    return first if len(first) <= DETAIL_CHARS else first[: DETAIL_CHARS - 1].rstrip() + "…"


def _number(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and value > 0)


def markdown(report: Report) -> str:
    """The findings as a markdown list, for docs/."""
    return "".join(f"- **{f.topic}.** {f.text}\n" for f in findings(report))
