"""Reading the compare tool's JSON (`compare --json`): one verdict per benchmark and metric."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from .report import Cell, ReportError, read_json

METRICS = ("rtt_p50_ns", "rtt_p99_ns", "bytes_per_second")
SIGNIFICANT = ("regression", "improvement")


@dataclass(frozen=True)
class Verdict:
    ratio: float | None
    verdict: str
    p_value: float | None
    method: str

    @property
    def significant(self) -> bool:
        return self.verdict in SIGNIFICANT


class CompareResults:
    """Verdicts found by benchmark name, or by (id, pattern, size) when the name does not match."""

    def __init__(self, results: list[dict], context: dict | None = None):
        self.results = results
        # What the verdicts stand on: test, alpha, correction, family size, runs per side.
        self.context = context or {}
        self._by_name: dict[tuple[str, str], Verdict] = {}
        self._by_key: dict[tuple[str, str, int, str], Verdict] = {}
        for entry in results:
            verdict = Verdict(
                _number(entry.get("ratio")),
                str(entry.get("verdict", "")),
                _number(entry.get("p_value")),
                str(entry.get("method", "")),
            )
            metric = entry["metric"]
            if isinstance(entry.get("name"), str):
                self._by_name[(entry["name"], metric)] = verdict
            key = (entry.get("id"), entry.get("pattern"), entry.get("message_size"), metric)
            if isinstance(key[0], str) and isinstance(key[1], str) and isinstance(key[2], int):
                self._by_key[key] = verdict

    def lookup(self, cell: Cell, metric: str) -> Verdict | None:
        found = self._by_name.get((cell.name, metric))
        return found or self._by_key.get((cell.id, cell.pattern, cell.size, metric))

    def notable(self) -> list[dict]:
        """The results whose verdict is not "no change", regressions first."""
        rows = [r for r in self.results if r.get("verdict") in SIGNIFICANT]
        return sorted(
            rows, key=lambda r: (r.get("verdict") != "regression", str(r.get("name", "")))
        )


def _number(value) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def load_compare(path: Path) -> CompareResults:
    data = read_json(path)
    problem = _schema_problem(data)
    if problem:
        raise ReportError(f"cannot read '{path}': not a compare JSON: {problem}")
    keys = ("test", "alpha", "correction", "family_size", "runs", "summary")
    return CompareResults(data["results"], {k: data[k] for k in keys if k in data})


def _schema_problem(data: object) -> str:
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        return "no 'results' array"
    for entry in data["results"]:
        if not isinstance(entry, dict):
            return "a 'results' entry is not an object"
        if not isinstance(entry.get("metric"), str):
            return "a 'results' entry has no 'metric'"
        if not isinstance(entry.get("name"), str) and not isinstance(entry.get("id"), str):
            return "a 'results' entry has neither 'name' nor 'id'"
        if "message_size" in entry and not isinstance(entry["message_size"], int):
            return "a 'results' entry has a 'message_size' that is not an integer"
    return ""
