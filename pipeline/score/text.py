"""Text normalisation and cue-phrase matching for Russian and English.

A cue phrase matches a segment when its words occur in order in the segment (at most one
other word between them), compared by their dictionary form: Russian words by their
pymorphy3 lemma ("предложу" matches "предложить"), English words by their Snowball stem.
Long words also match with a letter or two wrong, compared by their Snowball stems, as
speech recognition often slips ("расрочку" for "рассрочку"). A match right after or
inside a negation ("не могу предложить", "I can't offer") does not count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pymorphy3
import snowballstemmer
from rapidfuzz.distance import Levenshtein

_TOKEN = re.compile(r"[a-zа-я0-9]+")
_CYRILLIC = re.compile(r"[а-я]")
_CONTRACTIONS = (
    (re.compile(r"\bcan't\b"), "can not"),
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'m\b"), " am"),
    (re.compile(r"'d\b"), " would"),
    (re.compile(r"\bcannot\b"), "can not"),
    (re.compile(r"\bgonna\b"), "going to"),
    (re.compile(r"\bwanna\b"), "want to"),
)
NEGATIONS = frozenset({"не", "ни", "нет", "not", "no", "never", "neither", "nor"})
# How many words before a match a negation still negates it ("не могу вам предложить").
NEGATION_REACH = 3
# Words at least this long may differ by the edits below and still match (ASR slips).
FUZZY_MIN_LENGTH = 6
FUZZY_MAX_EDITS = 1
FUZZY_MAX_EDITS_LONG = 2  # for words of 10 letters or more


@lru_cache(maxsize=1)
def _morph() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer(lang="ru")


@lru_cache(maxsize=1)
def _english_stemmer():
    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=1)
def _russian_stemmer():
    return snowballstemmer.stemmer("russian")


@lru_cache(maxsize=131072)
def normal_form(token: str) -> str:
    """The form two inflections of one word share: a Russian lemma or an English stem."""
    if _CYRILLIC.search(token):
        return _morph().parse(token)[0].normal_form.replace("ё", "е")
    return _english_stemmer().stemWord(token)


@lru_cache(maxsize=131072)
def is_first_name(token: str) -> bool:
    """Whether a Russian word is most likely a first name (Ирина, Андрея)."""
    return bool(_CYRILLIC.search(token)) and "Name" in _morph().parse(token)[0].tag


def tokens(text: str) -> list[str]:
    """Lower-cased words of a text, with ё folded to е and English contractions expanded."""
    text = text.lower().replace("ё", "е").replace("’", "'")
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return _TOKEN.findall(text)


WordKey = tuple[str, str]  # (normal form, stem of the word as written)


@lru_cache(maxsize=131072)
def word_key(token: str) -> WordKey:
    stemmer = _russian_stemmer() if _CYRILLIC.search(token) else _english_stemmer()
    return normal_form(token), stemmer.stemWord(token)


def normal_forms(text: str) -> tuple[WordKey, ...]:
    return tuple(word_key(token) for token in tokens(text))


def _close(a: str, b: str) -> bool:
    shorter = min(len(a), len(b))
    if shorter < FUZZY_MIN_LENGTH - 1 or a[:2] != b[:2]:
        return False
    limit = FUZZY_MAX_EDITS_LONG if shorter >= 10 else FUZZY_MAX_EDITS
    return Levenshtein.distance(a, b, score_cutoff=limit) <= limit


@lru_cache(maxsize=262144)
def same_word(a: WordKey, b: WordKey) -> bool:
    """Equal normal forms, or long words whose forms or stems are an edit or two apart."""
    if a[0] == b[0]:
        return True
    if min(len(a[0]), len(b[0])) < FUZZY_MIN_LENGTH:
        return False
    return _close(a[0], b[0]) or (min(len(a[1]), len(b[1])) >= FUZZY_MIN_LENGTH + 1 and _close(a[1], b[1]))


class Vocabulary:
    """The distinct words of a transcript, to find quickly which of them are like a given word."""

    def __init__(self, keys: set[WordKey]):
        self._by_form: dict[str, set[WordKey]] = {}
        self._by_prefix: dict[str, list[WordKey]] = {}
        for key in keys:
            self._by_form.setdefault(key[0], set()).add(key)
            if len(key[0]) >= FUZZY_MIN_LENGTH:
                self._by_prefix.setdefault(key[0][:2], []).append(key)

    def like(self, key: WordKey) -> frozenset[WordKey]:
        found = set(self._by_form.get(key[0], ()))
        if len(key[0]) >= FUZZY_MIN_LENGTH:
            found.update(k for k in self._by_prefix.get(key[0][:2], ()) if same_word(k, key))
        return frozenset(found)


@dataclass(frozen=True)
class Phrase:
    """A cue phrase prepared for matching."""

    text: str
    forms: tuple[WordKey, ...]

    @classmethod
    def of(cls, text: str) -> Phrase:
        return cls(text=text, forms=normal_forms(text))

    @property
    def negative(self) -> bool:
        """A cue that itself holds a negation ("не нужно") is not negated by it."""
        return any(form in NEGATIONS for form, _ in self.forms)


def _negated(forms: tuple[WordKey, ...], start: int, end: int) -> bool:
    return any(form in NEGATIONS for form, _ in forms[max(0, start - NEGATION_REACH) : end])


def find_phrase(phrase: Phrase, forms: tuple[WordKey, ...], max_gap: int = 1, negation_aware: bool = True) -> int | None:
    """Index where the phrase's words start in ``forms`` (in order, small gaps allowed), or None."""
    if not phrase.forms:
        return None
    for start, form in enumerate(forms):
        if not same_word(form, phrase.forms[0]):
            continue
        position = start
        for wanted in phrase.forms[1:]:
            window = forms[position + 1 : position + 2 + max_gap]
            hit = next((i for i, candidate in enumerate(window) if same_word(candidate, wanted)), None)
            if hit is None:
                break
            position += 1 + hit
        else:
            if negation_aware and not phrase.negative and _negated(forms, start, position + 1):
                continue
            return start
    return None


SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def sentences(text: str) -> list[str]:
    return [part.strip() for part in SENTENCE_END.split(text) if part.strip()]
