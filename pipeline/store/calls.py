"""Calls, their managers, their claims by workers, transcripts and assessments."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from models import AssessmentRow, CallRow, ItemResultRow, ManagerRow, RedactionRow, SegmentRow, TeamRow, TranscriptRow
from pipeline.audio import CallRecording
from pipeline.errors import CallNotFoundError
from pipeline.files import file_sha256
from pipeline.ingest import IngestedCall
from pipeline.redact import Redaction
from pipeline.sidecar import CallMetadata, mask_phone, phone_hash
from pipeline.types import (
    Assessment,
    ChannelMap,
    Evidence,
    ItemResult,
    ScorecardRef,
    Segment,
    Transcript,
    TranscriptRef,
    Word,
)

__all__ = [
    "WORK_TO_DO",
    "apply_metadata",
    "calls_due_for_purge",
    "calls_with_transcripts",
    "claim_next_call",
    "count_work_to_do",
    "current_assessment_row",
    "current_transcript_row",
    "find_call",
    "get_call",
    "give_up_on_exhausted_calls",
    "list_calls",
    "load_assessment",
    "load_transcript",
    "manager_for",
    "mark_call",
    "purge_transcript_text",
    "quarantine_call",
    "quarantined_calls",
    "record_audio",
    "release_claim",
    "renew_claim",
    "save_assessment",
    "save_transcript",
    "upsert_call",
]


def get_call(*, session: Session, call_id: str) -> CallRow | None:
    return session.get(CallRow, call_id)


def find_call(*, session: Session, reference: str) -> CallRow:
    """A call by its id, a unique prefix of its id or hash, or the path of its audio file."""
    path = Path(reference)
    if path.is_file():
        sha = file_sha256(path)
        call = session.scalar(select(CallRow).where(CallRow.audio_sha256 == sha))
        if call is None:
            raise CallNotFoundError(f"{reference} has not been processed yet; run: callqa run {reference}")
        return call
    matches = session.scalars(
        select(CallRow).where(CallRow.id.startswith(reference[:16]) | CallRow.audio_sha256.startswith(reference)).limit(2)
    ).all()
    if len(matches) != 1 or not reference:
        problem = "matches more than one call" if len(matches) > 1 else "matches no call and no file"
        raise CallNotFoundError(f"'{reference}' {problem}; list calls with: callqa calls")
    return matches[0]


# Calls a worker may take: new or half done (a failed attempt keeps its stage and its error).
WORK_TO_DO = ("ingested", "transcribed")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def upsert_call(*, session: Session, ingested: IngestedCall, archive_path: Path | None) -> tuple[CallRow, bool]:
    """The call of these audio bytes, created on first sight; returns it and whether it is new."""
    call = session.get(CallRow, ingested.call_id)
    is_new = call is None
    if is_new:
        call = CallRow(
            id=ingested.call_id,
            audio_sha256=ingested.sha256,
            file_name=ingested.path.name,
            source_path=str(ingested.path),
            size_bytes=ingested.size_bytes,
            status="ingested",
            attempts=0,
        )
        session.add(call)
    call.archive_path = str(archive_path) if archive_path else call.archive_path
    return call, is_new


def manager_for(*, session: Session, external_id: str, name: str | None, team: str | None) -> ManagerRow:
    """The manager with this CRM id, created (with their team) when first seen."""
    manager = session.scalar(select(ManagerRow).where(ManagerRow.external_id == external_id))
    if manager is None:
        manager = ManagerRow(external_id=external_id, name=name or external_id)
        session.add(manager)
    elif name:
        manager.name = name
    if team:
        team_row = session.scalar(select(TeamRow).where(TeamRow.name == team))
        if team_row is None:
            team_row = TeamRow(name=team)
            session.add(team_row)
        manager.team = team_row
    session.flush()
    return manager


def apply_metadata(*, session: Session, call: CallRow, metadata: CallMetadata, phone_key: str, scorecard_id: str | None) -> None:
    if metadata.manager_id:
        call.manager_id = manager_for(
            session=session, external_id=metadata.manager_id, name=metadata.manager_name, team=metadata.team
        ).id
    if metadata.client_phone:
        call.client_phone_hash = phone_hash(metadata.client_phone, phone_key)
        call.client_phone_masked = mask_phone(metadata.client_phone)
    call.started_at = metadata.started_at or call.started_at
    call.direction = metadata.direction or call.direction
    call.order_outcome = metadata.order_outcome or call.order_outcome
    call.order_amount = metadata.order_amount if metadata.order_amount is not None else call.order_amount
    call.currency = metadata.currency or call.currency
    call.scorecard_id = scorecard_id or call.scorecard_id


def quarantine_call(*, session: Session, call_id: str, reason: str, quarantine_path: Path | None) -> None:
    call = session.get(CallRow, call_id)
    call.status = "quarantined"
    call.error = reason
    call.quarantine_path = str(quarantine_path) if quarantine_path else None
    call.claimed_by = call.lease_expires_at = None


def quarantined_calls(*, session: Session) -> list[CallRow]:
    return list(session.scalars(select(CallRow).where(CallRow.status == "quarantined").order_by(CallRow.created_at, CallRow.id)))


def _claim_is_free(now: datetime):
    return or_(CallRow.claimed_by.is_(None), CallRow.lease_expires_at < now)


def claim_next_call(
    *, session: Session, worker: str, lease_s: float, max_attempts: int,
    only: list[str] | None = None, skip: set[str] = frozenset(),
) -> str | None:
    """Claim the oldest call with work to do for this worker, or None when there is none.

    On PostgreSQL, SKIP LOCKED lets concurrent workers pass over rows another is claiming;
    the guarded UPDATE makes the claim exclusive on every database.
    """
    now = _utcnow()
    while True:
        query = (
            select(CallRow.id)
            .where(CallRow.status.in_(WORK_TO_DO), CallRow.attempts < max_attempts, _claim_is_free(now))
            .order_by(CallRow.created_at, CallRow.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if only is not None:
            query = query.where(CallRow.id.in_(only))
        if skip:
            query = query.where(CallRow.id.not_in(skip))
        call_id = session.scalar(query)
        if call_id is None:
            return None
        claimed = session.execute(
            update(CallRow)
            .where(CallRow.id == call_id, _claim_is_free(now))
            .values(claimed_by=worker, lease_expires_at=now + timedelta(seconds=lease_s), attempts=CallRow.attempts + 1)
        ).rowcount
        if claimed == 1:
            return call_id


def count_work_to_do(*, session: Session, max_attempts: int) -> int:
    return session.scalar(
        select(func.count()).select_from(CallRow).where(CallRow.status.in_(WORK_TO_DO), CallRow.attempts < max_attempts)
    )


def renew_claim(*, session: Session, call_id: str, worker: str, lease_s: float) -> bool:
    """Extend this worker's lease; False when the call is no longer this worker's."""
    return session.execute(
        update(CallRow)
        .where(CallRow.id == call_id, CallRow.claimed_by == worker)
        .values(lease_expires_at=_utcnow() + timedelta(seconds=lease_s))
    ).rowcount == 1


def release_claim(*, session: Session, call_id: str, worker: str) -> bool:
    return session.execute(
        update(CallRow)
        .where(CallRow.id == call_id, CallRow.claimed_by == worker)
        .values(claimed_by=None, lease_expires_at=None)
    ).rowcount == 1


def give_up_on_exhausted_calls(*, session: Session, max_attempts: int) -> int:
    """Mark calls that used up their attempts as failed, with the last error if there was one."""
    exhausted = session.scalars(
        select(CallRow).where(
            CallRow.status.in_(WORK_TO_DO), CallRow.attempts >= max_attempts, _claim_is_free(_utcnow())
        )
    ).all()
    for call in exhausted:
        call.status = "failed"
        call.error = f"gave up after {max_attempts} attempts: {call.error or 'the worker stopped each time'}"
    return len(exhausted)


def record_audio(*, session: Session, call_id: str, audio: CallRecording) -> None:
    call = session.get(CallRow, call_id)
    call.duration_s = round(audio.duration, 3)
    call.channels = audio.channels
    call.sample_rate = audio.source_sample_rate


def mark_call(*, session: Session, call_id: str, status: str, error: str | None = None) -> None:
    call = session.get(CallRow, call_id)
    call.status = status
    call.error = error


def save_transcript(
    *, session: Session, call_id: str, transcript: Transcript, redactions: tuple[Redaction, ...] = (),
    review_audio: Path | None = None,
) -> TranscriptRow:
    """Store a (redacted) transcript as the call's current one, with where it was redacted."""
    session.execute(update(TranscriptRow).where(TranscriptRow.call_id == call_id).values(is_current=False))
    row = TranscriptRow(
        call_id=call_id,
        language=transcript.language,
        engine=transcript.engine,
        model=transcript.model,
        duration_s=transcript.duration,
        agent_channel=transcript.channel_map.agent_channel if transcript.channel_map else None,
        roles_source=transcript.channel_map.source if transcript.channel_map else None,
        roles_confidence=transcript.channel_map.confidence if transcript.channel_map else None,
        roles_note=transcript.channel_map.note if transcript.channel_map else None,
        is_current=True,
        segments=[
            SegmentRow(
                position=position,
                speaker=segment.speaker,
                start_s=segment.start,
                end_s=segment.end,
                text=segment.text,
                confidence=segment.confidence,
                avg_logprob=segment.avg_logprob,
                no_speech_prob=segment.no_speech_prob,
                words=[word.model_dump() for word in segment.words] or None,
                language=segment.language,
            )
            for position, segment in enumerate(transcript.segments)
        ],
    )
    row.redactions = [
        RedactionRow(kind=r.type, speaker=r.speaker, start_s=r.start, end_s=r.end) for r in redactions
    ]
    session.add(row)
    session.flush()
    mark_call(session=session, call_id=call_id, status="transcribed")
    if review_audio is not None:
        session.get(CallRow, call_id).review_audio_path = str(review_audio)
    return row


