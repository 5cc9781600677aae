"""The generated blocks of README.md: text between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->``."""

from __future__ import annotations

import sys
from pathlib import Path


def markers(name: str) -> tuple[str, str]:
    """The begin and end markers of block ``name``."""
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def rewrite_block(readme: Path, name: str, md: str) -> int:
    """Replace block ``name`` of ``readme`` by ``md``; 0 on success, 1 (with a message) when a marker is missing."""
    begin, end = markers(name)
    text = readme.read_text()
    if begin not in text or end not in text:
        print(f"{readme} has no {begin} ... {end} markers", file=sys.stderr)
        return 1
    i, j = text.index(begin) + len(begin), text.index(end)
    readme.write_text(text[:i] + "\n" + md + "\n" + text[j:])
    return 0
