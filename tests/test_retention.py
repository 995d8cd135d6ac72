"""Retention on SQLite and PostgreSQL: old audio and transcript text go, verdicts and KPIs stay."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from callqa.cli import cli
from models import CallRow, SegmentRow, create_schema, make_engine, make_session_factory
from pipeline import store
from pipeline.retention import apply_retention
from pipeline.settings import get_settings
from pipeline.worker import CallWorker, register
from tests.fakes import FakeTranscriber


@pytest.fixture
def two_scored_calls(queue_env, calls_folder, monkeypatch):
    """A Russian call from 100 days ago and an English one from today, both scored."""
    monkeypatch.setenv("CALLQA_RETENTION_ORIGINAL_AUDIO_DAYS", "90")
    monkeypatch.setenv("CALLQA_RETENTION_TRANSCRIPT_DAYS", "60")
    get_settings.cache_clear()
    settings = get_settings()
    engine = make_engine(settings.resolved_database_url)
    create_schema(engine)
    sessions = make_session_factory(engine)
    register([calls_folder("ru_good_vacuum", "en_poor_laptop")], settings, sessions)
    CallWorker(settings, sessions, transcriber=FakeTranscriber()).drain()
    with sessions.begin() as session:
        session.execute(
            update(CallRow).where(CallRow.file_name == "ru_good_vacuum.wav")
            .values(started_at=datetime.now(timezone.utc) - timedelta(days=100))
        )
    yield settings, sessions
    engine.dispose()


def _by_file(sessions) -> dict[str, CallRow]:
    with sessions() as session:
        return {c.file_name: c for c in session.scalars(select(CallRow))}


def test_dry_run_counts_and_deletes_nothing(two_scored_calls):
    settings, sessions = two_scored_calls
    report = apply_retention(settings, sessions, dry_run=True)
    assert (report.original_audio, report.review_audio, report.transcripts) == (1, 0, 1)
    assert all(Path(c.archive_path).is_file() for c in _by_file(sessions).values())


def test_old_audio_and_text_are_deleted_and_the_verdicts_stay(two_scored_calls):
    settings, sessions = two_scored_calls
    before = {name: (c.id, Path(c.archive_path)) for name, c in _by_file(sessions).items()}
    with sessions() as session:
        old_assessment = store.load_assessment(session=session, call_id=before["ru_good_vacuum.wav"][0])
    report = apply_retention(settings, sessions)
    assert (report.original_audio, report.transcripts) == (1, 1)
    calls = _by_file(sessions)
    old, new = calls["ru_good_vacuum.wav"], calls["en_poor_laptop.wav"]
    assert not before["ru_good_vacuum.wav"][1].exists() and old.archive_path is None and old.audio_purged_at
    assert before["en_poor_laptop.wav"][1].is_file() and new.audio_purged_at is None
    with sessions() as session:
        segments = session.scalars(select(SegmentRow)).all()
        assert {s.transcript.call_id for s in segments} == {new.id}
        kept = store.load_assessment(session=session, call_id=old.id)
        assert store.calls_with_transcripts(session=session) == [new.id]
    assert (kept.score, kept.passed, [i.status for i in kept.items]) == (
        old_assessment.score, old_assessment.passed, [i.status for i in old_assessment.items]
    )
    assert all(not e.text for item in kept.items for e in item.evidence)
    assert any(e.text for item in old_assessment.items for e in item.evidence)
    # A second pass finds nothing more to delete.
    again = apply_retention(settings, sessions)
    assert (again.original_audio, again.transcripts) == (0, 0)


def test_retention_command(two_scored_calls):
    result = CliRunner().invoke(cli, ["retention", "--dry-run"])
    assert result.exit_code == 0
    assert "would delete: original audio of 1 calls" in result.output and "transcript text of 1" in result.output
