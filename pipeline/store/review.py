"""What the review app reads and writes: accounts, the lead's queue, a call with its verdicts,
overrides, comments, disputes, KPIs and the agreement of reviewers with the automatic verdicts.

A reviewer never edits the pipeline's rows: an override is a row of its own and the newest
one per item is in force. `review_states` keeps each scored call's standing in the queue
(flags, priority, the score after overrides); it is brought up to date from new assessments
by `sync_review_states`, which every page that lists calls calls first.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from sklearn.metrics import cohen_kappa_score
from sqlalchemy import and_, case, delete, func, insert, select, update
from sqlalchemy.orm import Session, aliased

from models import (
    ROLES,
    AcknowledgementRow,
    AssessmentRow,
    CallRow,
    CommentRow,
    DisputeRow,
    ItemOverrideRow,
    ItemResultRow,
    ManagerRow,
    ReviewMarkRow,
    ReviewStateRow,
    SegmentRow,
    TeamRow,
    UserRow,
)
from pipeline.errors import CallQAError
from pipeline.score.engine import combine
from pipeline.score.scorecard import STANDARD_ITEM_IDS
from pipeline.store.calls import current_assessment_row, current_transcript_row, load_transcript

__all__ = [
    "FLAGS",
    "HUMAN_LABELS",
    "REVIEW_STATUSES",
    "AgreementRow",
    "CallDetail",
    "EffectiveItem",
    "ItemRate",
    "KpiReport",
    "KpiRow",
    "QueueFilter",
    "QueuePage",
    "QueueRow",
    "TrendPoint",
    "acknowledge",
    "add_comment",
    "add_user",
    "agreement",
    "authenticate",
    "call_detail",
    "can_see_call",
    "dispute_item",
    "effective_result",
    "get_user",
    "hash_password",
    "kpi_report",
    "labelled_transcripts",
    "list_managers",
    "list_teams",
    "manager_calls",
    "mark_reviewed",
    "override_item",
    "review_queue",
    "sync_review_states",
    "verify_password",
    "visible_call",
    "write_labelled_transcripts",
]

# What a person may set an item to: the labels `callqa eval` reads.
HUMAN_LABELS = ("pass", "fail", "na")

# -- accounts ---------------------------------------------------------------------------

# scrypt at n=2**14, r=8: about 16 MiB and tens of milliseconds per check.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, hashed: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = hashed.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(candidate.hex(), digest)


def add_user(
    *, session: Session, username: str, password: str, role: str, manager_external_id: str | None = None
) -> UserRow:
    """A new account; a manager's account must name their CRM manager id."""
    if role not in ROLES:
        raise CallQAError(f"unknown role '{role}'; valid roles are {', '.join(ROLES)}")
    if not username or len(password) < 8:
        raise CallQAError("give a username and a password of at least 8 characters")
    if session.scalar(select(UserRow.id).where(UserRow.username == username)) is not None:
        raise CallQAError(f"a user named '{username}' exists already")
    manager_id = None
    if role == "manager":
        if not manager_external_id:
            raise CallQAError("a manager's account needs --manager with their CRM manager id")
        manager_id = session.scalar(select(ManagerRow.id).where(ManagerRow.external_id == manager_external_id))
        if manager_id is None:
            raise CallQAError(
                f"no manager with CRM id '{manager_external_id}'; managers appear when their calls are processed"
            )
    user = UserRow(username=username, password_hash=hash_password(password), role=role, manager_id=manager_id, active=True)
    session.add(user)
    session.flush()
    return user


def authenticate(*, session: Session, username: str, password: str) -> UserRow | None:
    user = session.scalar(select(UserRow).where(UserRow.username == username, UserRow.active.is_(True)))
    if user is None:
        verify_password(password, hash_password("a dummy password"))  # same time for unknown names
        return None
    return user if verify_password(password, user.password_hash) else None


def get_user(*, session: Session, user_id: int) -> UserRow | None:
    user = session.get(UserRow, user_id)
    return user if user is not None and user.active else None


def can_see_call(user: UserRow, call: CallRow) -> bool:
    if user.role in ("admin", "lead"):
        return True
    return user.manager_id is not None and call.manager_id == user.manager_id


def visible_call(*, session: Session, user: UserRow, call_id: str) -> CallRow | None:
    """The call, or None when it does not exist or this user may not see it (both read as 404)."""
    call = session.get(CallRow, call_id)
    return call if call is not None and can_see_call(user, call) else None


