import subprocess
import wave

import numpy as np
import pytest

from pipeline.audio import AudioOptions, AudioSegment, decode_call
from pipeline.errors import AudioDecodeError
from pipeline.types import SAMPLE_RATE


def _tone(seconds: float, rate: int, freq: float, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t) * 32767).astype(np.int16)


@pytest.fixture
def stereo_wav(tmp_path):
    """2 s at 8 kHz: a loud tone on the left channel, a quiet one on the right."""
    left, right = _tone(2, 8000, 440, 0.5), _tone(2, 8000, 660, 0.05)
    path = tmp_path / "stereo.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(np.stack([left, right], axis=1).tobytes())
    return path


def _loudness(track) -> float:
    return float(np.sqrt(np.mean(track.samples**2)))


def test_stereo_left_is_agent_by_default(stereo_wav):
    audio = decode_call(stereo_wav)
    agent, client = audio.tracks
    assert (agent.speaker, client.speaker) == ("agent", "client")
    assert _loudness(agent) > 5 * _loudness(client)
    assert audio.channels == 2 and audio.source_sample_rate == 8000
    assert audio.duration == pytest.approx(2.0)


def test_channel_map_is_configurable(stereo_wav):
    agent, client = decode_call(stereo_wav, AudioOptions(agent_channel="right")).tracks
    assert agent.speaker == "agent" and _loudness(client) > 5 * _loudness(agent)


def test_tracks_are_16khz_float32_in_range(stereo_wav):
    for track in decode_call(stereo_wav).tracks:
        assert track.samples.dtype == np.float32
        assert len(track.samples) == pytest.approx(2 * SAMPLE_RATE, abs=2)
        assert np.abs(track.samples).max() <= 1.0


@pytest.mark.parametrize("extension, codec", [("mp3", []), ("ogg", []), ("flac", []), ("m4a", []), ("wav", ["-acodec", "pcm_mulaw"])])
def test_decodes_common_formats(stereo_wav, tmp_path, extension, codec):
    out = tmp_path / f"call.{extension}"
    ffmpeg = AudioSegment.converter
    subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-i", str(stereo_wav), *codec, str(out)], check=True)
    audio = decode_call(out)
    assert [t.speaker for t in audio.tracks] == ["agent", "client"]
    assert audio.duration == pytest.approx(2.0, abs=0.1)
    assert _loudness(audio.tracks[0]) > 5 * _loudness(audio.tracks[1])


def test_mono_gives_one_track_of_unknown_speaker(jfk_path):
    audio = decode_call(jfk_path)
    assert [t.speaker for t in audio.tracks] == ["unknown"]
    assert audio.duration == pytest.approx(11.0, abs=0.1)


def test_empty_file_is_a_clear_error(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioDecodeError, match="empty"):
        decode_call(path)


def test_text_named_mp3_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.mp3"
    path.write_text("this is not audio", encoding="utf-8")
    with pytest.raises(AudioDecodeError, match="not decodable as audio"):
        decode_call(path)
