"""The report fields the renderer reads are the ones results/README.md documents (no matplotlib)."""

import ast
import re
import sys
import unittest
from pathlib import Path

PLOTS_DIR = Path(__file__).resolve().parents[1]
if str(PLOTS_DIR) not in sys.path:
    sys.path.insert(0, str(PLOTS_DIR))

from ipcbench_plots import docs, report  # noqa: E402

README = PLOTS_DIR.parent / "results" / "README.md"


def documented_names() -> set[str]:
    """Every `name` in backticks on the page."""
    return set(re.findall(r"`([A-Za-z0-9_.]+)`", README.read_text(encoding="utf-8")))


def entry_fields_read() -> set[str]:
    """String keys report.py reads from a benchmark entry: entry.get("k"), entry["k"],
    field_of("k")."""
    tree = ast.parse(Path(report.__file__).read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            on_entry = (
                isinstance(func, ast.Attribute)
                and func.attr == "get"
                and isinstance(func.value, ast.Name)
                and func.value.id == "entry"
            )
            if on_entry or (isinstance(func, ast.Name) and func.id == "field_of"):
                names.add(node.args[0].value)
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Name)
            and node.value.id == "entry"
            and isinstance(node.slice, ast.Constant)
        ):
            names.add(node.slice.value)
    return names


class SchemaTest(unittest.TestCase):
    def test_every_entry_field_read_is_documented(self):
        read = entry_fields_read()
        self.assertIn("status", read)  # the scan finds what it should
        self.assertEqual(sorted(read - documented_names()), [])

    def test_every_counter_and_name_part_is_documented(self):
        names = set(report.COUNTERS) | set(report.NAME_FIELDS) | {report.SPAWN_SUFFIX}
        self.assertEqual(sorted(names - documented_names()), [])

    def test_the_docs_copy_keeps_every_entry_field_read(self):
        # docs/run's report.json.xz keeps docs.KEPT_FIELDS of each entry, and a topology
        # benchmark's group; "repetitions" and "value" are read from the estimates' by_regime
        # entries, which the copy keeps whole.
        self.assertEqual(sorted(entry_fields_read() - docs.KEPT_FIELDS),
                         ["group", "repetitions", "value"])


if __name__ == "__main__":
    unittest.main()
