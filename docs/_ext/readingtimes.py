"""The landing page's table of pages with their reading times, counted at build time.

``<!-- reading-times -->`` in ``index.md`` becomes a table, part by part in the order of
the index's toctrees, of each page's title and its reading time: the words of its prose
(code cells excluded) at 200 words a minute, plus half a minute per code cell.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

MARKER = "<!-- reading-times -->"
TOCTREE = re.compile(r"```\{toctree\}\n(.*?)```", re.S)
CODE = re.compile(r"^```\{code-cell\}.*?^```", re.S | re.M)


def reading_minutes(text: str) -> int:
    cells = len(CODE.findall(text))
    prose = CODE.sub(" ", text)
    prose = re.sub(r"^---\n.*?\n---\n", " ", prose, count=1, flags=re.S)  # front matter
    words = len(re.findall(r"[A-Za-z][A-Za-z'-]*", prose))
    return max(1, math.ceil(words / 200 + 0.5 * cells))


def _title(text: str, fallback: str) -> str:
    match = re.search(r"^# (.+)$", text, re.M)
    return match.group(1).strip() if match else fallback


def _fill(app, docname, source):
    if docname != app.config.root_doc or MARKER not in source[0]:
        return
    srcdir = Path(app.srcdir)
    rows = ["| part | page | reading time |", "|---|---|---|"]
    for block in TOCTREE.findall(source[0]):
        caption = re.search(r":caption: (.+)", block)
        docs = [ln.strip() for ln in block.splitlines() if ln.strip() and not ln.strip().startswith(":")]
        for doc in docs:
            path = srcdir / f"{doc}.md"
            if not path.is_file() or "file_format: mystnb" not in path.read_text()[:500]:
                continue
            text = path.read_text(encoding="utf-8")
            part = caption.group(1) if caption else ""
            rows.append(f"| {part} | {{doc}}`{_title(text, doc)} <{doc}>` | {reading_minutes(text)} min |")
    source[0] = source[0].replace(MARKER, "\n".join(rows))


def setup(app):
    app.connect("source-read", _fill)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
