"""Measure redaction on the labelled utterances and add the rows to docs/privacy.md.

Recall per kind (caught / expected: a span is caught when redactions of its kind cover all
of its letters and digits), overall recall and precision, for the development set, the
held-out set and both. Run with `.venv/bin/python -m bench.redaction`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pipeline.redact import PII_TYPES
from pipeline.redact.evaluate import RedactionScores, evaluate, read_labelled

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "redaction"
PRIVACY = ROOT / "docs" / "privacy.md"
HEADING = "## Measured quality (`python -m bench.redaction`)"


def row(name: str, scores: RedactionScores, languages: str) -> str:
    kinds = " | ".join(
        f"{s.caught}/{s.expected}" if s.expected else "-" for s in (scores.of(t) for t in PII_TYPES)
    )
    return (
        f"| {date.today()} | {name} | {scores.utterances} ({languages}), {scores.near_misses} near-misses | {kinds} "
        f"| {scores.recall:.3f} | {scores.precision:.3f} |"
    )


def record(rows: list[str]) -> None:
    """Insert the rows after the last row of the table under HEADING."""
    lines = PRIVACY.read_text(encoding="utf-8").splitlines()
    start = lines.index(HEADING)
    end = start + 1
    while end < len(lines) and not lines[end].startswith("## "):
        end += 1
    last_row = max(i for i in range(start, end) if lines[i].startswith("|"))
    lines[last_row + 1 : last_row + 1] = rows
    PRIVACY.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    sets = {"dev": read_labelled(DATA / "dev.yaml"), "held-out": read_labelled(DATA / "heldout.yaml")}
    sets["all"] = sets["dev"] + sets["held-out"]
    rows = []
    for name, utterances in sets.items():
        scores = evaluate(utterances)
        ru = sum(1 for u in utterances if u.language == "ru")
        rows.append(row(name, scores, f"{ru} ru / {len(utterances) - ru} en"))
        for miss in scores.misses:
            print(f"{name}: {miss.utterance}: {miss.type} {miss.kind}")
    record(rows)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
