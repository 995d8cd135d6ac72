"""Benchmark the review app's pages on 100,000 calls in PostgreSQL: the queue, a call, the KPIs.

Seeds a throwaway PostgreSQL (tests/postgres.py) with 100,000 scored calls of 60 managers in 6
teams over the past year, each a copy of a real scored transcript (the dev set and the
samples, scored with the real scorecards) with ~10 segments and 10 item results; 2% of the
calls carry a reviewer's override, 1% an open dispute. Then times full page renders through
the app (routing, session, SQL, templates), in-process, and adds a row to docs/benchmarks.md.

Run with: .venv/bin/python -m bench.review_pages [--calls N] [--requests N]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from bench.main_job import machine
from bench.report import record
from models import create_schema, make_engine, make_session_factory
from pipeline import store
from pipeline.score import load_scorecard, score
from pipeline.score.evaluate import read_labelled
from review.app import create_app
from tests.fakes import TURNS_DIR, transcript_from_turns
from tests.postgres import ThrowawayPostgres

ROOT = Path(__file__).resolve().parent.parent
SCORECARDS = ROOT / "scorecards"
HEADING = "## Review app pages (`bench/review_pages.py`)"
TEAMS, MANAGERS_PER_TEAM = 6, 10


def _templates() -> list[tuple]:
    """(transcript, assessment, audio file) of every labelled dev-set call and every sample."""
    cards = {name: load_scorecard(name, SCORECARDS) for name in ("inbound_inquiry", "outbound_followup")}
    audio = sorted((ROOT / "samples").glob("*.wav"))
    made = []
    for call in read_labelled(ROOT / "tests" / "data" / "devset"):
        made.append((call.transcript, score(call.transcript, cards[call.scorecard_id or "inbound_inquiry"]), audio[len(made) % len(audio)]))
    for wav in audio:
        transcript = transcript_from_turns(TURNS_DIR / f"{wav.stem}.yaml")
        made.append((transcript, score(transcript, cards["inbound_inquiry"]), wav))
    return made


def seed(url: str, calls: int, rng: random.Random) -> dict:
    """Fill the database with COPY, as fast as PostgreSQL takes it; returns ids to visit."""
    engine = make_engine(url)
    create_schema(engine)
    with make_session_factory(engine).begin() as session:
        for t in range(TEAMS):
            for m in range(MANAGERS_PER_TEAM):
                store.manager_for(session=session, external_id=f"M{t}{m:02d}", name=f"Manager {t}-{m:02d}", team=f"Team {t}")
        store.add_user(session=session, username="lead", password="lead-password", role="lead")
        store.add_user(session=session, username="manager", password="manager-password", role="manager", manager_external_id="M000")
    templates = _templates()
    parsed = make_url(url)
    now = datetime.now(timezone.utc)
    segment_id = item_id = 0
    with psycopg.connect(f"host={parsed.host} port={parsed.port} user=postgres dbname={parsed.database}") as conn:
        manager_ids = [row[0] for row in conn.execute("SELECT id FROM managers ORDER BY id")]
        lead_id = conn.execute("SELECT id FROM users WHERE username = 'lead'").fetchone()[0]
        manager_user = conn.execute("SELECT id FROM users WHERE username = 'manager'").fetchone()[0]
        with conn.cursor() as cur:
            rows = []
            with cur.copy(
                "COPY calls (id, audio_sha256, file_name, source_path, archive_path, size_bytes, duration_s, channels, sample_rate,"
                " status, manager_id, started_at, direction, order_outcome, order_amount, currency, scorecard_id, attempts,"
                " created_at, updated_at) FROM STDIN"
            ) as copy:
                for n in range(calls):
                    transcript, assessment, wav = templates[rng.randrange(len(templates))]
                    sha = f"{n:016x}" + "0" * 48
                    started = now - timedelta(seconds=rng.randrange(365 * 86400))
                    outcome = rng.choice(("won", "lost", "open", None))
                    amount = round(rng.uniform(500, 50000), 2) if outcome == "won" else None
                    copy.write_row((
                        sha[:16], sha, wav.name, str(wav), str(wav), wav.stat().st_size, transcript.duration, 2, 8000,
                        "scored", rng.choice(manager_ids), started, "inbound", outcome, amount, "RUB",
                        assessment.scorecard.id, 1, started, started,
                    ))
                    rows.append((sha[:16], transcript, assessment))
            with cur.copy(
                "COPY transcripts (id, call_id, language, engine, model, duration_s, is_current, created_at) FROM STDIN"
            ) as copy:
                for n, (call_id, transcript, _) in enumerate(rows, start=1):
                    copy.write_row((n, call_id, transcript.language, "bench", "copy", transcript.duration, True, now))
            with cur.copy("COPY segments (id, transcript_id, position, speaker, start_s, end_s, text, confidence) FROM STDIN") as copy:
                for n, (_, transcript, _) in enumerate(rows, start=1):
                    for position, s in enumerate(transcript.segments):
                        segment_id += 1
                        copy.write_row((segment_id, n, position, s.speaker, s.start, s.end, s.text, s.confidence))
            with cur.copy(
                "COPY assessments (id, call_id, transcript_id, scorecard_id, scorecard_version, scorecard_hash, language, score,"
                " passed, metrics, flags, is_current, created_at) FROM STDIN"
            ) as copy:
                for n, (call_id, _, a) in enumerate(rows, start=1):
                    copy.write_row((
                        n, call_id, n, a.scorecard.id, a.scorecard.version, a.scorecard.hash, a.language, a.score, a.passed,
                        json.dumps(a.metrics), json.dumps(list(a.flags)), True, now,
                    ))
            with cur.copy(
                "COPY item_results (id, assessment_id, position, item_id, title, status, confidence, reason, evidence, critical,"
                " weight, feedback, example) FROM STDIN"
            ) as copy:
                for n, (_, _, a) in enumerate(rows, start=1):
                    for position, i in enumerate(a.items):
                        item_id += 1
                        copy.write_row((
                            item_id, n, position, i.id, i.title, i.status, i.confidence, i.reason,
                            json.dumps([e.model_dump() for e in i.evidence], ensure_ascii=False), i.critical, i.weight, i.feedback, i.example,
                        ))
            for table in ("transcripts", "segments", "assessments", "item_results"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.commit()
    with make_session_factory(engine).begin() as session:
        started = time.perf_counter()
        store.sync_review_states(session=session)
        sync_s = time.perf_counter() - started
    # Reviewers' work on a few percent of the calls.
    with make_session_factory(engine).begin() as session:
        lead = store.get_user(session=session, user_id=lead_id)
        manager = store.get_user(session=session, user_id=manager_user)
        sample = rng.sample(rows, k=calls // 50)
        for call_id, _, a in sample:
            item = rng.choice(a.items)
            store.override_item(session=session, call_id=call_id, item_id=item.id, to_status=rng.choice(("pass", "fail", "na")),
                                comment="bench override", user=lead, pass_threshold=0.7)
            store.mark_reviewed(session=session, call_id=call_id, user=lead)
        for call_id, _, a in rows[: calls // 100]:
            store.dispute_item(session=session, call_id=call_id, item_id=a.items[0].id, reason="bench dispute", user=manager)
    engine.dispose()
    # What autovacuum does on a live database: planner statistics and the visibility map.
    with psycopg.connect(f"host={parsed.host} port={parsed.port} user=postgres dbname={parsed.database}", autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return {"call_ids": [call_id for call_id, _, _ in rows], "sync_s": sync_s, "segments": segment_id, "items": item_id}


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(client: TestClient, paths: list[str]) -> list[float]:
    for path in paths[:5]:  # warm the connection pool, templates and caches
        assert client.get(path).status_code == 200, path
    timings, by_kind = [], {}
    for path in paths:
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, path
        by_kind.setdefault(re.sub(r"=[^&]*", "=", path) if "/calls/" not in path else "/calls/ID", []).append(timings[-1])
    for kind, times in sorted(by_kind.items()):
        print(f"  {kind:45} n {len(times):3}  p50 {_p(times, 0.5):6.1f} ms  p95 {_p(times, 0.95):6.1f} ms")
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument("--no-record", action="store_true", help="print the row, do not add it to docs/benchmarks.md")
    parser.add_argument("--keep", action="store_true", help="leave the PostgreSQL server running and print its URL")
    args = parser.parse_args()
    rng = random.Random(7)
    server = ThrowawayPostgres().start()
    try:
        url = server.new_database()
        started = time.perf_counter()
        seeded = seed(url, args.calls, rng)
        print(f"seeded {args.calls} calls, {seeded['segments']} segments, {seeded['items']} item results "
              f"in {time.perf_counter() - started:.0f} s (queue state for all: {seeded['sync_s']:.1f} s)")
        engine = make_engine(url)
        app = create_app(sessions=make_session_factory(engine), secret_key="bench", scorecards_dir=SCORECARDS)
        client = TestClient(app)
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
        client.post("/login", data={"username": "lead", "password": "lead-password", "csrf_token": token})
        today = date.today()
        queue_paths = [
            rng.choice([
                "/queue",
                "/queue?page=3",
                f"/queue?manager={rng.randrange(1, TEAMS * MANAGERS_PER_TEAM + 1)}",
                f"/queue?team={rng.randrange(1, TEAMS + 1)}&flag=needs_review",
                f"/queue?from={today - timedelta(days=7)}&to={today}",
                "/queue?flag=disputed",
                "/queue?review=all&scorecard=outbound_followup",
            ])
            for _ in range(args.requests)
        ]
        call_paths = [f"/calls/{rng.choice(seeded['call_ids'])}" for _ in range(args.requests)]
        kpi_paths = [
            rng.choice(["/kpis", f"/kpis?team={rng.randrange(1, TEAMS + 1)}", f"/kpis?from={today - timedelta(days=6)}&to={today}"])
            for _ in range(args.requests)
        ]
        results = {name: measure(client, paths) for name, paths in (("queue", queue_paths), ("call", call_paths), ("KPIs", kpi_paths))}
        engine.dispose()
    finally:
        if args.keep:
            print(f"kept: {url} (stop it with: pg_ctl -D {server.data} stop)")
        else:
            server.stop()
    cells = " | ".join(f"{_p(t, 0.5):.0f} / {_p(t, 0.95):.0f}" for t in results.values())
    row = f"| {date.today()} | {machine()} | PostgreSQL 15 | {args.calls:,} | {args.requests} | {cells} |"
    for name, timings in results.items():
        print(f"{name:6} p50 {_p(timings, 0.5):6.1f} ms  p95 {_p(timings, 0.95):6.1f} ms  max {max(timings):6.1f} ms  mean {statistics.mean(timings):6.1f} ms")
    if not args.no_record:
        record(HEADING, row)
    print(row)


if __name__ == "__main__":
    main()
