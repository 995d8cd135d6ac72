"""A transcriber that reads the sample calls' turn texts instead of running Whisper.

It implements the real Transcriber interface, so the code around Whisper can be tested
fast; the real model has its own tests (test_transcribe.py, test_flow.py).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from pipeline.errors import CallQAError
from pipeline.types import CallAudio, Segment, Transcript

TURNS_DIR = Path(__file__).resolve().parent.parent / "samples" / "turns"


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
    engine = "fake"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def transcribe(self, audio: CallAudio) -> Transcript:
        self.calls.append(audio.source.name)
        turns_file = TURNS_DIR / f"{audio.source.stem}.yaml"
        if not turns_file.exists():
            raise CallQAError(f"the fake transcriber knows no turns for {audio.source.name}")
        return transcript_from_turns(turns_file).model_copy(update={"duration": round(audio.duration, 2)})
