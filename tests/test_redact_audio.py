"""The reviewer's audio: a tone over the redacted spans, the rest untouched."""

import numpy as np
import pytest

from pipeline.redact import BleepOptions, bleep
from pipeline.redact.audio import merge_spans
from pydub import AudioSegment

RATE = 8_000


def voice_like(seconds: float, channels: int) -> AudioSegment:
    """Two low harmonics and noise, like a telephone voice: nothing near 1 kHz dominates."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * RATE)) / RATE
    mono = 0.3 * np.sin(2 * np.pi * 180 * t) + 0.2 * np.sin(2 * np.pi * 360 * t) + 0.05 * rng.standard_normal(t.size)
    frames = np.repeat((mono * 20_000).astype(np.int16)[:, None], channels, axis=1)
    return AudioSegment(frames.tobytes(), frame_rate=RATE, sample_width=2, channels=channels)


def channel(audio: AudioSegment, index: int, start: float, end: float) -> np.ndarray:
    samples = np.frombuffer(audio.raw_data, dtype=np.int16).reshape(-1, audio.channels)[:, index]
    return samples[int(start * RATE) : int(end * RATE)].astype(np.float64)


def dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    return float(np.fft.rfftfreq(samples.size, 1 / RATE)[np.argmax(spectrum)])


def tone_share(samples: np.ndarray, hz: float) -> float:
    """The share of the energy within 20 Hz of a frequency."""
    power = np.abs(np.fft.rfft(samples)) ** 2
    freqs = np.fft.rfftfreq(samples.size, 1 / RATE)
    return float(power[np.abs(freqs - hz) < 20].sum() / power.sum())


@pytest.mark.parametrize("channels", [1, 2])
def test_the_span_carries_a_1khz_tone_and_the_rest_is_untouched(channels):
    call = voice_like(5.0, channels)
    bleeped = bleep(call, [(2.0, 3.0)], BleepOptions(padding_s=0.0))
    assert (len(bleeped.raw_data), bleeped.frame_rate, bleeped.channels) == (
        len(call.raw_data), call.frame_rate, call.channels
    )
    for k in range(channels):
        inside = channel(bleeped, k, 2.05, 2.95)
        assert dominant_hz(inside) == pytest.approx(1000, abs=5)
        assert tone_share(inside, 1000) > 0.99
        assert dominant_hz(channel(call, k, 2.05, 2.95)) == pytest.approx(180, abs=5)
        # Outside the span the samples are the original ones, bit for bit.
        np.testing.assert_array_equal(channel(bleeped, k, 0, 1.99), channel(call, k, 0, 1.99))
        np.testing.assert_array_equal(channel(bleeped, k, 3.01, 5.0), channel(call, k, 3.01, 5.0))
        assert tone_share(channel(bleeped, k, 3.5, 4.5), 1000) < 0.01


def test_padding_widens_the_span_and_the_tone_level_follows_the_option():
    call = voice_like(4.0, 1)
    bleeped = bleep(call, [(1.0, 2.0)], BleepOptions(padding_s=0.25, volume_dbfs=-12.0))
    assert dominant_hz(channel(bleeped, 0, 0.78, 0.98)) == pytest.approx(1000, abs=25)
    assert dominant_hz(channel(bleeped, 0, 2.02, 2.22)) == pytest.approx(1000, abs=25)
    peak = np.abs(channel(bleeped, 0, 1.0, 2.0)).max() / 32767
    assert 20 * np.log10(peak) == pytest.approx(-12.0, abs=0.1)


def test_overlapping_spans_merge_and_spans_are_clipped_to_the_audio():
    assert merge_spans([(3.0, 4.0), (0.1, 1.0), (0.9, 2.0)], padding_s=0.2, duration_s=3.5) == [
        (0.0, 2.2),
        (2.8, 3.5),
    ]
    assert bleep(voice_like(1.0, 1), []).raw_data == voice_like(1.0, 1).raw_data
