"""The Prefect flow end to end, into a temporary database."""

import pytest

from flows import process_inbox
from pipeline import worker as worker_module
from models import CallRow, make_engine, make_session_factory
from pipeline import store
from tests.fakes import FakeTranscriber

pytestmark = pytest.mark.prefect


def _calls(settings):
    engine = make_engine(settings.resolved_database_url)
    try:
        with make_session_factory(engine)() as session:
            return {c.file_name: (c.status, c.error) for c in session.query(CallRow)}
    finally:
        engine.dispose()


@pytest.mark.whisper
def test_real_whisper_flow_scores_a_poor_sample_call(settings_env, calls_folder):
    summary = process_inbox([str(calls_folder("ru_poor_vacuum"))])
    (outcome,) = summary.outcomes
    assert outcome.status == "processed" and outcome.language == "ru"
    assert not outcome.passed
    assert {"greeting", "needs_discovery", "no_pressure", "closing"} <= set(outcome.failed_items)
    engine = make_engine(settings_env.resolved_database_url)
    with make_session_factory(engine)() as session:
        assessment = store.load_assessment(session=session, call_id=outcome.call_id)
        transcript = store.load_transcript(session=session, call_id=outcome.call_id)
    engine.dispose()
    assert "critical_failed:no_pressure" in assessment.flags
    assert {s.speaker for s in transcript.segments} == {"agent", "client"}
    assert transcript.engine == "faster-whisper" and transcript.model == "base"


@pytest.fixture
def fake_transcriber(monkeypatch):
    fake = FakeTranscriber()
    monkeypatch.setattr(worker_module, "get_transcriber", lambda options: fake)
    return fake


def test_rerun_processes_nothing_again(settings_env, calls_folder, fake_transcriber):
    folder = calls_folder("ru_good_vacuum", "en_poor_laptop")
    first = process_inbox([str(folder)])
    assert [o.status for o in first.outcomes] == ["processed", "processed"]
    second = process_inbox([str(folder)])
    assert [o.status for o in second.outcomes] == ["skipped", "skipped"]
    assert len(fake_transcriber.calls) == 2
    assert len(_calls(settings_env)) == 2


def test_bad_file_is_quarantined_and_the_batch_goes_on(settings_env, calls_folder, fake_transcriber):
    folder = calls_folder("en_good_laptop")
    (folder / "broken.mp3").write_text("not audio at all", encoding="utf-8")
    (folder / "empty.wav").write_bytes(b"")
    summary = process_inbox([str(folder)])
    by_file = {o.file: o for o in summary.outcomes}
    assert by_file["en_good_laptop.wav"].status == "processed"
    assert by_file["broken.mp3"].status == "quarantined" and "not decodable" in by_file["broken.mp3"].reason
    assert "broken.mp3" in by_file["broken.mp3"].reason and str(settings_env.data_dir) not in by_file["broken.mp3"].reason
    assert by_file["empty.wav"].status == "quarantined" and "empty" in by_file["empty.wav"].reason
    assert summary.ok
    quarantine = settings_env.data_dir / "quarantine"
    assert len(list(quarantine.glob("*.reason.txt"))) == 2
    assert _calls(settings_env)["broken.mp3"][0] == "quarantined"


def test_a_transcribed_call_is_only_scored_on_rerun(settings_env, calls_folder, fake_transcriber, monkeypatch):
    folder = calls_folder("ru_poor_vacuum")
    real_score = worker_module.score

    def crash(*args, **kwargs):
        raise RuntimeError("scoring crashed")

    monkeypatch.setattr(worker_module, "score", crash)
    failed = process_inbox([str(folder)])
    assert failed.outcomes[0].status == "failed" and not failed.ok
    assert _calls(settings_env)["ru_poor_vacuum.wav"][0] == "transcribed"
    monkeypatch.setattr(worker_module, "score", real_score)
    resumed = process_inbox([str(folder)])
    assert resumed.outcomes[0].status == "processed"
    assert len(fake_transcriber.calls) == 1


class RefusingTranscriber:
    """Fails the test if anything tries to transcribe."""

    def transcribe(self, audio):
        raise AssertionError(f"rescoring must not transcribe {audio.source}")


def test_rescore_after_a_scorecard_change_never_transcribes(settings_env, calls_folder, fake_transcriber, monkeypatch, tmp_path):
    import shutil

    import yaml

    from flows import rescore_calls
    from pipeline.settings import get_settings

    process_inbox([str(calls_folder("ru_good_vacuum", "en_poor_laptop"))])
    cards = tmp_path / "scorecards"
    shutil.copytree(settings_env.scorecards_dir, cards)
    data = yaml.safe_load((cards / "inbound_inquiry.yaml").read_text(encoding="utf-8"))
    data["version"] = 2
    data["pass_threshold"] = 0.95
    (cards / "inbound_inquiry.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("CALLQA_SCORECARDS_DIR", str(cards))
    get_settings.cache_clear()
    monkeypatch.setattr(worker_module, "get_transcriber", lambda options: RefusingTranscriber())

    summary = rescore_calls()
    assert summary.rescored == 2 and summary.unchanged == 0 and not summary.failed
    engine = make_engine(get_settings().resolved_database_url)
    with make_session_factory(engine)() as session:
        for call in session.query(CallRow):
            versions = sorted(a.scorecard_version for a in call.assessments)
            assert versions == [1, 2]
            assert [a.scorecard_version for a in call.assessments if a.is_current] == [2]
    engine.dispose()
    assert rescore_calls().unchanged == 2


def test_swapping_speakers_is_recorded_and_rescored(settings_env, calls_folder, fake_transcriber):
    from flows import swap_call_speakers

    (outcome,) = process_inbox([str(calls_folder("en_good_laptop"))]).outcomes
    summary = swap_call_speakers(outcome.call_id, "this PBX records the manager on the right")
    assert summary.agent_channel == "right" and summary.score_after < summary.score_before
    engine = make_engine(settings_env.resolved_database_url)
    with make_session_factory(engine)() as session:
        transcript = store.load_transcript(session=session, call_id=outcome.call_id)
        call = store.get_call(session=session, call_id=outcome.call_id)
        assert transcript.channel_map.source == "swapped"
        assert transcript.channel_map.note == "this PBX records the manager on the right"
        assert transcript.segments[0].speaker == "client"
        assert len(call.transcripts) == 2 and len(call.assessments) == 2
    engine.dispose()


@pytest.mark.whisper
def test_two_worker_processes_share_the_inbox(settings_env, calls_folder, model_cache_dir):
    """`--workers 2`: two `callqa worker` processes, each with its own model, split the calls."""
    summary = process_inbox([str(calls_folder("en_poor_laptop", "ru_poor_vacuum"))], workers=2)
    assert sorted((o.file, o.status) for o in summary.outcomes) == [
        ("en_poor_laptop.wav", "processed"), ("ru_poor_vacuum.wav", "processed")
    ]
    assert summary.workers == 2 and summary.ok
    rows = _calls(settings_env)
    assert {status for status, _ in rows.values()} == {"scored"}
