"""Measure redaction against labelled utterances: recall per kind, precision, misses.

A labelled file is a YAML list of utterances (see tests/data/redaction/dev.yaml): `text`
or `segments`, and `expect`, the spans that must be redacted, each named by its exact
substring. A span counts as caught when a redaction of the same kind covers every letter
and digit of it; a redaction counts as right when it overlaps an expected span of its kind.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipeline.redact.transcript import redact_transcript
from pipeline.redact.types import PII_TYPES, PiiType, RedactOptions, Redaction
from pipeline.types import Segment, Transcript

_SEGMENT_SPACING_S = 3.0


@dataclass(frozen=True)
class ExpectedSpan:
    type: PiiType
    segment: int
    start: int
    end: int


@dataclass(frozen=True)
class LabelledUtterance:
    id: str
    language: str
    transcript: Transcript
    expected: tuple[ExpectedSpan, ...]


@dataclass(frozen=True)
class Miss:
    """A wrong or missing redaction, named by utterance and kind (no text: it may be personal)."""

    utterance: str
    type: PiiType
    kind: str  # "missed" or "false positive"


@dataclass(frozen=True)
class TypeScore:
    type: PiiType
    expected: int
    caught: int
    predicted: int
    right: int

    @property
    def recall(self) -> float:
        return self.caught / self.expected if self.expected else 1.0

    @property
    def precision(self) -> float:
        return self.right / self.predicted if self.predicted else 1.0


@dataclass(frozen=True)
class RedactionScores:
    utterances: int
    near_misses: int
    by_type: tuple[TypeScore, ...]
    misses: tuple[Miss, ...]

    def _total(self, field: str) -> int:
        return sum(getattr(s, field) for s in self.by_type)

    @property
    def recall(self) -> float:
        return self._total("caught") / max(self._total("expected"), 1)

    @property
    def precision(self) -> float:
        return self._total("right") / max(self._total("predicted"), 1)

    def of(self, kind: PiiType) -> TypeScore:
        return next(s for s in self.by_type if s.type == kind)


def read_labelled(path: Path) -> list[LabelledUtterance]:
    utterances = []
    for raw in yaml.safe_load(path.read_text(encoding="utf-8")):
        given = raw.get("segments") or [{"speaker": "client", "text": raw["text"]}]
        segments = []
        for k, seg in enumerate(given):
            start = float(seg.get("start", k * _SEGMENT_SPACING_S))
            end = start + min(2.0, _SEGMENT_SPACING_S - 0.5)
            segments.append(Segment(speaker=seg["speaker"], start=start, end=end, text=seg["text"]))
        expected = []
        for span in raw.get("expect") or []:
            index = span.get("segment", len(segments) - 1)
            at = segments[index].text.find(span["text"])
            if at < 0:
                raise ValueError(f"{path}: {raw['id']}: {span['text']!r} is not in segment {index}")
            expected.append(ExpectedSpan(span["type"], index, at, at + len(span["text"])))
        transcript = Transcript(call_id=raw["id"], language=raw["lang"], segments=tuple(segments))
        utterances.append(LabelledUtterance(raw["id"], raw["lang"], transcript, tuple(expected)))
    return utterances


def _caught(span: ExpectedSpan, text: str, redactions: tuple[Redaction, ...]) -> bool:
    covering = [r for r in redactions if r.type == span.type and r.segment == span.segment]
    return all(
        any(r.char_start <= i < r.char_end for r in covering)
        for i in range(span.start, span.end)
        if text[i].isalnum()
    )


def evaluate(utterances: list[LabelledUtterance], options: RedactOptions | None = None) -> RedactionScores:
    expected, caught, predicted, right = Counter(), Counter(), Counter(), Counter()
    misses = []
    for utterance in utterances:
        redactions = redact_transcript(utterance.transcript, options).redactions
        for span in utterance.expected:
            expected[span.type] += 1
            if _caught(span, utterance.transcript.segments[span.segment].text, redactions):
                caught[span.type] += 1
            else:
                misses.append(Miss(utterance.id, span.type, "missed"))
        for r in redactions:
            predicted[r.type] += 1
            if any(
                s.type == r.type and s.segment == r.segment and s.start < r.char_end and r.char_start < s.end
                for s in utterance.expected
            ):
                right[r.type] += 1
            else:
                misses.append(Miss(utterance.id, r.type, "false positive"))
    by_type = tuple(TypeScore(t, expected[t], caught[t], predicted[t], right[t]) for t in PII_TYPES)
    near = sum(1 for u in utterances if not u.expected)
    return RedactionScores(len(utterances), near, by_type, tuple(misses))
