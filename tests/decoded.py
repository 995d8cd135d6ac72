"""Short recordings decoded whole, for tests that look at the samples."""

from pathlib import Path

from pipeline.audio import AudioOptions, open_call
from pipeline.types import CallAudio


def decode_whole(path: Path, options: AudioOptions = AudioOptions()) -> CallAudio:
    """The recording as one piece (the pipeline reads calls a few minutes at a time)."""
    recording = open_call(path, options)
    return next(recording.pieces(seconds=recording.duration + 1))
