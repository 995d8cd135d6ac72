"""A transcriber that reads the sample calls' turn texts instead of running Whisper.

It implements the real Transcriber interface, so the code around Whisper can be tested
fast; the real model has its own tests (test_transcribe.py, test_flow.py).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from pipeline.errors import CallQAError
from pipeline.files import file_sha256
from pipeline.types import CallAudio, Segment, Transcript

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
TURNS_DIR = SAMPLES / "turns"


def transcript_from_turns(turns_file: Path, seconds_per_word: float = 0.4) -> Transcript:
    spec = yaml.safe_load(turns_file.read_text(encoding="utf-8"))
    segments, clock = [], 0.0
    for turn in spec["turns"]:
        (speaker, text), = turn.items()
        end = clock + seconds_per_word * len(text.split())
        segments.append(Segment(speaker=speaker, start=round(clock, 2), end=round(end, 2), text=text, confidence=0.95))
        clock = end + 0.5
    return Transcript(language=spec["language"], duration=round(clock, 2), engine="fake", model="turns", segments=tuple(segments))


class FakeTranscriber:
    """Knows a sample call by its bytes (the pipeline reads the archived copy, named by
    hash); any other audio gets the `default` sample's turns, or an error without one."""

    engine = "fake"

    def __init__(self, default: str | None = None) -> None:
        self.calls: list[str] = []
        self.default = default
        self._turns_by_hash = {file_sha256(wav): TURNS_DIR / f"{wav.stem}.yaml" for wav in SAMPLES.glob("*.wav")}

    def transcribe(self, audio: CallAudio) -> Transcript:
        self.calls.append(audio.source.name)
        turns_file = self._turns_by_hash.get(file_sha256(audio.source))
        if turns_file is None and self.default:
            turns_file = TURNS_DIR / f"{self.default}.yaml"
        if turns_file is None:
            raise CallQAError(f"the fake transcriber knows no turns for {audio.source.name}")
        return transcript_from_turns(turns_file).model_copy(update={"duration": round(audio.duration, 2)})