def current_transcript_row(*, session: Session, call_id: str) -> TranscriptRow | None:
    return session.scalar(
        select(TranscriptRow).where(TranscriptRow.call_id == call_id, TranscriptRow.is_current.is_(True))
    )


def load_transcript(*, session: Session, call_id: str) -> Transcript | None:
    row = current_transcript_row(session=session, call_id=call_id)
    if row is None:
        return None
    return Transcript(
        call_id=call_id,
        language=row.language,
        duration=row.duration_s,
        engine=row.engine,
        model=row.model,
        channel_map=(
            ChannelMap(agent_channel=row.agent_channel, source=row.roles_source, confidence=row.roles_confidence, note=row.roles_note)
            if row.agent_channel
            else None
        ),
        segments=tuple(
            Segment(
                speaker=s.speaker,
                start=s.start_s,
                end=s.end_s,
                text=s.text,
                confidence=s.confidence,
                avg_logprob=s.avg_logprob,
                no_speech_prob=s.no_speech_prob,
                words=tuple(Word(**w) for w in s.words or ()),
                language=s.language,
            )
            for s in row.segments
        ),
    )


def save_assessment(*, session: Session, call_id: str, transcript_id: int, assessment: Assessment) -> AssessmentRow:
    """Store an assessment as the call's current one; earlier ones stay as history."""
    session.execute(update(AssessmentRow).where(AssessmentRow.call_id == call_id).values(is_current=False))
    row = AssessmentRow(
        call_id=call_id,
        transcript_id=transcript_id,
        scorecard_id=assessment.scorecard.id,
        scorecard_version=assessment.scorecard.version,
        scorecard_hash=assessment.scorecard.hash or "",
        transcript_engine=assessment.transcript.engine,
        transcript_model=assessment.transcript.model,
        language=assessment.language,
        score=assessment.score,
        passed=assessment.passed,
        metrics=dict(assessment.metrics),
        flags=list(assessment.flags),
        is_current=True,
        items=[
            ItemResultRow(
                position=position,
                item_id=item.id,
                title=item.title,
                status=item.status,
                confidence=item.confidence,
                reason=item.reason,
                evidence=[e.model_dump() for e in item.evidence],
                critical=item.critical,
                weight=item.weight,
                feedback=item.feedback,
                example=item.example,
            )
            for position, item in enumerate(assessment.items)
        ],
    )
    session.add(row)
    session.flush()
    mark_call(session=session, call_id=call_id, status="scored")
    return row