def list_managers(*, session: Session) -> list[ManagerRow]:
    return list(session.scalars(select(ManagerRow).order_by(ManagerRow.name)))


def list_teams(*, session: Session) -> list[TeamRow]:
    return list(session.scalars(select(TeamRow).order_by(TeamRow.name)))


# -- queue state --------------------------------------------------------------------------

# Assessments committed out of id order (concurrent workers) are caught by looking this far
# back from the newest one already synced.
_SYNC_LOOKBACK = 200


def _priority(*, open_disputes: int, critical_failed: bool, needs_review: bool, low_score: bool) -> int:
    if open_disputes:
        return 4
    return 3 if critical_failed else 2 if needs_review else 1 if low_score else 0


_ITEM_BITS = {item_id: 1 << i for i, item_id in enumerate(STANDARD_ITEM_IDS)}


def _item_bits(statuses) -> tuple[int, int]:
    """(decided, passed) bit sets of the standard items among (item id, status) pairs."""
    decided = passed = 0
    for item_id, status in statuses:
        bit = _ITEM_BITS.get(item_id, 0)
        if status in ("pass", "fail"):
            decided |= bit
        if status == "pass":
            passed |= bit
    return decided, passed


# What a state copies from its call, and from its assessment.
_CALL_FACTS = (CallRow.manager_id, CallRow.started_at, CallRow.order_outcome, CallRow.order_amount, CallRow.updated_at)
_ASSESSMENT_FIELDS = (
    AssessmentRow.id,
    AssessmentRow.call_id,
    AssessmentRow.scorecard_id,
    AssessmentRow.score,
    AssessmentRow.passed,
    AssessmentRow.flags,
    AssessmentRow.metrics,
)


def _facts(row) -> dict:
    return {
        "manager_id": row.manager_id,
        "started_at": row.started_at,
        "order_outcome": row.order_outcome,
        "order_amount": row.order_amount,
        "call_updated_at": row.updated_at,
    }


def _state_values(row, statuses, open_disputes: int) -> dict:
    """A new state from a row of _ASSESSMENT_FIELDS and _CALL_FACTS and the item statuses."""
    flags = row.flags
    critical = any(flag.startswith("critical_failed:") for flag in flags)
    needs_review = "needs_review" in flags
    low_score = "low_score" in flags
    decided, passed = _item_bits(statuses)
    return {
        "call_id": row.call_id,
        "assessment_id": row.id,
        "scorecard_id": row.scorecard_id,
        "critical_failed": critical,
        "needs_review": needs_review,
        "low_score": low_score,
        "open_disputes": open_disputes,
        "priority": _priority(open_disputes=open_disputes, critical_failed=critical, needs_review=needs_review, low_score=low_score),
        "auto_score": row.score,
        "talk_ratio": row.metrics.get("agent_talk_ratio"),
        "effective_score": row.score,
        "effective_passed": row.passed,
        "reviewed": False,
        "reviewed_at": None,
        "acknowledged": False,
        "items_decided": decided,
        "items_passed": passed,
        **_facts(row),
    }


def _new_states(session: Session, rows: list) -> None:
    """Replace the states of these calls with fresh ones from their current assessments."""
    call_ids = [row.call_id for row in rows]
    statuses: dict[int, list] = defaultdict(list)
    for assessment_id, item_id, status in session.execute(
        select(ItemResultRow.assessment_id, ItemResultRow.item_id, ItemResultRow.status).where(
            ItemResultRow.assessment_id.in_([row.id for row in rows])
        )
    ):
        statuses[assessment_id].append((item_id, status))
    disputes = dict(
        session.execute(
            select(DisputeRow.call_id, func.count())
            .where(DisputeRow.call_id.in_(call_ids), DisputeRow.status == "open")
            .group_by(DisputeRow.call_id)
        ).all()
    )
    session.execute(delete(ReviewStateRow).where(ReviewStateRow.call_id.in_(call_ids)))
    session.execute(
        insert(ReviewStateRow), [_state_values(row, statuses[row.id], disputes.get(row.call_id, 0)) for row in rows]
    )


