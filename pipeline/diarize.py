"""Separate the two voices of a mono call with speaker embeddings.

A mono recording mixes the sales manager and the client on one track. Resemblyzer's voice
encoder (its weights ship inside the wheel) turns every 1.6 s of speech into a voice
embedding; k-means splits the embeddings into two voices; each word Whisper heard is
given the voice speaking at its time. Which voice is the manager is decided afterwards
from what each says (pipeline.roles), as for a stereo call.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from pipeline.types import SAMPLE_RATE, Segment, Word

log = logging.getLogger(__name__)

_FRAME_S = 0.01  # resemblyzer's mel hop
_PARTIAL_FRAMES = 160  # the encoder hears 1.6 s at a time
# Provisional speaker names of the two voices: voice 0 is the one heard first.
VOICE_SPEAKERS = ("agent", "client")


@dataclass(frozen=True)
class DiarizeOptions:
    # Hop between two embeddings; each covers 1.6 s, so neighbours overlap.
    step_s: float = 0.4
    # Embeddings in the median filter that smooths the voice sequence (odd): a voice
    # rarely speaks for less than a second.
    smooth: int = 3
    # Embeddings the encoder computes at once (bounds memory on long calls).
    batch_size: int = 64


@dataclass(frozen=True)
class VoiceMap:
    """Which of two voices speaks at each moment of a mono track."""

    # Centre of each embedding window, in seconds of the track, ascending.
    times: np.ndarray
    # The voice (0 or 1) heard in each window; voice 0 speaks first.
    voices: np.ndarray

    def voice_at(self, time: float) -> int:
        """The voice of the embedding window whose centre is nearest to ``time``."""
        if len(self.times) == 0:
            return 0
        i = int(np.searchsorted(self.times, time))
        if i == len(self.times) or (i > 0 and time - self.times[i - 1] < self.times[i] - time):
            i -= 1
        return int(self.voices[i])


@lru_cache(maxsize=1)
def _encoder():
    """Resemblyzer's voice encoder on the CPU (an LSTM of 1.4 M weights), loaded once."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # resemblyzer imports a deprecated scipy path
        from resemblyzer import VoiceEncoder

    return VoiceEncoder("cpu", verbose=False)


def _mels(samples: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from resemblyzer import wav_to_mel_spectrogram

    return wav_to_mel_spectrogram(samples)


def embed(samples: np.ndarray, regions: list[tuple[float, float]], options: DiarizeOptions = DiarizeOptions()) -> tuple[np.ndarray, np.ndarray]:
    """Voice embeddings of every 1.6 s window of speech, ``step_s`` apart, region by region
    (a window never spans the silence between two regions): (centre times, embeddings)."""
    import torch

    step = max(1, round(options.step_s / _FRAME_S))
    times, partials = [], []
    for start, end in regions:
        piece = samples[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
        if len(piece) < _PARTIAL_FRAMES * _FRAME_S * SAMPLE_RATE:  # a short burst: one zero-padded window
            piece = np.pad(piece, (0, int(_PARTIAL_FRAMES * _FRAME_S * SAMPLE_RATE) - len(piece)))
        mel = _mels(piece)
        last = max(0, len(mel) - _PARTIAL_FRAMES)
        for first in [*range(0, last - step // 2, step), last]:  # the last window ends with the region
            partials.append(mel[first : first + _PARTIAL_FRAMES])
            times.append(min(start + (first + _PARTIAL_FRAMES / 2) * _FRAME_S, end))
    if not partials:
        return np.zeros(0), np.zeros((0, 256), dtype=np.float32)
    encoder, out = _encoder(), []
    with torch.no_grad():
        for i in range(0, len(partials), options.batch_size):
            out.append(encoder(torch.from_numpy(np.stack(partials[i : i + options.batch_size]))).numpy())
    return np.array(times), np.concatenate(out)


def cluster(embeddings: np.ndarray, options: DiarizeOptions = DiarizeOptions()) -> np.ndarray:
    """Two voices, 0 for the one heard first, smoothed over neighbouring windows."""
    from scipy.signal import medfilt
    from sklearn.cluster import KMeans

    if len(embeddings) < 2:
        return np.zeros(len(embeddings), dtype=int)
    labels = KMeans(n_clusters=2, n_init=10, random_state=0).fit_predict(embeddings)
    if len(labels) >= options.smooth:
        labels = medfilt(labels.astype(float), options.smooth).astype(int)
    return labels if labels[0] == 0 else 1 - labels


def separate_voices(samples: np.ndarray, regions: list[tuple[float, float]], options: DiarizeOptions = DiarizeOptions()) -> VoiceMap:
    """Who of two voices speaks when, in the speech regions of a 16 kHz mono track."""
    times, embeddings = embed(samples, regions, options)
    voices = cluster(embeddings, options)
    log.info("voices: %d windows, %.0f%% voice 0", len(voices), 100 * float(np.mean(voices == 0)) if len(voices) else 0.0)
    return VoiceMap(times=times, voices=voices)


def split_by_voice(segments: list[Segment], voice_map: VoiceMap) -> list[Segment]:
    """Each segment cut where the voice changes between its words, each piece given its
    voice's provisional speaker (voice 0 "agent", voice 1 "client")."""
    out = []
    for segment in segments:
        if not segment.words:
            voice = voice_map.voice_at((segment.start + segment.end) / 2)
            out.append(segment.model_copy(update={"speaker": VOICE_SPEAKERS[voice]}))
            continue
        runs: list[tuple[int, list[Word]]] = []
        for word in segment.words:
            voice = voice_map.voice_at((word.start + word.end) / 2)
            if runs and runs[-1][0] == voice:
                runs[-1][1].append(word)
            else:
                runs.append((voice, [word]))
        for voice, words in runs:
            probabilities = [w.probability for w in words if w.probability is not None]
            out.append(
                segment.model_copy(
                    update={
                        "speaker": VOICE_SPEAKERS[voice],
                        "start": words[0].start,
                        "end": max(words[-1].end, words[0].start),
                        "text": " ".join(w.text for w in words),
                        "words": tuple(words),
                        "confidence": round(float(np.mean(probabilities)), 4) if probabilities else segment.confidence,
                    }
                )
            )
    return out
