"""The work queue on SQLite and PostgreSQL: registration, sidecars, claims, leases, resume."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from models import CallRow, ManagerRow, create_schema, make_engine, make_session_factory
from pipeline import store
from pipeline.worker import CallWorker, register
from tests.conftest import SAMPLES
from tests.fakes import FakeTranscriber


@pytest.fixture
def sessions(queue_env):
    engine = make_engine(queue_env.resolved_database_url)
    create_schema(engine)
    yield make_session_factory(engine)
    engine.dispose()


def _rows(sessions) -> dict[str, CallRow]:
    with sessions() as session:
        return {c.file_name: c for c in session.scalars(select(CallRow))}


def test_register_reads_json_and_csv_sidecars_and_creates_managers(queue_env, sessions, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLES / "ru_good_vacuum.wav", inbox / "ru_good_vacuum.wav")
    shutil.copy(SAMPLES / "en_good_laptop.wav", inbox / "en_good_laptop.wav")
    (inbox / "ru_good_vacuum.json").write_text(json.dumps({
        "manager_id": "m-17", "manager_name": "Ольга Смирнова", "team": "Москва",
        "client_phone": "+7 (916) 123-45-67", "started_at": "2026-11-25T10:15:00",
        "direction": "outbound", "order_outcome": "won", "order_amount": 18990, "currency": "RUB",
    }, ensure_ascii=False), encoding="utf-8")
    (inbox / "crm_export.csv").write_text(
        "file,manager_id,manager_name,team,started_at,direction,order_outcome,order_amount\n"
        "en_good_laptop.wav,m-42,Jane Doe,London,2026-11-25T09:00:00+00:00,inbound,lost,\n",
        encoding="utf-8",
    )
    assert register([inbox], queue_env, sessions) == []
    rows = _rows(sessions)
    ru, en = rows["ru_good_vacuum.wav"], rows["en_good_laptop.wav"]
    assert ru.status == en.status == "ingested"
    # Naive times are read in the team's zone (Moscow, UTC+3).
    assert ru.started_at.replace(tzinfo=timezone.utc) == datetime(2026, 11, 25, 7, 15, tzinfo=timezone.utc)
    assert (ru.direction, ru.order_outcome, ru.order_amount, ru.scorecard_id) == ("outbound", "won", 18990, "outbound_followup")
    assert ru.client_phone_masked == "+7…67" and "9161234567" not in (ru.client_phone_hash or "")
    assert (en.direction, en.order_outcome, en.order_amount, en.scorecard_id) == ("inbound", "lost", None, "inbound_inquiry")
    with sessions() as session:
        managers = {m.external_id: (m.name, m.team.name) for m in session.scalars(select(ManagerRow))}
    assert managers == {"m-17": ("Ольга Смирнова", "Москва"), "m-42": ("Jane Doe", "London")}

    # Re-scanning the same inbox changes nothing and duplicates nothing.
    assert register([inbox], queue_env, sessions) == []
    assert len(_rows(sessions)) == 2
    with sessions() as session:
        assert len(session.scalars(select(ManagerRow)).all()) == 2


def test_a_broken_sidecar_quarantines_the_call_until_it_is_fixed(queue_env, sessions, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLES / "en_poor_laptop.wav", inbox / "call.wav")
    (inbox / "call.json").write_text('{"direction": "sideways", "started_at": "yesterday"}', encoding="utf-8")
    (outcome,) = register([inbox], queue_env, sessions)
    assert outcome.status == "quarantined"
    assert "call.json" in outcome.reason and "direction" in outcome.reason and "started_at" in outcome.reason
    (inbox / "call.json").write_text('{"direction": "outbound"}', encoding="utf-8")
    assert register([inbox], queue_env, sessions) == []
    assert _rows(sessions)["call.wav"].status == "ingested"


def test_worker_resumes_a_transcribed_call_and_never_redoes_work(queue_env, sessions, calls_folder, monkeypatch):
    register([calls_folder("ru_poor_vacuum", "en_good_laptop")], queue_env, sessions)
    fake = FakeTranscriber()
    worker = CallWorker(queue_env, sessions, transcriber=fake)
    call_id = worker.claim()
    monkeypatch.setattr("pipeline.worker.score", lambda *a: (_ for _ in ()).throw(RuntimeError("scoring crashed")))
    failed = worker.process(call_id)
    assert failed.status == "failed" and "scoring crashed" in failed.reason
    row = _rows(sessions)[failed.file]
    assert row.status == "transcribed" and "scoring crashed" in row.error and row.claimed_by is None
    monkeypatch.undo()

    outcomes = CallWorker(queue_env, sessions, transcriber=fake).drain()
    assert sorted(o.status for o in outcomes) == ["processed", "processed"]
    assert len(fake.calls) == 2  # the transcribed call was only scored
    assert CallWorker(queue_env, sessions, transcriber=fake).drain() == []
    with sessions() as session:
        for call in session.scalars(select(CallRow)):
            assert call.status == "scored" and call.error is None
            assert len(call.transcripts) == 1 and len(call.assessments) == 1


def test_a_claim_is_exclusive_until_its_lease_expires(queue_env, sessions, calls_folder):
    register([calls_folder("en_poor_laptop")], queue_env, sessions)
    first = CallWorker(queue_env, sessions, transcriber=FakeTranscriber())
    second = CallWorker(queue_env, sessions, transcriber=FakeTranscriber())
    second.name = "another-host:1"
    call_id = first.claim()
    assert call_id is not None and second.claim() is None
    with sessions.begin() as session:  # the first worker died an hour ago
        session.execute(update(CallRow).values(lease_expires_at=datetime.now(timezone.utc) - timedelta(hours=1)))
    assert second.claim() == call_id
    # The first worker cannot commit over the call it lost.
    lost = first.process(call_id)
    assert lost.status == "skipped" and "taken over" in lost.reason
    assert second.process(call_id).status == "processed"
    with sessions() as session:
        call = session.get(CallRow, call_id)
        assert call.attempts == 2 and len(call.assessments) == 1


class PieceByPieceTranscriber(FakeTranscriber):
    """Reads the call in 10 s pieces, as Whisper reads a long call, calling ``during`` with
    the number of each piece once it has it."""

    def __init__(self, during) -> None:
        super().__init__()
        self.during = during
        self.pieces = 0

    def transcribe(self, audio):
        for _ in audio.pieces(10):
            self.pieces += 1
            self.during(self.pieces)
        return super().transcribe(audio)


def test_a_worker_renews_its_claim_between_pieces_and_stops_when_it_lost_the_call(queue_env, sessions, calls_folder):
    register([calls_folder("en_poor_laptop"), calls_folder("ru_poor_vacuum")], queue_env, sessions)
    leases = []

    def record_the_lease(_):
        with sessions() as session:
            leases.append(session.get(CallRow, call_id).lease_expires_at)

    worker = CallWorker(queue_env, sessions, transcriber=PieceByPieceTranscriber(record_the_lease))
    call_id = worker.claim()
    assert worker.process(call_id).status == "processed"
    assert len(leases) >= 4 and leases == sorted(set(leases))  # a longer lease with every piece

    def another_worker_takes_over(piece):
        if piece == 1:
            with sessions.begin() as session:
                session.execute(update(CallRow).values(claimed_by="another-host:1"))

    worker = CallWorker(queue_env, sessions, transcriber=PieceByPieceTranscriber(another_worker_takes_over))
    call_id = worker.claim()
    lost = worker.process(call_id)
    assert lost.status == "skipped" and "taken over" in lost.reason
    assert worker.transcriber.pieces == 1  # it stopped reading the call at once
    with sessions() as session:
        call = session.get(CallRow, call_id)
        assert call.claimed_by == "another-host:1" and not call.transcripts


def test_a_call_that_keeps_killing_its_worker_is_given_up(queue_env, sessions, calls_folder):
    register([calls_folder("en_poor_laptop")], queue_env, sessions)
    for attempt in range(queue_env.max_attempts):
        worker = CallWorker(queue_env, sessions, transcriber=FakeTranscriber())
        worker.name = f"doomed:{attempt}"
        assert worker.claim() is not None
        with sessions.begin() as session:
            session.execute(update(CallRow).values(lease_expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    assert CallWorker(queue_env, sessions, transcriber=FakeTranscriber()).drain() == []
    (row,) = _rows(sessions).values()
    assert row.status == "failed" and "gave up after 3 attempts" in row.error


def test_store_keeps_exactly_one_current_assessment_per_call(queue_env, sessions, calls_folder):
    register([calls_folder("en_good_laptop")], queue_env, sessions)
    CallWorker(queue_env, sessions, transcriber=FakeTranscriber()).drain()
    (row,) = _rows(sessions).values()
    with sessions() as session:
        transcript = store.load_transcript(session=session, call_id=row.id)
        assessment = store.load_assessment(session=session, call_id=row.id)
    for _ in range(2):
        with sessions.begin() as session:
            transcript_id = store.current_transcript_row(session=session, call_id=row.id).id
            store.save_assessment(session=session, call_id=row.id, transcript_id=transcript_id, assessment=assessment)
    with sessions() as session:
        call = session.get(CallRow, row.id)
        assert len(call.assessments) == 3 and sum(a.is_current for a in call.assessments) == 1
    assert transcript.segments


def test_files_still_being_written_are_left_for_the_next_run(queue_env, sessions, calls_folder):
    inbox = calls_folder("en_poor_laptop")
    (outcome,) = register([inbox], queue_env, sessions, settle_s=3600)
    assert outcome.status == "skipped" and "may still be written" in outcome.reason
    assert _rows(sessions) == {}
    assert register([inbox], queue_env, sessions, settle_s=0) == []
    assert list(_rows(sessions)) == ["en_poor_laptop.wav"]