def sync_review_states(*, session: Session, batch: int = 5000) -> int:
    """Give every call whose current assessment is new a fresh state, and copy the CRM facts of
    calls changed since; returns how many states were made.

    A rescored call starts unreviewed again: the review was of the earlier verdicts. Its open
    disputes stay open.
    """
    query = (
        select(*_ASSESSMENT_FIELDS, *_CALL_FACTS)
        .join(CallRow, CallRow.id == AssessmentRow.call_id)
        .where(AssessmentRow.is_current.is_(True))
        .order_by(AssessmentRow.id)
    )
    newest = session.scalar(select(func.max(ReviewStateRow.assessment_id)))
    if newest is not None:
        # Two index lookups over the recent ids: cheaper than an anti-join over every assessment.
        recent = list(session.scalars(select(AssessmentRow.id).where(AssessmentRow.id > newest - _SYNC_LOOKBACK)))
        known = set(session.scalars(select(ReviewStateRow.assessment_id).where(ReviewStateRow.assessment_id.in_(recent))))
        query = query.where(AssessmentRow.id.in_([i for i in recent if i not in known]))
    rows = session.execute(query).all()
    for start in range(0, len(rows), batch):
        _new_states(session, rows[start : start + batch])
    _refresh_call_facts(session)
    return len(rows)


# Calls changed this long before the newest change already copied are looked at again, for
# changes committed out of order.
_FACTS_LOOKBACK = timedelta(minutes=10)


def _refresh_call_facts(session: Session) -> None:
    newest = session.scalar(select(func.max(ReviewStateRow.call_updated_at)))
    if newest is None:
        return
    changed = session.execute(
        select(CallRow.id.label("call_id"), *_CALL_FACTS)
        .join(ReviewStateRow, ReviewStateRow.call_id == CallRow.id)
        .where(CallRow.updated_at > newest - _FACTS_LOOKBACK, CallRow.updated_at != ReviewStateRow.call_updated_at)
    ).all()
    for row in changed:
        session.execute(update(ReviewStateRow).where(ReviewStateRow.call_id == row.call_id).values(**_facts(row)))


def _state(session: Session, call_id: str) -> ReviewStateRow:
    """The call's state, made first if its current assessment is newer than the state."""
    assessment = current_assessment_row(session=session, call_id=call_id)
    if assessment is None:
        raise CallQAError(f"call {call_id} has no assessment yet")
    state = session.get(ReviewStateRow, call_id)
    if state is None or state.assessment_id != assessment.id:
        row = session.execute(
            select(*_ASSESSMENT_FIELDS, *_CALL_FACTS)
            .join(CallRow, CallRow.id == AssessmentRow.call_id)
            .where(AssessmentRow.id == assessment.id)
        ).one()
        if state is not None:
            session.expunge(state)
        _new_states(session, [row])
        state = session.get(ReviewStateRow, call_id)
    return state


def _reprioritise(state: ReviewStateRow) -> None:
    state.priority = _priority(
        open_disputes=state.open_disputes,
        critical_failed=state.critical_failed,
        needs_review=state.needs_review,
        low_score=state.low_score,
    )


# -- the lead's queue -------------------------------------------------------------------

FLAGS = ("disputed", "critical_failed", "needs_review", "low_score")
QUEUE_COUNT_CAP = 1000
REVIEW_STATUSES = ("unreviewed", "reviewed", "all")


@dataclass(frozen=True)
class QueueFilter:
    manager_id: int | None = None
    team_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    scorecard_id: str | None = None
    flag: str | None = None  # one of FLAGS
    review: str = "unreviewed"  # one of REVIEW_STATUSES
    offset: int = 0
    limit: int = 50


@dataclass(frozen=True)
class QueueRow:
    call_id: str
    started_at: datetime | None
    manager: str | None
    team: str | None
    scorecard_id: str
    flags: tuple[str, ...]
    priority: int
    auto_score: float
    effective_score: float
    passed: bool
    reviewed: bool
    open_disputes: int
    duration_s: float | None


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    total: int
    more: bool  # more calls match than QUEUE_COUNT_CAP
    filters: QueueFilter


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    """Midnight of a calendar day in the team's time zone, in UTC as times are stored."""
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(timezone.utc)


