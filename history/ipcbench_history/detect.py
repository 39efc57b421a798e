"""Change points in one series: E-divisive means with a t-test, as Apache Otava (formerly
Hunter, MongoDB's signal processing) finds them, on the logarithm of the values, with what only
this suite knows applied around it:

- host regimes: each run's value carries the cache-line round trip of the host regime it was
  taken in; the runs are split by regime (groups 1.5x apart, as the report groups them) and each
  part is analysed alone, so like is compared with like. Where the host settles in another regime
  the step is reported as the host's ("regime"), never as a regression.
- floors: within a regime the series is analysed on the basis that moves least from run to run:
  the values, each run's best repetition, or the values in multiples of a floor measured beside
  them (the wake-up or cache-line round trip for latency, the copy floor or cache-line round
  trip for throughput), which takes out what that floor explains, or the geometric mean of each
  run's value and best ("mid"). On any basis but a floor's, a step that a floor made (the floor
  stepped the same way, significantly and beyond its own noise) is the host's too.
- the other host regime: a run's values and best repetition are also offered with the run's
  repetitions in its other regime pooled in, taken to the value's regime by the series' median
  offset between the two ("pooled", "pooled_best"): more repetitions behind each run, where
  the host split the run between its regimes ("pooled_mid": their geometric mean).
- the values confirm: a step found on a floor's basis counts only where the values move the
  same way by at least half as much (a floor's step alone is no change of what the report
  states); one found on the run's own repetitions (the best, pooled or mid bases) only where the
  values do not contradict it: their step falls short of half of it by less than CONFIRM_SE
  standard errors of their own step (from their run-to-run spread around it).
- A/A noise: a step no larger than NOISE_FACTOR x the series' own run-to-run noise (the mean
  |log ratio| of consecutive runs that no change point separates) is never reported, nor one of
  MIN_STEP or less (a log ratio): a series that is constant but for the arithmetic's rounding
  (the "mid" basis of runs whose value and best repetition move apart by the same factor) has
  an A/A noise near 1e-16, and a step of 2e-15 there came out "significant" on one CPU and not
  on another, whose exp and log round differently.
- every step holds where it is reported: the splits are judged again between the splits kept
  beside them, and the weakest that does not hold goes until all left do (as Otava merges its
  weakest change points).
- repetitions: the t-test weighs each run by the repetitions behind its value, at most
  MAX_WEIGHT, where every run says how many (a weighted t-test; equal weights give Student's).
  On the development VM a value that stands on one repetition lies about twice as far from its
  benchmark's median as one that stands on five.

Otava's defaults: p-value at most 0.001, a window of 50 runs (25 each side of a split).
Segments hold at least 3 runs.
"""

import math
import statistics
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

MAX_PVALUE = 0.001
WINDOW = 50
MIN_SEGMENT = 3
REGIME_RATIO = 1.5
NOISE_FACTOR = 1.5
MAX_WEIGHT = 5
CONFIRM_SE = 2.0
# A median's standard error over a mean's, for normal values (sqrt(pi / 2)).
MEDIAN_EFFICIENCY = 1.2533
# The smallest step (a log ratio) that can be a change: below it, the values' own rounding.
MIN_STEP = 1e-9


@dataclass
class Change:
    index: int            # the first run after the step
    ratio: float          # median after / median before (the metric's own units)
    pvalue: float
    noise: float          # the series' A/A noise, as a ratio - 1
    regression: bool
    explained_by: str | None = None  # the floor that explains it (the host moved), or None
    floor_ratio: float | None = None
    before: float = 0.0   # medians of the neighbouring segments
    after: float = 0.0
    basis: str = "raw"    # found on the values ("raw") or in multiples of this floor
    basis_ratio: float = 1.0  # the step on that basis


@dataclass
class Options:
    max_pvalue: float = MAX_PVALUE
    window: int = WINDOW
    min_segment: int = MIN_SEGMENT
    noise_factor: float = NOISE_FACTOR


