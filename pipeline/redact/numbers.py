"""Spoken-number normalisation (Russian and English) with every digit traced to its text.

Whisper writes dictated numbers in every way at once: "4111 1111 1111 1111",
"+7 (916) 123-45-67", "восемь девятьсот шестнадцать сто двадцать три", "four one one one",
"double five", "oh". A detector needs the digits and, to redact, where each came from.
`scan` turns a text into tokens and number groups; a group is one number as it was said
("девятьсот шестнадцать" -> "916", "4111" -> "4111"), and `find_number_runs` strings
groups that follow each other (through spaces, dashes, dots, commas and brackets) into runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

TokenKind = Literal["digits", "ordinal_digits", "word", "mixed", "punct", "break"]

# "\n" is a hard break: a number never runs across it. "5-го", "12-е", "21st" are ordinals.
_TOKEN = re.compile(
    r"\n|\d+-(?:го|му|м|й|е|я|ое|ого|ый|ий|ая)(?![^\W\d_])|\d+(?:st|nd|rd|th)\b|\w+|[^\w\s]",
    re.IGNORECASE,
)
# What may stand between two groups of one run: a digit string is often written 123-45-67,
# (916) 123 45 67, or dictated slowly with commas and full stops.
_RUN_JOINERS = frozenset("-–—.,()")
# Words that may stand inside a dictated number: "серия 4506 номер 123456", and the
# fillers of someone reading digits aloud ("three oh five, then eight six seven").
_JOINER_WORDS = frozenset({
    "номер", "number", "then", "um", "uh", "er", "erm", "потом", "дальше", "так", "ээ", "эээ", "эм", "мм",
})
_PLUS_WORDS = frozenset({"плюс", "plus"})


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int
    kind: TokenKind

    @property
    def key(self) -> str:
        return self.text.lower().replace("ё", "е")


@dataclass(frozen=True)
class NumberGroup:
    """One number as said or written: its digits and the text span they came from."""

    digits: str
    start: int
    end: int
    ordinal: bool = False
    # A "+" or "плюс" said right before it; `start` then covers that sign.
    plus: bool = False
    spoken: bool = False


@dataclass(frozen=True)
class NumberRun:
    """Groups that follow one another with only joiners between them."""

    groups: tuple[NumberGroup, ...]

    @property
    def digits(self) -> str:
        return "".join(g.digits for g in self.groups)

    @property
    def start(self) -> int:
        return self.groups[0].start

    @property
    def end(self) -> int:
        return self.groups[-1].end


Item = Token | NumberGroup


def _forms(table: dict[str, int], *extra: tuple[str, int]) -> dict[str, int]:
    out = dict(table)
    out.update(extra)
    return out


_RU_UNITS = {
    "ноль": 0, "нуль": 0, "ноля": 0, "нуля": 0,
    "один": 1, "одна": 1, "одно": 1, "одну": 1, "одного": 1, "одной": 1, "одним": 1,
    "два": 2, "две": 2, "двух": 2, "двум": 2, "три": 3, "трех": 3, "трем": 3,
    "четыре": 4, "четырех": 4, "четырем": 4, "пять": 5, "пяти": 5, "шесть": 6, "шести": 6,
    "семь": 7, "семи": 7, "восемь": 8, "восьми": 8, "девять": 9, "девяти": 9,
}
_RU_TEENS = {
    "десять": 10, "одиннадцать": 11, "двенадцать": 12, "тринадцать": 13, "четырнадцать": 14,
    "пятнадцать": 15, "шестнадцать": 16, "семнадцать": 17, "восемнадцать": 18, "девятнадцать": 19,
}
_RU_TEENS = _forms(_RU_TEENS, *((word[:-1] + "и", value) for word, value in _RU_TEENS.items()))
_RU_TENS = {
    "двадцать": 20, "тридцать": 30, "сорок": 40, "пятьдесят": 50, "шестьдесят": 60,
    "семьдесят": 70, "восемьдесят": 80, "девяносто": 90, "двадцати": 20, "тридцати": 30,
    "сорока": 40, "пятидесяти": 50, "шестидесяти": 60, "семидесяти": 70, "восьмидесяти": 80,
    "девяноста": 90,
}
_RU_HUNDREDS = {
    "сто": 100, "двести": 200, "триста": 300, "четыреста": 400, "пятьсот": 500, "шестьсот": 600,
    "семьсот": 700, "восемьсот": 800, "девятьсот": 900, "ста": 100, "двухсот": 200, "трехсот": 300,
    "четырехсот": 400, "пятисот": 500, "шестисот": 600, "семисот": 700, "восьмисот": 800,
    "девятисот": 900,
}
_EN_UNITS = {
    "zero": 0, "nought": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9,
}
_EN_TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_EN_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}
_EN_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}
_RU_ORDINAL_STEMS = {
    "перв": 1, "втор": 2, "трет": 3, "четверт": 4, "пят": 5, "шест": 6, "седьм": 7, "восьм": 8,
    "девят": 9, "десят": 10, "одиннадцат": 11, "двенадцат": 12, "тринадцат": 13,
    "четырнадцат": 14, "пятнадцат": 15, "шестнадцат": 16, "семнадцат": 17, "восемнадцат": 18,
    "девятнадцат": 19, "двадцат": 20, "тридцат": 30, "сороков": 40, "пятидесят": 50,
    "шестидесят": 60, "семидесят": 70, "восьмидесят": 80, "девяност": 90, "тысячн": 1000,
    "двухтысячн": 2000,
}
_RU_ORDINAL = re.compile(
    r"(" + "|".join(sorted(_RU_ORDINAL_STEMS, key=len, reverse=True)) + r")"
    r"(ый|ой|ий|ая|ое|ые|ого|ому|ым|ом|ую|ых|ыми|ьего|ьему|ья|ью|ье|ьи|ьим|ьих|ьей)"
)

_VALUES = {**_RU_UNITS, **_RU_TEENS, **_RU_TENS, **_RU_HUNDREDS, **_EN_UNITS, **_EN_TEENS, **_EN_TENS}
_THOUSAND = frozenset({"тысяча", "тысячи", "тысяч", "тысячу", "тысячей", "thousand"})
_HUNDRED = frozenset({"hundred"})
_REPEAT = {"double": 2, "triple": 3}
_MAYBE_ZERO = frozenset({"oh", "o"})


def is_number_word(key: str) -> bool:
    """Whether a lower-cased word is a cardinal number word ("пять", "eighty")."""
    return key in _VALUES or key in _THOUSAND or key in _HUNDRED


def tokenize(text: str) -> list[Token]:
    tokens = []
    for m in _TOKEN.finditer(text):
        s = m.group()
        if s == "\n":
            kind: TokenKind = "break"
        elif s.isdigit():
            kind = "digits"
        elif s[0].isdigit() and not s[-1].isdigit():
            kind = "ordinal_digits"
        elif s[0] in "_" or s[0].isalnum():
            kind = "mixed" if any(c.isdigit() for c in s) else "word"
        else:
            kind = "punct"
        tokens.append(Token(s, m.start(), m.end(), kind))
    return tokens


def _ordinal_value(key: str) -> int | None:
    if key in _EN_ORDINALS:
        return _EN_ORDINALS[key]
    m = _RU_ORDINAL.fullmatch(key)
    return _RU_ORDINAL_STEMS[m.group(1)] if m else None


def _word_value(tokens: list[Token], i: int) -> tuple[int, bool] | None:
    """The value of a number word at i and whether it is an ordinal; None for other words."""
    token = tokens[i]
    if token.kind != "word":
        return None
    key = token.key
    if key in _VALUES:
        return _VALUES[key], False
    if key in _MAYBE_ZERO and (_is_number_at(tokens, i - 1) or _is_number_at(tokens, i + 1)):
        return 0, False
    if key == "a" and i + 1 < len(tokens) and tokens[i + 1].key in _HUNDRED | _THOUSAND:
        return 1, False
    ordinal = _ordinal_value(key)
    return (ordinal, True) if ordinal is not None else None


def _is_number_at(tokens: list[Token], i: int) -> bool:
    """Whether a digit string or a plain number word stands at i (for reading "oh" as zero)."""
    if not 0 <= i < len(tokens):
        return False
    token = tokens[i]
    return token.kind == "digits" or (token.kind == "word" and (token.key in _VALUES or token.key in _REPEAT))


class _Compound:
    """Builds one spoken number, slot by slot: thousands, hundreds, tens, units."""

    def __init__(self) -> None:
        self.thousands = self.hundreds = self.tens = self.units = None
        self.teen = False
        self.ordinal = False

    @property
    def empty(self) -> bool:
        return self.thousands is None and self.hundreds is None and self.tens is None and self.units is None

    def below_thousand(self) -> int:
        return (self.hundreds or 0) + (self.tens or 0) + (self.units or 0)

    def value(self) -> int:
        return (self.thousands or 0) + self.below_thousand()

    def add(self, value: int) -> bool:
        """Take a cardinal value if it fits this number's free slots; False starts a new number."""
        if self.ordinal:
            return False
        if value == 0:
            return False  # "ноль" is always dictated as a digit of its own
        if value >= 100:
            if self.hundreds is None and self.tens is None and self.units is None:
                self.hundreds = value
                return True
            return False
        if value >= 10:
            if self.tens is None and self.units is None:
                self.tens = value
                self.teen = value < 20
                return True
            return False
        if self.units is None and not self.teen:
            self.units = value
            return True
        return False

    def multiply_hundred(self) -> bool:
        small = (self.tens or 0) + (self.units or 0)
        if self.hundreds is None and 0 < small < 100:
            self.hundreds, self.tens, self.units, self.teen = small * 100, None, None, False
            return True
        return False

    def multiply_thousand(self) -> bool:
        if self.thousands is not None:
            return False
        self.thousands = max(self.below_thousand(), 1) * 1000
        self.hundreds = self.tens = self.units = None
        self.teen = False
        return True


