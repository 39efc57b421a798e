"""A probe's `value` (free-form JSON, results/README.md#probes) as words and small tables.

The probes write objects of scalars ("PIPE_BUF": 4096, "one byte more": "EMSGSIZE"), lists that
run parallel to a list of sizes ("bytes": [512, 4096], "pipe torn": [0, 0]), pairs named in
their key ("SEM_UNDO: held, after SIGKILL": [0, 1]), rates ("pipe bytes/s": [...]) and nested
objects ("repetitions": {"shm": 3, "pipe": 3}). Each becomes a phrase; parallel lists become a
table with one column per size. Nothing here knows a probe by its id, so new probes render too.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from html import escape

from .units import format_rate, format_size

# Keys whose whole numbers are byte counts: shown with their binary size as well.
BYTE_KEYS = re.compile(r"byte|size|_SZ|SNDBUF|wmem|EAGAIN|largest|msgm", re.IGNORECASE)
GROUP = "\u202f"  # narrow no-break space between digit groups

# The key of a list that names the columns of the other lists of the same length.
COLUMN_KEYS = ("bytes", "size", "sizes")


@dataclass
class ProbeValue:
    """A value as phrases ("key: value") plus at most one table (columns and rows of text)."""

    phrases: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # the table's head, first cell empty
    rows: list[list[str]] = field(default_factory=list)

    def plain(self) -> str:
        """One line of text, the table written as "row: a, b" pairs."""
        parts = list(self.phrases)
        for row in self.rows:
            cells = ", ".join(f"{v} at {c}" for c, v in zip(self.columns[1:], row[1:]))
            parts.append(f"{row[0]}: {cells}")
        return "; ".join(parts)

    def html(self) -> str:
        html = ""
        if self.phrases:
            html += "; ".join(escape(p) for p in self.phrases)
        if self.rows:
            head = "".join(f"<th>{escape(c)}</th>" for c in self.columns)
            body = "".join(
                "<tr>" + f"<th>{escape(row[0])}</th>"
                + "".join(f'<td class="num">{escape(c)}</td>' for c in row[1:]) + "</tr>"
                for row in self.rows
            )
            html += (f'<table class="probe-value"><thead><tr>{head}</tr></thead>'
                     f"<tbody>{body}</tbody></table>")
        return html or '<span class="muted">no value</span>'


def probe_value(value) -> ProbeValue:
    out = ProbeValue()
    if not isinstance(value, dict):
        if value is not None:
            out.phrases.append(scalar(value))
        return out
    columns_key = next((k for k in COLUMN_KEYS if _scalars(value.get(k))), None)
    columns = value.get(columns_key) if columns_key else None
    for key, item in value.items():
        if key == columns_key:
            continue
        if columns and isinstance(item, list) and len(item) == len(columns) and _scalars(item):
            if not out.columns:
                out.columns = [""] + [_size(c) for c in columns]
            out.rows.append([key] + [scalar(v, key) for v in item])
            continue
        out.phrases.append(_phrase(key, item))
    if columns and not out.rows:  # the sizes named nothing else: say them as a list
        out.phrases.insert(0, _phrase(columns_key, columns))
    return out


def _phrase(key: str, item) -> str:
    if isinstance(item, list):
        # "SEM_UNDO: held, after SIGKILL": [0, 1] -> "SEM_UNDO: held 0, after SIGKILL 1"
        head, sep, names = key.partition(": ")
        labels = names.split(", ") if sep else []
        if labels and len(labels) == len(item) and _scalars(item):
            return f"{head}: " + ", ".join(f"{n} {scalar(v)}" for n, v in zip(labels, item))
        return f"{key}: " + (", ".join(scalar(v, key) for v in item) if item else "none")
    if isinstance(item, dict):
        return f"{key}: " + ", ".join(f"{k} {scalar(v, k)}" for k, v in item.items())
    return f"{key}: {scalar(item, key)}"


def scalar(value, key: str = "") -> str:
    """A JSON scalar as text: rates with their unit, booleans as yes/no, numbers grouped."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return "—"
        if "bytes/s" in key:
            return format_rate(value)
        if isinstance(value, float) and not value.is_integer():
            return f"{value:.4g}"
        number = f"{int(value):,}".replace(",", GROUP) if abs(value) >= 10000 else f"{int(value)}"
        if BYTE_KEYS.search(key) and value >= 1024 and int(value) % 1024 == 0:
            number += f" ({format_size(int(value))})"
        return number
    if isinstance(value, (list, dict)):
        return _phrase("", value).removeprefix(": ")
    return str(value)


def _size(value) -> str:
    return format_size(value) if isinstance(value, int) and not isinstance(value, bool) \
        and value >= 0 else scalar(value)


def _scalars(item) -> bool:
    return isinstance(item, list) and bool(item) and all(
        not isinstance(v, (list, dict)) for v in item)
