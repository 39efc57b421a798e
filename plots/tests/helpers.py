"""What several test modules share: loading a report changed in memory."""

import copy
import json
import tempfile
from pathlib import Path

from ipcbench_plots.report import load_report


def load_data(data: dict):
    """The report `data` as load_report reads it from a file."""
    with tempfile.TemporaryDirectory(prefix="ipcbench-plots-") as tmp:
        path = Path(tmp) / "report.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        return load_report(path, "test")


def without_estimates(data: dict) -> dict:
    """An older report: the same benchmarks without regimes, stop rule and estimates."""
    data = copy.deepcopy(data)
    del data["estimates"]
    for name in ("regimes", "stop_rule"):
        del data["context"]["ipcbench"][name]
    for entry in data["benchmarks"]:
        entry.pop("regime", None)
    return data
