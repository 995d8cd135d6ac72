"""Typed values of the redaction stage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pipeline.types import Speaker, Transcript

PiiType = Literal["CARD", "PHONE", "EMAIL", "PASSPORT", "INN", "SNILS", "CVV", "DOB"]
PII_TYPES: tuple[PiiType, ...] = ("CARD", "PHONE", "EMAIL", "PASSPORT", "INN", "SNILS", "CVV", "DOB")


def placeholder(kind: PiiType) -> str:
    return f"[{kind}]"


@dataclass(frozen=True)
class RedactOptions:
    # Which kinds of personal data to redact.
    types: frozenset[PiiType] = frozenset(PII_TYPES)
    # Two segments of one speaker closer than this are read as one utterance, so a number
    # dictated across them is still caught.
    join_gap_s: float = 4.0
    # How much speech before a number counts as its context: words of the same speaker,
    # and what the other speaker said in the last seconds (the agent's question).
    context_words: int = 10
    context_after_words: int = 4
    context_seconds: float = 20.0
    # A reference word ("заказ", "order", "№") this close before a number marks it as a
    # shop number unless its own context says otherwise.
    reference_words: int = 3


@dataclass(frozen=True)
class Hit:
    """A redaction found in a text: its kind and character span."""

    type: PiiType
    start: int
    end: int


@dataclass(frozen=True)
class Redaction:
    """One redacted span of one segment; none of the redacted text is kept."""

    type: PiiType
    segment: int
    speaker: Speaker
    # Seconds, from the word timestamps where the segment has them, else the segment's.
    start: float
    end: float
    # Character span in the original segment text (for evaluation and highlighting).
    char_start: int
    char_end: int
    # Part of a number dictated across two segments of the same speaker.
    split: bool = False


@dataclass(frozen=True)
class RedactionResult:
    transcript: Transcript
    redactions: tuple[Redaction, ...]

    @property
    def time_spans(self) -> tuple[tuple[float, float], ...]:
        """The spans to cover with a tone in the reviewer's copy of the audio."""
        return tuple((r.start, r.end) for r in self.redactions)

    def count(self, kind: PiiType) -> int:
        return sum(1 for r in self.redactions if r.type == kind)
