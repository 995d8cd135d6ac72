"""The real Whisper model on real speech."""

import re

import pytest

from pipeline.audio import decode_call

pytestmark = pytest.mark.whisper


def _text(transcript) -> str:
    return re.sub(r"[^\w ]", "", " ".join(s.text for s in transcript.segments).lower())


def test_jfk_is_transcribed_word_for_word(whisper_transcriber, jfk_path):
    transcript = whisper_transcriber.transcribe(decode_call(jfk_path))
    assert transcript.language == "en"
    assert "ask not what your country can do for you" in _text(transcript)
    # A mono recording: its voices are separated, even where (as here) there is only one.
    assert {s.speaker for s in transcript.segments} <= {"agent", "client"}
    words = [w for s in transcript.segments for w in s.words]
    assert words and all(0 <= w.probability <= 1 and w.start <= w.end for w in words)


def test_russian_sample_call_keeps_speakers_on_their_channels(whisper_transcriber, sample_call):
    transcript = whisper_transcriber.transcribe(decode_call(sample_call("ru_good_vacuum")))
    assert transcript.language == "ru"
    agent = _text(transcript.model_copy(update={"segments": [s for s in transcript.segments if s.speaker == "agent"]}))
    client = _text(transcript.model_copy(update={"segments": [s for s in transcript.segments if s.speaker == "client"]}))
    assert "меня зовут андрей" in agent
    assert "спасибо за звонок" in agent
    assert "квартира большая" in client
    assert "квартира" not in agent and "андрей" not in client
    starts = [s.start for s in transcript.segments]
    assert starts == sorted(starts)


def test_silence_noise_and_a_silent_channel_give_no_text(whisper_transcriber, jfk_path, tmp_path):
    import numpy as np

    from pipeline.types import SAMPLE_RATE, AudioTrack, CallAudio

    silence = np.zeros(60 * SAMPLE_RATE, dtype=np.float32)
    noise = (np.random.default_rng(1).standard_normal(30 * SAMPLE_RATE) * 0.1).astype(np.float32)
    speech = decode_call(jfk_path).tracks[0].samples
    for name, tracks in {
        "silence": (AudioTrack("unknown", silence),),
        "noise": (AudioTrack("unknown", noise),),
        "one silent channel": (AudioTrack("agent", speech), AudioTrack("client", np.zeros_like(speech))),
    }.items():
        audio = CallAudio(source=tmp_path / f"{name}.wav", duration=len(tracks[0].samples) / SAMPLE_RATE, channels=len(tracks),
                          source_sample_rate=SAMPLE_RATE, tracks=tracks)
        transcript = whisper_transcriber.transcribe(audio)
        assert all(s.speaker == "agent" for s in transcript.segments), name
        if name == "one silent channel":
            assert "ask not what your country" in _text(transcript)
        else:
            assert transcript.segments == (), name


def test_telephone_codecs_are_transcribed(whisper_transcriber, jfk_path, tmp_path):
    import subprocess

    from pipeline.audio import AudioSegment

    files = [jfk_path.with_name("jfk_gsm.wav")]  # GSM 6.10 WAV, made with sox (this ffmpeg cannot encode it)
    for codec, extension in (("pcm_alaw", "wav"), ("pcm_mulaw", "wav"), ("libopus", "ogg")):
        files.append(tmp_path / f"jfk_{codec}.{extension}")
        rate = ["-ar", "8000"] if codec != "libopus" else []
        subprocess.run([AudioSegment.converter, "-y", "-loglevel", "error", "-i", str(jfk_path), *rate, "-acodec", codec, str(files[-1])], check=True)
    for path in files:
        assert "ask not what your country can do" in _text(whisper_transcriber.transcribe(decode_call(path))), path.name


@pytest.fixture(scope="module")
def default_transcriber(model_cache_dir):
    from pipeline.transcribe import TranscribeOptions, make_transcriber

    return make_transcriber(TranscribeOptions(model_cache_dir=model_cache_dir))


@pytest.mark.parametrize("fixture, call_language, turns", [
    # Made from the sample calls (mu-law, 8 kHz): the manager's Russian greeting, then a
    # client's English request...
    ("switch_ru_en.wav", "ru", [("agent", "ru", "меня зовут андрей"), ("client", "en", "looking for a new laptop")]),
    # ...and a manager's long English offer, then a client's Russian request.
    ("switch_en_ru.wav", "en", [("agent", "en", "battery lasts"), ("client", "ru", "не знаю какой выбрать")]),
])
def test_a_call_that_switches_language_keeps_each_segments_language(default_transcriber, fixture, call_language, turns):
    from tests.conftest import DATA

    transcript = default_transcriber.transcribe(decode_call(DATA / fixture))
    assert transcript.language == call_language
    for speaker, language, words in turns:
        heard = [s for s in transcript.segments if words in _text(transcript.model_copy(update={"segments": [s]}))]
        assert heard, f"{words!r} not heard in {fixture}"
        assert all((s.language or transcript.language) == language and s.speaker == speaker for s in heard), heard
    # Only segments in another language than the call's carry their own.
    assert {s.language for s in transcript.segments} == {None, turns[1][1]}