def _best_split(x: np.ndarray, min_segment: int):
    """(index, statistic) of the E-divisive means split of x (alpha = 1), or None."""
    n = len(x)
    if n < 2 * min_segment:
        return None
    d = np.abs(x[:, None] - x[None, :])
    s = np.zeros((n + 1, n + 1))
    s[1:, 1:] = d.cumsum(0).cumsum(1)
    best = None
    for tau in range(min_segment, n - min_segment + 1):
        m, k = tau, n - tau
        between = s[tau, n] - s[tau, tau]
        left = s[tau, tau]
        right = s[n, n] - 2 * s[tau, n] + s[tau, tau]
        q = m * k / n * (2 * between / (m * k) - left / (m * (m - 1)) - right / (k * (k - 1)))
        if best is None or q > best[1]:
            best = (tau, q)
    return best


def _pvalue(a: np.ndarray, b: np.ndarray, wa=None, wb=None) -> float:
    """The two-sided p-value of the t-test of a against b; with weights (wa, wb), the weighted
    t-test: weighted means, and a pooled variance in which a run of weight w counts as w runs
    of 1 / w its variance."""
    if np.ptp(a) == 0 and np.ptp(b) == 0:
        return 0.0 if a[0] != b[0] else 1.0
    if wa is None or wb is None:
        with warnings.catch_warnings():  # nearly identical values: the p-value is still right
            warnings.simplefilter("ignore", RuntimeWarning)
            return float(stats.ttest_ind(a, b).pvalue)
    ma, mb = np.average(a, weights=wa), np.average(b, weights=wb)
    dof = len(a) + len(b) - 2
    pooled = (np.sum(wa * (a - ma) ** 2) + np.sum(wb * (b - mb) ** 2)) / dof
    if pooled <= 0:
        return 0.0 if ma != mb else 1.0
    t = (mb - ma) / math.sqrt(pooled * (1 / np.sum(wa) + 1 / np.sum(wb)))
    return float(2 * stats.t.sf(abs(t), dof))


def _split_pvalue(x: np.ndarray, w, lo: int, mid: int, hi: int) -> float:
    """The p-value of x[lo:mid] against x[mid:hi], weighted by w where it is given."""
    if w is None:
        return _pvalue(x[lo:mid], x[mid:hi])
    return _pvalue(x[lo:mid], x[mid:hi], w[lo:mid], w[mid:hi])


def weights(points) -> np.ndarray | None:
    """Each run's weight in the t-test: the repetitions behind its value, at most MAX_WEIGHT;
    None (all alike) where a run does not say or all weigh the same."""
    reps = [getattr(p, "repetitions", None) for p in points]
    if any(not isinstance(r, int) or r < 1 for r in reps):
        return None
    w = np.minimum(np.asarray(reps, dtype=float), MAX_WEIGHT)
    return None if np.ptp(w) == 0 else w


