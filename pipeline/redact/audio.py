"""The reviewer's copy of a call: redacted time spans covered by a tone (pydub)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

import pipeline.audio  # noqa: F401  (puts the bundled ffmpeg on PATH before pydub is imported)
from pydub import AudioSegment

_DTYPES = {1: np.int8, 2: np.int16, 4: np.int32}


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


def bleep(
    audio: AudioSegment, spans: Iterable[tuple[float, float]], options: BleepOptions | None = None
) -> AudioSegment:
    """A copy of the audio with every span (seconds) replaced, on all channels, by a tone."""
    options = options or BleepOptions()
    if audio.sample_width not in _DTYPES:
        audio = audio.set_sample_width(2)
    dtype = _DTYPES[audio.sample_width]
    samples = np.frombuffer(audio.raw_data, dtype=dtype).reshape(-1, audio.channels).copy()
    rate = audio.frame_rate
    full_scale = np.iinfo(dtype).max
    amplitude = full_scale * 10 ** (options.volume_dbfs / 20)
    for start, end in merge_spans(spans, options.padding_s, len(samples) / rate):
        first, last = round(start * rate), min(round(end * rate), len(samples))
        t = np.arange(last - first) / rate
        tone = np.round(amplitude * np.sin(2 * np.pi * options.frequency_hz * t)).astype(dtype)
        samples[first:last] = tone[:, None]
    return audio._spawn(samples.tobytes())
