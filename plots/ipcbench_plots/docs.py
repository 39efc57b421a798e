"""docs/run/: the README's pictures and headline from one report, and the report they came from.

`render.py --docs REPORT.json` writes a copy of the report into docs/run/ (report.json.xz:
each repetition cut to what the pictures and the headline read, the aggregate rows they do not
read left out, compressed with xz: a default run's 30 MB of JSON takes 0.7 MB, so that a
regeneration does not add megabytes to the history), renders that copy into a temporary folder,
copies DOC_CHARTS' PNGs, writes the headline (headline.md) and the machine (README.md), and
replaces the part of the top-level README between DOCS_BEGIN and DOCS_END with the pictures and
README_TOPICS' findings (the others named, with a link to headline.md). Everything shown comes
from the copy, so the copy regenerates it as it is.
"""

from __future__ import annotations

import json
import lzma
import shutil
import tempfile
from pathlib import Path

from .headline import findings, markdown
from .report import (COUNTERS, NAME_FIELDS, Report, entry_topology, load_report, read_json,
                     text)
from .units import n_repetitions

REPO = Path(__file__).resolve().parents[2]
DOCS_DIR = REPO / "docs" / "run"
REPORT_COPY = "report.json.xz"
# The copy's top-level field naming the report it was cut from (so that a copy regenerates the
# same pages as the report did).
COPY_OF = "docs_copy_of"
README = REPO / "README.md"
DOCS_BEGIN = "<!-- docs:begin (written by plots/render.py --docs; edit plots/ipcbench_plots/docs.py) -->"
DOCS_END = "<!-- docs:end -->"
COMMAND = "/usr/bin/python3 plots/render.py --docs results/<host>-<time>.json"

# The findings the top-level README quotes (the rest are named, with a link to headline.md): it
# stays short (tests/docs/check_links.py holds it under 10 KiB), and a run's findings on sizes,
# ties and claims run to several kilobytes.
README_TOPICS = ("Run", "Reproducibility", "Wake-up")

# Each picture: the charts to try in order (the first one the report has), and its caption.
DOC_CHARTS = (
    (("ranking-latency-64B", "ranking-latency-1B", "ranking-throughput-1MiB"),
     "Which should I use: every mechanism's p50 round trip at 64 B, best first, with its p99"),
    (("latency-shared-memory-mmap", "latency-pipes-fifos", "latency-overview"),
     "One family up close: round trip against message size, spinning against sleeping"),
    (("throughput-overview",),
     "Throughput of every mechanism against message size, each line named where it ends"),
)


# What report.py reads of a repetition's entry: its name and fields, status and reason, regime,
# counters and latency percentiles. The copy keeps these of each entry and drops the rest (the
# CPU time split, the CPU states, the floors beside it, Google Benchmark's own timings), which
# only the HTML's details and the C++ tools read. A topology benchmark's counters are all its
# flat numbers, and its group says whether it was oversubscribed: those stay too.
KEPT_FIELDS = frozenset((
    "name", "run_name", *NAME_FIELDS, "process", "family", "run_type", "aggregate_name",
    "status", "error_occurred", "reason", "error_message", "latency_percentiles_ns", "regime",
    "topology", "fan", *COUNTERS,
))


def slim_report(data: dict) -> dict:
    """The report with each `benchmarks` entry cut to KEPT_FIELDS (report.py reads nothing else
    of it), and without the aggregate rows of a benchmark that has its repetitions (report.py
    reads a benchmark's aggregates only where it has none, and a topology benchmark's never);
    everything outside `benchmarks` is kept whole. Cutting a cut copy changes nothing."""
    entries = [e for e in data.get("benchmarks") or [] if isinstance(e, dict)]
    repeated = {_name(e) for e in entries if e.get("run_type", "iteration") == "iteration"}
    out = dict(data)
    out["benchmarks"] = [
        _slim_entry(e) if isinstance(e, dict) else e
        for e in data.get("benchmarks") or []
        if not (isinstance(e, dict) and e.get("run_type", "iteration") != "iteration"
                and (_name(e) in repeated or _topology(e)))
    ]
    return out


def _name(entry: dict):
    return entry.get("run_name") or entry.get("name")


def _topology(entry: dict) -> bool:
    return entry_topology(entry) is not None


def _slim_entry(entry: dict) -> dict:
    topology = _topology(entry)
    kept = {k: v for k, v in entry.items()
            if k in KEPT_FIELDS
            or (topology and isinstance(v, (int, float)) and not isinstance(v, bool))}
    group = entry.get("group")
    if topology and isinstance(group, dict) and "oversubscribed" in group:
        kept["group"] = {"oversubscribed": group["oversubscribed"]}
    return kept


def write_docs(report: Report, out_dir: Path = DOCS_DIR) -> Path:
    """Writes report.json.xz (the report cut by slim_report), then from that copy the pictures,
    headline.md and README.md; returns README.md's path."""
    from .cli import render

    out_dir.mkdir(parents=True, exist_ok=True)
    data = read_json(report.path)
    copy = slim_report(data)
    original = data.get(COPY_OF)
    copy[COPY_OF] = original if isinstance(original, str) and original else report.path.name
    with lzma.open(out_dir / REPORT_COPY, "wb", preset=9) as dst:
        dst.write(json.dumps(copy, separators=(",", ":")).encode("utf-8"))
    source = _source(report, copy[COPY_OF])
    report = load_report(out_dir / REPORT_COPY, report.label)
    with tempfile.TemporaryDirectory(prefix="ipcbench-docs-") as tmp:
        render([report], None, Path(tmp))
        pictures = []
        for stems, caption in DOC_CHARTS:
            stem = next((s for s in stems if (Path(tmp) / f"{s}.png").is_file()), None)
            if stem:
                shutil.copyfile(Path(tmp) / f"{stem}.png", out_dir / f"{stem}.png")
                pictures.append((stem, caption))
    headline = markdown(report)
    (out_dir / "headline.md").write_text(
        f"# Headline findings\n\nComputed by `plots/render.py` from [{REPORT_COPY}]({REPORT_COPY}) "
        f"({source}); the machine is described in [README.md](README.md).\n\n"
        + headline, encoding="utf-8")
    (out_dir / "README.md").write_text(_machine_page(report, pictures, source), encoding="utf-8")
    if out_dir.resolve() == DOCS_DIR.resolve() and README.is_file():
        rel = out_dir.resolve().relative_to(REPO.resolve()).as_posix()
        _update_readme(README, pictures, _readme_findings(report, f"{rel}/headline.md"), out_dir)
    return out_dir / "README.md"