def current_assessment_row(*, session: Session, call_id: str) -> AssessmentRow | None:
    return session.scalar(
        select(AssessmentRow).where(AssessmentRow.call_id == call_id, AssessmentRow.is_current.is_(True))
    )


def load_assessment(*, session: Session, call_id: str) -> Assessment | None:
    row = current_assessment_row(session=session, call_id=call_id)
    if row is None:
        return None
    return Assessment(
        scorecard=ScorecardRef(id=row.scorecard_id, version=row.scorecard_version, hash=row.scorecard_hash or None),
        transcript=TranscriptRef(engine=row.transcript_engine, model=row.transcript_model),
        language=row.language,
        score=row.score,
        passed=row.passed,
        items=tuple(
            ItemResult(
                id=i.item_id,
                title=i.title,
                status=i.status,
                confidence=i.confidence,
                reason=i.reason,
                evidence=tuple(Evidence(**e) for e in i.evidence),
                critical=i.critical,
                weight=i.weight,
                feedback=i.feedback,
                example=i.example,
            )
            for i in row.items
        ),
        metrics=row.metrics,
        flags=tuple(row.flags),
    )


def calls_due_for_purge(*, session: Session, what: str, before: datetime) -> list[CallRow]:
    """Calls older than `before` whose `what` (original_audio, review_audio, transcripts) is still kept."""
    still_kept = {
        "original_audio": CallRow.archive_path.is_not(None),
        "review_audio": CallRow.review_audio_path.is_not(None),
        "transcripts": CallRow.transcript_purged_at.is_(None),
    }[what]
    age = func.coalesce(CallRow.started_at, CallRow.created_at)
    query = select(CallRow).where(still_kept, age < before, CallRow.status.in_(("scored", "quarantined", "failed")))
    if what == "transcripts":
        query = query.where(CallRow.transcripts.any())
    return list(session.scalars(query))


