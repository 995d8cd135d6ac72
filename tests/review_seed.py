"""A small review database: the four sample calls (their audio archived, transcripts from the
turns files, real scores), two managers in two teams, a call whose transcript holds markup,
and one account per role. Shared by the store tests and the browser tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from models import create_schema, make_engine, make_session_factory
from pipeline import store
from pipeline.ingest import IngestedCall, archive, ingest
from pipeline.score import load_scorecard, score
from pipeline.types import Segment, Transcript
from tests.fakes import TURNS_DIR, transcript_from_turns

ROOT = Path(__file__).resolve().parent.parent
SCORECARDS = ROOT / "scorecards"
SAMPLES = ROOT / "samples"
PASSWORDS = {"admin": "admin-password", "lead": "lead-password", "anna": "anna-password", "boris": "boris-password"}
# Which manager made which sample call, and its CRM outcome.
CALLS = {
    "ru_poor_vacuum": ("M-ANNA", "lost", None),
    "en_good_laptop": ("M-ANNA", "won", 1200.0),
    "en_poor_laptop": ("M-BORIS", "lost", None),
    "ru_good_vacuum": ("M-BORIS", "won", 18990.0),
}
MANAGERS = {"M-ANNA": ("Anna Petrova", "North"), "M-BORIS": ("Boris Ivanov", "South")}
HOSTILE_TEXT = '<script>window.pwned = 1</script><b>bold</b> & "quotes"'


@dataclass(frozen=True)
class Seeded:
    url: str
    call_ids: dict[str, str]  # sample name (or "markup") -> call id


def _markup_transcript() -> Transcript:
    return Transcript(
        language="en",
        duration=8.0,
        engine="fake",
        segments=(
            Segment(speaker="agent", start=0.0, end=3.0, text="Good afternoon, this is Anna from Technomart."),
            Segment(speaker="client", start=3.5, end=6.0, text=HOSTILE_TEXT),
            Segment(speaker="agent", start=6.5, end=8.0, text="Спасибо, до свидания!", language="ru"),
        ),
    )


def seed(url: str, archive_dir: Path, now: datetime | None = None) -> Seeded:
    """Fill an empty database at url; calls started on the last few days before now."""
    now = now or datetime.now(timezone.utc).replace(microsecond=0)
    engine = make_engine(url)
    create_schema(engine)
    sessions = make_session_factory(engine)
    scorecard = load_scorecard("inbound_inquiry", SCORECARDS)
    call_ids = {}
    with sessions.begin() as session:
        for external_id, (name, team) in MANAGERS.items():
            store.manager_for(session=session, external_id=external_id, name=name, team=team)
        for day, (sample, (manager, outcome, amount)) in enumerate(CALLS.items()):
            ingested = ingest(SAMPLES / f"{sample}.wav")
            transcript = transcript_from_turns(TURNS_DIR / f"{sample}.yaml")
            call_ids[sample] = _store_call(
                session, ingested, archive(ingested, archive_dir), transcript, scorecard,
                manager, now - timedelta(days=day, hours=1), outcome, amount,
            )
        # The same audio under another id: a call whose transcript carries markup.
        audio = SAMPLES / "en_good_laptop.wav"
        fake = IngestedCall(path=audio, sha256="f" * 64, size_bytes=audio.stat().st_size)
        call_ids["markup"] = _store_call(
            session, fake, audio, _markup_transcript(), scorecard, "M-ANNA", now - timedelta(days=5), None, None
        )
        # Stands for the copy with redacted spans under a tone, which reviewers hear instead.
        store.get_call(session=session, call_id=call_ids["markup"]).review_audio_path = str(SAMPLES / "ru_good_vacuum.wav")
        for username, password in PASSWORDS.items():
            role = "admin" if username == "admin" else "lead" if username == "lead" else "manager"
            store.add_user(
                session=session,
                username=username,
                password=password,
                role=role,
                manager_external_id=f"M-{username.upper()}" if role == "manager" else None,
            )
    engine.dispose()
    return Seeded(url=url, call_ids=call_ids)


def _store_call(session, ingested, archive_path, transcript, scorecard, manager, started_at, outcome, amount) -> str:
    call, _ = store.upsert_call(session=session, ingested=ingested, archive_path=archive_path)
    call.manager_id = store.manager_for(session=session, external_id=manager, name=None, team=None).id
    call.started_at = started_at
    call.direction = "inbound"
    call.order_outcome = outcome
    call.order_amount = amount
    call.currency = "RUB" if amount else None
    call.scorecard_id = scorecard.id
    call.duration_s = transcript.duration
    row = store.save_transcript(session=session, call_id=call.id, transcript=transcript)
    store.save_assessment(session=session, call_id=call.id, transcript_id=row.id, assessment=score(transcript, scorecard))
    return call.id
