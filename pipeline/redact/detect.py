"""Detectors: from a text (and what the other speaker said before) to typed hits.

Numbers are matched on their digits after spoken-number normalisation. Within a run of
groups ("8 916 123 45 67, 4111 1111 ...") every window of whole groups is tried; a window
is a card only with a valid Luhn sum, an INN or SNILS only with valid check digits, and
the kinds without a check (passport, CVV, date of birth) only near words that name them.
Of the valid windows, the set that covers the most digits wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from pipeline.redact.checksums import inn_valid, luhn_valid, nanp_valid, snils_valid
from pipeline.redact.context import Cue, cues, first_words, last_words
from pipeline.redact.dates import find_birth_years, find_dates
from pipeline.redact.email import find_emails
from pipeline.redact.numbers import NumberGroup, NumberRun, find_number_runs, scan
from pipeline.redact.types import Hit, PiiType, RedactOptions

_MAX_DIGITS = 19


@dataclass(frozen=True)
class ForeignContext:
    """What other speakers said before each point of a text: (offset, words) pairs, by offset."""

    points: tuple[tuple[int, str], ...] = ()

    def before(self, offset: int) -> str:
        said = ""
        for start, words in self.points:
            if start > offset:
                break
            said = words
        return said


class _Context:
    def __init__(self, text: str, foreign: ForeignContext, options: RedactOptions) -> None:
        self.text = text
        self.foreign = foreign
        self.options = options

    def around(self, start: int, end: int) -> frozenset[Cue]:
        before = last_words(self.text[:start], self.options.context_words)
        after = first_words(self.text[end:], self.options.context_after_words)
        return _cues(f"{self.foreign.before(start)} \n {before} \n {after}")

    def near_before(self, start: int) -> frozenset[Cue]:
        return _cues(last_words(self.text[:start], self.options.reference_words))


@lru_cache(maxsize=4096)
def _cues(text: str) -> frozenset[Cue]:
    return cues(text)


def _is_phone(digits: str, plus: bool, said: frozenset[Cue], written_as_phone: bool) -> bool:
    n = len(digits)
    if plus:
        return (n == 11) if digits[0] == "7" else 8 <= n <= 15
    if digits.startswith("00"):
        return 11 <= n <= 15
    if n == 11 and digits[0] in "78" and digits[1] in "3489":
        return True  # Russian: 8 or 7, then a 3xx, 4xx, 8xx or 9xx code
    if n == 10 and digits[0] == "9":
        return True  # Russian mobile without the 8
    if n == 11 and digits[0] == "1" and nanp_valid(digits[1:]):
        return True
    if n == 11 and digits[:2] in ("01", "02", "03", "07"):
        return True  # British
    if n == 10 and nanp_valid(digits):
        return True
    # Shorter or looser forms only where someone is talking about a phone.
    confirmed = "phone" in said or written_as_phone
    return confirmed and (n == 10 and digits[0] in "348" or n == 7 and digits[0] != "0")


def _classify(
    digits: str, plus: bool, whole_run: bool, said: frozenset[Cue], near: frozenset[Cue], written_as_phone: bool,
    ungrouped: bool = False,
) -> tuple[PiiType, bool] | None:
    """The kind of a window of digits and whether its context confirmed it, or None."""
    n = len(digits)
    card = 13 <= n <= 19 and digits[0] in "23456" and luhn_valid(digits) and not plus
    phone = _is_phone(digits, plus, said, written_as_phone)
    snils = n == 11 and snils_valid(digits) and not plus
    inn = n in (10, 12) and inn_valid(digits) and not plus
    passport = n == 10 and not plus
    cvv = n in (3, 4) and whole_run and not plus
    # A kind named by its context wins over a kind the digits merely allow.
    if snils and "snils" in said:
        return "SNILS", True
    if inn and "inn" in said:
        return "INN", True
    if passport and "passport" in said:
        return "PASSPORT", True
    if cvv and ("cvv" in said or {"code", "card"} <= said):
        return "CVV", True
    if card and "card" in said:
        return "CARD", True
    # Said as a card number, digit by digit or as one unbroken run, but failing the Luhn
    # sum: the recogniser dropped, repeated or misheard a digit ("4 -1 -1 ...",
    # "4111111111111111111"); still a card, and must not be kept.
    if ungrouped and "card" in said and whole_run and 13 <= n <= 19 and not plus and not near & {"reference", "money"}:
        return "CARD", True
    if phone and "phone" in said:
        return "PHONE", True
    if near & {"reference", "money"}:
        return None
    if card:
        return "CARD", False
    if phone:
        return "PHONE", False
    if snils:
        return "SNILS", False
    if inn and n == 12:
        return "INN", False
    return None


def _written_as_phone(text: str, groups: tuple[NumberGroup, ...]) -> bool:
    """Brackets around a code or dashes between short groups: "(495) 123-45-67"."""
    span = text[groups[0].start : groups[-1].end]
    return "(" in span or (span.count("-") >= 2 and all(len(g.digits) <= 4 for g in groups))


# How card numbers are printed: a written number grouped otherwise is something else.
_CARD_LAYOUTS = frozenset({(4, 4, 4, 4), (4, 6, 5), (4, 6, 4), (4, 4, 4, 4, 3), (4, 4, 4, 4, 2), (4, 4, 4, 3)})


def _card_layout(groups: tuple[NumberGroup, ...]) -> bool:
    if len(groups) == 1 or any(g.spoken for g in groups) or all(len(g.digits) <= 2 for g in groups):
        return True  # one block, said aloud, or written digit by digit
    lengths = tuple(len(g.digits) for g in groups)
    # A card dictated across two segments arrives in halves of a 4-4-4-4 layout.
    return lengths in _CARD_LAYOUTS or all(n == 4 for n in lengths)


def _detect_run(run: NumberRun, context: _Context, types: frozenset[PiiType]) -> list[Hit]:
    groups = run.groups
    found: list[tuple[int, int, PiiType, float]] = []
    near = context.near_before(run.start)
    for i in range(len(groups)):
        digits = ""
        for j in range(i, len(groups)):
            digits += groups[j].digits
            if len(digits) > _MAX_DIGITS:
                break
            if len(digits) < 3:
                continue
            whole = i == 0 and j == len(groups) - 1
            said = context.around(groups[i].start, groups[j].end)
            window = groups[i : j + 1]
            ungrouped = len(window) == 1 or all(g.spoken or len(g.digits) <= 2 for g in window)
            kind = _classify(digits, groups[i].plus, whole, said, near, _written_as_phone(context.text, window), ungrouped)
            if kind is not None and kind[0] == "CARD" and not _card_layout(window):
                continue
            if kind is not None and kind[0] in types:
                found.append((i, j, kind[0], len(digits) + (0.5 if kind[1] else 0.0)))
    return [Hit(kind, _opening_bracket(context.text, groups[i].start), groups[j].end) for i, j, kind in _best_cover(found)]


def _opening_bracket(text: str, start: int) -> int:
    """Take in the "(" of "(212) 555-0147" so that no half of a bracket pair is left behind."""
    return start - 1 if start and text[start - 1] == "(" else start


def _best_cover(found: list[tuple[int, int, PiiType, float]]) -> list[tuple[int, int, PiiType]]:
    """Non-overlapping windows that cover the most digits (weighted interval scheduling)."""
    found.sort(key=lambda f: f[1])
    best: list[tuple[float, list[tuple[int, int, PiiType]]]] = [(0.0, [])]
    for k, (i, j, kind, weight) in enumerate(found):
        previous = 0
        for m in range(k - 1, -1, -1):
            if found[m][1] < i:
                previous = m + 1
                break
        take = best[previous][0] + weight
        if take > best[k][0]:
            best.append((take, [*best[previous][1], (i, j, kind)]))
        else:
            best.append(best[k])
    return best[-1][1]


def detect(text: str, options: RedactOptions | None = None, foreign: ForeignContext | None = None) -> list[Hit]:
    """Every span of personal data in the text, without overlaps, in text order."""
    options = options or RedactOptions()
    context = _Context(text, foreign or ForeignContext(), options)
    items = scan(text)
    hits: list[Hit] = []
    for run in find_number_runs(text, items):
        hits.extend(_detect_run(run, context, options.types))
    if "DOB" in options.types:
        for date in find_dates(text, items):
            said = context.around(date.start, date.end)
            # A birthday without a year is a day to congratulate, not an identifier.
            if "birth" in said or ("birthday" in said and date.has_year):
                hits.append(Hit("DOB", date.start, date.end))
        hits.extend(Hit("DOB", year.start, year.end) for year in find_birth_years(text, items))
    if "EMAIL" in options.types:
        hits.extend(Hit("EMAIL", start, end) for start, end in find_emails(text, context.around))
    return _without_overlaps(hits)


def _without_overlaps(hits: list[Hit]) -> list[Hit]:
    """Longer hits first: a date of birth or an e-mail swallows the numbers inside it."""
    kept: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start - h.end, h.start)):
        if all(hit.end <= k.start or hit.start >= k.end for k in kept):
            kept.append(hit)
    return sorted(kept, key=lambda h: h.start)
