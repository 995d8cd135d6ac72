"""Text normalisation for cue matching in Russian and English.

A cue phrase matches a segment when the words of the phrase occur in order in the segment,
compared by their dictionary form: Russian words by their pymorphy3 lemma (so "предложу"
matches "предложить", "звонке" matches "звонок"), English words by their Snowball stem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pymorphy3
import snowballstemmer

_TOKEN = re.compile(r"[a-zа-я0-9]+")
_CYRILLIC = re.compile(r"[а-я]")
_CONTRACTIONS = (
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'m\b"), " am"),
    (re.compile(r"'d\b"), " would"),
    (re.compile(r"\bcan not\b"), "cannot"),
)


@lru_cache(maxsize=1)
def _morph() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer(lang="ru")


@lru_cache(maxsize=1)
def _english_stemmer():
    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def normal_form(token: str) -> str:
    """The form two inflections of one word share: a Russian lemma or an English stem."""
    if _CYRILLIC.search(token):
        return _morph().parse(token)[0].normal_form.replace("ё", "е")
    return _english_stemmer().stemWord(token)


def tokens(text: str) -> list[str]:
    """Lower-cased words of a text, with ё folded to е and English contractions expanded."""
    text = text.lower().replace("ё", "е").replace("’", "'")
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return _TOKEN.findall(text)


def normal_forms(text: str) -> tuple[str, ...]:
    return tuple(normal_form(token) for token in tokens(text))


@dataclass(frozen=True)
class Phrase:
    """A cue phrase prepared for matching."""

    text: str
    forms: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> Phrase:
        return cls(text=text, forms=normal_forms(text))


def find_phrase(phrase: Phrase, forms: tuple[str, ...], max_gap: int = 1) -> bool:
    """Whether the phrase's words occur in order in ``forms`` with at most ``max_gap`` words between."""
    if not phrase.forms:
        return False
    for start, form in enumerate(forms):
        if form != phrase.forms[0]:
            continue
        position = start
        for wanted in phrase.forms[1:]:
            window = forms[position + 1 : position + 2 + max_gap]
            if wanted not in window:
                break
            position += 1 + window.index(wanted)
        else:
            return True
    return False
