"""A corpus of bad and odd input through the real nightly flow with real Whisper: every file
gets its expected result, the batch completes, and a fixed file is picked up later."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from flows import process_inbox
from pipeline.audio import AudioSegment
from tests.conftest import SAMPLES

pytestmark = [pytest.mark.prefect, pytest.mark.whisper]


def _pcm(samples: np.ndarray, rate: int) -> AudioSegment:
    return AudioSegment((samples * 32767).astype(np.int16).tobytes(), frame_rate=rate, sample_width=2, channels=1)


def _bad_input_corpus(inbox: Path) -> dict[str, tuple[str, str]]:
    """Writes the corpus; returns file name -> (expected status, words expected in the reason)."""
    inbox.mkdir(parents=True)
    sample = AudioSegment.from_file(SAMPLES / "en_poor_laptop.wav")
    (inbox / "zero_bytes.wav").write_bytes(b"")
    (inbox / "text_named.mp3").write_text("Order #1234: call the client back tomorrow.\n", encoding="utf-8")
    sample.export(inbox / "full.mp3", format="mp3")
    whole = (inbox / "full.mp3").read_bytes()
    (inbox / "full.mp3").unlink()
    (inbox / "cut_in_half.mp3").write_bytes(whole[: len(whole) // 2])
    header_broken = bytearray((SAMPLES / "ru_poor_vacuum.wav").read_bytes())
    header_broken[:64] = b"\x00\xff" * 32
    (inbox / "corrupt_header.wav").write_bytes(bytes(header_broken))
    _pcm(np.zeros(3 * 8000), 8000).export(inbox / "digital_silence.wav", format="wav")
    rng = np.random.default_rng(7)
    _pcm(rng.normal(0, 0.1, 30 * 8000).clip(-1, 1), 8000).export(inbox / "white_noise.wav", format="wav")
    _pcm(0.3 * np.sin(2 * np.pi * 440 * np.arange(8000) / 8000), 8000).export(inbox / "one_second.wav", format="wav")
    shutil.copy(SAMPLES / "ru_poor_vacuum.wav", inbox / "звонок клиенту 25.11.wav")
    sample.set_frame_rate(48000).set_sample_width(4).export(
        inbox / "float_48k.wav", format="wav", parameters=["-acodec", "pcm_f32le"]
    )
    (inbox / "contract.docx").write_bytes(b"PK\x03\x04 not a recording")
    return {
        "zero_bytes.wav": ("quarantined", "empty"),
        "text_named.mp3": ("quarantined", "not decodable"),
        # Half an mp3 is half a call: what decodes is judged, like a call that was cut off.
        "cut_in_half.mp3": ("processed", ""),
        "corrupt_header.wav": ("quarantined", "not decodable"),
        "digital_silence.wav": ("quarantined", "digital silence"),
        "white_noise.wav": ("quarantined", "no speech"),
        "one_second.wav": ("quarantined", "too short"),
        "звонок клиенту 25.11.wav": ("processed", ""),
        "float_48k.wav": ("processed", ""),
        "contract.docx": ("quarantined", "unsupported file type"),
    }


def test_bad_input_corpus_gets_its_expected_results_and_the_batch_completes(settings_env, tmp_path):
    expected = _bad_input_corpus(tmp_path / "inbox")
    summary = process_inbox([str(tmp_path / "inbox")])
    got = {o.file: o for o in summary.outcomes}
    assert set(got) == set(expected)
    for name, (status, reason) in expected.items():
        assert got[name].status == status, (name, got[name])
        assert reason in (got[name].reason or ""), (name, got[name].reason)
    assert summary.ok and summary.count("failed") == 0
    assert got["звонок клиенту 25.11.wav"].language == "ru" and got["float_48k.wav"].language == "en"
    quarantine = settings_env.quarantine_dir
    assert len(list(quarantine.glob("*.reason.txt"))) == sum(status == "quarantined" for status, _ in expected.values())

    # A fixed file under the same name is new bytes: the next run picks it up.
    shutil.copy(SAMPLES / "en_poor_laptop.wav", tmp_path / "inbox" / "text_named.mp3")
    rerun = {o.file: o for o in process_inbox([str(tmp_path / "inbox")]).outcomes}
    assert rerun["text_named.mp3"].status == "processed"
    assert rerun["zero_bytes.wav"].status == "skipped" and "quarantined earlier" in rerun["zero_bytes.wav"].reason
    assert rerun["float_48k.wav"].status == "skipped"
