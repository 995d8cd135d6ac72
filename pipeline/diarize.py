"""Separate the two voices of a mono call with speaker embeddings.

A mono recording mixes the sales manager and the client on one track. Resemblyzer's voice
encoder (its weights, pretrained.pt, ship inside the wheel) turns every 1.6 s of speech
into a voice embedding; k-means splits the embeddings into two voices; each word Whisper
heard is given the voice speaking at its time. Which voice is the manager is decided
afterwards from what each says (pipeline.roles), as for a stereo call.

The encoder runs in numpy on weights converted once from pretrained.pt: resemblyzer's own
code would load torch and librosa's numba-compiled features into a worker that otherwise
needs neither, about 300 MB more (measured here), for a 3-layer LSTM. Its mel spectrogram
and forward pass are resemblyzer's, checked against it in tests/test_diarize.py.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from pipeline.errors import CallQAError
from pipeline.types import SAMPLE_RATE, Segment, Word

log = logging.getLogger(__name__)

# resemblyzer's hyperparameters (resemblyzer/hparams.py).
_N_FFT = 400  # 25 ms
_HOP = 160  # 10 ms
_N_MELS = 40
_PARTIAL_FRAMES = 160  # the encoder hears 1.6 s at a time
_HIDDEN = 256
_LAYERS = 3
# Provisional speaker names of the two voices: voice 0 is the one heard first.
VOICE_SPEAKERS = ("agent", "client")


@dataclass(frozen=True)
class DiarizeOptions:
    # Hop between two embeddings; each covers 1.6 s, so neighbours overlap.
    step_s: float = 0.4
    # Smooth the voices inside each speech region with a median of this many neighbouring
    # embeddings (odd): a voice rarely speaks for less than a second without a pause. Never
    # across a pause, where a short answer ("Yes, that works.") is often a voice's only window.
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


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa's default): linear below 1 kHz, logarithmic above."""
    return np.where(hz >= 1000.0, 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0), hz * 3 / 200)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    return np.where(mel >= 15.0, 1000.0 * np.exp(np.log(6.4) / 27.0 * (mel - 15.0)), mel * 200 / 3)


@lru_cache(maxsize=1)
def _mel_filters() -> np.ndarray:
    """librosa.filters.mel(sr=16000, n_fft=400, n_mels=40): triangles, Slaney-normalised."""
    fft_hz = np.fft.rfftfreq(_N_FFT, 1 / SAMPLE_RATE)
    mel_hz = _mel_to_hz(np.linspace(_hz_to_mel(np.array(0.0)), _hz_to_mel(np.array(SAMPLE_RATE / 2)), _N_MELS + 2))
    ramps = np.subtract.outer(mel_hz, fft_hz)
    widths = np.diff(mel_hz)
    triangles = np.maximum(0, np.minimum(-ramps[:-2] / widths[:-1, None], ramps[2:] / widths[1:, None]))
    return (triangles * (2.0 / (mel_hz[2:] - mel_hz[:-2]))[:, None]).astype(np.float32)


def mel_spectrogram(samples: np.ndarray) -> np.ndarray:
    """resemblyzer's wav_to_mel_spectrogram (librosa's power mel spectrogram, centred
    frames, zero padding): (frames, 40)."""
    padded = np.pad(samples.astype(np.float32, copy=False), _N_FFT // 2)
    count = 1 + (len(padded) - _N_FFT) // _HOP
    frames = np.lib.stride_tricks.as_strided(padded, (count, _N_FFT), (padded.strides[0] * _HOP, padded.strides[0]))
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(_N_FFT) / _N_FFT)).astype(np.float32)  # periodic Hann
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    return (power @ _mel_filters().T).astype(np.float32)


def _weights_file(model_cache_dir: Path) -> Path:
    """resemblyzer's weights as a numpy archive, converted from pretrained.pt on first use.
    Reading a .pt file needs torch; a child process does it, so that a worker never holds
    torch's few hundred MB for the rest of its life."""
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise CallQAError("separating the voices of a mono call needs resemblyzer: pip install resemblyzer")
    target = model_cache_dir / f"resemblyzer-{importlib.metadata.version('resemblyzer')}.npz"
    if not target.exists():
        source = Path(spec.submodule_search_locations[0]) / "pretrained.pt"
        subprocess.run([sys.executable, "-m", "pipeline.diarize", str(source), str(target)], check=True)
        log.info("converted resemblyzer's voice encoder to %s (once)", target)
    return target


def _convert(source: Path, target: Path) -> None:
    import torch

    checkpoint = torch.load(source, map_location="cpu")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".tmp.npz")
    np.savez(partial, **{name: tensor.numpy() for name, tensor in checkpoint["model_state"].items()})
    partial.replace(target)  # never a half-written file under the final name


@lru_cache(maxsize=2)
def _encoder_weights(model_cache_dir: Path) -> dict[str, np.ndarray]:
    with np.load(_weights_file(model_cache_dir)) as archive:
        return {name: archive[name] for name in archive.files}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * x))


