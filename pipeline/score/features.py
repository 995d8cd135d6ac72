"""What scoring needs to know about each segment, computed once per transcript.

Re-scoring the same transcript with a new scorecard version reuses everything here: the
words and their normal forms, question kinds, the conversation metrics, and the result of
every detector whose definition did not change. This is what makes rescoring fast.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.score.metrics import conversation_metrics
from pipeline.score.questions import QuestionKind, question_kinds
from pipeline.score.text import WordKey, is_first_name, tokens, word_key
from pipeline.types import Transcript

_RU_NAME_MARKERS = frozenset({"зовут", "это", "вами", "приветствует", "менеджер", "консультант", "связи", "беспокоит"})
_RU_COMPANY_WORDS = frozenset({"магазин", "магазина", "компания", "компании", "салон", "сервис", "студия", "маркет", "центр"})
_EN_NOT_A_NAME = frozenset(
    "a an the your my our his her their it that this these not just about really so what how to for me you we they "
    "he she i is are was all one because why very calling speaking great good sure here there now only right "
    "got been going gonna done ok okay fine also actually pretty quite like ready still".split()
)
_CACHE_SIZE = 2048


def _addressed(text: str, name: str) -> bool:
    """The name is the client's, asked about: "Марина?", "Игорь Викторович?"."""
    return re.search(rf"{name}(\s+\w+вна|\s+\w+вич|\s+\w+ична)?\s*\?", text.lower().replace("ё", "е")) is not None


def gives_name(text: str, words: tuple[str, ...]) -> bool:
    """Whether the speaker gives their own name: "меня зовут Ирина", "my name is Joe", "Joe speaking"."""
    for i, word in enumerate(words):
        before, after = words[max(0, i - 4) : i], words[i + 1 : i + 2]
        if word in _RU_NAME_MARKERS and any(is_first_name(w) and not _addressed(text, w) for w in words[i + 1 : i + 4]):
            return True
        if is_first_name(word) and not _addressed(text, word) and (after == ("слушаю",) or _RU_COMPANY_WORDS & set(before)):
            return True
        if word == "name" and after in (("is",), ("s",)):
            return True
        if word == "speaking" and i > 0 and words[i - 1] not in _EN_NOT_A_NAME:
            return True
        if word in {"is", "s", "its"} and after and after[0] not in _EN_NOT_A_NAME and not after[0].endswith("ing") and not _CYRILLIC_WORD.match(after[0]):
            previous = words[i - 1] if i > 0 else ""
            # "this is Megan"; but "it is too..." is no name unless "it's Tony calling / from ...".
            if (word == "is" and previous == "this") or (
                (word == "its" or previous == "it") and words[i + 2 : i + 3] in (("from",), ("calling",), ("speaking",), ("here",))
            ):
                return True
        if i <= 1 and after == ("from",) and word not in _EN_NOT_A_NAME and not word.endswith("ing"):
            return True
    return False


_CYRILLIC_WORD = re.compile(r"[а-я]")
_QUOTED = re.compile(r"[«“\"][^»”\"]{2,40}[»”\"]")
_CAPITALISED = re.compile(r"(?<![.!?…]\s)(?<!^)(?<![.!?…])\b([A-ZА-ЯЁ][\w-]+)")
_NOT_A_COMPANY = frozenset(
    "i i'm i'll hi hello hey good thanks thank mr mrs ms miss dr okay ok yes no sure so and "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)


def names_company(text: str) -> bool:
    """Whether a segment seems to name a company: a quoted name, or a capitalised word that is
    neither the first word of a sentence, a first name, nor a word like "Hi" or "Monday"."""
    if _QUOTED.search(text):
        return True
    words = re.findall(r"[\w'-]+|[.!?…]", text)
    for i, word in enumerate(words):
        if i == 0 or words[i - 1] in {".", "!", "?", "…"} or not word[0].isupper():
            continue
        lower = word.lower()
        previous = words[i - 1].lower()
        following = words[i + 1].lower() if i + 1 < len(words) else ""
        if lower in _NOT_A_COMPANY or previous in {"is", "mr", "mrs", "ms", "with", "name's"} or is_first_name(lower.replace("ё", "е")):
            continue
        if following in {"speaking", "here", "from", "calling"}:
            continue
        return True
    return False


@dataclass(frozen=True)
class SegmentFeatures:
    words: tuple[str, ...]
    forms: tuple[WordKey, ...]
    questions: tuple[QuestionKind, ...]
    gives_name: bool
    names_company: bool


@dataclass(frozen=True)
class DetectorHits:
    """One detector's result on every segment of a transcript."""

    fires: tuple[bool, ...]
    uncertain: tuple[bool, ...]
    detail: tuple[str | None, ...]  # the matched phrase, or the probability, for the reason line
    # The cue phrase that matched; None where the whole segment decided (a classifier, a question).
    phrase: tuple[str | None, ...] = ()


class TranscriptFeatures:
    def __init__(self, transcript: Transcript):
        self.transcript = transcript
        self.segments: list[SegmentFeatures] = []
        for segment in transcript.segments:
            words = tuple(tokens(segment.text))
            self.segments.append(
                SegmentFeatures(
                    words=words,
                    forms=tuple(word_key(w) for w in words),
                    questions=question_kinds(segment.text),
                    gives_name=gives_name(segment.text, words),
                    names_company=names_company(segment.text),
                )
            )
        self.metrics = conversation_metrics(transcript)
        self._hits: dict[str, DetectorHits] = {}

    def hits(self, key: str, compute: Callable[[TranscriptFeatures], DetectorHits]) -> DetectorHits:
        """A detector's hits, computed on first request for this detector definition."""
        if key not in self._hits:
            self._hits[key] = compute(self)
        return self._hits[key]


_FEATURES: OrderedDict[tuple, TranscriptFeatures] = OrderedDict()


def transcript_key(transcript: Transcript) -> tuple:
    """What scoring reads of a transcript; equal keys give equal features."""
    return (transcript.language, transcript.duration, tuple((s.speaker, s.start, s.end, s.text) for s in transcript.segments))


def features_for(transcript: Transcript) -> TranscriptFeatures:
    """Features of a transcript, from a bounded in-memory cache keyed by its content."""
    key = transcript_key(transcript)
    if key in _FEATURES:
        _FEATURES.move_to_end(key)
        return _FEATURES[key]
    features = TranscriptFeatures(transcript)
    _FEATURES[key] = features
    if len(_FEATURES) > _CACHE_SIZE:
        _FEATURES.popitem(last=False)
    return features
