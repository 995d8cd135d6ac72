"""Transcribe stage: each speaker's track through Whisper, merged in time order.

Two engines run the same Whisper weights from the registry packages: openai-whisper (the
reference implementation) and faster-whisper (CTranslate2, int8 on a CPU). Both hear only
the speech that voice activity detection found, packed into full 30 s windows, and both
drop text that Whisper's own signals mark as invented (no speech, low log-probability,
repetitive). A segment heard poorly is checked for another configured language (a call
that switches language), and a mono call's two voices are separated (pipeline.diarize).
A call is transcribed a piece of a few minutes at a time (pipeline.audio), so memory does
not grow with its length.
"""

from __future__ import annotations

import ctypes
import logging
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from pipeline.audio import PIECE_S, CallRecording
from pipeline.diarize import DiarizeOptions, VoiceCollector, split_by_voice
from pipeline.errors import CallQAError
from pipeline.roles import resolve_voices
from pipeline.types import SAMPLE_RATE, AudioTrack, CallAudio, Segment, Transcript, Word
from pipeline.vad import PackedAudio, VadOptions, combine, pack, speech_regions

log = logging.getLogger(__name__)

_WINDOW = 30 * SAMPLE_RATE  # Whisper hears 30 s at a time
# Whisper's own marks of invented text: likely no speech and a poor log-probability, or
# text so repetitive it compresses too well (decoding stuck in a loop).
_NO_SPEECH = 0.6
_LOW_LOGPROB = -1.0
_REPETITIVE = 2.4
# A call whose language detection is less sure than this may switch language: every
# stretch of it is checked (single-language sample calls are detected at 1.00).
_CERTAIN = 0.97
# Whisper told the wrong language translates into it or drops the speech, with low word
# probabilities (measured here: 0.28 and 0.58 against 0.86 and 0.91 in the right one). In a
# call of certain language, only stretches heard below this confidence, or not at all, are
# checked for another configured language...
_RECHECK_BELOW = 0.7
# ...when at least this long (language detection needs a few words)...
_RECHECK_MIN_S = 1.0
# ...and decoded again when a language is this probable among the configured ones, keeping
# the new text unless its mean word probability is lower than the old by more than this.
_SWITCH_PROBABILITY = 0.7
_LESS_SURE_BY = 0.1

Engine = Literal["faster-whisper", "openai-whisper"]


class Transcriber(Protocol):
    """Anything that turns decoded call audio into a transcript (Whisper, or a fake in tests)."""

    def transcribe(self, audio: CallAudio | CallRecording) -> Transcript: ...


@dataclass(frozen=True)
class TranscribeOptions:
    # faster-whisper (CTranslate2, fast on a CPU) or openai-whisper (the reference code).
    engine: Engine = "faster-whisper"
    # A Whisper model name (base, small, tiny.en); openai-whisper also takes a .pt path.
    model: str = "base"
    # Where converted checkpoints are cached.
    model_cache_dir: Path = Path("models")
    # Languages a call may be in; detection chooses among these only.
    languages: tuple[str, ...] = ("ru", "en")
    # Beam width; 1 decodes greedily.
    beam_size: int = 5
    # cpu, cuda, or auto.
    device: str = "auto"
    # faster-whisper's number format: int8 on a CPU and float16 on a GPU when "auto".
    compute_type: str = "auto"
    # Decode only the speech found by voice activity detection.
    vad: bool = True
    # How many 30 s windows faster-whisper decodes together; 0 picks by device. On 2 CPU
    # cores 2 was as fast as 8 and needed 500 MB less (each window's beams carry their own
    # copy of the encoder output); 1 was 25 % slower. A GPU takes many at once.
    batch_size: int = 0
    vad_options: VadOptions = field(default_factory=VadOptions)
    # Separate the two voices of a mono call into agent and client.
    diarize: bool = True
    diarize_options: DiarizeOptions = field(default_factory=DiarizeOptions)
    # Seconds of a long call decoded and transcribed at a time.
    piece_s: float = PIECE_S


