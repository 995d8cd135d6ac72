"""Typed values handed from one stage to the next (see docs/ARCHITECTURE in the README).

Transcript and Assessment are pydantic models because they are also the documented JSON
contracts: parsing validates them and dumping gives the same bytes for the same value.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

Speaker = Literal["agent", "client", "unknown"]
ItemStatus = Literal["pass", "fail", "na", "needs_review"]

SAMPLE_RATE = 16_000


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Word(_Frozen):
    start: float
    end: float
    text: str
    probability: float | None = None


class Segment(_Frozen):
    speaker: Speaker
    start: float = Field(ge=0)
    end: float = Field(ge=0)
    text: str
    confidence: float | None = Field(default=None, ge=0, le=1)
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    words: tuple[Word, ...] = ()
    # Set where it differs from the transcript's language (a call that switches language).
    language: str | None = None


class ChannelMap(_Frozen):
    """Which stereo channel, or which separated voice of a mono call, is the sales manager,
    and how that was decided."""

    agent_channel: Literal["left", "right", "voice_1", "voice_2"]
    # configured (settings), inferred (from what each side says) or swapped (by a person).
    source: Literal["configured", "inferred", "swapped"]
    confidence: float = Field(default=1.0, ge=0, le=1)
    note: str | None = None


class Transcript(_Frozen):
    call_id: str | None = None
    language: str
    duration: float | None = None
    engine: str | None = None
    model: str | None = None
    channel_map: ChannelMap | None = None
    segments: tuple[Segment, ...]

    def to_json(self) -> str:
        return self.model_dump_json(indent=2, exclude_none=True, exclude_defaults=True)


class Evidence(_Frozen):
    speaker: Speaker
    start: float
    end: float
    text: str


class ItemResult(_Frozen):
    id: str
    title: str
    status: ItemStatus
    confidence: float
    reason: str
    evidence: tuple[Evidence, ...] = ()
    critical: bool = False
    weight: float = 1.0
    # For a failed item: what to do differently, and a phrasing from the scorecard that passes.
    feedback: str | None = None
    example: str | None = None


class ScorecardRef(_Frozen):
    id: str
    version: int
    hash: str | None = None


class TranscriptRef(_Frozen):
    engine: str | None = None
    model: str | None = None


class Assessment(_Frozen):
    scorecard: ScorecardRef
    transcript: TranscriptRef = TranscriptRef()
    language: str
    score: float = Field(ge=0, le=1)
    passed: bool
    items: tuple[ItemResult, ...]
    metrics: dict[str, float]
    flags: tuple[str, ...]

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    @property
    def failed_items(self) -> list[str]:
        return [item.id for item in self.items if item.status == "fail"]


@dataclass(frozen=True)
class AudioTrack:
    """One voice of a call as Whisper wants it: 16 kHz mono float32 in [-1, 1]."""

    speaker: Speaker
    samples: np.ndarray

    @property
    def duration(self) -> float:
        return len(self.samples) / SAMPLE_RATE


@dataclass(frozen=True)
class CallAudio:
    """Decoded audio of a call, or of one piece of it: one track per speaker (stereo) or a
    single unknown track (mono)."""

    source: Path
    duration: float
    channels: int
    source_sample_rate: int
    tracks: tuple[AudioTrack, ...]
    # Where this audio starts in the call, in seconds (a piece of a long call).
    offset: float = 0.0

    def pieces(self, seconds: float | None = None) -> Iterator[CallAudio]:
        """Audio already in memory is one piece (a file is read in pieces: pipeline.audio)."""
        yield self