def scan(text: str) -> list[Item]:
    """The text as tokens, with every number (said or written) folded into a NumberGroup."""
    tokens = tokenize(text)
    items: list[Item] = []
    i = 0
    plus_start: int | None = None
    while i < len(tokens):
        token = tokens[i]
        if token.text == "+" or (token.kind == "word" and token.key in _PLUS_WORDS):
            plus_start = token.start
            items.append(token)
            i += 1
            continue
        group, i_next = _read_group(text, tokens, i)
        if group is None:
            items.append(token)
            plus_start = None
            i += 1
            continue
        if plus_start is not None:
            items.pop()  # the sign belongs to the group now
            group = NumberGroup(group.digits, plus_start, group.end, group.ordinal, True, group.spoken)
            plus_start = None
        items.append(group)
        i = i_next
    return items


def _read_group(text: str, tokens: list[Token], i: int) -> tuple[NumberGroup | None, int]:
    token = tokens[i]
    if token.kind == "digits":
        return NumberGroup(token.text, token.start, token.end), i + 1
    if token.kind == "ordinal_digits":
        digits = "".join(c for c in token.text if c.isdigit())
        return NumberGroup(digits, token.start, token.end, ordinal=True), i + 1
    if token.kind != "word":
        return None, i
    if token.key in _REPEAT and i + 1 < len(tokens):
        said = _word_value(tokens, i + 1)
        if said is not None and not said[1] and said[0] < 10:
            digits = str(said[0]) * _REPEAT[token.key]
            return NumberGroup(digits, token.start, tokens[i + 1].end, spoken=True), i + 2
        return None, i
    number = _Compound()
    first = _word_value(tokens, i)
    if first is None:
        if token.key not in _THOUSAND:
            return None, i
        number.multiply_thousand()
    elif first[0] == 0:
        return NumberGroup("0", token.start, token.end, spoken=True), i + 1
    else:
        number.add(first[0])
        number.ordinal = first[1]
    end = prev_end = token.end
    j = i + 1
    while j < len(tokens) and not number.ordinal:
        nxt = tokens[j]
        if text[prev_end : nxt.start].strip():
            break
        # "eighty-five", "hundred and five": skip the link if a number word follows it.
        if (nxt.text == "-" or nxt.key == "and") and j + 1 < len(tokens):
            after = _word_value(tokens, j + 1)
            if after is not None and (nxt.text == "-" or number.hundreds or number.thousands):
                prev_end, j = nxt.end, j + 1
                continue
            break
        if nxt.key in _HUNDRED and number.multiply_hundred():
            end = prev_end = nxt.end
            j += 1
            continue
        if nxt.key in _THOUSAND and number.multiply_thousand():
            end = prev_end = nxt.end
            j += 1
            continue
        said = _word_value(tokens, j)
        if said is None or not number.add(said[0]):
            break
        number.ordinal = said[1]
        end = prev_end = nxt.end
        j += 1
    if prev_end != end:  # a dangling link was skipped: leave it to the next group
        j = next(k for k in range(i, len(tokens)) if tokens[k].start >= end)
    return NumberGroup(str(number.value()), token.start, end, ordinal=number.ordinal, spoken=True), j


def find_number_runs(text: str, items: list[Item] | None = None) -> list[NumberRun]:
    """Maximal strings of cardinal groups with only joiners (spaces, -.,() and "номер") between."""
    items = scan(text) if items is None else items
    runs: list[NumberRun] = []
    current: list[NumberGroup] = []
    for item in items:
        if isinstance(item, NumberGroup) and not item.ordinal:
            if item.plus and current:
                runs.append(NumberRun(tuple(current)))
                current = []
            current.append(item)
        elif isinstance(item, Token) and (item.text in _RUN_JOINERS or item.key in _JOINER_WORDS) and current:
            continue
        elif current:
            runs.append(NumberRun(tuple(current)))
            current = []
    if current:
        runs.append(NumberRun(tuple(current)))
    return runs


def normalise_numbers(text: str) -> str:
    """The text with each run of numbers written as its digits: for reading and matching."""
    out, cursor = [], 0
    for run in find_number_runs(text):
        out.append(text[cursor : run.start])
        out.append(("+" if run.groups[0].plus else "") + run.digits)
        cursor = run.end
    out.append(text[cursor:])
    return "".join(out)
