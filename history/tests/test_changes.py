"""ipcbench-history changes: steps found, noise and the host's moves left out, exit status."""

import json
import math
import random
import re
import unittest
from unittest import mock

from ipcbench_history import detect, store

from .helpers import Folder, day, report, run, write

LAT = "pipe/latency/64/cross"
TP = "pipe/throughput/1048576/cross"
QUIET = "posix_shm.spin/latency/64/cross"


def history(tmp, runs=30, step_at=None, factor=1.0, noise=0.01, **changes_after):
    """A history of `runs` runs of LAT, TP and QUIET with seeded noise; from run `step_at` on,
    LAT and TP are `factor` worse and the report arguments `changes_after` apply."""
    rng = random.Random(7)
    paths = []
    for k in range(runs):
        after = step_at is not None and k >= step_at
        f = factor if after else 1.0
        values = {LAT: 6000.0 * f * rng.lognormvariate(0, noise),
                  TP: 3e9 / f * rng.lognormvariate(0, noise),
                  QUIET: 300.0 * rng.lognormvariate(0, noise)}
        extra = dict(changes_after) if after else {}
        extra.setdefault("commit", f"commit{k:02d}")
        extra.setdefault("wake", 5000.0 * rng.lognormvariate(0, noise))
        extra.setdefault("line", 115.0 * rng.lognormvariate(0, noise))
        paths.append(write(tmp, f"r{k:02d}.json", report(day(k), values, **extra)))
    db = tmp / "h.sqlite"
    status, _, err = run("--db", db, "add", *paths)
    assert status == 0, err
    return db


