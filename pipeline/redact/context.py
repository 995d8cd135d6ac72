"""Context words: what the speakers said around a number decides what kind of number it is.

A bare "123" is a CVV only after someone asked for the code on the back of the card; a
date is a date of birth only near "дата рождения" or "born". Patterns match the lower-cased
words around a candidate (ё written as е), in Russian and English alike, because calls
switch language and Whisper transliterates.
"""

from __future__ import annotations

import re
from typing import Literal

Cue = Literal[
    "card", "cvv", "code", "phone", "passport", "inn", "snils", "birth", "birthday", "email", "reference", "money"
]

_BIRTHDAY = re.compile(r"\bд(?:ень|ня|ню|нем)\s+рождени\w*|birthday|днюх")

_CUES: dict[Cue, re.Pattern[str]] = {
    "card": re.compile(r"\bкарт|\bcard\b|\bcards\b|\bvisa\b|\bвиза\b|мастеркард|mastercard|\bмаэстро|\bmaestro|\bamex\b"),
    "cvv": re.compile(
        r"\bcvv|\bcvc|\bсвв|\bсвц|\bси ?ви ?ви|\bсиви|код безопасности|security code|verification code"
        r"|на обороте|на обратной|обратной сторон|on the back|back of the card|back of your card"
        r"|три цифры|3 цифры|трехзначн|three digits|3 digits|three-digit|3-digit"
    ),
    "code": re.compile(r"\bкод\b|\bкода\b|\bкодом\b|\bcode\b"),
    "phone": re.compile(
        r"телефон|\bтел\b|мобильн|сотов|позвон|перезвон|звонит|whatsapp|ватсап|вотсап|телеграм|telegram"
        r"|phone|mobile|\bcell\b|call me|call you|reach me|text me|\bмой номер|\bmy number|\bномер для связи"
    ),
    "passport": re.compile(r"паспорт|passport|\bсерия\b|\bсерии\b|\bсерию\b"),
    "inn": re.compile(r"\bинн\b|налогоплательщик|\binn\b|\btin\b|taxpayer|tax id|tax number"),
    "snils": re.compile(r"снилс|страхов\w* номер|страхов\w* свидетельств|пенсионн|\bsnils\b|insurance number"),
    # "birth" is said of a date of birth; "birthday" also of a gift or a discount.
    "birth": re.compile(r"рожден|родил|\bborn\b|birth(?!day)|\bdob\b|\bд\.р\b"),
    "birthday": _BIRTHDAY,
    "email": re.compile(r"почт|e-?mail|имейл|емейл|\bмейл|электронк|электронн"),
    # Numbers people say in a shop that are nobody's personal data.
    "reference": re.compile(
        r"заказ|\border|трек|track|артикул|\bsku\b|модел|model|накладн|заявк|ticket|тикет|reference"
        r"|confirmation|промокод|promo|купон|coupon|invoice|сч[её]т|договор|contract|\bчек|receipt"
        r"|item number|product code|parcel|посылк|отправлени|\bномер товара|№|#"
    ),
    "money": re.compile(
        r"руб|₽|\$|€|доллар|dollar|bucks|евро|euro|\bцен|стоит|стоимост|price|cost|total|итого"
        r"|скидк|discount|\bсумм|amount|\bpay\b|заплат|оплат"
    ),
}


def cues(text: str) -> frozenset[Cue]:
    """The cues that occur in a snippet of speech."""
    lowered = text.lower().replace("ё", "е")
    found = {name for name, pattern in _CUES.items() if pattern.search(lowered)}
    if "birthday" in found and not _CUES["birth"].search(_BIRTHDAY.sub(" ", lowered)):
        found.discard("birth")
    return frozenset(found)


def last_words(text: str, count: int) -> str:
    return " ".join(text.split()[-count:]) if count > 0 else ""


def first_words(text: str, count: int) -> str:
    return " ".join(text.split()[:count]) if count > 0 else ""