def _local_day(session: Session, column, zone: ZoneInfo):
    """The team's calendar day of a stored UTC time, computed by the database."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone(zone.key, column))
    # SQLite keeps UTC text and knows no zones: shift by the zone's offset today (exact for
    # zones without daylight saving time, such as Moscow).
    offset = int(datetime.now(zone).utcoffset().total_seconds() // 60)
    return func.date(column, f"{offset:+d} minutes")


def _date_range(query, column, date_from: date | None, date_to: date | None, zone: ZoneInfo):
    if date_from is not None:
        query = query.where(column >= _day_start(date_from, zone))
    if date_to is not None:
        query = query.where(column < _day_start(date_to + timedelta(days=1), zone))
    return query


def _flag_names(state: ReviewStateRow) -> tuple[str, ...]:
    names = ("disputed",) if state.open_disputes else ()
    return names + tuple(name for name in FLAGS[1:] if getattr(state, name))


def _queue_row(state: ReviewStateRow, started_at, duration_s, manager: str | None = None, team: str | None = None) -> QueueRow:
    return QueueRow(
        call_id=state.call_id,
        started_at=started_at,
        manager=manager,
        team=team,
        scorecard_id=state.scorecard_id,
        flags=_flag_names(state),
        priority=state.priority,
        auto_score=state.auto_score,
        effective_score=state.effective_score,
        passed=state.effective_passed,
        reviewed=state.reviewed,
        open_disputes=state.open_disputes,
        duration_s=duration_s,
    )


def review_queue(*, session: Session, filters: QueueFilter, time_zone: str = "UTC") -> QueuePage:
    """Flagged calls (and calls with open disputes), the most urgent and worst scored first;
    the date range is in the team's time zone."""
    zone = ZoneInfo(time_zone)
    sync_review_states(session=session)
    state = ReviewStateRow
    conditions = [state.priority > 0]
    if filters.review == "unreviewed":
        conditions.append(state.reviewed.is_(False))
    elif filters.review == "reviewed":
        conditions.append(state.reviewed.is_(True))
    if filters.scorecard_id:
        conditions.append(state.scorecard_id == filters.scorecard_id)
    if filters.flag == "disputed":
        conditions.append(state.open_disputes > 0)
    elif filters.flag in FLAGS:
        conditions.append(getattr(state, filters.flag).is_(True))
    narrow = []  # conditions that leave few calls: find those calls first, by an index on calls
    if filters.manager_id is not None:
        narrow.append(CallRow.manager_id == filters.manager_id)
    if filters.date_from is not None:
        narrow.append(CallRow.started_at >= _day_start(filters.date_from, zone))
    if filters.date_to is not None:
        narrow.append(CallRow.started_at < _day_start(filters.date_to + timedelta(days=1), zone))
    if filters.team_id is not None:
        in_team = CallRow.manager_id.in_(select(ManagerRow.id).where(ManagerRow.team_id == filters.team_id))
        if narrow:
            narrow.append(in_team)
        else:
            # A team holds many calls: walking the queue in priority order finds a page sooner.
            conditions.append(state.call_id.in_(select(CallRow.id).where(in_team)))
    if narrow:
        # MATERIALIZED keeps the planner from walking the whole queue to filter it instead.
        scope = select(CallRow.id).where(*narrow).cte("scope").prefix_with("MATERIALIZED")
        conditions.append(state.call_id.in_(select(scope.c.id)))
    matching = select(state.call_id).where(*conditions)
    # Counting a huge queue exactly costs more than the page itself; past the cap it reads "1000+".
    total = session.scalar(select(func.count()).select_from(matching.limit(QUEUE_COUNT_CAP + 1).subquery()))
    page = session.execute(
        select(state, CallRow.started_at, CallRow.duration_s, ManagerRow.name, TeamRow.name)
        .join(CallRow, CallRow.id == state.call_id)
        .outerjoin(ManagerRow, ManagerRow.id == CallRow.manager_id)
        .outerjoin(TeamRow, TeamRow.id == ManagerRow.team_id)
        .where(*conditions)
        .order_by(state.reviewed, state.priority.desc(), state.effective_score, state.call_id)
        .offset(filters.offset)
        .limit(filters.limit)
    ).all()
    rows = [_queue_row(s, started_at, duration, manager, team) for s, started_at, duration, manager, team in page]
    return QueuePage(rows=rows, total=min(total, QUEUE_COUNT_CAP), more=total > QUEUE_COUNT_CAP, filters=filters)


# -- one call -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EffectiveItem:
    """A scorecard item as it stands now: the automatic verdict and any reviewer's override."""

    id: str
    title: str
    auto_status: str
    status: str
    reason: str
    confidence: float
    evidence: list[dict]
    critical: bool
    weight: float
    feedback: str | None
    example: str | None
    overrides: list[ItemOverrideRow] = field(default_factory=list)
    disputes: list[DisputeRow] = field(default_factory=list)

    @property
    def overridden(self) -> bool:
        return self.status != self.auto_status or bool(self.overrides)


@dataclass(frozen=True)
class CallDetail:
    call: CallRow
    manager: ManagerRow | None
    team: TeamRow | None
    language: str | None
    segments: list[SegmentRow]
    assessment: AssessmentRow | None
    items: list[EffectiveItem]
    state: ReviewStateRow | None
    comments: list[CommentRow]
    reviews: list[ReviewMarkRow]
    acknowledged_by: list[str]


