import subprocess
from dataclasses import replace
import wave

import numpy as np
import pytest

from pipeline.audio import AudioOptions, AudioSegment, open_call
from tests.decoded import decode_whole
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
    audio = decode_whole(stereo_wav)
    agent, client = audio.tracks
    assert (agent.speaker, client.speaker) == ("agent", "client")
    assert _loudness(agent) > 5 * _loudness(client)
    assert audio.channels == 2 and audio.source_sample_rate == 8000
    assert audio.duration == pytest.approx(2.0)


def test_channel_map_is_configurable(stereo_wav):
    agent, client = decode_whole(stereo_wav, AudioOptions(agent_channel="right")).tracks
    assert agent.speaker == "agent" and _loudness(client) > 5 * _loudness(agent)


def test_tracks_are_16khz_float32_in_range(stereo_wav):
    for track in decode_whole(stereo_wav).tracks:
        assert track.samples.dtype == np.float32
        assert len(track.samples) == pytest.approx(2 * SAMPLE_RATE, abs=2)
        assert np.abs(track.samples).max() <= 1.0


@pytest.mark.parametrize("extension, codec", [("mp3", []), ("ogg", []), ("flac", []), ("m4a", []), ("wav", ["-acodec", "pcm_mulaw"])])
def test_decodes_common_formats(stereo_wav, tmp_path, extension, codec):
    out = tmp_path / f"call.{extension}"
    ffmpeg = AudioSegment.converter
    subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-i", str(stereo_wav), *codec, str(out)], check=True)
    audio = decode_whole(out)
    assert [t.speaker for t in audio.tracks] == ["agent", "client"]
    assert audio.duration == pytest.approx(2.0, abs=0.1)
    assert _loudness(audio.tracks[0]) > 5 * _loudness(audio.tracks[1])


def test_mono_gives_one_track_of_unknown_speaker(jfk_path):
    audio = decode_whole(jfk_path)
    assert [t.speaker for t in audio.tracks] == ["unknown"]
    assert audio.duration == pytest.approx(11.0, abs=0.1)


def test_empty_file_is_a_clear_error(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioDecodeError, match="empty"):
        decode_whole(path)


def test_text_named_mp3_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.mp3"
    path.write_text("this is not audio", encoding="utf-8")
    with pytest.raises(AudioDecodeError, match="not decodable as audio"):
        decode_whole(path)


def _long_call(path, seconds_of_speech: int = 80):
    """A stereo 8 kHz call of tone bursts (1.5 s on, 1 s off), the right channel 0.25 s behind."""
    rate = 8000
    pattern = np.concatenate([_tone(1.5, rate, 440, 0.4), np.zeros(rate, dtype=np.int16)])
    left = np.tile(pattern, int(seconds_of_speech / 2.5))
    right = np.roll(left, rate // 4)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.stack([left, right], axis=1).tobytes())
    return path


def test_a_call_is_read_in_pieces_cut_at_quiet_moments(tmp_path):
    path = _long_call(tmp_path / "long.wav")
    renewals = []
    recording = replace(open_call(path), on_piece=lambda: renewals.append(1))
    assert recording.duration == pytest.approx(80.0) and recording.channels == 2 and recording.peak == pytest.approx(0.4, abs=0.01)

    pieces = list(recording.pieces(seconds=20))
    whole = decode_whole(path)
    assert len(pieces) >= 3 and len(renewals) == len(pieces) - 1
    assert [p.offset for p in pieces] == pytest.approx(np.cumsum([0] + [p.duration for p in pieces[:-1]]))
    for k, track in enumerate(whole.tracks):
        np.testing.assert_array_equal(np.concatenate([p.tracks[k].samples for p in pieces]), track.samples)
    for piece in pieces[1:]:
        # Each cut falls where both channels are quiet, not inside a burst.
        edge = int(piece.offset * SAMPLE_RATE)
        assert max(np.abs(t.samples[edge - 400 : edge + 400]).max() for t in whole.tracks) < 0.05


def test_digital_silence_has_no_peak_and_a_damaged_tail_keeps_what_decodes(tmp_path, jfk_path):
    silent = tmp_path / "silent.wav"
    with wave.open(str(silent), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(np.zeros(8000 * 3, dtype=np.int16).tobytes())
    assert open_call(silent).peak == 0.0 and open_call(silent).duration == pytest.approx(3.0)

    mp3 = tmp_path / "jfk.mp3"
    subprocess.run([AudioSegment.converter, "-y", "-loglevel", "error", "-i", str(jfk_path), str(mp3)], check=True)
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(mp3.read_bytes()[: mp3.stat().st_size // 2])
    assert open_call(cut).duration == pytest.approx(5.5, abs=1.0)
