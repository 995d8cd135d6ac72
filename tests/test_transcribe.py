"""The real Whisper model on real speech, and the language checks around it on a scripted engine."""

import re
from dataclasses import replace
from difflib import SequenceMatcher

import numpy as np
import pytest

from pipeline.audio import open_call
from pipeline.transcribe import TranscribeOptions, _Decoded, _WhisperBase, make_transcriber
from pipeline.types import SAMPLE_RATE, AudioTrack, CallAudio
from tests.decoded import decode_whole


def _text(transcript) -> str:
    return re.sub(r"[^\w ]", "", " ".join(s.text for s in transcript.segments).lower())


@pytest.mark.whisper
def test_jfk_is_transcribed_word_for_word(whisper_transcriber, jfk_path):
    transcript = whisper_transcriber.transcribe(open_call(jfk_path))
    assert transcript.language == "en"
    assert "ask not what your country can do for you" in _text(transcript)
    # A mono recording: its voices are separated, even where (as here) there is only one.
    assert {s.speaker for s in transcript.segments} <= {"agent", "client"}
    words = [w for s in transcript.segments for w in s.words]
    assert words and all(0 <= w.probability <= 1 and w.start <= w.end for w in words)


@pytest.mark.whisper
def test_russian_sample_call_keeps_speakers_on_their_channels(whisper_transcriber, sample_call):
    transcript = whisper_transcriber.transcribe(open_call(sample_call("ru_good_vacuum")))
    assert transcript.language == "ru"
    agent = _text(transcript.model_copy(update={"segments": [s for s in transcript.segments if s.speaker == "agent"]}))
    client = _text(transcript.model_copy(update={"segments": [s for s in transcript.segments if s.speaker == "client"]}))
    assert "меня зовут андрей" in agent
    assert "спасибо за звонок" in agent
    assert "квартира большая" in client
    assert "квартира" not in agent and "андрей" not in client
    starts = [s.start for s in transcript.segments]
    assert starts == sorted(starts)


@pytest.mark.whisper
def test_silence_noise_and_a_silent_channel_give_no_text(whisper_transcriber, jfk_path, tmp_path):
    silence = np.zeros(60 * SAMPLE_RATE, dtype=np.float32)
    noise = (np.random.default_rng(1).standard_normal(30 * SAMPLE_RATE) * 0.1).astype(np.float32)
    speech = decode_whole(jfk_path).tracks[0].samples
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


@pytest.mark.whisper
def test_telephone_codecs_are_transcribed(whisper_transcriber, jfk_path, tmp_path):
    import subprocess

    from pipeline.audio import AudioSegment

    files = [jfk_path.with_name("jfk_gsm.wav")]  # GSM 6.10 WAV, made with sox (this ffmpeg cannot encode it)
    for codec, extension in (("pcm_alaw", "wav"), ("pcm_mulaw", "wav"), ("libopus", "ogg")):
        files.append(tmp_path / f"jfk_{codec}.{extension}")
        rate = ["-ar", "8000"] if codec != "libopus" else []
        subprocess.run([AudioSegment.converter, "-y", "-loglevel", "error", "-i", str(jfk_path), *rate, "-acodec", codec, str(files[-1])], check=True)
    for path in files:
        assert "ask not what your country can do" in _text(whisper_transcriber.transcribe(open_call(path))), path.name


@pytest.mark.whisper
@pytest.mark.parametrize("fixture, call_language, turns", [
    # Made from the sample calls (mu-law, 8 kHz): the manager's Russian greeting, then a
    # client's English request...
    ("switch_ru_en.wav", "ru", [("agent", "ru", "меня зовут андрей"), ("client", "en", "looking for a new laptop")]),
    # ...and a manager's long English offer, then a client's Russian request.
    ("switch_en_ru.wav", "en", [("agent", "en", "battery lasts"), ("client", "ru", "не знаю какой выбрать")]),
])
def test_a_call_that_switches_language_keeps_each_segments_language(default_transcriber, fixture, call_language, turns):
    from tests.conftest import DATA

    transcript = default_transcriber.transcribe(open_call(DATA / fixture))
    assert transcript.language == call_language
    for speaker, language, words in turns:
        heard = [s for s in transcript.segments if words in _text(transcript.model_copy(update={"segments": [s]}))]
        assert heard, f"{words!r} not heard in {fixture}"
        assert all((s.language or transcript.language) == language and s.speaker == speaker for s in heard), heard
    # Only segments in another language than the call's carry their own.
    assert {s.language for s in transcript.segments} == {None, turns[1][1]}