def _effective_statuses(session: Session, assessment_id: int) -> dict[str, list[ItemOverrideRow]]:
    overrides: dict[str, list[ItemOverrideRow]] = defaultdict(list)
    for row in session.scalars(
        select(ItemOverrideRow).where(ItemOverrideRow.assessment_id == assessment_id).order_by(ItemOverrideRow.created_at, ItemOverrideRow.id)
    ):
        overrides[row.item_id].append(row)
    return overrides


def effective_result(items: list[EffectiveItem], pass_threshold: float, has_speech: bool = True) -> tuple[float, bool]:
    """Score and verdict of the items as they stand, combined as the score stage combines them."""
    value, passed = combine(items, pass_threshold, has_speech)
    return round(value, 4), passed


def call_detail(*, session: Session, call_id: str) -> CallDetail:
    call = session.get(CallRow, call_id)
    if call is None:
        raise CallQAError(f"no call {call_id}")
    transcript = current_transcript_row(session=session, call_id=call_id)
    assessment = current_assessment_row(session=session, call_id=call_id)
    items: list[EffectiveItem] = []
    state = None
    if assessment is not None:
        state = _state(session, call_id)
        overrides = _effective_statuses(session, assessment.id)
        disputes: dict[str, list[DisputeRow]] = defaultdict(list)
        for dispute in session.scalars(
            select(DisputeRow).where(DisputeRow.assessment_id == assessment.id).order_by(DisputeRow.created_at, DisputeRow.id)
        ):
            disputes[dispute.item_id].append(dispute)
        for row in assessment.items:
            history = overrides.get(row.item_id, [])
            items.append(
                EffectiveItem(
                    id=row.item_id,
                    title=row.title,
                    auto_status=row.status,
                    status=history[-1].to_status if history else row.status,
                    reason=row.reason,
                    confidence=row.confidence,
                    evidence=list(row.evidence),
                    critical=row.critical,
                    weight=row.weight,
                    feedback=row.feedback,
                    example=row.example,
                    overrides=history,
                    disputes=disputes.get(row.item_id, []),
                )
            )
    acknowledged_by = []
    if assessment is not None:
        acknowledged_by = list(
            session.scalars(
                select(UserRow.username)
                .join(AcknowledgementRow, AcknowledgementRow.user_id == UserRow.id)
                .where(AcknowledgementRow.assessment_id == assessment.id)
            )
        )
    return CallDetail(
        call=call,
        manager=call.manager,
        team=call.manager.team if call.manager else None,
        language=transcript.language if transcript else None,
        segments=list(transcript.segments) if transcript else [],
        assessment=assessment,
        items=items,
        state=state,
        comments=list(
            session.scalars(select(CommentRow).where(CommentRow.call_id == call_id).order_by(CommentRow.created_at, CommentRow.id))
        ),
        reviews=list(
            session.scalars(select(ReviewMarkRow).where(ReviewMarkRow.call_id == call_id).order_by(ReviewMarkRow.created_at, ReviewMarkRow.id))
        ),
        acknowledged_by=acknowledged_by,
    )


def _current_item(session: Session, call_id: str, item_id: str) -> tuple[AssessmentRow, ItemResultRow]:
    assessment = current_assessment_row(session=session, call_id=call_id)
    item = next((i for i in assessment.items if i.item_id == item_id), None) if assessment else None
    if item is None:
        raise CallQAError(f"call {call_id} has no item '{item_id}'")
    return assessment, item


def override_item(
    *, session: Session, call_id: str, item_id: str, to_status: str, comment: str, user: UserRow, pass_threshold: float
) -> ReviewStateRow:
    """Set an item's verdict by a reviewer, with the reason; the call's effective score follows."""
    if user.role not in ("admin", "lead"):
        raise CallQAError("only a quality lead or an admin may override a verdict")
    if to_status not in HUMAN_LABELS:
        raise CallQAError(f"a verdict must be one of {', '.join(HUMAN_LABELS)}")
    if not comment.strip():
        raise CallQAError("say why the verdict changes")
    assessment, item = _current_item(session, call_id, item_id)
    state = _state(session, call_id)
    history = _effective_statuses(session, assessment.id).get(item_id)
    from_status = history[-1].to_status if history else item.status
    session.add(
        ItemOverrideRow(
            call_id=call_id,
            assessment_id=assessment.id,
            item_id=item_id,
            from_status=from_status,
            to_status=to_status,
            comment=comment.strip(),
            user_id=user.id,
        )
    )
    session.flush()
    detail = call_detail(session=session, call_id=call_id)
    state.effective_score, state.effective_passed = effective_result(detail.items, pass_threshold, bool(detail.segments))
    state.items_decided, state.items_passed = _item_bits((item.id, item.status) for item in detail.items)
    return state


