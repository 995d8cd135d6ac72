"""Check digits of the numbers we redact: they tell a card or an INN from any long number."""

from __future__ import annotations


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) sum every payment card number satisfies."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        d = int(char)
        if position % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _weighted(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_valid(digits: str) -> bool:
    """A Russian taxpayer number: 10 digits (an organisation) or 12 (a person), with check digits."""
    if len(digits) == 10:
        return _weighted(digits, (2, 4, 10, 3, 5, 9, 4, 6, 8)) == int(digits[9])
    if len(digits) == 12:
        n11 = _weighted(digits, (7, 2, 4, 10, 3, 5, 9, 4, 6, 8))
        n12 = _weighted(digits, (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8))
        return n11 == int(digits[10]) and n12 == int(digits[11])
    return False


def snils_valid(digits: str) -> bool:
    """A Russian pension insurance number: 9 digits and a 2-digit check sum."""
    if len(digits) != 11:
        return False
    total = sum(int(d) * (9 - i) for i, d in enumerate(digits[:9]))
    while total > 101:
        total %= 101
    expected = 0 if total in (100, 101) else total
    return expected == int(digits[9:])


def nanp_valid(digits: str) -> bool:
    """A 10-digit North American number: area code and exchange both start with 2-9."""
    return len(digits) == 10 and digits[0] in "23456789" and digits[3] in "23456789"