class _ScriptedWhisper(_WhisperBase):
    """An engine that hears English in positive samples and Russian in negative ones, and
    writes sure words only in the language it is told that matches: how Whisper behaves
    told the wrong language, without the model, so the language checks can be counted."""

    engine = "scripted"

    def __init__(self, options):
        super().__init__(options)
        self.detections = self.decodes = 0

    def _load_model(self):
        return None

    def _language_probabilities(self, samples):
        self.detections += 1
        english = float(np.mean(samples > 0))
        return {"en": english, "ru": 1 - english}

    def _decode(self, samples, language):
        self.decodes += 1
        decoded = []
        for start in np.arange(0, len(samples) / SAMPLE_RATE, 2.0):
            piece = samples[int(start * SAMPLE_RATE) : int((start + 2) * SAMPLE_RATE)]
            spoken = "en" if np.mean(piece) > 0 else "ru"
            word = ("hello" if spoken == "en" else "привет") if spoken == language else "translated"
            probability = 0.9 if spoken == language else 0.3
            decoded.append(_Decoded(start=start, end=start + 2, text=f" {word}", avg_logprob=-0.2, no_speech_prob=0.01,
                                    compression_ratio=1.0, words=((start, start + 2, f" {word}", probability),)))
        return decoded


def _scripted_call(tmp_path, *languages):
    """A mono call of 2 s stretches in the given languages, one speech region."""
    samples = np.concatenate([np.full(2 * SAMPLE_RATE, 0.1 if code == "en" else -0.1, dtype=np.float32) for code in languages])
    return CallAudio(source=tmp_path / "call.wav", duration=len(samples) / SAMPLE_RATE, channels=1,
                     source_sample_rate=SAMPLE_RATE, tracks=(AudioTrack("unknown", samples),))


def _scripted(**options):
    return _ScriptedWhisper(TranscribeOptions(vad=False, diarize=False, **options))


def test_a_call_heard_well_in_one_language_costs_no_language_checks(tmp_path):
    engine = _scripted()
    transcript = engine.transcribe(_scripted_call(tmp_path, "ru", "ru", "ru"))
    assert transcript.language == "ru" and [s.text for s in transcript.segments] == ["привет"] * 3
    assert all(s.language is None for s in transcript.segments)
    assert (engine.detections, engine.decodes) == (1, 1)


def test_stretches_in_another_language_are_decoded_again_in_it(tmp_path):
    engine = _scripted()
    transcript = engine.transcribe(_scripted_call(tmp_path, "ru", "ru", "ru", "en"))
    assert transcript.language == "ru"
    assert [(s.text, s.language) for s in transcript.segments] == [("привет", None)] * 3 + [("hello", "en")]
    # And the other way round.
    transcript = _scripted().transcribe(_scripted_call(tmp_path, "en", "en", "en", "ru"))
    assert transcript.language == "en"
    assert [(s.text, s.language) for s in transcript.segments] == [("hello", None)] * 3 + [("привет", "ru")]


def test_one_configured_language_is_never_checked(tmp_path):
    engine = _scripted(languages=("ru",))
    transcript = engine.transcribe(_scripted_call(tmp_path, "ru", "en"))
    assert [(s.text, s.language) for s in transcript.segments] == [("привет", None), ("translated", None)]
    assert (engine.detections, engine.decodes) == (0, 1)


@pytest.mark.whisper
@pytest.mark.parametrize("name", ["ru_good_vacuum", "en_good_laptop"])
def test_a_call_heard_in_pieces_reads_like_the_whole_call(default_transcriber, model_cache_dir, sample_call, name):
    """Long calls are transcribed a few minutes at a time; with 20 s pieces a sample call
    gives the same words at the same times of the call as in one piece."""
    recording = open_call(sample_call(name))
    whole = default_transcriber.transcribe(recording)
    pieced = make_transcriber(replace(default_transcriber.options, piece_s=20)).transcribe(recording)
    assert len(list(recording.pieces(20))) >= 3
    assert pieced.language == whole.language and pieced.duration == whole.duration
    for speaker in ("agent", "client"):
        # Windows hold other stretches of speech than in one piece: a word may be heard differently.
        heard = [_text(t.model_copy(update={"segments": [s for s in t.segments if s.speaker == speaker]})).split() for t in (whole, pieced)]
        assert SequenceMatcher(None, *heard, autojunk=False).ratio() >= 0.85, speaker
    starts = [s.start for s in pieced.segments]
    assert starts == sorted(starts) and pieced.segments[-1].end <= recording.duration
    assert all(s.start - 0.01 <= w.start <= w.end <= s.end + 0.01 for s in pieced.segments for w in s.words)
    assert max(s.end for s in pieced.segments) == pytest.approx(max(s.end for s in whole.segments), abs=1.0)
