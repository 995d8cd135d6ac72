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
    assert all(s.speaker == "unknown" for s in transcript.segments)
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
