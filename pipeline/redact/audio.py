"""The reviewer's copy of a call: redacted time spans covered by a tone.

The copy is written a few seconds at a time, as the call is read (pipeline.audio), so an
hour-long call needs no more memory than a short one.
"""

from __future__ import annotations

import wave
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.audio import probe, read_pcm


@dataclass(frozen=True)
class BleepOptions:
    frequency_hz: float = 1000.0
    # Loud enough to be heard as a bleep, well below clipping.
    volume_dbfs: float = -12.0
    # Word timestamps are off by up to a few hundred ms; widen each span on both sides.
    padding_s: float = 0.25


def merge_spans(spans: Iterable[tuple[float, float]], padding_s: float, duration_s: float) -> list[tuple[float, float]]:
    """Padded spans clipped to the audio, with overlapping ones joined, in time order."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted((max(0.0, s - padding_s), min(duration_s, e + padding_s)) for s, e in spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def bleep_samples(samples: np.ndarray, first_frame: int, rate: int, spans: list[tuple[float, float]], options: BleepOptions) -> np.ndarray:
    """16-bit frames (frames, channels) starting at ``first_frame`` of the call, with the
    parts inside the (merged) spans replaced on all channels by the tone."""
    out = samples.copy()
    amplitude = np.iinfo(np.int16).max * 10 ** (options.volume_dbfs / 20)
    for start, end in spans:
        span_first, span_last = round(start * rate), round(end * rate)
        first, last = max(span_first, first_frame), min(span_last, first_frame + len(samples))
        if first >= last:
            continue
        t = np.arange(first - span_first, last - span_first) / rate  # the tone's phase runs on across pieces
        out[first - first_frame : last - first_frame] = np.round(amplitude * np.sin(2 * np.pi * options.frequency_hz * t)).astype(np.int16)[:, None]
    return out


def bleep_file(source: Path, target: Path, spans: Iterable[tuple[float, float]], options: BleepOptions | None = None) -> None:
    """A 16-bit WAV copy of ``source`` (its own rate and channels) with every span (seconds)
    covered by a tone."""
    options = options or BleepOptions()
    channels, rate = probe(source)
    merged = merge_spans(spans, options.padding_s, float("inf"))
    with wave.open(str(target), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        frame = 0
        for chunk in read_pcm(source, channels, rate):
            out.writeframes(bleep_samples(chunk, frame, rate, merged, options).tobytes())
            frame += len(chunk)
