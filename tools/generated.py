"""What the file generators share: rewrite a file from its source, or with --check say that it is stale."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path


def regenerate(path: Path, render: Callable[[str], str], description: str, argv: list[str] | None = None) -> int:
    """`render` maps the file's current text to its fresh text; --check exits 1 when they differ."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--check", action="store_true", help="exit 1 if the file is out of date (CI runs this)")
    args = ap.parse_args(argv)
    current = path.read_text(encoding="utf-8")
    fresh = render(current)
    script = f"python tools/{Path(sys.argv[0]).name}"
    if args.check:
        if fresh != current:
            print(f"{path.name} is out of date: run `{script}` and review the diff", file=sys.stderr)
            return 1
        print(f"{path.name} is up to date")
        return 0
    if fresh != current:
        path.write_text(fresh, encoding="utf-8")
    print(f"{path.name} {'updated' if fresh != current else 'unchanged'}")
    return 0
