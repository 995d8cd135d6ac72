"""The review store functions, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import shutil
from datetime import date, timedelta

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.engine import make_url

from models import Base, ItemOverrideRow, UserRow, make_engine, make_session_factory
from pipeline import store
from pipeline.errors import CallQAError
from pipeline.score import load_scorecard, score
from pipeline.score.evaluate import evaluate, read_labelled
from tests.fakes import TURNS_DIR, transcript_from_turns
from tests.review_seed import PASSWORDS, SCORECARDS, seed

THRESHOLD = load_scorecard("inbound_inquiry", SCORECARDS).card.pass_threshold


@pytest.fixture(scope="module")
def seeded_sqlite(tmp_path_factory):
    folder = tmp_path_factory.mktemp("review-sqlite")
    return seed(f"sqlite:///{folder / 'template.db'}", folder / "archive")


@pytest.fixture(scope="module")
def seeded_postgres(postgres_server, tmp_path_factory):
    return seed(postgres_server.new_database(), tmp_path_factory.mktemp("review-pg") / "archive")


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """A fresh copy of the seeded database: a file copy, or a PostgreSQL template copy."""
    if request.param == "sqlite":
        seeded = request.getfixturevalue("seeded_sqlite")
        copy = tmp_path / "callqa.db"
        shutil.copy(make_url(seeded.url).database, copy)
        url = f"sqlite:///{copy}"
    else:
        seeded = request.getfixturevalue("seeded_postgres")
        template = make_url(seeded.url)
        name = f"t_{tmp_path.name[-20:].lower().replace('-', '_')}"
        with psycopg.connect(f"host={template.host} port={template.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template.database}"')
        url = template.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    yield make_session_factory(engine), seeded.call_ids
    engine.dispose()


def _user(session, username: str) -> UserRow:
    return session.scalar(select(UserRow).where(UserRow.username == username))


def test_schema_is_exactly_the_models(db):
    sessions, _ = db
    with sessions() as session:
        assert compare_metadata(MigrationContext.configure(session.connection()), Base.metadata) == []


def test_passwords_are_hashed_and_checked(db):
    sessions, _ = db
    with sessions.begin() as session:
        lead = store.authenticate(session=session, username="lead", password=PASSWORDS["lead"])
        assert lead is not None and lead.role == "lead"
        assert PASSWORDS["lead"] not in lead.password_hash and lead.password_hash.startswith("scrypt$")
        assert store.authenticate(session=session, username="lead", password="wrong password") is None
        assert store.authenticate(session=session, username="nobody", password=PASSWORDS["lead"]) is None
        with pytest.raises(CallQAError, match="valid roles are admin, lead, manager"):
            store.add_user(session=session, username="x", password="long enough", role="boss")
        with pytest.raises(CallQAError, match="no manager with CRM id 'M-NONE'"):
            store.add_user(session=session, username="x", password="long enough", role="manager", manager_external_id="M-NONE")
        with pytest.raises(CallQAError, match="exists already"):
            store.add_user(session=session, username="lead", password="long enough", role="lead")


def test_queue_orders_flagged_calls_and_filters_them(db):
    sessions, ids = db
    with sessions.begin() as session:
        page = store.review_queue(session=session, filters=store.QueueFilter())
        queued = [row.call_id for row in page.rows]
        # The two poor calls fail the critical no_pressure item; the good ones are not flagged.
        assert set(queued[:2]) == {ids["en_poor_laptop"], ids["ru_poor_vacuum"]}
        assert ids["en_good_laptop"] not in queued and ids["ru_good_vacuum"] not in queued
        assert all("critical_failed" in row.flags for row in page.rows[:2])
        assert page.total == len(queued)

        anna = store.list_managers(session=session)[0]
        assert anna.name == "Anna Petrova"
        mine = store.review_queue(session=session, filters=store.QueueFilter(manager_id=anna.id))
        assert {row.manager for row in mine.rows} == {"Anna Petrova"}
        south = next(t for t in store.list_teams(session=session) if t.name == "South")
        assert [r.call_id for r in store.review_queue(session=session, filters=store.QueueFilter(team_id=south.id)).rows] == [
            ids["en_poor_laptop"]
        ]
        today = date.today()
        week_in_south = store.QueueFilter(team_id=south.id, date_from=today - timedelta(days=7), date_to=today)
        assert [r.call_id for r in store.review_queue(session=session, filters=week_in_south).rows] == [ids["en_poor_laptop"]]
        recent = store.review_queue(session=session, filters=store.QueueFilter(date_from=today - timedelta(days=1), date_to=today))
        assert [r.call_id for r in recent.rows] == [ids["ru_poor_vacuum"]]
        only_low = store.review_queue(session=session, filters=store.QueueFilter(flag="low_score"))
        assert ids["markup"] in [r.call_id for r in only_low.rows]
        assert store.review_queue(session=session, filters=store.QueueFilter(scorecard_id="outbound_followup")).total == 0


def test_override_keeps_history_and_changes_the_effective_score(db):
    sessions, ids = db
    call_id = ids["ru_poor_vacuum"]
    with sessions.begin() as session:
        lead = _user(session, "lead")
        before = store.call_detail(session=session, call_id=call_id)
        assert before.state.effective_score == before.assessment.score
        state = store.override_item(
            session=session, call_id=call_id, item_id="greeting", to_status="pass", comment="said hello", user=lead, pass_threshold=THRESHOLD
        )
        assert state.effective_score > state.auto_score
        store.override_item(
            session=session, call_id=call_id, item_id="greeting", to_status="na", comment="on second thought", user=lead, pass_threshold=THRESHOLD
        )
        with pytest.raises(CallQAError, match="say why"):
            store.override_item(session=session, call_id=call_id, item_id="closing", to_status="pass", comment=" ", user=lead, pass_threshold=THRESHOLD)
        with pytest.raises(CallQAError, match="only a quality lead"):
            store.override_item(
                session=session, call_id=call_id, item_id="closing", to_status="pass", comment="x", user=_user(session, "anna"), pass_threshold=THRESHOLD
            )
    with sessions() as session:
        detail = store.call_detail(session=session, call_id=call_id)
        greeting = next(i for i in detail.items if i.id == "greeting")
        assert (greeting.auto_status, greeting.status) == ("fail", "na")
        assert [(o.from_status, o.to_status, o.comment, o.user.username) for o in greeting.overrides] == [
            ("fail", "pass", "said hello", "lead"),
            ("pass", "na", "on second thought", "lead"),
        ]
        # The same combination as the score stage: an n/a item leaves the weighted mean.
        decided = [i for i in detail.items if i.status in ("pass", "fail")]
        expected = sum(i.weight for i in decided if i.status == "pass") / sum(i.weight for i in decided)
        assert detail.state.effective_score == pytest.approx(expected, abs=1e-4)
        assert detail.state.effective_passed is False  # no_pressure, a critical item, still fails
        assert session.scalar(select(ItemOverrideRow.id).where(ItemOverrideRow.call_id == call_id).limit(1)) is not None


def test_effective_result_matches_the_score_stage_without_overrides():
    scorecard = load_scorecard("inbound_inquiry", SCORECARDS)
    for sample in ("ru_good_vacuum", "en_poor_laptop"):
        assessment = score(transcript_from_turns(TURNS_DIR / f"{sample}.yaml"), scorecard)
        items = [
            store.EffectiveItem(
                id=i.id, title=i.title, auto_status=i.status, status=i.status, reason=i.reason, confidence=i.confidence,
                evidence=[], critical=i.critical, weight=i.weight, feedback=None, example=None,
            )
            for i in assessment.items
        ]
        assert store.effective_result(items, scorecard.card.pass_threshold) == (assessment.score, assessment.passed)


def test_dispute_reopens_a_call_and_review_closes_it(db):
    sessions, ids = db
    call_id = ids["en_good_laptop"]
    with sessions.begin() as session:
        anna = _user(session, "anna")
        store.dispute_item(session=session, call_id=call_id, item_id="closing", reason="I did say goodbye", user=anna)
        store.acknowledge(session=session, call_id=call_id, user=anna)
        store.acknowledge(session=session, call_id=call_id, user=anna)  # twice is once
    with sessions.begin() as session:
        first = store.review_queue(session=session, filters=store.QueueFilter()).rows[0]
        assert (first.call_id, first.flags[0], first.priority) == (call_id, "disputed", 4)
        assert store.call_detail(session=session, call_id=call_id).acknowledged_by == ["anna"]
        store.mark_reviewed(session=session, call_id=call_id, user=_user(session, "lead"))
    with sessions() as session:
        assert call_id not in [r.call_id for r in store.review_queue(session=session, filters=store.QueueFilter()).rows]
        reviewed = store.review_queue(session=session, filters=store.QueueFilter(review="reviewed")).rows
        assert call_id not in [r.call_id for r in reviewed]  # reviewed, and no longer flagged at all
        detail = store.call_detail(session=session, call_id=call_id)
        assert detail.state.reviewed and detail.state.open_disputes == 0
        closing = next(i for i in detail.items if i.id == "closing")
        assert [(d.status, d.reason) for d in closing.disputes] == [("resolved", "I did say goodbye")]


def test_a_rescored_call_is_unreviewed_again(db):
    sessions, ids = db
    call_id = ids["ru_poor_vacuum"]
    with sessions.begin() as session:
        assert store.sync_review_states(session=session) == 5
        assert store.sync_review_states(session=session) == 0
        store.mark_reviewed(session=session, call_id=call_id, user=_user(session, "lead"))
    with sessions.begin() as session:
        transcript = store.current_transcript_row(session=session, call_id=call_id)
        rescored = score(store.load_transcript(session=session, call_id=call_id), load_scorecard("inbound_inquiry", SCORECARDS))
        new = store.save_assessment(session=session, call_id=call_id, transcript_id=transcript.id, assessment=rescored)
    with sessions.begin() as session:
        assert store.sync_review_states(session=session) == 1
        row = next(r for r in store.review_queue(session=session, filters=store.QueueFilter()).rows if r.call_id == call_id)
        assert not row.reviewed
        assert store.call_detail(session=session, call_id=call_id).state.assessment_id == new.id


def test_a_manager_sees_only_their_own_calls(db):
    sessions, ids = db
    with sessions() as session:
        anna, lead = _user(session, "anna"), _user(session, "lead")
        assert store.visible_call(session=session, user=anna, call_id=ids["ru_poor_vacuum"]) is not None
        assert store.visible_call(session=session, user=anna, call_id=ids["en_poor_laptop"]) is None
        assert store.visible_call(session=session, user=lead, call_id=ids["en_poor_laptop"]) is not None
        own = {r.call_id for r in store.manager_calls(session=session, manager_id=anna.manager_id)}
        assert own == {ids["ru_poor_vacuum"], ids["en_good_laptop"], ids["markup"]}


def test_kpis_per_manager_and_team(db):
    sessions, ids = db
    week = (date.today() - timedelta(days=7), date.today())
    with sessions.begin() as session:
        report = store.kpi_report(session=session, date_from=week[0], date_to=week[1])
        by_manager = {r.name: r for r in report.managers}
        anna, boris = by_manager["Anna Petrova"], by_manager["Boris Ivanov"]
        assert (anna.calls, boris.calls) == (3, 2)
        assert anna.team == "North"
        # Anna: one won (1200) and one lost with an outcome, one call without; Boris: won 18990, lost.
        assert (anna.conversion, anna.average_check) == (0.5, 1200.0)
        assert (boris.conversion, boris.average_check) == (0.5, 18990.0)
        assert 0 < anna.talk_ratio < 1 and boris.pass_rate == 0.5
        assert anna.calls_per_day == pytest.approx(anna.calls / anna.active_days)
        assert {r.name: r.calls for r in report.teams} == {"North": 3, "South": 2}
        north = next(t for t in store.list_teams(session=session) if t.name == "North")
        assert [r.name for r in store.kpi_report(session=session, date_from=week[0], date_to=week[1], team_id=north.id).managers] == [
            "Anna Petrova"
        ]
        rates = {(r.manager, r.item_id): r for r in report.items}
        assert rates[("Boris Ivanov", "no_pressure")].pass_rate == 0.5  # passed on the good call, failed on the poor one
        assert rates[("Boris Ivanov", "no_pressure")].decided == 2
        # An override counts: Boris's poor call now greets.
        store.override_item(
            session=session, call_id=ids["en_poor_laptop"], item_id="greeting", to_status="pass", comment="greeted",
            user=_user(session, "lead"), pass_threshold=THRESHOLD,
        )
        after = store.kpi_report(session=session, date_from=week[0], date_to=week[1])
        assert {(r.manager, r.item_id): r.pass_rate for r in after.items}[("Boris Ivanov", "greeting")] == 1.0
        assert sum(p.calls for p in report.team_trend) == 5 and {p.series for p in report.team_trend} == {"North", "South"}
        assert {p.series for p in report.manager_trend} == {"Anna Petrova", "Boris Ivanov"}
        empty = store.kpi_report(session=session, date_from=date(2000, 1, 1), date_to=date(2000, 1, 31))
        assert empty.managers == [] and empty.teams == [] and empty.team_trend == [] and empty.items == []


def test_kpis_follow_a_calls_crm_facts_changed_after_scoring(db):
    sessions, ids = db
    week = (date.today() - timedelta(days=7), date.today())
    with sessions.begin() as session:
        store.sync_review_states(session=session)
    with sessions.begin() as session:
        call = store.get_call(session=session, call_id=ids["en_poor_laptop"])
        call.order_outcome, call.order_amount = "won", 500.0  # the order came through later
    with sessions.begin() as session:
        boris = next(r for r in store.kpi_report(session=session, date_from=week[0], date_to=week[1]).managers if r.name == "Boris Ivanov")
        assert (boris.conversion, boris.average_check) == (1.0, round((18990.0 + 500.0) / 2, 2))


def test_agreement_and_labelled_export_read_back_by_eval(db, tmp_path):
    sessions, ids = db
    with sessions.begin() as session:
        lead = _user(session, "lead")
        store.override_item(
            session=session, call_id=ids["ru_poor_vacuum"], item_id="greeting", to_status="pass", comment="greeted", user=lead, pass_threshold=THRESHOLD
        )
        for sample in ("ru_poor_vacuum", "ru_good_vacuum"):
            store.mark_reviewed(session=session, call_id=ids[sample], user=lead)
    with sessions() as session:
        rows = {r.item_id: r for r in store.agreement(session=session)}
        assert (rows["greeting"].reviewed, rows["greeting"].confirmed, rows["greeting"].overturned) == (2, 1, 1)
        assert rows["greeting"].accuracy == 0.5
        assert rows["closing"].accuracy == 1.0 and rows["closing"].kappa == 1.0
        paths = store.write_labelled_transcripts(session=session, folder=tmp_path / "labelled")
    assert len(paths) == 2
    labelled = read_labelled(tmp_path / "labelled")
    poor = next(c for c in labelled if c.path.stem == ids["ru_poor_vacuum"])
    assert poor.labels["greeting"] == "pass" and poor.scorecard_id == "inbound_inquiry"
    assert poor.transcript.language == "ru" and poor.transcript.segments[0].text.startswith("Алло")
    report = evaluate(labelled, lambda card: load_scorecard(card or "inbound_inquiry", SCORECARDS))
    greeting = next(r for r in report.items if r.item == "greeting" and r.language == "all")
    assert (greeting.n, greeting.accuracy) == (2, 0.5)