def add_comment(*, session: Session, call_id: str, user: UserRow, text: str, at_s: float | None = None) -> CommentRow:
    if not text.strip():
        raise CallQAError("a comment needs some text")
    comment = CommentRow(call_id=call_id, user_id=user.id, text=text.strip(), at_s=at_s if at_s is None else max(0.0, at_s))
    session.add(comment)
    session.flush()
    return comment


def mark_reviewed(*, session: Session, call_id: str, user: UserRow) -> ReviewStateRow:
    """Record the lead's review of the current verdicts; it answers the call's open disputes."""
    if user.role not in ("admin", "lead"):
        raise CallQAError("only a quality lead or an admin may mark a call reviewed")
    state = _state(session, call_id)
    now = datetime.now(timezone.utc)
    session.add(ReviewMarkRow(call_id=call_id, assessment_id=state.assessment_id, user_id=user.id, created_at=now))
    session.execute(
        update(DisputeRow)
        .where(DisputeRow.call_id == call_id, DisputeRow.status == "open")
        .values(status="resolved", resolved_by_id=user.id, resolved_at=now)
    )
    state.reviewed, state.reviewed_at, state.open_disputes = True, now, 0
    _reprioritise(state)
    session.flush()
    return state


def dispute_item(*, session: Session, call_id: str, item_id: str, reason: str, user: UserRow) -> DisputeRow:
    """A manager's objection to a verdict: the call goes back to the top of the lead's queue."""
    if not reason.strip():
        raise CallQAError("say why the verdict is wrong")
    assessment, _ = _current_item(session, call_id, item_id)
    state = _state(session, call_id)
    dispute = DisputeRow(call_id=call_id, assessment_id=assessment.id, item_id=item_id, reason=reason.strip(), user_id=user.id, status="open")
    session.add(dispute)
    state.open_disputes += 1
    state.reviewed = False
    _reprioritise(state)
    session.flush()
    return dispute


def acknowledge(*, session: Session, call_id: str, user: UserRow) -> None:
    state = _state(session, call_id)
    already = session.scalar(
        select(AcknowledgementRow.id).where(AcknowledgementRow.assessment_id == state.assessment_id, AcknowledgementRow.user_id == user.id)
    )
    if already is None:
        session.add(AcknowledgementRow(call_id=call_id, assessment_id=state.assessment_id, user_id=user.id))
    state.acknowledged = True
    session.flush()


# -- a manager's own calls ----------------------------------------------------------------


def manager_calls(*, session: Session, manager_id: int, limit: int = 50, offset: int = 0) -> list[QueueRow]:
    """A manager's scored calls, newest first."""
    sync_review_states(session=session)
    rows = session.execute(
        select(ReviewStateRow, CallRow.started_at, CallRow.duration_s)
        .join(CallRow, CallRow.id == ReviewStateRow.call_id)
        .where(CallRow.manager_id == manager_id)
        .order_by(CallRow.started_at.desc(), CallRow.id)
        .offset(offset)
        .limit(limit)
    ).all()
    return [_queue_row(s, started_at, duration) for s, started_at, duration in rows]


# -- KPIs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiRow:
    key: int | None  # manager or team id
    name: str
    team: str | None
    calls: int
    active_days: int
    calls_per_day: float
    average_score: float
    pass_rate: float
    talk_ratio: float | None
    conversion: float | None  # won / calls with a CRM outcome
    average_check: float | None  # mean order amount of won calls


@dataclass(frozen=True)
class TrendPoint:
    series: str  # a team's or a manager's name
    day: date
    calls: int
    average_score: float


@dataclass(frozen=True)
class ItemRate:
    manager: str
    item_id: str
    decided: int
    pass_rate: float


@dataclass(frozen=True)
class KpiReport:
    managers: list[KpiRow]
    teams: list[KpiRow]
    team_trend: list[TrendPoint]
    manager_trend: list[TrendPoint]
    items: list[ItemRate]  # per manager and standard item, after overrides