def purge_transcript_text(*, session: Session, call_id: str) -> None:
    """Delete what was said (segments, words, quoted evidence), keep every verdict and number."""
    transcript_ids = select(TranscriptRow.id).where(TranscriptRow.call_id == call_id)
    session.execute(delete(SegmentRow).where(SegmentRow.transcript_id.in_(transcript_ids)))
    session.execute(delete(RedactionRow).where(RedactionRow.transcript_id.in_(transcript_ids)))
    for item in session.scalars(
        select(ItemResultRow).join(AssessmentRow).where(AssessmentRow.call_id == call_id)
    ):
        item.evidence = [{**e, "text": ""} for e in item.evidence]


def calls_with_transcripts(*, session: Session) -> list[str]:
    """Ids of every call that has a current transcript, oldest first."""
    return list(
        session.scalars(
            select(CallRow.id)
            .join(TranscriptRow, TranscriptRow.call_id == CallRow.id)
            .where(TranscriptRow.is_current.is_(True), CallRow.transcript_purged_at.is_(None))
            .order_by(CallRow.created_at, CallRow.id)
        )
    )


def list_calls(*, session: Session, limit: int = 100) -> list[CallRow]:
    return list(session.scalars(select(CallRow).order_by(CallRow.created_at.desc()).limit(limit)))
