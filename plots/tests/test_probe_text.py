"""Probe values in words and small tables, for every value shape the probes write."""

import sys
import unittest
from pathlib import Path

PLOTS_DIR = Path(__file__).resolve().parents[1]
if str(PLOTS_DIR) not in sys.path:
    sys.path.insert(0, str(PLOTS_DIR))

from ipcbench_plots.probe_text import probe_value  # noqa: E402

NNBSP = "\u202f"


class ProbeValueTest(unittest.TestCase):
    def test_scalars_with_byte_sizes(self):
        value = probe_value({"F_GETPIPE_SZ": 65536, "filled until EAGAIN": 65536})
        self.assertEqual(
            value.plain(),
            f"F_GETPIPE_SZ: 65{NNBSP}536 (64 KiB); filled until EAGAIN: 65{NNBSP}536 (64 KiB)",
        )
        self.assertEqual(probe_value({"largest": 65507, "one byte more": "EMSGSIZE"}).plain(),
                         f"largest: 65{NNBSP}507; one byte more: EMSGSIZE")

    def test_lists_parallel_to_sizes_become_a_table(self):
        value = probe_value({"bytes": [512, 4096], "fifo torn": [0, 0], "pipe torn": [0, 3],
                             "records each": [16384, 4096], "writers": 4})
        self.assertEqual(value.columns, ["", "512 B", "4 KiB"])
        self.assertEqual(value.rows, [["fifo torn", "0", "0"], ["pipe torn", "0", "3"],
                                      ["records each", f"16{NNBSP}384", "4096"]])
        self.assertEqual(value.phrases, ["writers: 4"])
        html = value.html()
        self.assertIn('<table class="probe-value">', html)
        self.assertIn("<th>4 KiB</th>", html)
        self.assertIn("pipe torn: 0 at 512 B, 3 at 4 KiB", value.plain())

    def test_pairs_named_in_the_key(self):
        value = probe_value({"SEM_UNDO: held, after SIGKILL": [0, 1],
                             "no SEM_UNDO: held, after SIGKILL": [0, 0]})
        self.assertEqual(value.plain(), "SEM_UNDO: held 0, after SIGKILL 1; "
                                        "no SEM_UNDO: held 0, after SIGKILL 0")

    def test_rates_nested_objects_booleans_and_ratios(self):
        value = probe_value({
            "pipe bytes/s": [2961889851.0, 2891653123.0],
            "repetitions": {"pipe": 3, "shm": 3},
            "ratio lower bound": 6.957,
            "CAP_SYS_RESOURCE": False,
            "read returns": [3, 0],
        })
        self.assertEqual(value.plain(), "pipe bytes/s: 2.96 GB/s, 2.89 GB/s; "
                                        "repetitions: pipe 3, shm 3; ratio lower bound: 6.957; "
                                        "CAP_SYS_RESOURCE: no; read returns: 3, 0")

    def test_could_not_run_none_and_bare_values(self):
        self.assertEqual(probe_value({"could not run": "shmget(4097): ENOSPC"}).plain(),
                         "could not run: shmget(4097): ENOSPC")
        self.assertEqual(probe_value(None).plain(), "")
        self.assertIn("no value", probe_value(None).html())
        self.assertEqual(probe_value(65536).plain(), f"65{NNBSP}536")
        self.assertEqual(probe_value({"pipe bytes/s": []}).plain(), "pipe bytes/s: none")

    def test_html_escapes(self):
        html = probe_value({"open(O_WRONLY|O_NONBLOCK)": "<ENXIO>"}).html()
        self.assertIn("&lt;ENXIO&gt;", html)
        self.assertNotIn("{", html)


if __name__ == "__main__":
    unittest.main()
