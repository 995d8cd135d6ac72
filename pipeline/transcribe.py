"""Transcribe stage: each speaker's track through openai-whisper, merged in time order."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from pipeline.errors import CallQAError
from pipeline.types import SAMPLE_RATE, AudioTrack, CallAudio, Segment, Transcript, Word

log = logging.getLogger(__name__)

_WINDOW = 30 * SAMPLE_RATE  # Whisper hears 30 s at a time
# Below this level (dBFS) a stretch of a track is treated as silence: text Whisper
# produces there is invented, a known failure on the silent half of a stereo channel.
_SILENCE_DBFS = -50.0


class Transcriber(Protocol):
    """Anything that turns decoded call audio into a transcript (Whisper, or a fake in tests)."""

    def transcribe(self, audio: CallAudio) -> Transcript: ...


@dataclass(frozen=True)
class TranscribeOptions:
    # A Whisper model name (base, small, tiny.en) or a path to an openai-whisper .pt file.
    model: str = "base"
    # Where converted checkpoints are cached.
    model_cache_dir: Path = Path("models")
    # Languages a call may be in; detection chooses among these only.
    languages: tuple[str, ...] = ("ru", "en")
    # 1 decodes greedily; more is a beam search, slower and slightly more accurate.
    beam_size: int = 1
    # cpu, cuda, or auto.
    device: str = "auto"


def _dbfs(samples: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if samples.size else 0.0
    return 20 * math.log10(rms) if rms > 0 else -math.inf


def _loudest_window(samples: np.ndarray) -> np.ndarray:
    """The 30 s of a track with the most energy, where language detection hears the most speech."""
    if len(samples) <= _WINDOW:
        return samples
    energy = np.convolve(np.square(samples[::160]), np.ones(_WINDOW // 160), mode="valid")
    start = int(np.argmax(energy)) * 160
    return samples[start : start + _WINDOW]


class WhisperTranscriber:
    """openai-whisper with weights from registry packages; the model is loaded once."""

    engine = "openai-whisper"

    def __init__(self, options: TranscribeOptions):
        self.options = options
        self._model = None

    @property
    def device(self) -> str:
        if self.options.device != "auto":
            return self.options.device
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"

    @property
    def model(self):
        if self._model is None:
            from pipeline.weights import load_whisper

            self._model = load_whisper(self.options.model, self.options.model_cache_dir, self.device)
        return self._model

    def detect_language(self, tracks: tuple[AudioTrack, ...]) -> tuple[str, float]:
        """The most probable configured language over all tracks, weighted by their loudness."""
        import whisper

        model = self.model
        allowed = [code for code in self.options.languages if code in whisper.tokenizer.LANGUAGES]
        if not allowed:
            raise CallQAError(f"none of the configured languages {self.options.languages} is known to Whisper")
        if len(allowed) == 1 or not model.is_multilingual:
            return (allowed[0] if model.is_multilingual else "en"), 1.0
        totals = dict.fromkeys(allowed, 0.0)
        for track in tracks:
            window = _loudest_window(track.samples)
            if _dbfs(window) < _SILENCE_DBFS:
                continue
            mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(window), model.dims.n_mels).to(model.device)
            _, probs = model.detect_language(mel)
            weight = float(np.mean(np.abs(window)))
            for code in allowed:
                totals[code] += weight * probs.get(code, 0.0)
        norm = sum(totals.values()) or 1.0
        language = max(totals, key=totals.get)
        return language, totals[language] / norm

    def _track_segments(self, track: AudioTrack, language: str) -> list[Segment]:
        result = self.model.transcribe(
            track.samples,
            language=language,
            task="transcribe",
            fp16=self.device == "cuda",
            beam_size=self.options.beam_size if self.options.beam_size > 1 else None,
            condition_on_previous_text=False,  # stops one misheard phrase from repeating
            word_timestamps=True,
            hallucination_silence_threshold=2.0,
            verbose=None,
        )
        segments = []
        for raw in result["segments"]:
            text = raw["text"].strip()
            start, end = float(raw["start"]), float(raw["end"])
            span = track.samples[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
            if not text or _dbfs(span) < _SILENCE_DBFS:
                continue
            words = tuple(
                Word(start=float(w["start"]), end=float(w["end"]), text=w["word"].strip(), probability=float(w["probability"]))
                for w in raw.get("words", ())
            )
            confidence = float(np.mean([w.probability for w in words])) if words else math.exp(raw["avg_logprob"])
            segments.append(
                Segment(
                    speaker=track.speaker,
                    start=round(start, 2),
                    end=round(end, 2),
                    text=text,
                    confidence=round(min(max(confidence, 0.0), 1.0), 4),
                    avg_logprob=round(float(raw["avg_logprob"]), 4),
                    no_speech_prob=round(float(raw["no_speech_prob"]), 4),
                    words=words,
                )
            )
        return segments

    def transcribe(self, audio: CallAudio) -> Transcript:
        language, probability = self.detect_language(audio.tracks)
        log.info("%s: language %s (p=%.2f)", audio.source.name, language, probability)
        segments = [segment for track in audio.tracks for segment in self._track_segments(track, language)]
        segments.sort(key=lambda s: (s.start, s.speaker))
        return Transcript(
            language=language,
            duration=round(audio.duration, 2),
            engine=self.engine,
            model=self.options.model,
            segments=tuple(segments),
        )