@dataclass(frozen=True)
class _Decoded:
    """One segment as an engine returns it, in the time of the audio it was given."""

    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    words: tuple[tuple[float, float, str, float], ...]


def _loudest_window(samples: np.ndarray) -> np.ndarray:
    """The 30 s with the most energy, where language detection hears the most speech."""
    if len(samples) <= _WINDOW:
        return samples
    energy = np.convolve(np.square(samples[::160]), np.ones(_WINDOW // 160), mode="valid")
    start = int(np.argmax(energy)) * 160
    return samples[start : start + _WINDOW]


def _confidence(segments: list[Segment]) -> float:
    """Mean word probability over the segments' words (segment confidence where none)."""
    values = [w.probability for s in segments for w in s.words if w.probability is not None]
    values = values or [s.confidence for s in segments if s.confidence is not None]
    return float(np.mean(values)) if values else 0.0


def _stretches(packed: PackedAudio, heard: list[Segment]) -> list[tuple[float, float, list[Segment]]]:
    """A track's speech regions cut into stretches: each segment heard there, and each gap
    between them where nothing was heard; (start, end, segments) in track time."""
    by_region: dict[int, list[Segment]] = {}
    for segment in heard:
        by_region.setdefault(_region_at(packed, (segment.start + segment.end) / 2), []).append(segment)
    stretches = []
    for index, (start, _, length) in enumerate(packed.regions):
        cursor, end = start, start + length
        for segment in sorted(by_region.get(index, []), key=lambda s: s.start):
            if segment.start > cursor:
                stretches.append((cursor, segment.start, []))
            stretches.append((segment.start, segment.end, [segment]))
            cursor = max(cursor, segment.end)
        if end > cursor:
            stretches.append((cursor, end, []))
    return stretches


def _region_at(packed: PackedAudio, track_time: float) -> int:
    """The index of the speech region nearest to a moment of its track."""
    distances = [max(start - track_time, track_time - start - length, 0.0) for start, _, length in packed.regions]
    return int(np.argmin(distances))


def _in_call(segment: Segment, offset: float, language: str) -> Segment:
    """A segment of a piece in the time of the whole call, with its language set."""
    if not offset:
        return segment.model_copy(update={"language": segment.language or language})
    return segment.model_copy(update={
        "start": round(segment.start + offset, 2),
        "end": round(segment.end + offset, 2),
        "words": tuple(w.model_copy(update={"start": round(w.start + offset, 3), "end": round(w.end + offset, 3)}) for w in segment.words),
        "language": segment.language or language,
    })


def _main_language(fallback: str, segments: list[Segment]) -> tuple[str, list[Segment]]:
    """The language most of the call's speech is in (each piece's detection heard only its
    loudest 30 s); only the segments in any other language keep theirs."""
    seconds: dict[str, float] = {}
    for s in segments:
        seconds[s.language] = seconds.get(s.language, 0.0) + s.end - s.start
    main = max(seconds, key=seconds.get, default=fallback)
    return main, [s.model_copy(update={"language": None if s.language == main else s.language}) for s in segments]


@lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def _return_freed_memory() -> None:
    """Give the memory a piece freed back to the system. glibc keeps it for the process
    otherwise (180 MB after a 5-minute piece, measured here), and the next piece's peak
    would start from there."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


def _invented(decoded: _Decoded) -> bool:
    return (decoded.no_speech_prob > _NO_SPEECH and decoded.avg_logprob < _LOW_LOGPROB) or (
        decoded.compression_ratio > _REPETITIVE
    )


class _WhisperBase(ABC):
    """What both engines share: VAD and packing, language choice, mapping back, filtering."""

    engine: Engine

    def __init__(self, options: TranscribeOptions):
        self.options = options
        self._model = None

    @property
    def model(self):
        """The engine's model, loaded on first use and kept: one load per process."""
        if self._model is None:
            self._model = self._load_model()
        return self._model

    @property
    def device(self) -> str:
        if self.options.device != "auto":
            return self.options.device
        return "cuda" if self._cuda_available() else "cpu"

    @staticmethod
    def _cuda_available() -> bool:
        import torch

        return torch.cuda.is_available()

    @abstractmethod
    def _load_model(self): ...

    @abstractmethod
    def _language_probabilities(self, samples: np.ndarray) -> dict[str, float]: ...

    @abstractmethod
    def _decode(self, samples: np.ndarray, language: str) -> list[_Decoded]: ...

    def detect_language(self, packed: list[PackedAudio]) -> tuple[str, float]:
        """The most probable configured language, heard on the track with the most speech
        (most calls keep one language; each detection costs an encoder pass)."""
        talker = max(packed, key=lambda p: p.speech_seconds, default=None)
        if len(self.options.languages) == 1 or talker is None or talker.speech_seconds == 0:
            return self.options.languages[0], 1.0
        return self._configured_language(_loudest_window(talker.samples))

    def _configured_language(self, samples: np.ndarray) -> tuple[str, float]:
        probabilities = self._language_probabilities(samples)
        scores = {code: probabilities.get(code, 0.0) for code in self.options.languages}
        norm = sum(scores.values()) or 1.0
        language = max(scores, key=scores.get)
        return language, scores[language] / norm

    def _switch_languages(self, tracks: tuple[AudioTrack, ...], packs: list[PackedAudio], segments: list[Segment], language: str, certain: bool) -> list[Segment]:
        """Stretches of speech checked for another configured language and decoded again in
        it; those segments carry their language. In a call of certain language this costs
        nothing where the call is heard well."""
        if len(self.options.languages) < 2:
            return segments
        kept = []
        for track, packed in zip(tracks, packs):
            for start, end, heard in _stretches(packed, [s for s in segments if s.speaker == track.speaker]):
                if end - start < _RECHECK_MIN_S or (certain and heard and _confidence(heard) >= _RECHECK_BELOW):
                    kept += heard
                else:
                    kept += self._relanguage(track, start, end, heard, language, certain) or heard
        return kept

    def _relanguage(self, track: AudioTrack, start: float, end: float, heard: list[Segment], language: str, certain: bool) -> list[Segment] | None:
        """A stretch of the track decoded in the language detected on it, or None to keep what
        was heard. In a call that may switch, a stretch where nothing was heard is decoded
        alone even in the call's language: Whisper may have dropped it for sharing a window
        with another language. In a call of certain language, what Whisper dropped stays
        dropped (noise it declined to put words on)."""
        samples = track.samples[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
        detected, probability = self._configured_language(samples)
        if probability < _SWITCH_PROBABILITY or (detected == language and (heard or certain)):
            return None
        again = self._transcribe_packed((track,), [PackedAudio(samples=samples, regions=((start, 0.0, end - start),))], detected)
        if not again or _confidence(again) < _confidence(heard) - _LESS_SURE_BY:
            return None
        log.info("%.1f-%.1f s: %s (p=%.2f), decoded in %s before", start, end, detected, probability, language)
        return [s.model_copy(update={"language": detected if detected != language else None}) for s in again]

    def _pack(self, track: AudioTrack) -> PackedAudio:
        if not self.options.vad:
            return PackedAudio(samples=track.samples, regions=((0.0, 0.0, track.duration),))
        return pack(track.samples, speech_regions(track.samples, self.options.vad_options), self.options.vad_options)

    def _transcribe_packed(self, tracks: tuple[AudioTrack, ...], packs: list[PackedAudio], language: str) -> list[Segment]:
        """Decode each track's packed speech in turn (engines that batch override this)."""
        segments = []
        for track, packed in zip(tracks, packs):
            if packed.speech_seconds:
                segments += self._keep(self._decode(packed.samples, language), (track,), packed)
        return segments

    def _keep(self, decoded: list[_Decoded], tracks: tuple[AudioTrack, ...], packed: PackedAudio) -> list[Segment]:
        return [s for d in decoded if d.text.strip() and not _invented(d) for s in self._unpack(tracks, packed, d)]

    def _unpack(self, tracks: tuple[AudioTrack, ...], packed: PackedAudio, decoded: _Decoded) -> list[Segment]:
        """The segment back in its track's time; split where it spans two packed regions,
        since the other party may have spoken in between."""
        pieces: dict[int, list[Word]] = {}
        for w_start, w_end, w_text, probability in decoded.words:
            region = packed.region_of((w_start + w_end) / 2)
            word = Word(
                start=packed.to_track_time(w_start, region),
                end=packed.to_track_time(w_end, region),
                text=w_text.strip(),
                probability=round(probability, 4),
            )
            pieces.setdefault(region, []).append(word)
        if not pieces:
            region = packed.region_of(decoded.start)
            span = (packed.to_track_time(decoded.start, region), packed.to_track_time(decoded.end, region))
            return [self._segment(tracks[packed.source_of(region)], decoded, decoded.text.strip(), span, ())]
        return [
            self._segment(tracks[packed.source_of(region)], decoded, " ".join(w.text for w in words), (words[0].start, words[-1].end), tuple(words))
            for region, words in pieces.items()
        ]

    @staticmethod
    def _segment(track: AudioTrack, decoded: _Decoded, text: str, span: tuple[float, float], words: tuple[Word, ...]) -> Segment:
        confidence = float(np.mean([w.probability for w in words])) if words else math.exp(decoded.avg_logprob)
        start, end = span
        return Segment(
            speaker=track.speaker,
            start=round(start, 2),
            end=round(max(end, start), 2),
            text=text,
            confidence=round(min(max(confidence, 0.0), 1.0), 4),
            avg_logprob=round(decoded.avg_logprob, 4),
            no_speech_prob=round(decoded.no_speech_prob, 4),
            words=words,
        )

    def _transcribe_piece(self, piece: CallAudio) -> tuple[list[Segment], str, list[PackedAudio]]:
        """A piece's speech in its own language, in the piece's time: (segments, language, packings)."""
        packs = [self._pack(track) for track in piece.tracks]
        language, probability = self.detect_language(packs)
        log.info("%s at %.0f s: language %s (p=%.2f)", piece.source.name, piece.offset, language, probability)
        segments = self._transcribe_packed(piece.tracks, packs, language)
        segments = self._switch_languages(piece.tracks, packs, segments, language, certain=probability >= _CERTAIN)
        return segments, language, packs

    def transcribe(self, audio: CallAudio | CallRecording) -> Transcript:
        """The call piece by piece; a mono call's voices are told apart over the whole call
        once every piece has been heard (the embeddings are small, the audio is not)."""
        segments: list[Segment] = []
        voices: VoiceCollector | None = None
        first_language = None
        for piece in audio.pieces(self.options.piece_s):
            heard, language, packs = self._transcribe_piece(piece)
            first_language = first_language or language
            segments += [_in_call(s, piece.offset, language) for s in heard]
            if len(piece.tracks) == 1 and self.options.diarize and heard:
                voices = voices or VoiceCollector(self.options.model_cache_dir, self.options.diarize_options)
                voices.add(piece.tracks[0].samples, [(start, start + length) for start, _, length in packs[0].regions], piece.offset)
            del packs  # the piece's packed copies go before its memory is handed back
            _return_freed_memory()
        language, segments = _main_language(first_language or self.options.languages[0], segments)
        if voices is not None:
            segments = split_by_voice(segments, voices.voice_map())
        segments.sort(key=lambda s: (s.start, s.speaker))
        transcript = Transcript(
            language=language,
            duration=round(audio.duration, 2),
            engine=self.engine,
            model=self.options.model,
            segments=tuple(segments),
        )
        if voices is not None:
            transcript, roles = resolve_voices(transcript)
            log.info("%s: mono, voices separated; %s (confidence %.2f)", audio.source.name, roles.note, roles.confidence)
        return transcript


class WhisperTranscriber(_WhisperBase):
    """openai-whisper with weights from registry packages; the model is loaded once."""

    engine = "openai-whisper"

    def _load_model(self):
        from pipeline.weights import load_whisper

        return load_whisper(self.options.model, self.options.model_cache_dir, self.device)

    def _language_probabilities(self, samples: np.ndarray) -> dict[str, float]:
        import whisper

        if not self.model.is_multilingual:
            return {"en": 1.0}
        mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(samples), self.model.dims.n_mels).to(self.model.device)
        _, probabilities = self.model.detect_language(mel)
        return probabilities

    def _decode(self, samples: np.ndarray, language: str) -> list[_Decoded]:
        result = self.model.transcribe(
            samples,
            language=language if self.model.is_multilingual else "en",
            task="transcribe",
            fp16=self.device == "cuda",
            beam_size=self.options.beam_size if self.options.beam_size > 1 else None,
            best_of=self.options.beam_size if self.options.beam_size > 1 else None,
            condition_on_previous_text=False,  # stops one misheard phrase from repeating
            word_timestamps=True,
            verbose=None,
        )
        return [
            _Decoded(
                start=float(s["start"]),
                end=float(s["end"]),
                text=s["text"],
                avg_logprob=float(s["avg_logprob"]),
                no_speech_prob=float(s["no_speech_prob"]),
                compression_ratio=float(s["compression_ratio"]),
                words=tuple((float(w["start"]), float(w["end"]), w["word"], float(w["probability"])) for w in s.get("words", ())),
            )
            for s in result["segments"]
        ]


class FasterWhisperTranscriber(_WhisperBase):
    """faster-whisper (CTranslate2) reading the registry packages' weights directly."""

    engine = "faster-whisper"

    @staticmethod
    def _cuda_available() -> bool:
        import ctranslate2  # asking torch would load it: a few hundred MB this engine never uses

        return ctranslate2.get_cuda_device_count() > 0

    def _load_model(self):
        from faster_whisper import WhisperModel

        from pipeline.weights import provide_ct2_dir

        if self.options.model.endswith(".pt"):
            raise CallQAError("faster-whisper reads model names (base, small, tiny.en); use engine openai-whisper for a .pt file")
        compute_type = self.options.compute_type
        if compute_type == "auto":
            compute_type = "float16" if self.device == "cuda" else "int8"
        folder = provide_ct2_dir(self.options.model, self.options.model_cache_dir)
        return WhisperModel(str(folder), device=self.device, compute_type=compute_type, local_files_only=True)

    def _language_probabilities(self, samples: np.ndarray) -> dict[str, float]:
        if not self.model.model.is_multilingual:
            return {"en": 1.0}
        _, _, probabilities = self.model.detect_language(samples)
        return dict(probabilities)

    def _transcribe_packed(self, tracks: tuple[AudioTrack, ...], packs: list[PackedAudio], language: str) -> list[Segment]:
        """All tracks' speech in one packing, decoded in batches of 30 s windows: on two cores
        a batch keeps both busy where one window at a time does not."""
        packed = combine(packs)
        if not packed.speech_seconds:
            return []
        return self._keep(self._decode(packed.samples, language, packed.windows()), tracks, packed)

    def _decode(self, samples: np.ndarray, language: str, windows: list[dict[str, float]] | None = None) -> list[_Decoded]:
        from faster_whisper import BatchedInferencePipeline

        segments, _ = BatchedInferencePipeline(self.model).transcribe(
            samples,
            language=language if self.model.model.is_multilingual else "en",
            beam_size=self.options.beam_size,
            best_of=self.options.beam_size,
            condition_on_previous_text=False,
            word_timestamps=True,
            clip_timestamps=windows or [{"start": 0.0, "end": len(samples) / SAMPLE_RATE}],
            batch_size=self.options.batch_size or (16 if self.device == "cuda" else 2),
        )
        return [
            _Decoded(
                start=s.start,
                end=s.end,
                text=s.text,
                avg_logprob=s.avg_logprob,
                no_speech_prob=s.no_speech_prob,
                compression_ratio=s.compression_ratio,
                words=tuple((w.start, w.end, w.word, w.probability) for w in s.words or ()),
            )
            for s in segments
        ]


def make_transcriber(options: TranscribeOptions) -> Transcriber:
    engines = {"faster-whisper": FasterWhisperTranscriber, "openai-whisper": WhisperTranscriber}
    return engines[options.engine](options)
