"""The review app in real Chromium: a lead reviews a flagged call, a manager is kept to their
own calls and disputes a verdict, and markup in a transcript stays text.

Set CALLQA_SCREENSHOTS_DIR (e.g. docs/screenshots) to save screenshots of the pages.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from models import make_engine, make_session_factory
from review.app import create_app
from tests.review_seed import HOSTILE_TEXT, PASSWORDS, SCORECARDS, seed

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium)")
SCREENSHOTS = os.environ.get("CALLQA_SCREENSHOTS_DIR")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("review-app")
    seeded = seed(f"sqlite:///{folder / 'callqa.db'}", folder / "archive")
    engine = make_engine(seeded.url)
    app = create_app(sessions=make_session_factory(engine), secret_key="browser-test-secret", scorecards_dir=SCORECARDS)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the review app did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", seeded.call_ids
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=["--autoplay-policy=no-user-gesture-required"])
        yield chromium
        chromium.close()


@pytest.fixture
def login(browser, server):
    base, _ = server
    contexts = []

    def as_user(username: str):
        context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=base)
        contexts.append(context)
        page = context.new_page()
        page.goto("/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORDS[username])
        with page.expect_navigation():
            page.click("button[type=submit]")
        return page

    yield as_user
    for context in contexts:
        context.close()


def _screenshot(page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"))


def test_lead_plays_evidence_and_overrides_an_item(login):
    page = login("lead")
    assert page.url.endswith("/queue")
    _screenshot(page, "queue")
    with page.expect_navigation():
        page.click("#table-queue tbody tr:first-child a")
    page.wait_for_function("() => document.getElementById('player').readyState >= 1")

    page.evaluate("document.getElementById('player').play()")
    page.wait_for_function("() => !document.getElementById('player').paused && document.getElementById('player').currentTime > 0")

    evidence = page.locator(".evidence-link").last
    moment = float(evidence.get_attribute("data-seek"))
    assert moment > 1.0
    evidence.click()
    page.wait_for_function(f"() => Math.abs(document.getElementById('player').currentTime - {moment}) < 1.5")
    # The segment being heard is highlighted.
    page.wait_for_selector(".segment.playing")
    page.evaluate("document.getElementById('player').pause(); window.scrollTo(0, 0)")
    _screenshot(page, "call")

    before = float(page.inner_text("#effective-score"))
    item = page.locator("article.item", has=page.locator(".status-fail")).filter(has_not=page.locator(".critical")).first
    item_id = item.get_attribute("id")
    item.locator("select[name=status]").select_option("pass")
    item.locator("input[name=comment]").fill("Heard it in the recording: the greeting is there.")
    item.locator("button", has_text="Override").click()
    page.wait_for_selector(f"#{item_id} .history")  # the page after the override

    after = float(page.inner_text("#effective-score"))
    assert after > before
    changed = page.locator(f"#{item_id}")
    assert changed.locator(".status-pass").count() == 1
    assert re.search(r"lead changed fail → pass: Heard it in the recording", changed.inner_text())


def test_manager_sees_own_feedback_but_not_another_managers_call(login, server):
    _, call_ids = server
    page = login("anna")
    assert page.url.endswith("/me")
    page.goto(f"/calls/{call_ids['ru_poor_vacuum']}")
    assert "To improve" in page.inner_text(".feedback")
    assert page.locator("blockquote.example").count() > 0  # the scorecard's phrasing to use

    response = page.goto(f"/calls/{call_ids['en_poor_laptop']}")
    assert response.status == 404
    assert "en_poor" not in page.content() and call_ids["en_poor_laptop"] not in page.inner_text("main")
    audio = page.request.get(f"/calls/{call_ids['en_poor_laptop']}/audio")
    assert audio.status == 404
    assert page.request.get(f"/calls/{call_ids['ru_poor_vacuum']}/audio").status == 200
    assert page.request.get("/queue").status == 403


def test_dispute_puts_the_call_at_the_top_of_the_leads_queue(login, server):
    _, call_ids = server
    disputed = call_ids["en_good_laptop"]  # a passing call: not in the queue until disputed
    manager = login("anna")
    manager.goto(f"/calls/{disputed}")
    item = manager.locator("article#item-needs_discovery")
    item.locator("summary").click()
    item.locator("textarea[name=reason]").fill("I asked two open questions at 0:20.")
    item.locator("button", has_text="Send to the quality lead").click()
    manager.wait_for_selector("article#item-needs_discovery .history.dispute")
    assert "I asked two open questions" in manager.inner_text("article#item-needs_discovery")

    lead = login("lead")
    first_row = lead.locator("#table-queue tbody tr").first
    assert disputed in first_row.inner_text()
    assert "disputed" in first_row.inner_text()


def test_markup_in_a_transcript_renders_as_text(login, server):
    _, call_ids = server
    page = login("lead")
    page.goto(f"/calls/{call_ids['markup']}")
    assert page.evaluate("window.pwned === undefined")
    assert HOSTILE_TEXT in page.inner_text(".transcript")
    assert "Спасибо, до свидания!" in page.inner_text(".transcript")


def test_kpi_page_draws_charts(login):
    page = login("lead")
    page.goto("/kpis")
    assert page.locator("svg.chart polyline").count() >= 2
    assert "Anna Petrova" in page.inner_text("#table-managers")
    _screenshot(page, "kpis")