def _kpi_row(key: int | None, name: str, team: str | None, rows: list[tuple]) -> KpiRow:
    """A manager's or a team's KPIs from their rows of (day, calls, score sum, ...) per manager and day."""
    calls, score, passed, talk, talk_n, won, with_outcome, won_amount, won_amount_n = (
        sum(value or 0 for value in column) for column in list(zip(*rows))[1:10]
    )
    days = len({row[0] for row in rows})
    return KpiRow(
        key=key,
        name=name,
        team=team,
        calls=calls,
        active_days=days,
        calls_per_day=round(calls / days, 2),
        average_score=round(score / calls, 4),
        pass_rate=round(passed / calls, 4),
        talk_ratio=round(talk / talk_n, 4) if talk_n else None,
        conversion=round(won / with_outcome, 4) if with_outcome else None,
        average_check=round(won_amount / won_amount_n, 2) if won_amount_n else None,
    )


def _item_rates(manager: str, rows: list[tuple]) -> list[ItemRate]:
    sums = [sum(value or 0 for value in column) for column in list(zip(*rows))[10:]]
    return [
        ItemRate(manager=manager, item_id=item_id, decided=sums[2 * i], pass_rate=round(sums[2 * i + 1] / sums[2 * i], 4))
        for i, item_id in enumerate(STANDARD_ITEM_IDS)
        if sums[2 * i]
    ]


def _trend(rows_by_key: dict, name) -> list[TrendPoint]:
    """One point per series and day: calls and average score."""
    per_day: dict[tuple[str, date], list] = defaultdict(lambda: [0, 0.0])
    for key, rows in rows_by_key.items():
        for row in rows:
            point = per_day[(name(key), row[0])]
            point[0] += row[1]
            point[1] += row[2] or 0.0
    return [
        TrendPoint(series=series, day=d, calls=n, average_score=round(total / n, 4))
        for (series, d), (n, total) in sorted(per_day.items())
    ]


def kpi_report(
    *, session: Session, date_from: date | None, date_to: date | None, team_id: int | None = None,
    manager_id: int | None = None, time_zone: str = "UTC",
) -> KpiReport:
    """Volume, quality, item pass rates and sales outcomes per manager and team, and daily trends,
    with days counted in the team's time zone.

    One pass over the states of the calls in range, summed per manager and day in the database;
    managers, teams and trends are added up from those few rows.
    """
    sync_review_states(session=session)
    state = ReviewStateRow
    won = state.order_outcome == "won"

    def has(bits, bit: int):
        return func.sum(case((bits.op("&")(bit) != 0, 1), else_=0))

    zone = ZoneInfo(time_zone)
    day = _local_day(session, state.started_at, zone)
    query = _date_range(
        select(
            state.manager_id,
            day,
            func.count(),
            func.sum(state.effective_score),
            func.sum(case((state.effective_passed.is_(True), 1), else_=0)),
            func.sum(state.talk_ratio),
            func.count(state.talk_ratio),
            func.sum(case((won, 1), else_=0)),
            func.count(state.order_outcome),
            func.sum(case((won, state.order_amount))),
            func.count(case((won, state.order_amount))),
            *[column for bit in _ITEM_BITS.values() for column in (has(state.items_decided, bit), has(state.items_passed, bit))],
        )
        .where(state.started_at.is_not(None))
        .group_by(state.manager_id, day),
        state.started_at,
        date_from,
        date_to,
        zone,
    )
    if team_id is not None:
        query = query.where(state.manager_id.in_(select(ManagerRow.id).where(ManagerRow.team_id == team_id)))
    if manager_id is not None:
        query = query.where(state.manager_id == manager_id)
    manager_names, manager_teams = {}, {}
    for key, name, team in session.execute(select(ManagerRow.id, ManagerRow.name, ManagerRow.team_id)):
        manager_names[key], manager_teams[key] = name, team
    team_names = dict(session.execute(select(TeamRow.id, TeamRow.name)).all())
    by_manager: dict[int | None, list[tuple]] = defaultdict(list)
    for key, d, *sums in session.execute(query):
        by_manager[key].append((d if isinstance(d, date) else date.fromisoformat(d), *sums))
    by_team: dict[int | None, list[tuple]] = defaultdict(list)
    for key, rows in by_manager.items():
        by_team[manager_teams.get(key)].extend(rows)

    def manager_name(key):
        return manager_names.get(key, "(no manager)")

    def team_name(key):
        return team_names.get(key, "(no team)")

    return KpiReport(
        managers=sorted(
            (_kpi_row(key, manager_name(key), team_name(manager_teams.get(key)) if key in manager_teams else None, rows)
             for key, rows in by_manager.items()),
            key=lambda r: r.name,
        ),
        teams=sorted((_kpi_row(key, team_name(key), None, rows) for key, rows in by_team.items()), key=lambda r: r.name),
        team_trend=_trend(by_team, team_name),
        manager_trend=_trend(by_manager, manager_name),
        items=sorted((rate for key, rows in by_manager.items() for rate in _item_rates(manager_name(key), rows)), key=lambda r: (r.manager, r.item_id)),
    )


