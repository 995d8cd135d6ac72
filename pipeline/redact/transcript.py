"""Redact a transcript: segment texts and words get typed placeholders, spans get times.

Each speaker's segments are read as one stream (in time order), so a number dictated
across two segments is one number; segments further apart than `join_gap_s` are split
by a hard break that no number crosses. Context (the agent's "назовите код на обороте")
comes from the speaker's own words and from what the other speaker said just before.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pipeline.redact.context import last_words
from pipeline.redact.detect import ForeignContext, detect
from pipeline.redact.types import Hit, PiiType, RedactionResult, RedactOptions, Redaction, placeholder
from pipeline.types import Segment, Transcript, Word

log = logging.getLogger(__name__)

_SOFT, _HARD = " ", "\n"


@dataclass(frozen=True)
class _Piece:
    segment: int
    offset: int  # where the segment's text starts in the stream


@dataclass(frozen=True)
class _SegmentHit:
    type: PiiType
    start: int
    end: int
    split: bool


def redact_transcript(transcript: Transcript, options: RedactOptions | None = None) -> RedactionResult:
    """The transcript with personal data replaced by placeholders, and where each one was."""
    options = options or RedactOptions()
    segments = transcript.segments
    order = sorted(range(len(segments)), key=lambda i: (segments[i].start, i))
    per_segment: dict[int, list[_SegmentHit]] = {i: [] for i in range(len(segments))}
    for speaker in dict.fromkeys(segments[i].speaker for i in order):
        own = [i for i in order if segments[i].speaker == speaker]
        text, pieces = _stream(segments, own, options)
        foreign = _foreign_context(segments, order, pieces, options)
        for hit in detect(text, options, foreign):
            for index, part in _split(hit, pieces, segments, text):
                per_segment[index].append(part)
    redactions: list[Redaction] = []
    new_segments = []
    for index, segment in enumerate(segments):
        hits = sorted(per_segment[index], key=lambda h: h.start)
        new_segment, found = _redact_segment(index, segment, hits)
        new_segments.append(new_segment)
        redactions.extend(found)
    redactions.sort(key=lambda r: (r.start, r.segment, r.char_start))
    if redactions:
        log.info("redacted %d spans in call %s", len(redactions), transcript.call_id or "(no id)")
    return RedactionResult(transcript.model_copy(update={"segments": tuple(new_segments)}), tuple(redactions))


def redact_text(text: str, options: RedactOptions | None = None) -> str:
    """One utterance with its personal data replaced by placeholders."""
    return _replace(text, [_SegmentHit(h.type, h.start, h.end, False) for h in detect(text, options)])


def _stream(segments: tuple[Segment, ...], own: list[int], options: RedactOptions) -> tuple[str, list[_Piece]]:
    parts: list[str] = []
    pieces: list[_Piece] = []
    offset = 0
    for position, index in enumerate(own):
        if position:
            gap = segments[index].start - segments[own[position - 1]].end
            parts.append(_SOFT if gap <= options.join_gap_s else _HARD)
            offset += 1
        # A newline inside a segment must not read as a hard break, nor a break as text.
        text = segments[index].text.replace("\n", " ")
        pieces.append(_Piece(index, offset))
        parts.append(text)
        offset += len(text)
    return "".join(parts), pieces


def _foreign_context(
    segments: tuple[Segment, ...], order: list[int], pieces: list[_Piece], options: RedactOptions
) -> ForeignContext:
    points = []
    for piece in pieces:
        own = segments[piece.segment]
        before = [
            segments[i].text
            for i in order
            if segments[i].speaker != own.speaker
            and segments[i].start <= own.start
            and segments[i].end >= own.start - options.context_seconds
        ]
        points.append((piece.offset, last_words(" ".join(before), 2 * options.context_words)))
    return ForeignContext(tuple(points))


def _split(hit: Hit, pieces: list[_Piece], segments: tuple[Segment, ...], text: str) -> list[tuple[int, _SegmentHit]]:
    """A stream hit as parts in the segments it touches, without surrounding blanks."""
    parts = []
    for piece in pieces:
        length = len(segments[piece.segment].text)
        start = max(hit.start, piece.offset) - piece.offset
        end = min(hit.end, piece.offset + length) - piece.offset
        if end <= start:
            continue
        chunk = text[piece.offset + start : piece.offset + end]
        start += len(chunk) - len(chunk.lstrip())
        end -= len(chunk) - len(chunk.rstrip())
        if end > start:
            parts.append((piece.segment, _SegmentHit(hit.type, start, end, False)))
    if len(parts) > 1:
        parts = [(index, _SegmentHit(h.type, h.start, h.end, True)) for index, h in parts]
    return parts


def _replace(text: str, hits: list[_SegmentHit]) -> str:
    out, cursor = [], 0
    for hit in hits:
        out.append(text[cursor : hit.start])
        out.append(placeholder(hit.type))
        cursor = hit.end
    out.append(text[cursor:])
    return "".join(out)


def _align(text: str, words: tuple[Word, ...]) -> list[tuple[int, int]] | None:
    """Each word's character span in the segment text; None if the words do not match it."""
    spans, cursor, lowered = [], 0, text.lower()
    for word in words:
        token = word.text.strip().lower()
        at = lowered.find(token, cursor) if token else cursor
        if at < 0 or lowered[cursor:at].strip():
            return None
        spans.append((at, at + len(token)))
        cursor = at + len(token)
    return spans


def _redact_segment(index: int, segment: Segment, hits: list[_SegmentHit]) -> tuple[Segment, list[Redaction]]:
    if not hits:
        return segment, []
    spans = _align(segment.text, segment.words) if segment.words else None
    if segment.words and spans is None:
        # Words that cannot be matched to the text cannot be redacted safely: drop them.
        log.warning("segment %d: words do not match the text; dropping its word timestamps", index)
    redactions = []
    for hit in hits:
        start, end = segment.start, segment.end
        if spans:
            touched = [w for w, (s, e) in zip(segment.words, spans, strict=True) if s < hit.end and e > hit.start]
            if touched:
                start, end = touched[0].start, touched[-1].end
        redactions.append(Redaction(hit.type, index, segment.speaker, start, end, hit.start, hit.end, hit.split))
    words = _redact_words(segment, spans, hits) if spans else ()
    return segment.model_copy(update={"text": _replace(segment.text, hits), "words": words}), redactions


def _redact_words(segment: Segment, spans: list[tuple[int, int]], hits: list[_SegmentHit]) -> tuple[Word, ...]:
    """Words touched by one hit become one word: the untouched edges and the placeholder."""
    words: list[Word] = []
    k = 0
    pairs = list(zip(segment.words, spans, strict=True))
    while k < len(pairs):
        word, (s, e) = pairs[k]
        hit = next((h for h in hits if s < h.end and e > h.start), None)
        if hit is None:
            words.append(word)
            k += 1
            continue
        last = k
        while last + 1 < len(pairs) and pairs[last + 1][1][0] < hit.end:
            last += 1
        first_start, last_end = spans[k][0], spans[last][1]
        lead = word.text[: len(word.text) - len(word.text.lstrip())]
        covered = [h for h in hits if h.start < last_end and h.end > first_start]
        text = _replace(segment.text[first_start:last_end], [
            _SegmentHit(h.type, max(h.start, first_start) - first_start, min(h.end, last_end) - first_start, h.split)
            for h in covered
        ])
        words.append(Word(start=word.start, end=pairs[last][0].end, text=lead + text))
        k = last + 1
    return tuple(words)
