"""The reviewer's audio: a tone over the redacted spans, the rest untouched."""

import wave
from pathlib import Path

import numpy as np
import pytest

from pipeline.redact import BleepOptions, bleep_file
from pipeline.redact.audio import merge_spans

RATE = 8_000


def voice_like(path: Path, seconds: float, channels: int) -> Path:
    """A WAV of two low harmonics and noise, like a telephone voice: nothing near 1 kHz dominates."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * RATE)) / RATE
    mono = 0.3 * np.sin(2 * np.pi * 180 * t) + 0.2 * np.sin(2 * np.pi * 360 * t) + 0.05 * rng.standard_normal(t.size)
    frames = np.repeat((mono * 20_000).astype(np.int16)[:, None], channels, axis=1)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(frames.tobytes())
    return path


def frames_of(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as audio:
        assert (audio.getframerate(), audio.getsampwidth()) == (RATE, 2)
        return np.frombuffer(audio.readframes(audio.getnframes()), dtype=np.int16).reshape(-1, audio.getnchannels())


def channel(frames: np.ndarray, index: int, start: float, end: float) -> np.ndarray:
    return frames[int(start * RATE) : int(end * RATE), index].astype(np.float64)


def bleeped_copy(tmp_path: Path, seconds: float, channels: int, spans, options=None) -> tuple[np.ndarray, np.ndarray]:
    """(original frames, bleeped frames) of a voice-like call."""
    source = voice_like(tmp_path / "call.wav", seconds, channels)
    bleep_file(source, tmp_path / "review.wav", spans, options)
    return frames_of(source), frames_of(tmp_path / "review.wav")


def dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    return float(np.fft.rfftfreq(samples.size, 1 / RATE)[np.argmax(spectrum)])


def tone_share(samples: np.ndarray, hz: float) -> float:
    """The share of the energy within 20 Hz of a frequency."""
    power = np.abs(np.fft.rfft(samples)) ** 2
    freqs = np.fft.rfftfreq(samples.size, 1 / RATE)
    return float(power[np.abs(freqs - hz) < 20].sum() / power.sum())


@pytest.mark.parametrize("channels", [1, 2])
def test_the_span_carries_a_1khz_tone_and_the_rest_is_untouched(channels, tmp_path):
    call, bleeped = bleeped_copy(tmp_path, 5.0, channels, [(2.0, 3.0)], BleepOptions(padding_s=0.0))
    assert bleeped.shape == call.shape
    for k in range(channels):
        inside = channel(bleeped, k, 2.05, 2.95)
        assert dominant_hz(inside) == pytest.approx(1000, abs=5)
        assert tone_share(inside, 1000) > 0.99
        assert dominant_hz(channel(call, k, 2.05, 2.95)) == pytest.approx(180, abs=5)
        # Outside the span the samples are the original ones, bit for bit.
        np.testing.assert_array_equal(channel(bleeped, k, 0, 1.99), channel(call, k, 0, 1.99))
        np.testing.assert_array_equal(channel(bleeped, k, 3.01, 5.0), channel(call, k, 3.01, 5.0))
        assert tone_share(channel(bleeped, k, 3.5, 4.5), 1000) < 0.01


def test_padding_widens_the_span_and_the_tone_level_follows_the_option(tmp_path):
    _, bleeped = bleeped_copy(tmp_path, 4.0, 1, [(1.0, 2.0)], BleepOptions(padding_s=0.25, volume_dbfs=-12.0))
    assert dominant_hz(channel(bleeped, 0, 0.78, 0.98)) == pytest.approx(1000, abs=25)
    assert dominant_hz(channel(bleeped, 0, 2.02, 2.22)) == pytest.approx(1000, abs=25)
    peak = np.abs(channel(bleeped, 0, 1.0, 2.0)).max() / 32767
    assert 20 * np.log10(peak) == pytest.approx(-12.0, abs=0.1)


def test_overlapping_spans_merge_and_spans_are_clipped_to_the_audio(tmp_path):
    assert merge_spans([(3.0, 4.0), (0.1, 1.0), (0.9, 2.0)], padding_s=0.2, duration_s=3.5) == [
        (0.0, 2.2),
        (2.8, 3.5),
    ]
    call, bleeped = bleeped_copy(tmp_path, 1.0, 1, [])
    np.testing.assert_array_equal(bleeped, call)
    call, bleeped = bleeped_copy(tmp_path, 2.0, 1, [(1.5, 9.0)], BleepOptions(padding_s=0.0))
    assert bleeped.shape == call.shape and tone_share(channel(bleeped, 0, 1.5, 2.0), 1000) > 0.99


def test_a_span_across_the_pieces_the_copy_is_written_in_is_one_unbroken_tone(tmp_path):
    """The copy is written 10 s at a time; a tone across a boundary keeps its phase."""
    call, bleeped = bleeped_copy(tmp_path, 25.0, 2, [(8.0, 12.0)], BleepOptions(padding_s=0.0))
    across = channel(bleeped, 1, 9.5, 10.5)
    assert tone_share(across, 1000) > 0.99
    amplitude = 32767 * 10 ** (-12 / 20)
    t = np.arange(across.size) / RATE + 1.5
    np.testing.assert_allclose(across, np.round(amplitude * np.sin(2 * np.pi * 1000 * t)), atol=1)
    np.testing.assert_array_equal(channel(bleeped, 0, 12.01, 25.0), channel(call, 0, 12.01, 25.0))
