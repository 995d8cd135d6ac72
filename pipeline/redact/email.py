"""E-mail addresses, written ("ivan.petrov@mail.ru") or spelled out in speech
("иван точка петров собака mail точка ru", "john dot smith at gmail dot com")."""

from __future__ import annotations

from collections.abc import Callable

from pipeline.redact.context import Cue
from pipeline.redact.numbers import Token, is_number_word, tokenize

_AT = frozenset({"@", "собака", "собачка", "собаку", "собачку", "at", "эт", "ат"})
_DOT = frozenset({".", "точка", "dot"})
_LINKS = frozenset({"_", "-", "+", "дефис", "тире", "dash", "hyphen", "underscore", "подчеркивание", "подчёркивание"})
_TLDS = frozenset({
    "ru", "com", "net", "org", "info", "biz", "io", "me", "su", "by", "kz", "ua", "uk", "de", "fr", "eu",
    "us", "ca", "co", "edu", "gov", "рф", "ру", "ком", "нет", "орг", "инфо",
})
_PROVIDERS = frozenset({
    "gmail", "mail", "yandex", "ya", "yahoo", "hotmail", "outlook", "icloud", "rambler", "bk", "list",
    "inbox", "proton", "protonmail", "aol", "live", "мейл", "майл", "мэйл", "яндекс", "джимейл", "гмейл",
    "гмэйл", "джимэйл", "рамблер", "аутлук", "хотмейл", "яху", "айклауд",
})
# Words that come before an address and are not part of it.
_NOT_LOCAL = frozenset({
    "is", "its", "it's", "my", "email", "mail", "address", "me", "to", "at", "это", "мой", "моя", "адрес",
    "почта", "почту", "на", "имейл", "емейл", "пишите", "write",
})


def _label(token: Token) -> bool:
    return token.kind in ("word", "mixed", "digits")


def find_emails(text: str, around: Callable[[int, int], frozenset[Cue]]) -> list[tuple[int, int]]:
    """Character spans of e-mail addresses; `around` gives the cues near a span."""
    tokens = [t for t in tokenize(text) if t.kind != "break"]
    spans = []
    for k, token in enumerate(tokens):
        if token.key not in _AT or k == 0 or k + 1 >= len(tokens):
            continue
        domain = _domain_end(tokens, k + 1)
        local = _local_start(tokens, k - 1)
        if domain is None or local is None:
            continue
        end, labels = domain
        known = labels[-1] in _TLDS and len(labels) > 1
        provider = labels[0] in _PROVIDERS and "email" in around(tokens[local].start, tokens[end].end)
        if known or provider:
            spans.append((tokens[local].start, tokens[end].end))
    return spans


def _domain_end(tokens: list[Token], k: int) -> tuple[int, list[str]] | None:
    if not _label(tokens[k]):
        return None
    labels, end = [tokens[k].key], k
    while end + 2 < len(tokens) and (tokens[end + 1].key in _DOT or tokens[end + 1].key in _LINKS):
        if not _label(tokens[end + 2]):
            break
        if tokens[end + 1].key in _DOT:
            labels.append(tokens[end + 2].key)
        else:
            labels[-1] += "-" + tokens[end + 2].key
        end += 2
    return end, labels


def _local_start(tokens: list[Token], k: int) -> int | None:
    if not _label(tokens[k]) or tokens[k].key in _NOT_LOCAL:
        return None
    start = k
    while start >= 2 and (tokens[start - 1].key in _DOT | _LINKS) and _label(tokens[start - 2]):
        if tokens[start - 2].key in _NOT_LOCAL:
            break
        start -= 2
    # "ivan 85 at ...", "jones eighty seven at ...": a number said after the name belongs to it.
    if _numeric(tokens[start]):
        while start >= 1 and _numeric(tokens[start - 1]):
            start -= 1
        if start >= 1 and tokens[start - 1].kind == "word" and tokens[start - 1].key not in _NOT_LOCAL:
            start -= 1
            while start >= 2 and (tokens[start - 1].key in _DOT | _LINKS) and _label(tokens[start - 2]):
                start -= 2
    return start


def _numeric(token: Token) -> bool:
    return token.kind == "digits" or (token.kind == "word" and is_number_word(token.key))
