"""The audit log of the review app: who opened which call and audio; the original is for admins."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from callqa.cli import cli
from models import make_engine, make_session_factory
from pipeline import store
from pipeline.settings import get_settings
from review.app import create_app
from tests.review_seed import PASSWORDS, SAMPLES, SCORECARDS, seed


@pytest.fixture
def web(tmp_path, settings_env, monkeypatch):
    url = f"sqlite:///{tmp_path / 'callqa.db'}"
    monkeypatch.setenv("CALLQA_DATABASE_URL", url)
    get_settings.cache_clear()
    seeded = seed(url, tmp_path / "archive")
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    app = create_app(sessions=sessions, secret_key="audit-test-secret", scorecards_dir=SCORECARDS)

    def login(username: str) -> TestClient:
        client = TestClient(app)
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
        client.post("/login", data={"username": username, "password": PASSWORDS[username], "csrf_token": token})
        return client

    yield login, seeded.call_ids, sessions
    engine.dispose()


def test_opening_a_call_and_its_audio_is_logged_once_per_listen(web):
    login, ids, sessions = web
    lead = login("lead")
    call_id = ids["ru_poor_vacuum"]
    assert lead.get(f"/calls/{call_id}").status_code == 200
    assert lead.get(f"/calls/{call_id}/audio").status_code == 200
    assert lead.get(f"/calls/{call_id}/audio", headers={"Range": "bytes=1000-1999"}).status_code == 206
    with sessions() as session:
        events = [(e.username, e.action, e.call_id) for e in store.audit_events(session=session, call_id=call_id)]
    assert events == [("lead", "play_audio", call_id), ("lead", "open_call", call_id)]
    result = CliRunner().invoke(cli, ["audit", "--call", call_id, "--json"])
    assert result.exit_code == 0 and '"action": "play_audio"' in result.output


def test_only_admins_hear_the_unredacted_original(web):
    login, ids, sessions = web
    call_id = ids["markup"]  # a call whose reviewers' copy differs from the archived original
    assert login("lead").get(f"/calls/{call_id}/audio/original").status_code == 403
    assert login("anna").get(f"/calls/{call_id}/audio/original").status_code in (403, 404)
    admin = login("admin")
    original = admin.get(f"/calls/{call_id}/audio/original")
    assert original.status_code == 200
    assert original.content != (SAMPLES / "ru_good_vacuum.wav").read_bytes()
    with sessions() as session:
        actions = [e.action for e in store.audit_events(session=session, username="admin")]
    assert actions == ["play_original"]
