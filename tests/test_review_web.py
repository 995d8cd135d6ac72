"""The review app over HTTP, without a browser: sessions, CSRF, roles, escaping, audio, CSV, CLI."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from models import make_engine, make_session_factory
from pipeline import store
from review.app import create_app
from review.cli import serve, users
from tests.review_seed import HOSTILE_TEXT, PASSWORDS, SAMPLES, SCORECARDS, seed


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("review-web")
    seeded = seed(f"sqlite:///{folder / 'callqa.db'}", folder / "archive")
    engine = make_engine(seeded.url)
    yield create_app(sessions=make_session_factory(engine), secret_key="web-test-secret", scorecards_dir=SCORECARDS), seeded.call_ids
    engine.dispose()


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def client(app):
    """Log in as someone; returns the client and the CSRF token of its session."""
    web_app, _ = app

    def as_user(username: str) -> tuple[TestClient, str]:
        client = TestClient(web_app)
        token = _token(client.get("/login").text)
        response = client.post("/login", data={"username": username, "password": PASSWORDS[username], "csrf_token": token})
        assert response.status_code == 200
        return client, _token(response.text)

    return as_user


def test_pages_need_a_login_and_a_wrong_password_is_refused(app):
    web_app, ids = app
    anonymous = TestClient(web_app)
    response = anonymous.get(f"/calls/{ids['ru_poor_vacuum']}", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=%2Fcalls%2F")
    assert anonymous.get(f"/calls/{ids['ru_poor_vacuum']}/audio", follow_redirects=False).status_code == 303
    token = _token(anonymous.get("/login").text)
    wrong = anonymous.post("/login", data={"username": "lead", "password": "guess", "csrf_token": token})
    assert wrong.status_code == 401 and "Wrong username or password" in wrong.text
    # A forged cookie is no session at all.
    anonymous.cookies.set("callqa_session", "eyJ1c2VyX2lkIjogMX0=.forged.signature")
    assert anonymous.get("/queue", follow_redirects=False).status_code == 303


def test_login_goes_back_only_to_this_site(app):
    web_app, _ = app
    client = TestClient(web_app)
    token = _token(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": "lead", "password": PASSWORDS["lead"], "csrf_token": token, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_every_form_needs_the_sessions_csrf_token(app, client):
    _, ids = app
    lead, token = client("lead")
    call = ids["ru_poor_vacuum"]
    posts = [
        (f"/calls/{call}/items/greeting/override", {"status": "pass", "comment": "forged"}),
        (f"/calls/{call}/comments", {"text": "forged"}),
        (f"/calls/{call}/reviewed", {}),
        ("/logout", {}),
    ]
    for path, form in posts:
        assert lead.post(path, data=form).status_code == 403, path
        assert lead.post(path, data={**form, "csrf_token": "not-the-token"}).status_code == 403, path
    manager, manager_token = client("anna")
    for path, form in [
        (f"/calls/{call}/items/closing/dispute", {"reason": "forged"}),
        (f"/calls/{call}/acknowledge", {}),
    ]:
        assert manager.post(path, data=form).status_code == 403, path
        assert manager.post(path, data={**form, "csrf_token": token}).status_code == 403, path  # another session's token
    assert TestClient(app[0]).post("/login", data={"username": "lead", "password": PASSWORDS["lead"]}).status_code == 403
    # Nothing forged got through, and the real token works.
    page = lead.get(f"/calls/{call}")
    assert "forged" not in page.text
    assert lead.post(f"/calls/{call}/comments", data={"text": "Pricing objection at 0:15", "at_s": "15", "csrf_token": token}).status_code == 200
    assert "Pricing objection at 0:15" in lead.get(f"/calls/{call}").text


def test_transcript_text_is_escaped_in_every_page(app, client):
    _, ids = app
    lead, token = client("lead")
    call = ids["markup"]
    lead.post(f"/calls/{call}/comments", data={"text": "<img src=x onerror=alert(1)>", "csrf_token": token})
    html = lead.get(f"/calls/{call}").text
    assert "<script>window.pwned" not in html and "<img src=x" not in html
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt; &amp; &#34;quotes&#34;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "Спасибо, до свидания!" in html and 'lang="ru"' in html
    assert "script-src 'self'" in lead.get(f"/calls/{call}").headers["content-security-policy"]
    assert HOSTILE_TEXT not in lead.get("/agreement/labelled.zip").text  # not reviewed: not exported


def test_audio_is_served_by_call_id_with_ranges_to_those_who_may_see_it(app, client):
    _, ids = app
    lead, _ = client("lead")
    whole = lead.get(f"/calls/{ids['ru_poor_vacuum']}/audio")
    assert whole.status_code == 200 and whole.content[:4] == b"RIFF" and whole.headers["content-type"] == "audio/x-wav"
    part = lead.get(f"/calls/{ids['ru_poor_vacuum']}/audio", headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == whole.content[1000:2000]
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(whole.content)}"
    # The markup call's redacted copy for reviewers is another sample's audio.
    assert lead.get(f"/calls/{ids['markup']}/audio").content == (SAMPLES / "ru_good_vacuum.wav").read_bytes()
    anna, _ = client("anna")
    assert anna.get(f"/calls/{ids['en_poor_laptop']}/audio").status_code == 404
    assert anna.get(f"/calls/{ids['en_poor_laptop']}").status_code == 404
    assert anna.get("/calls/..%2F..%2Fetc%2Fpasswd/audio").status_code == 404
    assert anna.get("/queue").status_code == 403 and anna.get("/kpis").status_code == 403


def test_tables_export_as_csv(app, client):
    _, ids = app
    lead, _ = client("lead")
    queue = list(csv.reader(io.StringIO(lead.get("/queue?csv=queue").text)))
    assert queue[0][:3] == ["Call", "Started", "Manager"] and {r[0] for r in queue[1:]} >= {ids["ru_poor_vacuum"], ids["en_poor_laptop"]}
    managers = list(csv.DictReader(io.StringIO(lead.get("/kpis?csv=managers").text)))
    assert {r["Manager"]: r["Calls"] for r in managers} == {"Anna Petrova": "3", "Boris Ivanov": "2"}
    for name in ("teams", "item-pass-rates", "trend"):
        response = lead.get(f"/kpis?csv={name}")
        assert response.headers["content-type"].startswith("text/csv") and len(response.text.splitlines()) > 1, name
    assert lead.get("/agreement?csv=agreement").text.startswith("Item,Reviewed,Confirmed")
    anna, _ = client("anna")
    mine = list(csv.DictReader(io.StringIO(anna.get("/me?csv=my-calls").text)))
    assert {r["Call"] for r in mine} == {ids["ru_poor_vacuum"], ids["en_good_laptop"], ids["markup"]}


def test_reviewed_overrides_download_as_labelled_transcripts(app, client):
    _, ids = app
    lead, token = client("lead")
    call = ids["en_poor_laptop"]
    lead.post(f"/calls/{call}/items/closing/override", data={"status": "pass", "comment": "said bye", "csrf_token": token})
    lead.post(f"/calls/{call}/reviewed", data={"csrf_token": token})
    archive = zipfile.ZipFile(io.BytesIO(lead.get("/agreement/labelled.zip").content))
    assert f"labelled/{call}.json" in archive.namelist()
    assert '"closing": "pass"' in archive.read(f"labelled/{call}.json").decode()
    assert "closing" in lead.get("/agreement").text


def test_cli_adds_users_and_serve_has_help(settings_env):
    from models import create_schema

    engine = make_engine(settings_env.resolved_database_url)
    create_schema(engine)
    with make_session_factory(engine).begin() as session:
        store.manager_for(session=session, external_id="M-17", name="Olga", team="East")
    engine.dispose()
    runner = CliRunner()
    added = runner.invoke(users, ["add", "olga", "--role", "manager", "--manager", "M-17", "--password-stdin"], input="olga-password\n")
    assert added.exit_code == 0 and "added olga (manager)" in added.output
    refused = runner.invoke(users, ["add", "x", "--role", "manager", "--password-stdin"], input="long enough\n")
    assert refused.exit_code == 1 and "needs --manager" in refused.output
    short = runner.invoke(users, ["add", "y", "--role", "lead", "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "at least 8 characters" in short.output
    assert "Example: callqa serve" in runner.invoke(serve, ["--help"]).output
    assert "Example:" in runner.invoke(users, ["add", "-h"]).output