# -- agreement of reviewers with the automatic verdicts ---------------------------------------


@dataclass(frozen=True)
class AgreementRow:
    item_id: str
    reviewed: int  # items a reviewer gave a verdict on (pass, fail or na)
    confirmed: int
    overturned: int
    unresolved: int  # left as needs_review
    accuracy: float | None
    kappa: float | None


def _reviewed_verdicts(session: Session) -> list[tuple[str, str, str, str]]:
    """(call id, item id, automatic verdict, final verdict) over calls marked reviewed."""
    sync_review_states(session=session)
    latest = (
        select(ItemOverrideRow.assessment_id, ItemOverrideRow.item_id, func.max(ItemOverrideRow.id).label("id"))
        .group_by(ItemOverrideRow.assessment_id, ItemOverrideRow.item_id)
        .subquery()
    )
    final = aliased(ItemOverrideRow)
    rows = session.execute(
        select(ReviewStateRow.call_id, ItemResultRow.item_id, ItemResultRow.status, final.to_status)
        .join(ItemResultRow, ItemResultRow.assessment_id == ReviewStateRow.assessment_id)
        .outerjoin(latest, and_(latest.c.assessment_id == ItemResultRow.assessment_id, latest.c.item_id == ItemResultRow.item_id))
        .outerjoin(final, final.id == latest.c.id)
        .where(ReviewStateRow.reviewed.is_(True))
        .order_by(ReviewStateRow.call_id, ItemResultRow.position)
    ).all()
    return [(call_id, item_id, auto, overridden or auto) for call_id, item_id, auto, overridden in rows]


def agreement(*, session: Session) -> list[AgreementRow]:
    """Per item, how often reviewers kept or changed the automatic verdict, over reviewed calls.

    A reviewed call's item that nobody overrode counts as confirmed; accuracy and Cohen's kappa
    compare the automatic verdicts with the reviewers' final ones.
    """
    by_item: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for _, item_id, auto, final in _reviewed_verdicts(session):
        by_item[item_id].append((auto, final))
    rows = []
    for item_id, pairs in by_item.items():
        labelled = [(auto, final) for auto, final in pairs if final in HUMAN_LABELS]
        confirmed = sum(auto == final for auto, final in labelled)
        kappa = None
        if labelled:
            truth = [final for _, final in labelled]
            predicted = [auto for auto, _ in labelled]
            kappa = 1.0 if truth == predicted else float(cohen_kappa_score(truth, predicted, labels=[*HUMAN_LABELS, "needs_review"]))
        rows.append(
            AgreementRow(
                item_id=item_id,
                reviewed=len(labelled),
                confirmed=confirmed,
                overturned=len(labelled) - confirmed,
                unresolved=len(pairs) - len(labelled),
                accuracy=round(confirmed / len(labelled), 4) if labelled else None,
                kappa=round(kappa, 4) if kappa is not None else None,
            )
        )
    return rows


def labelled_transcripts(*, session: Session) -> list[dict]:
    """Reviewed calls as labelled transcripts in the format `callqa eval` reads.

    Labels are the reviewers' final verdicts; an item left as needs_review has no label.
    """
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    for call_id, item_id, _, final in _reviewed_verdicts(session):
        if final in HUMAN_LABELS:
            labels[call_id][item_id] = final
    exported = []
    for call_id, call_labels in labels.items():
        transcript = load_transcript(session=session, call_id=call_id)
        if transcript is None or not call_labels:
            continue
        data = json.loads(transcript.to_json())
        data["call_id"] = call_id
        data["scorecard"] = session.get(ReviewStateRow, call_id).scorecard_id
        data["labels"] = call_labels
        exported.append(data)
    return exported


def write_labelled_transcripts(*, session: Session, folder: Path) -> list[Path]:
    """Write `labelled_transcripts` as one JSON file per call, for `callqa eval FOLDER`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for data in labelled_transcripts(session=session):
        path = folder / f"{data['call_id']}.json"
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        paths.append(path)
    return paths
