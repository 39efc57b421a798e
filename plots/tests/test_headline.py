"""Headline findings on the fixtures: the sentences, their numbers, and what they say when data
is missing, skipped or failed (no matplotlib needed)."""

import copy
import json
import sys
import unittest
from pathlib import Path

PLOTS_DIR = Path(__file__).resolve().parents[1]
if str(PLOTS_DIR) not in sys.path:
    sys.path.insert(0, str(PLOTS_DIR))

from ipcbench_plots import headline  # noqa: E402
from ipcbench_plots.report import load_report  # noqa: E402
from tests.helpers import load_data, without_estimates  # noqa: E402

FIXTURES = PLOTS_DIR / "tests" / "fixtures"


def raw(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def by_topic(report) -> dict[str, str]:
    return {f.topic: f.text for f in headline.findings(report)}


def with_calibration(data: dict) -> dict:
    data = copy.deepcopy(data)
    ib = data["context"]["ipcbench"]
    ib["calibration"]["wakeup_rtt_ns"] = {
        "p10": 6000.0, "p50": 6400.0, "p90": 7200.0, "rounds": 2000, "one_way_p50": 3200.0,
        "cpus": [0, 1]}
    ib["calibration"]["cache_line_rtt_ns"] = {"p10": 130.0, "p50": 160.0, "p90": 170.0,
                                              "cpus": [0, 1]}
    ib["idle_states"] = {"requested": "held", "in_force": "held",
                         "device": "/dev/cpu_dma_latency", "latency_us": 0}
    ib["cpuidle"] = {"driver": "haltpoll", "governor": "haltpoll"}
    return data


def set_status(data: dict, bench_id: str, pattern: str, status: str, reason: str,
               sizes=None) -> dict:
    data = copy.deepcopy(data)
    for entry in data["benchmarks"]:
        if entry["id"] == bench_id and entry["pattern"] == pattern and (
                sizes is None or entry["message_size"] in sizes):
            entry.update(status=status, reason=reason, error_occurred=True,
                         error_message=f"{status}: {reason}")
    return data


class FixtureHeadlineTest(unittest.TestCase):
    def test_fastest_per_size_class_with_numbers_and_units(self):
        found = by_topic(load_report(FIXTURES / "report-b.json", "b"))
        small = found["Small messages, 1 B to 512 B"]
        self.assertIn("Latency: shm.spin has the lowest p50 round trip (RTT) at 2 of 2 sizes "
                      "(400 ns at 1 B to 414 ns at 64 B)", small)
        # The spinning winner is followed by the best that sleeps.
        self.assertIn("of the mechanisms that sleep while they wait, shm.futex (3 µs at 1 B to "
                      "3.02 µs at 64 B)", small)
        self.assertIn("Throughput: shm.spin has the highest throughput", small)
        large = found["Large messages, above 64 KiB"]
        self.assertIn("8.99 GB/s at 1 MiB", large)

    def test_spinning_rtt_and_cpu(self):
        found = by_topic(load_report(FIXTURES / "report-b.json", "b"))
        spin = found["Spinning"]
        self.assertIn("At 64 B, shm.spin's p50 round trip is 414 ns against 3.02 µs for "
                      "shm.futex (7.3× lower)", spin)
        self.assertIn("it spends 828 ns of CPU (both peers, user+sys) per round trip against "
                      "1.81 µs", spin)
        self.assertIn("keeps 1.74 CPUs busy against 0.52", spin)
        self.assertIn("In a 1 MiB stream shm.spin moves 8.99 GB/s against 7.97 GB/s", spin)

    def test_failures_probes_and_what_is_missing(self):
        found = by_topic(load_report(FIXTURES / "report-a.json", "a"))
        self.assertIn("30 benchmarks ok, 4 skipped, 1 failed (unix_stream/throughput/65536/cross:"
                      " integrity: 3 messages lost)", found["Run"])
        self.assertIn("The report has no wake-up floor", found["Wake-up"])
        self.assertIn("the idle-state mode is not recorded", found["Wake-up"])
        self.assertIn("The report has no spinning mechanism", found["Spinning"])
        claims = found["Textbook claims"]
        self.assertIn("2 of 4 textbook claims checked on this machine hold (1 does not hold, "
                      "1 not applicable)", claims)
        self.assertIn("Does not hold: “shared memory is always the fastest IPC” — depends on "
                      "size.", claims)
        self.assertNotIn("Large messages", found["Small messages, 1 B to 512 B"])

    def test_two_claims_that_do_not_hold_are_counted_in_the_plural(self):
        data = raw("report-a")
        failing = [p for p in data["probes"] if p.get("verdict") == "does not hold"]
        self.assertEqual(len(failing), 1)
        data["probes"].append(dict(failing[0], id="another", claim="another claim"))
        claims = by_topic(load_data(data))["Textbook claims"]
        self.assertIn("2 of 5 textbook claims checked on this machine hold (2 do not hold, "
                      "1 not applicable)", claims)

    def test_a_tie_of_many_names_its_first_and_counts_the_rest(self):
        four = ("a", "b", "c", "d")
        self.assertEqual(headline._names(four, tie=True), "a, b, c and d (tie)")
        self.assertEqual(headline._names(four + ("e", "f"), tie=True), "a, b, c and 3 more (tie)")
        self.assertEqual(headline._names(four + ("e",)), "a, b, c and 2 more")

    def test_computed_claims_as_the_report_states_them(self):
        data = raw("report-b")
        self.assertNotIn("The textbooks' comparison", by_topic(load_data(data)))
        data = copy.deepcopy(data)
        data["claims"] = [
            {"id": "shm_fastest", "claim": "shared memory is the fastest", "verdict": "holds",
             "summary": "holds at latency 64 B"},
            {"id": "fifo_as_pipe", "claim": "a FIFO performs as a pipe", "verdict": "split",
             "summary": "holds at latency 64 B; refuted at throughput 64 B"},
            {"id": "threads_faster", "claim": "threads are faster", "verdict": "untested",
             "summary": "no benchmark ran with both process and thread peers"},
        ]
        found = by_topic(load_data(data))
        self.assertEqual(
            found["The textbooks' comparison"],
            "“shared memory is the fastest”: holds (holds at latency 64 B). “a FIFO performs as "
            "a pipe”: split (holds at latency 64 B; refuted at throughput 64 B). “threads are "
            "faster”: untested (no benchmark ran with both process and thread peers).")
        topics = list(found)
        self.assertLess(topics.index("The textbooks' comparison"), topics.index("Textbook claims"))

    def test_no_probes(self):
        found = by_topic(load_report(FIXTURES / "report-b.json", "b"))
        self.assertIn("The report has no probes", found["Textbook claims"])

    def test_wakeup_and_idle_mode(self):
        found = by_topic(load_data(with_calibration(raw("report-a"))))
        wake = found["Wake-up"]
        self.assertIn("One cross-CPU wake-up costs about 3.2 µs on this machine: half the p50 "
                      "round trip of a futex ping-pong between CPUs 0 and 1 (6.4 µs; p10 6 µs, "
                      "p90 7.2 µs)", wake)
        self.assertIn("idle states held (PM QoS: /dev/cpu_dma_latency = 0 µs", wake)
        self.assertIn("cpuidle driver haltpoll", wake)
        self.assertIn("160 ns", wake)
        self.assertIn("A pipe's round trip at 1 B is 9 µs, 1.41× that floor.", wake)

    def test_idle_states_that_could_not_be_held(self):
        data = with_calibration(raw("report-a"))
        data["context"]["ipcbench"]["idle_states"] = {
            "requested": "held", "in_force": "allowed", "device": "/dev/cpu_dma_latency",
            "reason": "open(/dev/cpu_dma_latency): Permission denied"}
        wake = by_topic(load_data(data))["Wake-up"]
        self.assertIn("idle states allowed", wake)
        self.assertIn("held was requested but: open(/dev/cpu_dma_latency): Permission denied",
                      wake)

    def test_idle_states_held_without_a_cpuidle_driver_say_they_reach_nothing(self):
        data = with_calibration(raw("report-a"))
        why = ("no cpuidle driver (/sys/devices/system/cpu/cpuidle/current_driver: none): idle "
               "CPUs take the architecture's default idle (HLT; on a VM a halt to the host), "
               "which a PM QoS request does not reach")
        data["context"]["ipcbench"]["idle_states"].update(takes_effect=False, effect="none: " + why)
        data["context"]["ipcbench"]["cpuidle"] = {"driver": "none", "governor": "menu"}
        wake = by_topic(load_data(data))["Wake-up"]
        self.assertIn("idle states held (PM QoS: /dev/cpu_dma_latency = 0 µs) to no effect, "
                      + why, wake)
        self.assertNotIn("idle CPUs poll", wake)
        self.assertIn("cpuidle driver none, governor menu", wake)

    def test_idle_states_held_by_pollers_say_how(self):
        data = with_calibration(raw("report-a"))
        why = "no cpuidle driver (/sys/devices/system/cpu/cpuidle/current_driver: none)"
        data["context"]["ipcbench"]["idle_states"].update(
            held_by="poller", takes_effect=True,
            effect="idle CPUs never halt: a busy loop at idle priority (SCHED_IDLE, nice 19) on "
                   "each of CPUs 0,1 runs whenever nothing else there wants to",
            pm_qos="made, to no effect: " + why)
        wake = by_topic(load_data(data))["Wake-up"]
        self.assertIn("idle states held (a busy loop at idle priority (SCHED_IDLE, nice 19) on "
                      "each of CPUs 0,1 runs whenever nothing else there wants to; the PM QoS request "
                      "made, to no effect: " + why + ")", wake)
        self.assertNotIn("idle CPUs poll", wake)

    def test_skipped_spinner_is_named_not_invented(self):
        data = set_status(raw("report-b"), "shm.spin", "latency", "skipped", "no spinning here")
        spin = by_topic(load_data(data))["Spinning"]
        self.assertIn("shm.spin against shm.futex: no latency size where both have a value "
                      "(shm.spin skipped: no spinning here)", spin)
        self.assertIn("In a 1 MiB stream", spin)  # throughput still ran

    def test_size_class_where_everything_failed_or_nothing_ran(self):
        data = raw("report-a")
        for bench_id in ("pipe", "unix_stream", "posix_mq"):
            data = set_status(data, bench_id, "latency", "failed", "peer killed", {1048576})
        data["benchmarks"] = [b for b in data["benchmarks"]
                              if not (b["pattern"] == "throughput"
                                      and b["message_size"] == 1048576)]
        large = by_topic(load_data(data))["Large messages, above 64 KiB"]
        self.assertIn("Latency: no mechanism has a value at 1 MiB (every benchmark there was "
                      "skipped or failed).", large)
        self.assertIn("Throughput: the report ran no throughput benchmark of this size class.",
                      large)

    def test_lossy_mechanisms_do_not_win_throughput(self):
        data = copy.deepcopy(raw("report-a"))
        for m in data["context"]["ipcbench"]["mechanisms"]:
            if m["id"] == "pipe":
                m["lossy"] = True
        medium = by_topic(load_data(data))["Medium messages, 513 B to 64 KiB"]
        self.assertIn("Latency: pipe has", medium)
        self.assertNotIn("Throughput: pipe has", medium)

    def test_unknown_ids_render(self):
        data = copy.deepcopy(raw("report-b"))
        for entry in list(data["benchmarks"]):
            if entry["id"] == "pipe":
                clone = copy.deepcopy(entry)
                clone["id"] = "iceoryx.zerocopy"
                clone["family"] = "middleware"
                for key in ("name", "run_name"):
                    clone[key] = clone[key].replace("pipe/", "iceoryx.zerocopy/", 1)
                data["benchmarks"].append(clone)
        text = headline.markdown(load_data(data))
        self.assertTrue(text.startswith("- **Run.** Measured on machine-b"))

    def test_markdown_is_one_item_per_finding(self):
        report = load_report(FIXTURES / "report-b.json", "b")
        lines = headline.markdown(report).splitlines()
        self.assertEqual(len(lines), len(headline.findings(report)))
        self.assertTrue(all(line.startswith("- **") for line in lines))


class EstimatesHeadlineTest(unittest.TestCase):
    """report-estimates.json: intervals, ties, modes, regimes and the stop rule."""

    def setUp(self):
        self.data = raw("report-estimates")
        self.found = by_topic(load_report(FIXTURES / "report-estimates.json", "e"))

    def test_overlapping_intervals_are_a_tie(self):
        self.assertIn("Latency: posix_shm.spin and posix_shm.adaptive tie for the lowest p50 "
                      "round trip (RTT) at 2 of 2 sizes (intervals overlap at each; at 1 B: "
                      "posix_shm.spin 400 ns [CI 392 ns–408 ns], posix_shm.adaptive 405 ns "
                      "[CI 397 ns–413 ns]); of the mechanisms that sleep while they wait, "
                      "posix_shm.futex (3 µs [CI 2.94 µs–3.06 µs] at 1 B",
                      self.found["Small messages, 1 B to 512 B"])

    def test_separate_intervals_name_one_winner(self):
        medium = self.found["Medium messages, 513 B to 64 KiB"]
        self.assertIn("Latency: posix_shm.spin has the lowest p50 round trip (RTT), 1.31 µs "
                      "[CI 1.28 µs–1.34 µs] at 4 KiB;", medium)
        self.assertNotIn("tie", medium)

    def test_a_tie_at_one_size_only(self):
        data = copy.deepcopy(self.data)
        data["estimates"]["posix_shm.adaptive/latency/64/cross"]["interval"] = [423.0, 440.0]
        small = by_topic(load_data(data))["Small messages, 1 B to 512 B"]
        self.assertIn("Latency: posix_shm.spin has the lowest p50 round trip (RTT) at 1 of 2 "
                      "sizes (414 ns [CI 406 ns–422 ns] at 64 B); posix_shm.spin and "
                      "posix_shm.adaptive (tie) at 1 B;", small)

    def test_multimodal_winner_is_quoted_with_its_modes(self):
        self.assertIn("Throughput: posix_shm.spin has the highest throughput, 9.67 GB/s "
                      "[CI 8.82 GB/s–10.6 GB/s; 2 modes: 8.91 GB/s (50 %) and 10.5 GB/s (50 %) "
                      "— producer CPU per message 1.2x higher in the slow mode] at 1 MiB",
                      self.found["Large messages, above 64 KiB"])

    def test_wakeup_quotes_the_floors_of_the_run_and_each_regime(self):
        wake = self.found["Wake-up"]
        # The reference regime's floors lead: the values are taken there, not at the start.
        self.assertTrue(wake.startswith(
            "One cross-CPU wake-up costs about 2.5 µs on this machine in the state the values "
            "are taken in, regime 0 (cache line ~125 ns, 65 % of the run): half the median p50 "
            "round trip of a futex ping-pong measured beside its repetitions (4.99 µs)"), wake)
        self.assertIn("A bare cache line bounces between the same CPUs in 125 ns there", wake)
        self.assertIn("The start-of-run calibration, one moment of it: a futex ping-pong between "
                      "CPUs 0 and 1 (5 µs; p10 4.8 µs", wake)
        self.assertIn("Measured beside the repetitions (192 with a floor), the floors' medians "
                      "over the run (and ranges): cache-line round trip 128 ns (106 ns to "
                      "556 ns), wake-up round trip 5.09 µs (4.89 µs to 7.59 µs); in 2 regimes: "
                      "regime 0 (the reference), 65 % of the run: cache line 125 ns (106 ns to "
                      "128 ns), wake-up 4.99 µs; regime 1, 35 % of the run: cache line 549 ns "
                      "(541 ns to 556 ns), wake-up 7.49 µs.", wake)
        self.assertIn("A pipe's round trip at 1 B is 9 µs, 1.80× the wake-up floor of "
                      "regime 0.", wake)

    def test_regimes_without_a_calibration_floor(self):
        data = copy.deepcopy(self.data)
        del data["context"]["ipcbench"]["calibration"]["wakeup_rtt_ns"]
        wake = by_topic(load_data(data))["Wake-up"]
        self.assertTrue(wake.startswith("One cross-CPU wake-up costs about 2.5 µs"), wake)
        self.assertNotIn("start-of-run", wake)
        self.assertIn("in 2 regimes", wake)

    def test_regimes_without_a_floor_of_the_reference(self):
        data = copy.deepcopy(self.data)
        del data["context"]["ipcbench"]["calibration"]["wakeup_rtt_ns"]
        for r in data["context"]["ipcbench"]["regimes"]["regimes"]:
            r["wakeup_rtt_p50_ns"] = None
        wake = by_topic(load_data(data))["Wake-up"]
        self.assertTrue(wake.startswith("The start-of-run calibration has no wake-up floor; "
                                        "idle states held"), wake)
        self.assertIn("in 2 regimes", wake)

    def test_reproducibility(self):
        self.assertIn("up to 6 repetitions per benchmark", self.found["Run"])
        self.assertEqual(
            self.found["Reproducibility"],
            "Stop rule: repetitions until the 85 % confidence interval of the median is within "
            "5 % of it (latency: rtt_p50_ns, throughput: bytes_per_second; basis: reference "
            "regime), 4 to 6 repetitions, a budget of 600 s. Of 36 benchmarks, 28 converged, "
            "6 hit the cap, 1 ran out of the time budget, 1 failed; the median relative width "
            "of the intervals reached is 4 %. 1 is multimodal: "
            "posix_shm.spin/throughput/1048576/cross (the table of all numbers gives the "
            "modes). Values in regime 0 (cache line ~125 ns, 65 % of the run); 5 benchmark(s) "
            "in another regime (none of their repetitions in that one).")

    def test_findings_order(self):
        self.assertEqual(list(self.found)[:3], ["Run", "Reproducibility",
                                                 "Small messages, 1 B to 512 B"])
        self.assertEqual(list(self.found).index("Host states"),
                         list(self.found).index("Large messages, above 64 KiB") + 1)

    def test_host_states_give_the_answer_in_the_other_state(self):
        self.assertEqual(
            self.found["Host states"],
            "The host moved the vCPUs under this run. The values on this page are taken in "
            "regime 0 (cache line ~125 ns, 65 % of the run), the reference state. In regime 1 "
            "(cache line ~549 ns, 35 % of the run), 31 of 31 benchmarks ran at least once; the "
            "lowest p50 round trip at 64 B, of the 4 of 4 mechanisms measured there: "
            "posix_shm.spin (625 ns, no interval: 2 repetitions), as in the reference state; "
            "the highest throughput at 1 MiB, of the 4 of 4 mechanisms measured there: "
            "posix_shm.spin (5.96 GB/s, no interval: 2 repetitions), as in the reference "
            "state. Each benchmark's value in each state is in the report "
            "(estimates.*.by_regime); ipcbench-compare --same-answer compares two runs state by "
            "state.")

    def test_host_states_name_another_leader_and_a_tie_there(self):
        data = copy.deepcopy(self.data)
        est = data["estimates"]
        # In regime 1, posix_shm.adaptive leads at 64 B, its interval overlapping spin's.
        est["posix_shm.adaptive/latency/64/cross"]["by_regime"][1].update(
            value=600.0, interval=[590.0, 630.0])
        est["posix_shm.spin/latency/64/cross"]["by_regime"][1]["interval"] = [620.0, 640.0]
        # At 1 MiB, pipe leads there alone, with an interval; futex has no value there.
        est["pipe/throughput/1048576/cross"]["by_regime"][1].update(
            value=7e9, interval=[6.8e9, 7.2e9])
        del est["posix_shm.futex/throughput/1048576/cross"]["by_regime"][1]
        text = by_topic(load_data(data))["Host states"]
        self.assertIn("the lowest p50 round trip at 64 B, of the 4 of 4 mechanisms measured "
                      "there: posix_shm.adaptive and posix_shm.spin (tie) (600 ns), where the "
                      "reference state has posix_shm.spin;", text)
        self.assertIn("the highest throughput at 1 MiB, of the 3 of 4 mechanisms measured "
                      "there: pipe (7 GB/s, CI 6.8 GB/s–7.2 GB/s), where the reference state "
                      "has posix_shm.spin.", text)
        self.assertIn("30 of 31 benchmarks ran at least once", text)

    def test_a_value_only_from_another_state_is_not_compared(self):
        data = copy.deepcopy(self.data)
        est = data["estimates"]
        # pipe's 1 MiB throughput, measured in regime 1 only, faster than the reference's leader.
        pipe = est["pipe/throughput/1048576/cross"]
        pipe.update(regime=1, value=50e9, interval=[49e9, 51e9])
        large = by_topic(load_data(data))["Large messages, above 64 KiB"]
        self.assertIn("Throughput: posix_shm.spin has the highest throughput", large)
        self.assertIn("Not compared: pipe at 1 MiB, measured only in another host state", large)
        # A latency taken to the reference state's floor is compared wherever it was measured.
        spin = est["posix_shm.spin/latency/64/cross"]
        spin.update(regime=1, adjusted={"floor": "cache_line_rtt_p50_ns", "slope": 1.0,
                                        "to_ns": 125.0, "fitted": False, "raw_value": 1000.0})
        small = by_topic(load_data(data))["Small messages, 1 B to 512 B"]
        self.assertNotIn("Not compared", small)
        self.assertIn("posix_shm.spin", small)

    def test_a_short_state_gets_no_answer_and_one_regime_no_finding(self):
        data = copy.deepcopy(self.data)
        data["context"]["ipcbench"]["regimes"]["regimes"][1]["share"] = 0.05
        text = by_topic(load_data(data))["Host states"]
        self.assertIn("Regime 1 (cache line ~549 ns, 5 % of the run) is too short for an answer "
                      "of its own.", text)
        self.assertNotIn("ran at least once", text)
        data["context"]["ipcbench"]["regimes"]["regimes"].pop()
        self.assertNotIn("Host states", by_topic(load_data(data)))


class OldFormatTest(unittest.TestCase):
    """Reports without estimates read exactly as before."""

    def test_fixture_headlines_are_unchanged(self):
        for name in ("report-a", "report-b"):
            expected = (FIXTURES / f"{name}.headline.md").read_text(encoding="utf-8")
            self.assertEqual(headline.markdown(load_report(FIXTURES / f"{name}.json", name)),
                             expected, name)

    def test_no_interval_tie_or_reproducibility_without_estimates(self):
        found = by_topic(load_data(without_estimates(raw("report-estimates"))))
        self.assertNotIn("Reproducibility", found)
        text = " ".join(found.values())
        for word in ("CI ", " tie", "modes", "regime", "up to"):
            self.assertNotIn(word, text)
        self.assertIn("6 repetitions per benchmark", found["Run"])


if __name__ == "__main__":
    unittest.main()
