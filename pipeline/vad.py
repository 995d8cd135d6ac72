"""Voice activity: where a track has speech, and a packed copy with only that speech.

Whisper invents text on silence, line noise and hold music, and spends as long on a silent
half of a stereo channel as on speech. Silero VAD (its ONNX model ships inside the
faster-whisper wheel) finds the speech; packing the regions back to back, with short gaps,
lets Whisper fill every 30 s window with speech and never see the silence.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from pipeline.types import SAMPLE_RATE


@dataclass(frozen=True)
class VadOptions:
    # Probability above which a 32 ms frame is speech.
    threshold: float = 0.5
    # Shorter bursts are clicks or breaths, not speech.
    min_speech_ms: int = 250
    # Shorter pauses do not split a region.
    min_silence_ms: int = 600
    # Kept on each side of a region so word edges are not clipped.
    pad_ms: int = 200
    # Silence put between packed regions, so Whisper hears a boundary.
    gap_ms: int = 300


@dataclass(frozen=True)
class PackedAudio:
    """Speech regions laid back to back, with a map back to the time of their track."""

    samples: np.ndarray
    # Per region: (start in the track, start in the packed audio, length), in seconds.
    regions: tuple[tuple[float, float, float], ...]
    # Per region: the index of the track it comes from (several tracks can share one packing).
    sources: tuple[int, ...] = ()

    @property
    def speech_seconds(self) -> float:
        return sum(length for _, _, length in self.regions)

    def region_of(self, packed_time: float) -> int:
        """Index of the region a moment of the packed audio belongs to."""
        starts = [packed_start for _, packed_start, _ in self.regions]
        return max(0, bisect_right(starts, packed_time) - 1)

    def to_track_time(self, packed_time: float, region: int | None = None) -> float:
        """Where a moment of the packed audio lies in the original track."""
        if not self.regions:
            return packed_time
        track_start, packed_start, length = self.regions[self.region_of(packed_time) if region is None else region]
        return round(track_start + min(max(packed_time - packed_start, 0.0), length), 3)


    def source_of(self, region: int) -> int:
        return self.sources[region] if self.sources else 0

    def windows(self, seconds: float = 30.0) -> list[dict[str, float]]:
        """Spans of whole regions, each at most ``seconds`` long (a longer region is cut), for
        decoding in batches: Whisper hears at most 30 s at a time."""
        spans: list[dict[str, float]] = []
        for _, packed_start, length in self.regions:
            end = packed_start + length
            if spans and end - spans[-1]["start"] <= seconds:
                spans[-1]["end"] = end
                continue
            start = packed_start
            while end - start > seconds:
                spans.append({"start": start, "end": start + seconds})
                start += seconds
            spans.append({"start": start, "end": end})
        return spans


def combine(packs: list[PackedAudio]) -> PackedAudio:
    """Several tracks' packings one after the other, each region remembering its track."""
    samples, regions, sources, offset = [], [], [], 0.0
    for index, packed in enumerate(packs):
        samples.append(packed.samples)
        regions += [(track_start, packed_start + offset, length) for track_start, packed_start, length in packed.regions]
        sources += [index] * len(packed.regions)
        offset += len(packed.samples) / SAMPLE_RATE
    joined = np.concatenate(samples) if samples else np.zeros(0, dtype=np.float32)
    return PackedAudio(samples=joined, regions=tuple(regions), sources=tuple(sources))


def speech_regions(samples: np.ndarray, options: VadOptions = VadOptions()) -> list[tuple[float, float]]:
    """(start, end) in seconds of every stretch of speech in a 16 kHz track."""
    from faster_whisper.vad import VadOptions as SileroOptions
    from faster_whisper.vad import get_speech_timestamps

    if samples.size == 0:
        return []
    stamps = get_speech_timestamps(
        samples,
        SileroOptions(
            threshold=options.threshold,
            min_speech_duration_ms=options.min_speech_ms,
            min_silence_duration_ms=options.min_silence_ms,
            speech_pad_ms=options.pad_ms,
        ),
    )
    return [(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in stamps]


def pack(samples: np.ndarray, regions: list[tuple[float, float]], options: VadOptions = VadOptions()) -> PackedAudio:
    gap = np.zeros(int(options.gap_ms * SAMPLE_RATE / 1000), dtype=np.float32)
    pieces, mapping, cursor = [], [], 0.0
    for start, end in regions:
        piece = samples[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
        mapping.append((start, cursor, len(piece) / SAMPLE_RATE))
        pieces += [piece, gap]
        cursor += (len(piece) + len(gap)) / SAMPLE_RATE
    packed = np.concatenate(pieces).astype(np.float32, copy=False) if pieces else np.zeros(0, dtype=np.float32)
    return PackedAudio(samples=packed, regions=tuple(mapping))