def _segment(x: np.ndarray, w, start: int, end: int, opt: Options, out: list):
    found = _best_split(x[start:end], opt.min_segment)
    if found is None:
        return
    tau = start + found[0]
    lo, hi = max(start, tau - opt.window // 2), min(end, tau + opt.window // 2)
    if _split_pvalue(x, w, lo, tau, hi) > opt.max_pvalue:
        return
    out.append(tau)
    _segment(x, w, start, tau, opt, out)
    _segment(x, w, tau, end, opt, out)


def change_points(log_values, opt: Options = Options(), weights=None) -> list[int]:
    """The indices where a new segment starts, E-divisive means with the t-test's stop (weighted
    by `weights`, one per run, where given)."""
    x = np.asarray(log_values, dtype=float)
    out: list[int] = []
    _segment(x, weights, 0, len(x), opt, out)
    return sorted(out)


def aa_noise(log_values, cuts) -> float:
    """The A/A noise: the mean |log ratio| of consecutive runs that no change point separates,
    what two runs of one build differ by, on average, one after the other."""
    steps = [abs(log_values[i] - log_values[i - 1]) for i in range(1, len(log_values))
             if i not in cuts]
    return float(np.mean(steps)) if steps else 0.0


def _neighbours(n: int, cuts: list[int], k: int, window: int):
    bounds = [0] + cuts + [n]
    lo = max(bounds[k], bounds[k + 1] - window // 2)
    hi = min(bounds[k + 2], bounds[k + 1] + window // 2)
    return lo, bounds[k + 1], hi


# Which floors can explain a step, and how the value moves with each: +1 the value scales with
# the floor (divide by it), -1 it scales inversely (multiply by it).
_FLOORS = {
    "rtt_p50_ns": (("wake", 1), ("line", 1)),
    "bytes_per_second": (("copy", 1), ("line", -1)),
}
_FLOOR_NAMES = {"wake": "wake-up round trip", "line": "cache-line round trip",
                "copy": "cross-core copy floor",
                "regime": "host regime (its cache-line round trip)"}


def floor_name(key: str) -> str:
    return _FLOOR_NAMES[key]


def host_classes(points, ratio: float = REGIME_RATIO, field: str = "host") -> list[int]:
    """Each point's host regime class: the cache-line round trip of the regime its value was
    taken in (`field`), grouped where the values stand `ratio` apart, as the report groups its
    regimes (0 the fastest; -1 where the report gave none)."""
    hosts = [getattr(p, field, None) for p in points]
    known = sorted({h for h in hosts if h and h > 0})
    bounds, cls = [], {}
    for v in known:
        if bounds and v / bounds[-1] < ratio:
            bounds[-1] = v
        else:
            bounds.append(v)
        cls[v] = len(bounds) - 1
    return [cls[h] if h and h > 0 else -1 for h in hosts]


def analyse(points, metric: str, lower_is_better: bool, opt: Options = Options()) -> list[Change]:
    """The change points of one series of store.Point. The runs are split by host regime
    (host_classes) and each part analysed on its own (_analyse_within), so only like is compared
    with like; where the host settled in another regime for at least min_segment runs, the step
    is the host's (explained_by "regime"), never a regression."""
    classes = host_classes(points)
    changes = []
    for c in sorted(set(classes)):
        where = [i for i, k in enumerate(classes) if k == c]
        if len(where) < 2 * opt.min_segment:
            continue
        for change in _analyse_within([points[i] for i in where], metric, lower_is_better, opt):
            change.index = where[change.index]
            changes.append(change)
    m = opt.min_segment
    for i in range(m, len(points) - m + 1):
        before, after = set(classes[i - m:i]), set(classes[i:i + m])
        if len(before) == 1 and len(after) == 1 and before != after and -1 not in before | after:
            a = np.log([p.value for p in points[i - m:i]])
            b = np.log([p.value for p in points[i:i + m]])
            step = float(np.median(b) - np.median(a))
            host_a = statistics.median(p.host for p in points[i - m:i])
            host_b = statistics.median(p.host for p in points[i:i + m])
            changes.append(Change(index=i, ratio=math.exp(step), pvalue=_pvalue(a, b),
                                  noise=0.0, regression=(step > 0) == lower_is_better,
                                  explained_by="regime", floor_ratio=host_b / host_a,
                                  before=math.exp(float(np.median(a))),
                                  after=math.exp(float(np.median(b)))))
    return sorted(changes, key=lambda c: c.index)


def _pooled(own: np.ndarray, points, field: str):
    """`own` (a run's logarithms in the host regime its value was taken in) with each run's
    repetitions in its other host regime pooled in: the other regime's median (`field` "other")
    or best ("other_best"), taken to this regime by the series' median offset between the two
    (over the runs that have both), and averaged with the run's own, each weighing as many
    repetitions as stand behind it, at most MAX_WEIGHT. Runs without the other regime, or whose
    other regime is not the one most runs met, keep their own. None where fewer than MIN_SEGMENT
    runs have both (no offset to go by)."""
    other = [getattr(p, field, None) for p in points]
    counts = [getattr(p, "other_repetitions", None) for p in points]
    have = [i for i, (o, n) in enumerate(zip(other, counts))
            if o is not None and o > 0 and isinstance(n, int) and n >= 1]
    # One other regime: the one most of those runs met (by its cache-line round trip, grouped
    # as host_classes groups them), where the report names it.
    classes = host_classes(points, field="other_host")
    named = [classes[i] for i in have if classes[i] >= 0]
    if named:
        common = max(set(named), key=named.count)
        have = [i for i in have if classes[i] in (common, -1)]
    if len(have) < MIN_SEGMENT:
        return None
    offset = float(np.median([math.log(other[i]) - own[i] for i in have]))
    out = own.copy()
    for i in have:
        mine = min(points[i].repetitions or 1, MAX_WEIGHT)
        theirs = min(counts[i], MAX_WEIGHT)
        out[i] = (mine * own[i] + theirs * (math.log(other[i]) - offset)) / (mine + theirs)
    return out


def _bases(points, metric: str) -> dict:
    """The series' logarithms as they are ("raw"), of each run's best repetition ("best"), and
    in multiples of each floor measured beside every run (the key of _FLOORS), where every run
    has that best or floor; the values and the best with each run's other host regime pooled in
    ("pooled", "pooled_best": _pooled), where enough runs have one; and the mean of the value's
    and the best's logarithms ("mid", "pooled_mid": the geometric mean of the two, steadier than
    either where their run-to-run moves are not the same)."""
    raw = np.log([p.value for p in points])
    out = {"raw": raw}
    if (pooled := _pooled(raw, points, "other")) is not None:
        out["pooled"] = pooled
    if all(p.best is not None and p.best > 0 for p in points):
        out["best"] = np.log([p.best for p in points])
        out["mid"] = (raw + out["best"]) / 2
        if (pooled := _pooled(out["best"], points, "other_best")) is not None:
            out["pooled_best"] = pooled
            if "pooled" in out:
                out["pooled_mid"] = (out["pooled"] + pooled) / 2
    for key, sign in _FLOORS.get(metric, ()):
        floors = [getattr(p, key) for p in points]
        if all(f is not None and f > 0 for f in floors):
            out[key] = raw - sign * np.log(floors)
    return out


def _quietest_basis(points, metric: str):
    """(name, log values, raw log values): the basis of _bases that moves least from run to run
    (its A/A noise over the whole series), and the values themselves."""
    bases = _bases(points, metric)
    name = min(bases, key=lambda k: aa_noise(bases[k], []))
    return name, bases[name], bases["raw"]


def _values_confirm(raw: np.ndarray, step: float, lo: int, mid: int, hi: int,
                    floor_basis: bool) -> bool:
    """Whether the values themselves bear out a step of `step` (in logarithms) found on another
    basis between raw[lo:mid] and raw[mid:hi]. On a floor's basis they must move the same way by
    at least half as much: a step that is the floor's alone is no change of what the report
    states. On the run's own repetitions' bases (best, pooled, mid) they must not contradict
    it: their step may fall short of half of it by less than CONFIRM_SE standard errors of
    their own step (the medians' error, from their run-to-run spread on either side). A step
    that the quiet basis shows and the noisy values can neither show nor rule out stands."""
    raw_step = float(np.median(raw[mid:hi]) - np.median(raw[lo:mid]))
    if floor_basis:
        return raw_step * step > 0 and abs(raw_step) >= abs(step) / 2
    diffs = [raw[i] - raw[i - 1] for i in range(lo + 1, hi) if i != mid]
    sd = math.sqrt(float(np.mean(np.square(diffs))) / 2) if diffs else 0.0
    se = MEDIAN_EFFICIENCY * sd * math.sqrt(1 / (mid - lo) + 1 / (hi - mid))
    return raw_step * math.copysign(1.0, step) >= abs(step) / 2 - CONFIRM_SE * se


def _analyse_within(points, metric: str, lower_is_better: bool, opt: Options) -> list[Change]:
    """The change points of runs in one host regime. They are found on the basis that moves
    least from run to run (_bases): the values, each run's best repetition, or the values in
    multiples of a floor, which takes out what that floor explains. A step within the A/A noise
    is dropped; on the values' or the best repetitions' basis, a step that a floor explains
    carries `explained_by`."""
    name, values, raw = _quietest_basis(points, metric)
    w = weights(points)
    cuts = change_points(values, opt, w)
    noise = aa_noise(values, cuts)
    floor_basis = name in {key for key, _ in _FLOORS.get(metric, ())}

    def weakness(kept: list[int], k: int) -> float:
        """0 when the k-th of `kept` is a step between its neighbours in `kept`: beyond the
        noise filter, significant, and on any other basis than the values one the values bear
        out (_values_confirm). Else its p-value there (2 when it fails before the t-test), the
        larger the weaker."""
        lo, mid, hi = _neighbours(len(values), kept, k, opt.window)
        step = float(np.median(values[mid:hi]) - np.median(values[lo:mid]))
        if abs(step) <= max(opt.noise_factor * noise, MIN_STEP):
            return 2.0
        if name != "raw" and not _values_confirm(raw, step, lo, mid, hi, floor_basis):
            return 2.0
        p = _split_pvalue(values, w, lo, mid, hi)
        return 0.0 if p <= opt.max_pvalue else p

    # The weakest step that does not hold goes, its segment joins its neighbours', and the rest
    # are judged again between the neighbours left, until every step left holds (as Otava
    # merges its weakest change points): no step is reported between segments it does not
    # separate.
    kept = list(cuts)
    while kept:
        weak = [weakness(kept, k) for k in range(len(kept))]
        if max(weak) == 0:
            break
        del kept[weak.index(max(weak))]
    changes = []
    for k, cut in enumerate(kept):
        lo, mid, hi = _neighbours(len(values), kept, k, opt.window)
        a, b = values[lo:mid], values[mid:hi]
        step = float(np.median(b) - np.median(a))
        change = Change(index=cut, ratio=math.exp(float(np.median(raw[mid:hi]) -
                                                        np.median(raw[lo:mid]))),
                        pvalue=_split_pvalue(values, w, lo, mid, hi),
                        noise=math.exp(noise) - 1,
                        regression=(step > 0) == lower_is_better,
                        before=math.exp(float(np.median(raw[lo:mid]))),
                        after=math.exp(float(np.median(raw[mid:hi]))),
                        basis=name, basis_ratio=math.exp(step))
        for key, sign in _FLOORS.get(metric, ()) if not floor_basis else ():
            floors = [getattr(p, key) for p in points]
            if any(f is None or f <= 0 for f in floors[lo:hi]):
                continue
            f = np.log(floors[lo:hi])
            fa, fb = f[:mid - lo], f[mid - lo:]
            floor_step = float(np.median(fb) - np.median(fa))
            floor_noise = aa_noise(list(f), [mid - lo])
            # The floor moved the way that makes the value move as it did, beyond the floor's
            # own run-to-run noise and significantly: the host moved under the run.
            if (floor_step * sign > 0) == (step > 0) and \
                    abs(floor_step) > opt.noise_factor * floor_noise and \
                    _pvalue(fa, fb) <= opt.max_pvalue:
                change.explained_by = key
                change.floor_ratio = math.exp(floor_step)
                break
        changes.append(change)
    return changes


def sensitivity(points, metric: str, opt: Options = Options(), after: int = 5) -> float | None:
    """The smallest step (a ratio - 1) that the newest runs' part of the series (its host regime
    now) would show within `after` runs: the larger of the A/A noise filter (noise_factor x the
    mean |log ratio| of consecutive runs) and the step whose t statistic, with the runs' own
    spread, reaches the p-value threshold against the newest segment (at most window / 2 runs).
    A step of this size is found about half the time; twice the spread above it nearly always.
    None with fewer than 2 x min_segment runs in that regime."""
    classes = host_classes(points)
    where = [i for i, k in enumerate(classes) if k == classes[-1]]
    if len(where) < 2 * opt.min_segment:
        return None
    mine = [points[i] for i in where]
    _, values, _ = _quietest_basis(mine, metric)
    cuts = change_points(values, opt, weights(mine))  # the splits `changes` would find
    diffs = [values[i] - values[i - 1] for i in range(1, len(values)) if i not in cuts]
    if not diffs:
        return None
    sigma = math.sqrt(float(np.mean(np.square(diffs))) / 2)  # two runs' difference: sigma x sqrt 2
    before = min(len(values) - (cuts[-1] if cuts else 0), opt.window // 2)
    if before < 2:
        return None
    t = float(stats.t.ppf(1 - opt.max_pvalue / 2, before + after - 2))
    step = max(opt.noise_factor * aa_noise(values, cuts),
               t * sigma * math.sqrt(1 / before + 1 / after))
    return math.exp(step) - 1