def encode(mels: np.ndarray, weights: dict[str, np.ndarray]) -> np.ndarray:
    """resemblyzer's VoiceEncoder.forward: a 3-layer LSTM over (batch, 160, 40) mel frames,
    its last hidden state through a linear layer and a ReLU, L2-normalised."""
    x = np.ascontiguousarray(mels.transpose(1, 0, 2))  # time-major: each step reads contiguous rows
    for layer in range(_LAYERS):
        # PyTorch's gate order: input, forget, cell, output.
        inputs = x @ weights[f"lstm.weight_ih_l{layer}"].T + (weights[f"lstm.bias_ih_l{layer}"] + weights[f"lstm.bias_hh_l{layer}"])
        recurrent = np.ascontiguousarray(weights[f"lstm.weight_hh_l{layer}"].T)
        h = np.zeros((x.shape[1], _HIDDEN), dtype=np.float32)
        c = np.zeros_like(h)
        out = np.empty((x.shape[0], x.shape[1], _HIDDEN), dtype=np.float32)
        for t in range(x.shape[0]):
            gates = inputs[t] + h @ recurrent
            i, f, g, o = np.split(gates, 4, axis=1)
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
            h = out[t] = _sigmoid(o) * np.tanh(c)
        x = out
    embeddings = np.maximum(h @ weights["linear.weight"].T + weights["linear.bias"], 0)
    return embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)


def embed(samples: np.ndarray, regions: list[tuple[float, float]], model_cache_dir: Path, options: DiarizeOptions = DiarizeOptions()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Voice embeddings of every 1.6 s window of speech, ``step_s`` apart, region by region
    (a window never spans the silence between two regions): (centre times, region index of
    each window, embeddings)."""
    step = max(1, round(options.step_s * SAMPLE_RATE / _HOP))
    window = _PARTIAL_FRAMES * _HOP
    times, owners, partials = [], [], []
    for region, (start, end) in enumerate(regions):
        piece = samples[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
        if len(piece) < window:  # a short burst: one zero-padded window
            piece = np.pad(piece, (0, window - len(piece)))
        mel = mel_spectrogram(piece)
        last = max(0, len(mel) - _PARTIAL_FRAMES)
        for first in [*range(0, last - step // 2, step), last]:  # the last window ends with the region
            partials.append(mel[first : first + _PARTIAL_FRAMES])
            times.append(min(start + (first + _PARTIAL_FRAMES / 2) * _HOP / SAMPLE_RATE, end))
            owners.append(region)
    if not partials:
        return np.zeros(0), np.zeros(0, dtype=int), np.zeros((0, _HIDDEN), dtype=np.float32)
    from threadpoolctl import threadpool_limits

    weights = _encoder_weights(model_cache_dir)
    # The LSTM's 160 small matrix products per layer gain nothing from a second BLAS thread
    # and lose a lot to its synchronisation on a busy machine (measured: 0.5 s against 8 s).
    with threadpool_limits(1, user_api="blas"):
        batches = [encode(np.stack(partials[i : i + options.batch_size]), weights) for i in range(0, len(partials), options.batch_size)]
    return np.array(times), np.array(owners), np.concatenate(batches)


def cluster(embeddings: np.ndarray, regions: np.ndarray, options: DiarizeOptions = DiarizeOptions()) -> np.ndarray:
    """Two voices, 0 for the one heard first, smoothed inside each speech region."""
    from sklearn.cluster import KMeans

    if len(embeddings) < 2:
        return np.zeros(len(embeddings), dtype=int)
    labels = KMeans(n_clusters=2, n_init=10, random_state=0).fit_predict(embeddings)
    half = options.smooth // 2
    smoothed = labels.copy()
    for i in range(len(labels)):
        same = labels[max(0, i - half) : i + half + 1][regions[max(0, i - half) : i + half + 1] == regions[i]]
        smoothed[i] = int(np.median(same)) if len(same) == options.smooth else labels[i]
    return smoothed if smoothed[0] == 0 else 1 - smoothed


class VoiceCollector:
    """A mono call's voice embeddings gathered piece by piece, clustered once over the whole
    call: an embedding is 1 KB per 0.4 s of speech, so an hour's fit in 9 MB."""

    def __init__(self, model_cache_dir: Path, options: DiarizeOptions = DiarizeOptions()) -> None:
        self.model_cache_dir = model_cache_dir
        self.options = options
        self._times: list[np.ndarray] = []
        self._regions: list[np.ndarray] = []
        self._embeddings: list[np.ndarray] = []
        self._region_count = 0

    def add(self, samples: np.ndarray, regions: list[tuple[float, float]], offset: float = 0.0) -> None:
        """The speech regions of a 16 kHz mono track (a piece starting ``offset`` s into the call)."""
        times, owners, embeddings = embed(samples, regions, self.model_cache_dir, self.options)
        self._times.append(times + offset)
        self._regions.append(owners + self._region_count)
        self._embeddings.append(embeddings)
        self._region_count += len(regions)

    def voice_map(self) -> VoiceMap:
        """Who of two voices speaks when, in the time of the call."""
        if not self._times:
            return VoiceMap(times=np.zeros(0), voices=np.zeros(0, dtype=int))
        times = np.concatenate(self._times)
        voices = cluster(np.concatenate(self._embeddings), np.concatenate(self._regions), self.options)
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


if __name__ == "__main__":
    _convert(Path(sys.argv[1]), Path(sys.argv[2]))
