"""Calendar dates, written or said, in Russian and English.

A date is personal data only as a date of birth, which the caller decides from context;
this module only finds dates: "12.03.1985", "1985-03-12", "12 марта 1985 года",
"двенадцатого марта тысяча девятьсот восемьдесят пятого", "March 12th, 1985",
"the twelfth of March nineteen eighty-five".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.redact.numbers import Item, NumberGroup, Token

_NUMERIC = re.compile(
    r"(?<![\d.])(?:(?P<d>\d{1,2})[./](?P<m>\d{1,2})[./](?P<y>\d{4}|\d{2})|(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2}))(?![\d])"
)
_RU_MONTHS = ("январ", "феврал", "март", "апрел", "", "июн", "июл", "август", "сентябр", "октябр", "ноябр", "декабр")
_EN_MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december",
)
_MONTH_WORDS = frozenset(
    [f"{stem}{ending}" for stem in _RU_MONTHS if stem for ending in ("ь", "я", "е", "а", "")]
    + ["май", "мая", "мае"]
    + list(_EN_MONTHS)
    + ["jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"]
)
_YEAR_WORDS = frozenset({"года", "год", "году", "г", "year"})
_FILLERS = frozenset({"the", "of", ","})


@dataclass(frozen=True)
class DateSpan:
    start: int
    end: int
    has_year: bool


def _is_month(item: Item) -> bool:
    return isinstance(item, Token) and item.kind == "word" and item.key in _MONTH_WORDS


def _day(item: Item) -> bool:
    return isinstance(item, NumberGroup) and 1 <= int(item.digits) <= 31 and len(item.digits) <= 2


def _skip(items: list[Item], k: int) -> int:
    while k < len(items) and isinstance(items[k], Token) and items[k].key in _FILLERS:
        k += 1
    return k


def _year_end(items: list[Item], k: int) -> int | None:
    """The end offset of a year starting at item k ("1985", "85-го", "nineteen eighty-five")."""
    if k >= len(items) or not isinstance(items[k], NumberGroup):
        return None
    first = items[k]
    end = first.end
    if len(first.digits) == 2 and k + 1 < len(items):
        second = items[k + 1]
        if isinstance(second, NumberGroup) and len(second.digits) == 2 and first.digits in ("19", "20"):
            end = second.end
            k += 1
    elif len(first.digits) not in (2, 4):
        return None
    if k + 1 < len(items) and isinstance(items[k + 1], Token) and items[k + 1].key in _YEAR_WORDS:
        end = items[k + 1].end
    return end


def find_dates(text: str, items: list[Item]) -> list[DateSpan]:
    """Character spans of the dates in the text."""
    spans = []
    for m in _NUMERIC.finditer(text):
        day, month = (m["d"], m["m"]) if m["d"] else (m["id"], m["im"])
        # Either order of day and month: 12/03 and 03/12 are both dates.
        if 1 <= int(month) <= 31 and 1 <= int(day) <= 31 and min(int(day), int(month)) <= 12:
            spans.append(DateSpan(m.start(), m.end(), has_year=True))
    for k, item in enumerate(items):
        if not _is_month(item):
            continue
        start = end = None
        back = k - 1
        while back >= 0 and isinstance(items[back], Token) and items[back].key in _FILLERS:
            back -= 1
        if back >= 0 and _day(items[back]):  # day first: "12 марта", "the 12th of March"
            start, end = items[back].start, item.end
            year_at = _skip(items, k + 1)
        else:  # month first: "March 12th, 1985"
            day_at = _skip(items, k + 1)
            if day_at < len(items) and _day(items[day_at]):
                start, end = item.start, items[day_at].end
                year_at = _skip(items, day_at + 1)
        if start is None:
            continue
        year_end = _year_end(items, year_at)
        spans.append(DateSpan(start, year_end or end, has_year=year_end is not None))
    return spans


_BIRTH_YEAR_BEFORE = re.compile(r"(?:born in|year of birth(?: is)?|год рождения|родил\w*\s+в)\W*$", re.IGNORECASE)
_BIRTH_YEAR_AFTER = re.compile(r"^\s*(?:года|г\.?)\s+рождения", re.IGNORECASE)


def find_birth_years(text: str, items: list[Item]) -> list[DateSpan]:
    """A year said as a year of birth: "1985 года рождения", "born in nineteen eighty-five"."""
    spans = []
    for k, item in enumerate(items):
        if not isinstance(item, NumberGroup):
            continue
        end = _year_end(items, k)
        if end is None or (k and isinstance(items[k - 1], NumberGroup) and items[k - 1].end > item.start - 2):
            continue
        if _BIRTH_YEAR_BEFORE.search(text[max(0, item.start - 30) : item.start]) or _BIRTH_YEAR_AFTER.match(
            text[item.end : item.end + 30]
        ):
            spans.append(DateSpan(item.start, end, has_year=True))
    return spans
