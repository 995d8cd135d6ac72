"""Redact stage: personal data out of transcripts (placeholders) and reviewer audio (a tone).

Runs between transcription and storage, in Russian and English: payment cards (Luhn),
phone numbers, e-mail addresses, Russian passport, INN and SNILS (check digits), CVV codes
near a card context and dates of birth near a birth context. See docs/privacy.md.
"""

from pipeline.redact.audio import BleepOptions, bleep_file
from pipeline.redact.detect import detect
from pipeline.redact.numbers import NumberGroup, NumberRun, find_number_runs, normalise_numbers
from pipeline.redact.transcript import redact_text, redact_transcript
from pipeline.redact.types import PII_TYPES, Hit, PiiType, RedactionResult, RedactOptions, Redaction, placeholder

__all__ = [
    "PII_TYPES",
    "BleepOptions",
    "Hit",
    "NumberGroup",
    "NumberRun",
    "PiiType",
    "RedactOptions",
    "Redaction",
    "RedactionResult",
    "bleep_file",
    "detect",
    "find_number_runs",
    "normalise_numbers",
    "placeholder",
    "redact_text",
    "redact_transcript",
]
