"""Append a result row to its own table in docs/benchmarks.md."""

from __future__ import annotations

from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def record(heading: str, row: str) -> None:
    """Insert ``row`` after the last row of the table under the Markdown ``heading``."""
    lines = BENCHMARKS.read_text(encoding="utf-8").splitlines()
    start = lines.index(heading)
    end = start + 1
    while end < len(lines) and not lines[end].startswith("## "):
        end += 1
    last_row = max(i for i in range(start, end) if lines[i].startswith("|"))
    lines.insert(last_row + 1, row.rstrip("\n"))
    BENCHMARKS.write_text("\n".join(lines) + "\n", encoding="utf-8")
