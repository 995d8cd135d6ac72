from pathlib import Path

import pytest

from models import create_schema, make_engine, make_session_factory
from pipeline import store
from pipeline.errors import CallNotFoundError
from pipeline.ingest import archive, ingest
from pipeline.score import load_scorecard, score
from tests.fakes import TURNS_DIR, transcript_from_turns

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def sessions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db' / 'callqa.db'}")
    create_schema(engine)
    yield make_session_factory(engine)
    engine.dispose()


def _store_sample(sessions, tmp_path, name="ru_good_vacuum"):
    ingested = ingest(ROOT / "samples" / f"{name}.wav")
    transcript = transcript_from_turns(TURNS_DIR / f"{name}.yaml")
    scorecard = load_scorecard("inbound_inquiry", ROOT / "scorecards")
    assessment = score(transcript, scorecard)
    with sessions.begin() as session:
        store.upsert_call(session=session, ingested=ingested, archive_path=archive(ingested, tmp_path / "archive"))
        row = store.save_transcript(session=session, call_id=ingested.call_id, transcript=transcript)
        store.save_assessment(
            session=session, call_id=ingested.call_id, transcript_id=row.id, assessment=assessment
        )
    return ingested, transcript, assessment


def test_transcript_and_assessment_round_trip(sessions, tmp_path):
    ingested, transcript, assessment = _store_sample(sessions, tmp_path)
    with sessions() as session:
        loaded = store.load_transcript(session=session, call_id=ingested.call_id)
        assert loaded.segments == transcript.segments
        assert store.load_assessment(session=session, call_id=ingested.call_id) == assessment
        assert store.get_call(session=session, call_id=ingested.call_id).status == "scored"


def test_same_audio_is_one_call_and_rescoring_keeps_one_current(sessions, tmp_path):
    ingested, _, _ = _store_sample(sessions, tmp_path)
    _store_sample(sessions, tmp_path)
    with sessions() as session:
        assert len(store.list_calls(session=session)) == 1
        call = store.get_call(session=session, call_id=ingested.call_id)
        assert len(call.assessments) == 2
        assert sum(a.is_current for a in call.assessments) == 1
        assert sum(t.is_current for t in call.transcripts) == 1


def test_find_call_by_id_prefix_and_by_path(sessions, tmp_path):
    ingested, _, _ = _store_sample(sessions, tmp_path)
    with sessions() as session:
        assert store.find_call(session=session, reference=ingested.call_id).id == ingested.call_id
        assert store.find_call(session=session, reference=ingested.sha256[:8]).id == ingested.call_id
        assert store.find_call(session=session, reference=str(ingested.path)).id == ingested.call_id
        with pytest.raises(CallNotFoundError, match="matches no call"):
            store.find_call(session=session, reference="ffffffff")
        with pytest.raises(CallNotFoundError, match="has not been processed yet"):
            store.find_call(session=session, reference=str(ROOT / "samples" / "en_poor_laptop.wav"))


def test_archive_copy_is_named_by_hash_and_made_once(tmp_path):
    ingested = ingest(ROOT / "samples" / "en_poor_laptop.wav")
    first = archive(ingested, tmp_path)
    assert first.name == f"{ingested.sha256}.wav" and first.read_bytes() == ingested.path.read_bytes()
    assert archive(ingested, tmp_path) == first
