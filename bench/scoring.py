"""Benchmark scoring: assessments per second on one core for 10-minute transcripts.

First scoring computes every per-segment feature; rescoring after a scorecard version
change reuses the features and the results of unchanged detectors. Both run in this one
process on the same transcripts, so their ratio is meaningful on a noisy machine.
Run with `make bench-scoring`; it adds a row to docs/benchmarks.md.
"""

from __future__ import annotations

import os

os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core, before numpy loads
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

import dataclasses  # noqa: E402
import time  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402

from bench.main_job import machine  # noqa: E402
from bench.report import record  # noqa: E402
from pipeline.score import load_scorecard, score  # noqa: E402
from pipeline.score.evaluate import read_labelled  # noqa: E402
from pipeline.score.scorecard import LoadedScorecard  # noqa: E402
from pipeline.types import Transcript  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HEADING = "## Scoring speed (`make bench-scoring`)"
CALL_SECONDS = 600
CALLS = 40


def ten_minute_transcripts() -> list[Transcript]:
    """Dev-set calls of one language strung together to 10 minutes, each call a different mix."""
    pool = [c.transcript for c in read_labelled(ROOT / "tests" / "data" / "devset")]
    transcripts = []
    for n in range(CALLS):
        language = ("ru", "en")[n % 2]
        parts = [t for t in pool if t.language == language]
        segments, offset, k = [], 0.0, n
        while offset < CALL_SECONDS:
            part = parts[k % len(parts)]
            k += 3
            for s in part.segments:
                segments.append(s.model_copy(update={"start": s.start + offset, "end": s.end + offset}))
            offset = segments[-1].end + 1.0
        transcripts.append(Transcript(language=language, duration=round(offset, 2), segments=tuple(segments)))
    return transcripts


def rate(transcripts: list[Transcript], card: LoadedScorecard) -> float:
    started = time.perf_counter()
    for transcript in transcripts:
        score(transcript, card)
    return len(transcripts) / (time.perf_counter() - started)


def main() -> None:
    card = load_scorecard("inbound_inquiry", ROOT / "scorecards")
    next_version = dataclasses.replace(
        card, card=card.card.model_copy(update={"version": card.version + 1, "pass_threshold": 0.75})
    )
    score(ten_minute_transcripts()[0].model_copy(update={"language": "en"}), card)  # fit the classifiers first
    transcripts = ten_minute_transcripts()
    segments = sum(len(t.segments) for t in transcripts) / len(transcripts)
    first = rate(transcripts, card)
    rescoring = rate(transcripts, next_version)
    row = (
        f"| {date.today()} | {machine()}, 1 core used | {len(transcripts)} transcripts of 10 min "
        f"({segments:.0f} segments each) | {first:.1f} | {rescoring:.0f} | {rescoring / first:.0f}x |"
    )
    record(HEADING, row)
    print(row)


if __name__ == "__main__":
    main()
