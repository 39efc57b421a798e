#!/usr/bin/env python3
"""Every relative link in the repository's Markdown files resolves, and README.md stays short.

Usage: check_links.py REPO_ROOT

Walks the *.md files git knows (tracked, plus untracked ones that are not ignored, so a page not
yet committed is checked too; where git cannot list them, every *.md under REPO_ROOT outside
hidden and build* folders). In each, outside fenced code blocks and inline code spans, every
inline link and image, [text](target) and ![alt](target), and every reference definition
[label]: target is checked: a target with a URL scheme (http:, https:, mailto:, ...) is skipped;
a path is taken relative to the file that holds the link (or to REPO_ROOT when it starts with /)
and must exist; an anchor #x, alone (this file) or after a .md path, must be the GitHub anchor of
one of the target's headings (lowercased, backticks and punctuation other than '-' and '_'
removed, spaces turned into '-', -1, -2, ... on repeats) or an explicit <a id="x"> / name="x".
Anchors into files that are not Markdown are not checked.

Prints FILE:LINE: broken link TARGET (why) per broken link and exits 1 if there is any, else
"N links checked, 0 broken" and exits 0. README.md above README_LIMIT bytes fails too.
Standard library only.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

README_LIMIT = 10_240

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
HTML_ID = re.compile(r"<a\s[^>]*?\b(?:id|name)\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# [text](target "title") or ![alt](target): text may hold one level of brackets and line breaks.
INLINE = re.compile(
    r"(!?)\[((?:[^\[\]\\]|\\.|\[(?:[^\[\]\\]|\\.)*\])*)\]"
    r"\(\s*(<[^<>\n]*>|(?:[^\s()\\]|\\.|\((?:[^\s()\\]|\\.)*\))*)"
    r"(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^()\n]*\)))?\s*\)")
REFDEF = re.compile(r"^ {0,3}\[((?:[^\[\]\\]|\\.)+)\]:[ \t]*(<[^<>\n]*>|\S+)", re.MULTILINE)


def markdown_files(root: Path) -> list[str]:
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others",
             "--exclude-standard", "--", "*.md"],
            check=True, capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError):
        # No git, not a work tree (a source tarball) or one git refuses (another owner): walk it,
        # leaving out hidden folders and the top-level build folders.
        print("check_links: git cannot list the files here; walking the tree instead",
              file=sys.stderr)
        names = []
        for folder, dirs, files in os.walk(root):
            top = Path(folder) == root
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__"
                             and not (top and d.startswith("build")))
            names += [os.path.relpath(Path(folder) / f, root) for f in files if f.endswith(".md")]
        return sorted(names)
    names = sorted({n for n in out.decode("utf-8").split("\0") if n})
    return [n for n in names if (root / n).is_file()]  # a tracked file deleted here is not read


def blank(text: str, start: int, end: int) -> str:
    """text with [start, end) replaced by spaces, line breaks kept (offsets stay valid)."""
    return text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]


def strip_code(text: str) -> str:
    """Fenced code blocks and inline code spans blanked out."""
    lines = text.split("\n")
    out, fence = [], None
    for line in lines:
        m = FENCE.match(line)
        if fence is None:
            if m and not (m.group(1)[0] == "`" and "`" in line[m.end():]):
                fence = m.group(1)
                out.append(" " * len(line))
            else:
                out.append(line)
        else:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                    and not line[m.end():].strip():
                fence = None
            out.append(" " * len(line))
    text = "\n".join(out)
    # Inline code: a run of n backticks up to the next run of exactly n, within one paragraph.
    i = 0
    while True:
        m = re.compile(r"(?<![`\\])(`+)(?!`)").search(text, i)
        if not m:
            return text
        n = len(m.group(1))
        close = re.compile(r"(?<!`)`{%d}(?!`)" % n).search(text, m.end())
        para = text.find("\n\n", m.end())
        if close and (para < 0 or close.start() < para):
            text = blank(text, m.start(), close.end())
            i = close.end()
        else:
            i = m.end()


def slug(heading: str) -> str:
    """GitHub's anchor of a heading's text."""
    s = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text stays
    s = re.sub(r"<[^>]+>", "", s)  # inline HTML goes
    s = s.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)  # punctuation, backticks included, goes; '_' and '-' stay
    return s.replace(" ", "-")


def anchors(path: Path, cache: dict[Path, set[str]]) -> set[str]:
    if path in cache:
        return cache[path]
    text = path.read_text(encoding="utf-8")
    found: set[str] = set(m.group(1) for m in HTML_ID.finditer(text))
    seen: dict[str, int] = {}
    code_free = strip_code(text).split("\n")
    raw = text.split("\n")
    # Headings come from the code-free lines, their text from the raw ones (backticks and all).
    for k, line in enumerate(code_free):
        title = None
        m = ATX.match(line)
        if m:
            title = ATX.match(raw[k]).group(2) or ""
        elif k > 0 and SETEXT.match(line) and code_free[k - 1].strip() \
                and not ATX.match(code_free[k - 1]) and "|" not in code_free[k - 1] \
                and not re.match(r"^\s*([-*+]|\d+[.)])\s", code_free[k - 1]):
            title = raw[k - 1]
        if title is None:
            continue
        base = slug(title)
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
    cache[path] = found
    return found


def links(text: str):
    """(offset, target) of every link outside code."""
    clean = strip_code(text)
    for m in INLINE.finditer(clean):
        yield m.start(3), m.group(3)
    for m in REFDEF.finditer(clean):
        yield m.start(2), m.group(2)


def check(root: Path) -> int:
    root = root.resolve()
    cache: dict[Path, set[str]] = {}
    checked, broken = 0, []
    for name in markdown_files(root):
        source = root / name
        text = source.read_text(encoding="utf-8")
        for offset, target in links(text):
            line = text.count("\n", 0, offset) + 1
            target = target.strip()
            if target.startswith("<") and target.endswith(">"):
                target = target[1:-1]
            if SCHEME.match(target):
                continue
            checked += 1
            where, _, anchor = target.partition("#")
            where = unquote(where)
            if where == "":
                dest = source
            elif where.startswith("/"):
                dest = root / where.lstrip("/")
            else:
                dest = source.parent / where
            why = None
            if not where and not anchor:
                why = "empty link"
            elif not dest.exists():
                why = f"no such file: {os.path.relpath(dest, root)}"
            elif root not in dest.resolve().parents and dest.resolve() != root:
                why = "outside the repository"
            elif anchor and dest.is_file() and dest.suffix.lower() == ".md":
                if unquote(anchor) not in anchors(dest.resolve(), cache):
                    why = f"no heading or id '{anchor}' in {os.path.relpath(dest, root)}"
            if why:
                broken.append(f"{name}:{line}: broken link {target} ({why})")
    for b in broken:
        print(b)
    status = 1 if broken else 0
    readme = root / "README.md"
    if readme.is_file() and readme.stat().st_size > README_LIMIT:
        print(f"README.md: {readme.stat().st_size} bytes, more than {README_LIMIT}: "
              "move details into docs/")
        status = 1
    if broken:
        print(f"{checked} links checked, {len(broken)} broken")
    else:
        print(f"{checked} links checked, 0 broken")
    return status


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: check_links.py REPO_ROOT")
    sys.exit(check(Path(sys.argv[1])))
