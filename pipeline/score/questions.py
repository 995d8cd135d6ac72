"""Question analysis: is a sentence a question, and is it open or closed?

Open questions ("Что для вас важно?", "What will you use it for?") invite the client to
talk about their needs; closed ones ("Вам нужна доставка?", "Do you want the blue one?")
get a yes or a no. Speech recognition often drops the question mark, so a sentence that
starts like a question counts as one too.
"""

from __future__ import annotations

from typing import Literal

from pipeline.score.text import sentences, tokens

QuestionKind = Literal["open", "closed"]

_OPEN_RU = frozenset(
    "что чем чего чему какой какая какое какие каким какую каких каком какого какому какими как зачем почему отчего "
    "где куда откуда когда сколько кто кого кому кем насколько чей чья чьё чьи".split()
)
_OPEN_EN = frozenset("what which how why where when who whom whose".split())
# Imperatives that ask the client to talk: "Расскажите...", "Tell me...", "Describe...".
_INVITATIONS = frozenset("расскажите расскажи опишите поделитесь уточните объясните tell describe explain share walk".split())
_CLOSED_START_EN = frozenset(
    "do does did is are was were can could would will shall should have has had may might am".split()
)
_FILLERS = frozenset(
    "а и ну так вот скажите подскажите пожалуйста еще ага угу ок понял поняла понятно ясно хорошо да конечно "
    "ok okay so and well um uh also then got it gotcha i see great right sure yeah yes".split()
)


def _content_start(words: list[str]) -> list[str]:
    """The sentence's words after leading fillers such as "а", "ну", "so", "подскажите"."""
    index = 0
    while index < len(words) - 1 and words[index] in _FILLERS:
        index += 1
    return words[index:]


def classify_sentence(sentence: str, punctuated: bool = True) -> QuestionKind | None:
    """open, closed, or None when the sentence is not a question.

    In unpunctuated text (raw speech recognition) a question word among the first few words
    is enough; in punctuated text it must end with "?" or start with the question word.
    """
    words = tokens(sentence)
    if not words:
        return None
    marked = sentence.rstrip().endswith("?")
    head = _content_start(words)
    early = set(head[:4])
    invitation = bool(_INVITATIONS & set(head[:3])) or ("could" in head[:1] and "tell" in head[:4])
    if invitation and (marked or len(words) >= 3):
        return "open"
    asks = early & (_OPEN_RU | _OPEN_EN)
    if asks and (marked or head[0] in _OPEN_RU | _OPEN_EN or (not punctuated and len(words) >= 3)):
        return "open"
    if marked:
        return "closed"
    if head[0] in _CLOSED_START_EN and len(head) >= 3 and head[1] in {"you", "it", "this", "that", "we", "i", "they", "he", "she", "your"}:
        return "closed"
    if "ли" in words[1:3]:
        return "closed"
    return None


def question_kinds(text: str) -> tuple[QuestionKind, ...]:
    """The kind of every question in a segment's text, in order."""
    punctuated = any(mark in text for mark in ".?!,")
    return tuple(kind for sentence in sentences(text) if (kind := classify_sentence(sentence, punctuated)) is not None)
