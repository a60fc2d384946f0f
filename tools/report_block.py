"""One block of BENCHMARKS.md, rewritten in place: the benchmark scripts that own a block (the soak, the state
store, the auth guards) each replace only theirs and leave the rest of the report as it is."""

from __future__ import annotations

from pathlib import Path


def put_block(path: Path, start: str, end: str, section: str, heading: str) -> None:
    """Put `section` (from its `start` marker to its `end` marker) where the report's block between the same
    markers stands; a report without that block gets it at its end, under `heading` (its title and any
    words before the block)."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if start in text and end in text:
        text = text[: text.index(start)] + section + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip() + f"\n\n{heading}\n\n{section}\n"
    path.write_text(text)
