"""A real call in which the client dictates a card number, through the real flow and real
Whisper: the digits are stored nowhere, logged nowhere, exported nowhere, and the audio
reviewers hear has a tone over them."""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from callqa.cli import cli
from flows import process_inbox
from models import CallRow, make_engine, make_session_factory
from pipeline.audio import read_pcm
from tests.conftest import DATA

pytestmark = [pytest.mark.prefect, pytest.mark.whisper]

CARD_CALL = DATA / "calls" / "en_card_payment.wav"
# The card's digits in any spacing: "4111111111111111", "4111 1111 ...", "4 1 1 1 ...".
CARD_DIGITS = re.compile(rb"4\D{0,3}1\D{0,3}1\D{0,3}1\D{0,3}1\D{0,3}1\D{0,3}1\D{0,3}1")


def _tone_share(samples: np.ndarray, rate: int, hz: float = 1000.0) -> float:
    """The share of the signal's energy within 50 Hz of `hz`."""
    spectrum = np.abs(np.fft.rfft(samples)) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    return float(spectrum[np.abs(freqs - hz) < 50].sum() / spectrum.sum())


@pytest.fixture(scope="module")
def processed_card_call(tmp_path_factory, model_cache_dir):
    import os

    from pipeline.settings import get_settings

    root = tmp_path_factory.mktemp("privacy")
    inbox = root / "inbox"
    inbox.mkdir()
    shutil.copy(CARD_CALL, inbox / CARD_CALL.name)
    saved = {k: os.environ.get(k) for k in ("CALLQA_DATA_DIR", "CALLQA_MODEL_CACHE_DIR", "CALLQA_DATABASE_URL")}
    os.environ.update(CALLQA_DATA_DIR=str(root / "data"), CALLQA_MODEL_CACHE_DIR=str(model_cache_dir))
    os.environ.pop("CALLQA_DATABASE_URL", None)
    get_settings.cache_clear()
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())
    logging.getLogger().addHandler(handler)
    previous_level = logging.getLogger().level
    logging.getLogger().setLevel(logging.DEBUG)
    try:
        summary = process_inbox([str(inbox)])
        show = CliRunner().invoke(cli, ["show", summary.outcomes[0].call_id, "--json"])
        yield summary, get_settings(), records, show.output
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(previous_level)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()


def test_the_card_digits_are_in_the_audio_but_stored_nowhere(processed_card_call):
    summary, settings, records, show_json = processed_card_call
    (outcome,) = summary.outcomes
    assert outcome.status == "processed"
    transcript = json.loads(show_json)["transcript"]
    client_text = " ".join(s["text"] for s in transcript["segments"] if s["speaker"] == "client")
    assert "[CARD]" in client_text
    for path in [Path(str(settings.resolved_database_url).removeprefix("sqlite:///"))] + list(settings.data_dir.glob("*.db*")):
        assert not CARD_DIGITS.search(path.read_bytes()), path
    assert not CARD_DIGITS.search(show_json.encode())
    assert not any(CARD_DIGITS.search(message.encode()) for message in records)


def test_reviewers_hear_a_tone_over_the_card_digits(processed_card_call):
    summary, settings, _, _ = processed_card_call
    engine = make_engine(settings.resolved_database_url)
    with make_session_factory(engine)() as session:
        call = session.get(CallRow, summary.outcomes[0].call_id)
        (redaction,) = [r for t in call.transcripts for r in t.redactions]
        review_audio, archived = Path(call.review_audio_path), Path(call.archive_path)
    engine.dispose()
    assert redaction.kind == "CARD" and redaction.speaker == "client"
    assert review_audio != archived and archived.is_file()
    rate = 8000

    def client_channel(path: Path) -> np.ndarray:
        return np.concatenate(list(read_pcm(path, 2, rate)))[:, 1].astype(np.float64)

    reviewed, original = client_channel(review_audio), client_channel(archived)
    span = slice(int((redaction.start_s + 0.1) * rate), int((redaction.end_s - 0.1) * rate))
    assert _tone_share(reviewed[span], rate) > 0.8
    assert _tone_share(original[span], rate) < 0.3
    before = slice(0, int((redaction.start_s - 0.4) * rate))
    assert np.array_equal(reviewed[before], original[before])


def test_no_page_or_export_of_the_review_app_shows_the_digits(processed_card_call):
    from fastapi.testclient import TestClient

    from pipeline import store
    from review.app import create_app

    summary, settings, _, _ = processed_card_call
    call_id = summary.outcomes[0].call_id
    engine = make_engine(settings.resolved_database_url)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        store.add_user(session=session, username="lead", password="lead-password", role="lead")
    client = TestClient(create_app(sessions=sessions, secret_key="privacy-test", scorecards_dir=settings.scorecards_dir))
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"username": "lead", "password": "lead-password", "csrf_token": token})
    pages = [f"/calls/{call_id}", "/queue", "/queue?csv=1", "/kpis", "/agreement", "/agreement/labelled.zip"]
    bodies = {page: client.get(page) for page in pages}
    engine.dispose()
    assert all(response.status_code == 200 for response in bodies.values()), {p: r.status_code for p, r in bodies.items()}
    assert "[CARD]" in bodies[f"/calls/{call_id}"].text
    for page, response in bodies.items():
        if page.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
                assert not any(CARD_DIGITS.search(archive.read(name)) for name in archive.namelist()), page
        else:
            assert not CARD_DIGITS.search(response.content), page