def _source(report: Report, name: str) -> str:
    ib = report.ipcbench
    return (f"a copy of `{name}`, {text(ib.get('sweep')) or 'unrecorded'} sweep, "
            f"up to {n_repetitions(report.repetitions())} per benchmark, "
            f"ipcbench {text(ib.get('version')) or '?'} "
            f"at commit {text(ib.get('git_commit')) or '?'}")


MACHINE_ROWS = (
    ("host", lambda r: r.context.get("host_name")),
    ("date", lambda r: r.context.get("date")),
    ("CPU", lambda r: r.ipcbench.get("cpu_model")),
    ("CPUs usable", lambda r: r.ipcbench.get("cpu_count")),
    ("kernel", lambda r: r.ipcbench.get("kernel")),
    ("clock source", lambda r: r.ipcbench.get("clocksource")),
    ("cpufreq governor", lambda r: r.ipcbench.get("governor") or "none (no cpufreq, e.g. a VM)"),
    ("cpuidle", lambda r: r.ipcbench.get("cpuidle")),
    ("idle states", lambda r: r.ipcbench.get("idle_states")),
    ("placement", lambda r: (r.ipcbench.get("cpu_placement") or {}).get("reason")
     if isinstance(r.ipcbench.get("cpu_placement"), dict) else r.ipcbench.get("placement")),
    ("process model", lambda r: r.ipcbench.get("process_model")),
    ("library threads", lambda r: r.ipcbench.get("library_threads")),
    ("sweep", lambda r: f"{text(r.ipcbench.get('sweep'))}: {text(r.ipcbench.get('sizes'))} bytes"),
    ("repetitions", lambda r: r.repetitions()),
    ("target time per batch", lambda r: r.ipcbench.get("target_time_s")),
    ("compiler, build", lambda r: f"{text(r.ipcbench.get('compiler'))}, "
                                  f"{text(r.ipcbench.get('build_type'))}"),
    ("ipcbench", lambda r: f"{text(r.ipcbench.get('version'))} at "
                           f"{text(r.ipcbench.get('git_commit'))}"),
)


def _machine_page(report: Report, pictures: list[tuple[str, str]], source: str) -> str:
    rows = "".join(
        f"| {name} | {_cell(text(get(report)) or 'not recorded')} |\n" for name, get in MACHINE_ROWS
    )
    files = "".join(f"- [{stem}.png]({stem}.png): {caption}\n" for stem, caption in pictures)
    return (
        "# The run behind the README's pictures\n\n"
        f"Everything here comes from [{REPORT_COPY}]({REPORT_COPY}) ({source}; "
        "`xz -d` gives the JSON, and `plots/render.py` reads it as it is). The copy keeps of "
        "each repetition what the pictures and the headline read (its name, status, regime, "
        "counters and latency percentiles); the CPU time split, the CPU states and the floors "
        "beside each repetition stay in the full report, under `results/` on the machine that "
        "ran it. "
        "Regenerate it all, and the part of the top-level README that shows it, with one "
        f"command:\n\n    {COMMAND}\n\n"
        "## The machine\n\n| | |\n|---|---|\n" + rows + "\n"
        "## Files\n\n"
        "- [headline.md](headline.md): the headline findings, as on the top of the HTML report\n"
        f"- [{REPORT_COPY}]({REPORT_COPY}): the report, each repetition cut to what is shown "
        "here, xz-compressed ([results/README.md](../../results/README.md) describes it)\n"
        + files
    )


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def _readme_findings(report: Report, link: str) -> str:
    """README_TOPICS' findings as a markdown list, and one more item naming the others, which
    `link` (headline.md) gives."""
    found = findings(report)
    quoted = "".join(f"- **{f.topic}.** {f.text}\n" for f in found if f.topic in README_TOPICS)
    others = [f.topic for f in found if f.topic not in README_TOPICS]
    if others:
        quoted += (f"- **More,** in [{link}]({link}): "
                   f"{'; '.join(t[0].lower() + t[1:] for t in others)}.\n")
    return quoted


def _update_readme(readme: Path, pictures, headline: str, out_dir: Path) -> None:
    content = readme.read_text(encoding="utf-8")
    begin, end = content.find(DOCS_BEGIN), content.find(DOCS_END)
    if begin < 0 or end < begin:
        return
    rel = out_dir.resolve().relative_to(REPO.resolve()).as_posix()
    images = "".join(f"![{caption}]({rel}/{stem}.png)\n\n" for stem, caption in pictures)
    block = (
        f"{DOCS_BEGIN}\n{images}"
        f"Headline findings of that run ([{rel}/headline.md]({rel}/headline.md); the machine "
        f"and the command that regenerates all of this: [{rel}/README.md]({rel}/README.md)):\n\n"
        f"{headline}\n"
    )
    readme.write_text(content[:begin] + block + content[end:], encoding="utf-8")
