"""Worker processes killed with SIGKILL mid-batch, and several workers on one PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from models import CallRow, create_schema, make_engine, make_session_factory
from pipeline.audio import AudioSegment
from pipeline.settings import get_settings
from pipeline.worker import register
from tests.conftest import ROOT


def _tone_calls(folder: Path, count: int) -> Path:
    """`count` distinct 3 s telephone recordings (a different tone each)."""
    folder.mkdir(parents=True, exist_ok=True)
    t = np.arange(3 * 8000) / 8000
    for i in range(count):
        samples = (0.3 * np.sin(2 * np.pi * (300 + 7 * i) * t) * 32767).astype(np.int16)
        AudioSegment(samples.tobytes(), frame_rate=8000, sample_width=2, channels=1).export(folder / f"call_{i:02d}.wav", format="wav")
    return folder


def _start_worker(database_url: str, data_dir: Path, *folders: Path, **settings: str) -> subprocess.Popen:
    env = {**os.environ, "CALLQA_DATABASE_URL": database_url, "CALLQA_DATA_DIR": str(data_dir),
           "PYTHONPATH": str(ROOT), **{f"CALLQA_{k.upper()}": v for k, v in settings.items()}}
    env.pop("CALLQA_CONFIG", None)
    return subprocess.Popen(
        [sys.executable, "-m", "tests.queue_worker", *map(str, folders)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _finish(process: subprocess.Popen) -> tuple[int, list[dict]]:
    out, err = process.communicate(timeout=300)
    return process.returncode, [json.loads(line) for line in out.splitlines()]


def _calls(database_url: str) -> list[CallRow]:
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        calls = session.scalars(select(CallRow)).all()
        for call in calls:
            call.current = [a for a in call.assessments if a.is_current]
            call.transcript_count = len(call.transcripts)
    engine.dispose()
    return calls


@pytest.fixture(autouse=True)
def shared_model_cache(model_cache_dir, monkeypatch):
    """Worker processes reuse the session's trained cue models instead of training their own."""
    monkeypatch.setenv("CALLQA_MODEL_CACHE_DIR", str(model_cache_dir))


def test_sigkill_at_each_stage_loses_and_duplicates_nothing(database_url, tmp_path):
    inbox = _tone_calls(tmp_path / "inbox", 4)
    data = tmp_path / "data"
    # A short lease, so the rerun takes over a call whose worker was killed holding it.
    for point in ("after_register", "before_transcript_commit", "before_assessment_commit"):
        code, _ = _finish(_start_worker(database_url, data, inbox, failpoint=point, claim_lease_s="1"))
        assert code == -signal.SIGKILL, point
        for call in _calls(database_url):  # what was committed before the kill is intact
            assert len(call.current) <= 1 and call.transcript_count <= 1
            assert call.status in ("ingested", "transcribed", "scored")
        time.sleep(1.2)
    code, outcomes = _finish(_start_worker(database_url, data, inbox, claim_lease_s="1"))
    assert code == 0
    calls = _calls(database_url)
    assert sorted(c.file_name for c in calls) == [f"call_{i:02d}.wav" for i in range(4)]
    for call in calls:
        assert call.status == "scored" and len(call.current) == 1 and call.transcript_count == 1
    # The kill after scoring lost only that assessment's commit: it is scored once, on the rerun.
    assert all(len(call.assessments) == 1 for call in calls)
    assert {o["status"] for o in outcomes} == {"processed"}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_three_workers_on_postgresql_process_each_call_exactly_once(database_url, tmp_path, monkeypatch):
    inbox = _tone_calls(tmp_path / "inbox", 30)
    data = tmp_path / "data"
    monkeypatch.setenv("CALLQA_DATABASE_URL", database_url)
    monkeypatch.setenv("CALLQA_DATA_DIR", str(data))
    get_settings.cache_clear()
    engine = make_engine(database_url)
    create_schema(engine)
    register([inbox], get_settings(), make_session_factory(engine))
    engine.dispose()
    get_settings.cache_clear()

    workers = [_start_worker(database_url, data) for _ in range(3)]
    results = [_finish(w) for w in workers]
    assert [code for code, _ in results] == [0, 0, 0]
    processed = Counter(o["call_id"] for _, outcomes in results for o in outcomes if o["status"] == "processed")
    assert {call_id: n for call_id, n in processed.items() if n > 1} == {}
    calls = _calls(database_url)
    assert len(calls) == 30 and set(processed) == {c.id for c in calls}
    assert all(c.status == "scored" and len(c.assessments) == 1 and c.transcript_count == 1 for c in calls)
    assert sum(1 for _, outcomes in results if outcomes) >= 2  # the work was really shared
