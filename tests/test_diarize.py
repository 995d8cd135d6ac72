"""Separating the two voices of a mono call: resemblyzer's real encoder on the sample calls
mixed down to one channel, whose stereo originals say who spoke when."""

import numpy as np
import pytest
import yaml

from pipeline.audio import AudioSegment, open_call
from pipeline.diarize import VoiceCollector, VoiceMap, _encoder_weights, encode, mel_spectrogram, split_by_voice
from pipeline.types import SAMPLE_RATE, Segment, Word
from pipeline.vad import speech_regions
from tests.conftest import DATA
from tests.decoded import decode_whole


def separate_voices(samples: np.ndarray, regions: list[tuple[float, float]], model_cache_dir) -> VoiceMap:
    voices = VoiceCollector(model_cache_dir)
    voices.add(samples, regions)
    return voices.voice_map()

def _inside(t: float, regions: list[tuple[float, float]]) -> bool:
    return any(start <= t <= end for start, end in regions)


def _reference_signal() -> np.ndarray:
    t = np.arange(3 * SAMPLE_RATE) / SAMPLE_RATE
    noise = 0.1 * np.random.default_rng(7).standard_normal(len(t))
    return (noise + 0.3 * np.sin(2 * np.pi * 220 * t) * np.sin(2 * np.pi * 3 * t)).astype(np.float32)


def test_the_encoder_gives_resemblyzers_numbers(model_cache_dir):
    """The numpy mel spectrogram and LSTM against resemblyzer's own, recorded once with
    resemblyzer 0.1.4 and librosa 0.11.0 (which the project does not install):
    mel = resemblyzer.wav_to_mel_spectrogram(_reference_signal());
    embeddings = VoiceEncoder("cpu")(torch.from_numpy(np.stack([mel[0:160], mel[100:260]])))."""
    reference = np.load(DATA / "resemblyzer_reference.npz")
    mel = mel_spectrogram(_reference_signal())
    np.testing.assert_allclose(mel, reference["mel"], rtol=1e-4, atol=1e-6)
    windows = np.stack([mel[0:160], mel[100:260]])
    np.testing.assert_allclose(encode(windows, _encoder_weights(model_cache_dir)), reference["embeddings"], atol=1e-5)


@pytest.mark.parametrize("name", ["ru_good_vacuum", "en_good_laptop"])  # the benchmark runs all four
def test_voices_of_a_mono_mixdown_follow_the_speakers(sample_call, model_cache_dir, name):
    agent, client = decode_whole(sample_call(name)).tracks
    mono = (agent.samples + client.samples) / 2
    voices = separate_voices(mono, speech_regions(mono), model_cache_dir)

    # Where exactly one channel speaks, the voice must be its speaker's; the manager
    # speaks first in every sample call, so the manager is voice 0.
    truth = speech_regions(agent.samples), speech_regions(client.samples)
    judged = [
        (voice == 0) == _inside(t, truth[0])
        for t, voice in zip(voices.times, voices.voices)
        if _inside(t, truth[0]) != _inside(t, truth[1])
    ]
    assert len(judged) > 40
    assert np.mean(judged) >= 0.95


def test_voices_gathered_piece_by_piece_are_one_map_of_the_whole_call(sample_call, model_cache_dir):
    """A long call's pieces add their embeddings at their offset; one clustering at the end
    names the voices alike in every piece."""
    agent, client = decode_whole(sample_call("en_good_laptop")).tracks
    mono = (agent.samples + client.samples) / 2
    whole = separate_voices(mono, speech_regions(mono), model_cache_dir)
    cut = 30 * SAMPLE_RATE
    pieces = VoiceCollector(model_cache_dir)
    for offset, piece in ((0, mono[:cut]), (cut, mono[cut:])):
        pieces.add(piece, speech_regions(piece), offset / SAMPLE_RATE)
    joined = pieces.voice_map()
    assert np.all(np.diff(joined.times) >= 0) and joined.times[-1] > 30
    agree = [joined.voice_at(t) == v for t, v in zip(whole.times, whole.voices)]
    assert np.mean(agree) >= 0.95


def test_overlapping_speech_and_short_bursts_are_separated(sample_call, model_cache_dir):
    agent, client = decode_whole(sample_call("en_poor_laptop")).tracks
    # The client talks over the manager: the client's track starts 2 s early.
    overlapped = (agent.samples + np.roll(client.samples, -2 * SAMPLE_RATE)) / 2
    voices = separate_voices(overlapped, speech_regions(overlapped), model_cache_dir)
    assert set(voices.voices.tolist()) == {0, 1}
    assert np.all(np.diff(voices.times) >= 0)

    burst = agent.samples[: SAMPLE_RATE // 2]  # shorter than one 1.6 s embedding window
    assert separate_voices(burst, [(0.0, 0.5)], model_cache_dir).voices.tolist() == [0]
    assert len(separate_voices(burst, [], model_cache_dir).voices) == 0


def test_segments_are_cut_where_the_voice_changes():
    voice_map = VoiceMap(times=np.array([0.5, 1.0, 1.5, 2.0, 2.5]), voices=np.array([0, 0, 1, 1, 0]))
    words = (Word(start=0.2, end=0.6, text="Hello,", probability=0.9),
             Word(start=0.7, end=1.1, text="Joe.", probability=0.7),
             Word(start=1.4, end=1.7, text="Hi", probability=0.5),
             Word(start=1.8, end=2.1, text="there.", probability=0.3))
    segment = Segment(speaker="unknown", start=0.2, end=2.1, text="Hello, Joe. Hi there.", confidence=0.6, words=words, language="en")
    silent = Segment(speaker="unknown", start=2.3, end=2.7, text="Mm.")

    pieces = split_by_voice([segment, silent], voice_map)

    assert [(p.speaker, p.text, p.start, p.end) for p in pieces] == [
        ("agent", "Hello, Joe.", 0.2, 1.1), ("client", "Hi there.", 1.4, 2.1), ("agent", "Mm.", 2.3, 2.7)]
    assert pieces[0].confidence == pytest.approx(0.8) and pieces[1].confidence == pytest.approx(0.4)
    assert pieces[0].language == "en"


def _mixdown(path, folder):
    mono = folder / path.name
    AudioSegment.from_file(path).set_channels(1).export(mono, format="wav")
    return mono


@pytest.mark.whisper
@pytest.mark.parametrize("name", ["ru_poor_vacuum", "en_poor_laptop"])
def test_mono_call_words_go_to_the_right_role(default_transcriber, sample_call, tmp_path, name):
    """The real pipeline on a mono mixdown: Whisper, voices separated, manager found by what
    each voice says (the benchmark measures all four calls)."""
    from bench.transcription import attribution

    audio = open_call(_mixdown(sample_call(name), tmp_path))
    assert audio.channels == 1
    transcript = default_transcriber.transcribe(audio)

    turns = yaml.safe_load((sample_call(name).parent / "turns" / f"{name}.yaml").read_text(encoding="utf-8"))["turns"]
    right, matched = attribution(turns, [(s.speaker, s.text) for s in transcript.segments])
    assert matched > 40
    assert right / matched >= 0.85
