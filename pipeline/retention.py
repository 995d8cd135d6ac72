"""Retention: delete recordings and transcript text once they are old enough, keep the verdicts.

Three periods, each off unless configured: the original audio in the archive, the audio
reviewers hear, and the transcript text (segments, words and the quoted evidence). What
stays is what the KPIs need: calls, assessments with their item statuses, metrics and
human reviews. Age counts from the call's start time (from the CRM), else its arrival.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from pipeline import store
from pipeline.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionReport:
    original_audio: int
    review_audio: int
    transcripts: int
    dry_run: bool


def _delete(path: str | None) -> None:
    if path:
        Path(path).unlink(missing_ok=True)


def apply_retention(settings: Settings, sessions: sessionmaker[Session], *, now: datetime | None = None,
                    dry_run: bool = False) -> RetentionReport:
    """Delete what has outlived its period; with dry_run, only count it."""
    now = now or datetime.now(timezone.utc)
    counts = {}
    periods = {
        "original_audio": settings.retention_original_audio_days,
        "review_audio": settings.retention_review_audio_days,
        "transcripts": settings.retention_transcript_days,
    }
    for what, days in periods.items():
        if days is None:
            counts[what] = 0
            continue
        with sessions.begin() as session:
            due = store.calls_due_for_purge(session=session, what=what, before=now - timedelta(days=days))
            counts[what] = len(due)
            if dry_run:
                continue
            for call in due:
                if what == "original_audio":
                    _delete(call.archive_path)
                    if call.review_audio_path == call.archive_path:
                        call.review_audio_path = None
                    call.archive_path = None
                    call.audio_purged_at = now
                elif what == "review_audio":
                    if call.review_audio_path != call.archive_path:
                        _delete(call.review_audio_path)
                    call.review_audio_path = None
                else:
                    store.purge_transcript_text(session=session, call_id=call.id)
                    call.transcript_purged_at = now
        if counts[what]:
            log.info("retention: %s %d calls' %s (older than %d days)",
                     "would purge" if dry_run else "purged", counts[what], what.replace("_", " "), days)
    return RetentionReport(dry_run=dry_run, **counts)