class Changes(unittest.TestCase):
    def test_a_planted_regression_is_found_with_its_commits_and_exit_1(self):
        with Folder() as tmp:
            db = history(tmp, step_at=20, factor=1.2)
            status, out, err = run("--db", db, "changes", "--since", "all")
            self.assertEqual((status, err), (1, ""))
            lines = [x for x in out.splitlines() if x.startswith("regression")]
            self.assertEqual(len(lines), 2, out)
            self.assertTrue(any(LAT in x and "+20" in x for x in lines), out)
            self.assertTrue(any(TP in x and re.search(r": -1[5-8]\.\d %", x) for x in lines), out)
            self.assertTrue(all("commit commit19 -> commit20" in x for x in lines), out)
            self.assertTrue(all("(run 21 of 30)" in x for x in lines), out)
            self.assertNotIn(QUIET, out)
            self.assertIn("2 regressions, 0 improvements", out)

    def test_an_improvement_is_reported_and_exits_0(self):
        with Folder() as tmp:
            db = history(tmp, step_at=15, factor=0.8)
            status, out, _ = run("--db", db, "changes", "--since", "all")
            self.assertEqual(status, 0, out)
            self.assertIn("0 regressions, 2 improvements", out)

    def test_no_step_no_change(self):
        with Folder() as tmp:
            db = history(tmp)
            status, out, _ = run("--db", db, "changes", "--since", "all")
            self.assertEqual(status, 0, out)
            self.assertIn("0 regressions, 0 improvements, 0 steps", out)

    def test_a_step_within_the_noise_is_not_reported(self):
        with Folder() as tmp:
            db = history(tmp, step_at=15, factor=1.03, noise=0.05)
            status, out, _ = run("--db", db, "changes", "--since", "all")
            self.assertEqual(status, 0, out)
            self.assertIn("0 regressions", out)

    def test_the_host_moving_to_another_regime_is_no_regression(self):
        with Folder() as tmp:
            # The cache line bounces 4.5x slower from run 15 on, and everything is slower.
            db = history(tmp, step_at=15, factor=1.5, line=520.0)
            status, out, _ = run("--db", db, "changes", "--since", "all")
            self.assertEqual(status, 0, out)
            self.assertIn("0 regressions, 0 improvements", out)
            self.assertIn("host moved", out)
            self.assertIn("host regime", out)

    def test_a_step_the_wake_up_floor_explains_is_no_regression(self):
        with Folder() as tmp:
            # Same regime (the cache line does not move), but wake-ups got 1.4x slower and the
            # latency with them: in multiples of the wake-up floor nothing changed.
            rng = random.Random(3)
            paths = []
            for k in range(30):
                slow = 1.4 if k >= 15 else 1.0
                jitter = rng.lognormvariate(0, 0.01)
                paths.append(write(tmp, f"r{k:02d}.json", report(
                    day(k), {LAT: 6000.0 * slow * jitter}, wake=5000.0 * slow * jitter,
                    line=115.0 * rng.lognormvariate(0, 0.01))))
            run("--db", tmp / "h.sqlite", "add", *paths)
            status, out, _ = run("--db", tmp / "h.sqlite", "changes", "--since", "all")
            self.assertEqual(status, 0, out)
            self.assertIn("0 regressions", out)

    def test_runs_whose_median_jumps_between_two_levels_are_read_by_their_best_repetition(self):
        # Each run's 5 repetitions sit at two levels, 1x and 1.8x; the slow level holds 2 of
        # them in two runs of three and 3 in the others, so the medians jump by 80 % from run to
        # run while the best repetition stays. A 10 % step in every repetition from run 21 on is
        # found on the best repetitions (the medians alone are far too noisy to show it; most
        # of them still move with it), and with no step nothing is found.
        for step_at in (None, 20):
            with self.subTest(step_at=step_at), Folder() as tmp:
                rng = random.Random(11)
                paths = []
                for k in range(30):
                    f = 1.1 if step_at is not None and k >= step_at else 1.0
                    slow = rng.choice((2, 2, 3))
                    factors = [x * rng.lognormvariate(0, 0.01)
                               for x in [1.0] * (5 - slow) + [1.8] * slow]
                    paths.append(write(tmp, f"r{k:02d}.json", report(
                        day(k), {LAT: 6000.0 * f}, factors=factors,
                        wake=5000.0 * rng.lognormvariate(0, 0.01),
                        line=115.0 * rng.lognormvariate(0, 0.01))))
                run("--db", tmp / "h.sqlite", "add", *paths)
                status, out, _ = run("--db", tmp / "h.sqlite", "changes", "--since", "all",
                                     "--json")
                found = [c for c in json.loads(out)["changes"] if c["kind"] == "regression"]
                if step_at is None:
                    self.assertEqual((status, found), (0, []))
                    continue
                self.assertEqual((status, len(found)), (1, 1), found)
                self.assertEqual((found[0]["run"], found[0]["basis"]), (21, "best"))
                self.assertAlmostEqual(found[0]["basis_ratio"], 1.1, delta=0.02)
                status, out, _ = run("--db", tmp / "h.sqlite", "changes", "--since", "all")
                self.assertIn("each run's best repetition: +10.", out)

    def _two_levels(self, tmp, medians, bests):
        """changes --json on runs of LAT whose value (median of 5) and best repetition stand at
        exp(medians[k]) and exp(bests[k]) times 6000 ns: (exit status, regressions found as
        (run, basis, basis ratio, ratio))."""
        paths = []
        for k, (m, b) in enumerate(zip(medians, bests)):
            factors = [math.exp(b)] + [math.exp(m)] * 4
            paths.append(write(tmp, f"r{k:02d}.json", report(
                day(k), {LAT: 6000.0}, factors=factors, wake=5000.0, line=115.0)))
        run("--db", tmp / "h.sqlite", "add", *paths)
        status, out, _ = run("--db", tmp / "h.sqlite", "changes", "--since", "all", "--json")
        return status, [(c["run"], c["basis"], round(c["basis_ratio"], 2), round(c["ratio"], 2))
                        for c in json.loads(out)["changes"] if c["kind"] == "regression"]

    def test_a_step_the_noisy_values_cannot_rule_out_stands_on_the_best_repetitions(self):
        # The best repetition is steady (1 % apart) and 10 % slower from run 21 on. The medians
        # jump 15 % either side of their level from run to run and, in the ten runs after the
        # step, stand only 2 % higher: less than half the step, but well within two standard
        # errors of their own step (about 10 % each), so they neither show it nor rule it out. The
        # step is found on the best repetitions, with the values' own 2 % beside it.
        rng = random.Random(5)
        medians = [(0.15 if k % 2 else -0.15) + (0.02 if k >= 20 else 0.0) +
                   rng.gauss(0, 0.005) for k in range(30)]
        for step_at in (20, None):
            with self.subTest(step_at=step_at), Folder() as tmp:
                bests = [math.log(0.7) + rng.gauss(0, 0.005) +
                         (math.log(1.1) if step_at is not None and k >= step_at else 0.0)
                         for k in range(30)]
                status, found = self._two_levels(tmp, medians, bests)
                if step_at is None:
                    self.assertEqual((status, found), (0, []))
                else:
                    self.assertEqual(status, 1)
                    self.assertEqual([f[:3] for f in found], [(21, "best", 1.1)], found)
                    self.assertAlmostEqual(found[0][3], 1.02, delta=0.015)

    def test_a_step_of_the_best_repetitions_that_the_steady_values_contradict_is_not_one(self):
        # The same step in the best repetitions, but the medians are steady (0.5 % apart) and do
        # not move: the values rule it out, so no regression is reported.
        rng = random.Random(6)
        with Folder() as tmp:
            status, found = self._two_levels(
                tmp, [rng.gauss(0, 0.005) for _ in range(30)],
                [math.log(0.7) + rng.gauss(0, 0.005) + (math.log(1.1) if k >= 20 else 0.0)
                 for k in range(30)])
            self.assertEqual((status, found), (0, []))

    def test_values_and_best_repetitions_that_move_apart_are_read_by_their_geometric_mean(self):
        # From run to run the median moves 8 % one way and the best repetition 8 % the other, so
        # either alone has a noise filter of about 24 %, which hides a 10 % step from run 21 on.
        # Their geometric mean ("mid") is steady and shows it; with no step nothing is found.
        rng = random.Random(7)
        swing = [(0.08 if k % 2 else -0.08) + rng.gauss(0, 0.003) for k in range(30)]
        for step_at in (20, None):
            with self.subTest(step_at=step_at), Folder() as tmp:
                step = [math.log(1.1) if step_at is not None and k >= step_at else 0.0
                        for k in range(30)]
                status, found = self._two_levels(
                    tmp, [s + x for s, x in zip(swing, step)],
                    [math.log(0.7) - s + x for s, x in zip(swing, step)])
                if step_at is None:
                    self.assertEqual((status, found), (0, []))
                else:
                    self.assertEqual((status, [f[:3] for f in found]), (1, [(21, "mid", 1.1)]))
                    _, text, _ = run("--db", tmp / "h.sqlite", "changes", "--since", "all")
                    self.assertIn("the geometric mean of each run's value and best "
                                  "repetition: +10.", text)

    def test_a_value_from_one_repetition_weighs_less_than_one_from_five(self):
        # Quiet runs of five repetitions, and in three runs a single repetition that lands 35 %
        # off. A 15 % step 5 runs before the end is found when the t-test weighs each run by
        # its repetitions; weighed alike (MAX_WEIGHT 1, Student's t-test), the three runs hide
        # it. Without a step nothing is found.
        def regressions(step_at, max_weight):
            with Folder() as tmp, mock.patch.object(detect, "MAX_WEIGHT", max_weight):
                rng = random.Random(3)
                paths = []
                for k in range(30):
                    f = 1.15 if step_at is not None and k >= step_at else 1.0
                    single = k % 10 == 4
                    v = 6000.0 * f * (math.exp(0.3 if k // 10 == 1 else -0.3) if single else 1.0)
                    paths.append(write(tmp, f"r{k:02d}.json", report(
                        day(k), {LAT: v}, reps=1 if single else 5, noise=0.01, rng=rng,
                        wake=5000.0 * rng.lognormvariate(0, 0.01),
                        line=115.0 * rng.lognormvariate(0, 0.01))))
                run("--db", tmp / "h.sqlite", "add", *paths)
                status, out, _ = run("--db", tmp / "h.sqlite", "changes", "--since", "all",
                                     "--json")
                return status, [(c["run"], round(c["ratio"], 2)) for c in
                                json.loads(out)["changes"] if c["kind"] == "regression"]
        self.assertEqual(regressions(25, detect.MAX_WEIGHT), (1, [(26, 1.15)]))
        self.assertEqual(regressions(25, 1), (0, []))
        self.assertEqual(regressions(None, detect.MAX_WEIGHT), (0, []))

    def test_a_runs_other_host_regime_is_pooled_in_where_its_own_is_too_noisy(self):
        # Each run's value stands on one repetition in its reference regime, 10 % above or
        # below the build's level by turns, and on five steady ones in its other regime, which
        # runs 0.3x as fast. A 10 % step in both from run 21 on is within the values' own noise
        # (their noise filter is 30 %); with the other regime pooled in (its offset learnt over
        # the runs) it is found, on the pooled basis. Not pooled, it is not; with no step,
        # nothing is found either way.
        def regressions(step_at, pool):
            with Folder() as tmp:
                paths = []
                for k in range(30):
                    f = 1.1 if step_at is not None and k >= step_at else 1.0
                    own = math.exp(0.1 if k % 2 else -0.1)
                    paths.append(write(tmp, f"r{k:02d}.json", report(
                        day(k), {LAT: 6000.0 * f * own}, reps=1,
                        other=(0.3 / own, 5, 480.0) if pool else None)))
                run("--db", tmp / "h.sqlite", "add", *paths)
                status, out, _ = run("--db", tmp / "h.sqlite", "changes", "--since", "all",
                                     "--json")
                found = [(c["run"], c["basis"], round(c["basis_ratio"], 2)) for c in
                         json.loads(out)["changes"] if c["kind"] == "regression"]
                if found:
                    _, text, _ = run("--db", tmp / "h.sqlite", "changes", "--since", "all")
                    self.assertIn("with each run's other host regime pooled in: +10.", text)
                return status, found
        self.assertEqual(regressions(20, True), (1, [(21, "pooled", 1.1)]))
        self.assertEqual(regressions(20, False), (0, []))
        self.assertEqual(regressions(None, True), (0, []))
        self.assertEqual(regressions(None, False), (0, []))

    def test_a_step_is_reported_only_between_segments_it_separates(self):
        # dbus.bus/pairs/1/throughput/64 in twelve default runs of the development VM (MB/s,
        # best repetition, repetitions, copy floor GB/s, cache line ns): the copy floor's basis
        # splits it after runs 4 and 7. The first split goes, since the values move less than
        # half as much as the basis there; against the wider segments left, the second no
        # longer holds (p 0.59, the values up where the basis went down). It must go too, not
        # be reported as a regression.
        runs = [(4.3136, 6.9621, 3, 4.935, 488.0), (4.5835, 4.6801, 3, 4.926, 486.0),
                (5.204, 5.3945, 3, 5.866, 488.0), (6.0977, 6.0977, 1, 5.941, 504.0),
                (4.3504, 5.2367, 3, 6.698, 494.0), (4.3691, 6.4011, 3, 6.492, 480.0),
                (4.6374, 4.6374, 1, 6.711, 513.0), (4.661, 5.1298, 2, 6.127, 505.5),
                (5.1558, 6.7782, 3, 6.88, 484.0), (5.276, 6.3107, 4, 6.881, 488.0),
                (5.0576, 5.5174, 4, 6.679, 457.0), (5.558, 6.9227, 2, 6.744, 479.0)]
        points = [store.Point(k, "", None, None, v * 1e6, line, None, copy * 1e9, 488.0,
                              best * 1e6, reps)
                  for k, (v, best, reps, copy, line) in enumerate(runs)]
        self.assertEqual(detect.analyse(points, "bytes_per_second", False), [])
        rng = random.Random(5)
        for _ in range(200):  # and on made-up series alike, every step reported holds
            points = [store.Point(k, "", None, None, 5e6 * rng.lognormvariate(0, 0.08),
                                  None, None, 6e9 * rng.lognormvariate(0, 0.1), 488.0,
                                  None, rng.choice((1, 2, 3, 3, 4)))
                      for k in range(30)]
            for c in detect.analyse(points, "bytes_per_second", False):
                self.assertLessEqual(c.pvalue, detect.MAX_PVALUE)
                self.assertGreater((c.ratio - 1) * (c.basis_ratio - 1), 0)

    def test_equal_weights_give_students_t_test(self):
        rng = random.Random(1)
        a = [rng.gauss(0, 1) for _ in range(12)]
        b = [rng.gauss(1, 1) for _ in range(5)]
        np = detect.np
        for w in (1.0, 5.0):
            self.assertAlmostEqual(
                detect._pvalue(np.array(a), np.array(b), np.full(12, w), np.full(5, w)),
                detect._pvalue(np.array(a), np.array(b)), places=12)

    def test_it_says_which_series_are_too_noisy_to_show_a_10_percent_step(self):
        with Folder() as tmp:
            status, out, _ = run("--db", history(tmp), "changes", "--since", "all")
            self.assertEqual(status, 0, out)
            self.assertIn("sensitivity: 3 of 3 series would show a 10 % step within 5 runs\n",
                          out)
        with Folder() as tmp:
            # 12 % run-to-run: a 10 % step would drown (the t-test needs about 24 %, and the
            # noise filter 1.5 x the mean run-to-run change, about 22 %; a series' own draw of the
            # noise can show less, so not much less noise than this).
            db = history(tmp, noise=0.12)
            status, out, _ = run("--db", db, "changes", "--since", "all")
            self.assertIn("sensitivity: 0 of 3 series would show a 10 % step within 5 runs; "
                          "3 are too noisy for it", out)
            status, out, _ = run("--db", db, "changes", "--since", "all", "--json")
            doc = json.loads(out)["sensitivity"]
            self.assertEqual((doc["step"], doc["runs_after"], doc["series"]), (0.1, 5, 3))
            self.assertEqual(sorted(x["benchmark"] for x in doc["too_noisy"]),
                             sorted([LAT, TP, QUIET]))
            self.assertTrue(all(0.1 < x["smallest_visible_step"] < 0.3 for x in doc["too_noisy"]),
                            doc)

    def test_since_limits_the_window_and_machine_and_filter_the_series(self):
        with Folder() as tmp:
            db = history(tmp, step_at=20, factor=1.2)
            # The step came on day 20 (2026-01-21): a window from day 25 holds no change.
            status, out, _ = run("--db", db, "changes", "--since", "2026-01-26")
            self.assertEqual(status, 0, out)
            self.assertIn("0 regressions", out)
            status, out, _ = run("--db", db, "changes", "--since", "all",
                                 "--filter", "/throughput/")
            self.assertEqual(status, 1)
            self.assertIn("1 regressions", out)
            status, out, _ = run("--db", db, "changes", "--since", "all", "--machine", "nobox")
            self.assertEqual(status, 0)
            status, out, _ = run("--db", db, "changes", "--since", "all", "--machine", "box")
            self.assertEqual(status, 1)

    def test_json_output(self):
        with Folder() as tmp:
            db = history(tmp, step_at=20, factor=1.2)
            status, out, _ = run("--db", db, "changes", "--since", "all", "--json")
            self.assertEqual(status, 1)
            doc = json.loads(out)
            kinds = sorted(c["kind"] for c in doc["changes"])
            self.assertEqual(kinds, ["regression", "regression"])
            lat = next(c for c in doc["changes"] if c["benchmark"] == LAT)
            self.assertAlmostEqual(lat["ratio"], 1.2, delta=0.03)
            self.assertEqual((lat["commit_before"], lat["commit_after"]),
                             ("commit19", "commit20"))

    def test_bad_input(self):
        with Folder() as tmp:
            for args, words in ((["changes"], "no history"),
                                (["changes", "--since", "yesterday"], "--since"),
                                (["changes", "--since", "0d"], "--since"),
                                (["changes", "--filter", "("], "--filter"),
                                (["changes", "--max-pvalue", "2"], "--max-pvalue")):
                with self.subTest(args=args):
                    status, out, err = run("--db", tmp / "none.sqlite", *args)
                    self.assertEqual(status, 2)
                    self.assertEqual(err.count("\n"), 1, err)
                    self.assertIn(words, err)
            self.assertFalse((tmp / "none.sqlite").exists())


if __name__ == "__main__":
    unittest.main()
