"""The stored shape of a call: call -> transcripts -> segments, call -> assessments -> item results.

A call belongs to a manager (from its CRM sidecar), who belongs to a team. Schema changes go
through Alembic migrations in models/migrations/.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def _now() -> datetime:
    return datetime.now(timezone.utc)


class UtcDateTime(TypeDecorator):
    """Stored in UTC and read back as aware UTC times on every database (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime}


class TeamRow(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)


class ManagerRow(Base):
    """A sales manager; created on first sight in a CRM sidecar, keyed by the CRM's id."""

    __tablename__ = "managers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(256))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=_now)

    team: Mapped[TeamRow | None] = relationship()


class CallRow(Base):
    """One recording, identified by the sha256 of its bytes so a re-run never duplicates it."""

    __tablename__ = "calls"
    __table_args__ = (Index("ix_calls_queue", "status", "lease_expires_at"),)

    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # first 16 hex digits of the sha256
    audio_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(String(512))
    source_path: Mapped[str] = mapped_column(Text)
    archive_path: Mapped[str | None] = mapped_column(Text)
    # What reviewers hear: the archived audio with redacted spans under a tone (the
    # original stays in the archive for admins).
    review_audio_path: Mapped[str | None] = mapped_column(Text)
    # Set when retention deleted the call's audio or its transcript text (its assessment stays).
    audio_purged_at: Mapped[datetime | None] = mapped_column()
    transcript_purged_at: Mapped[datetime | None] = mapped_column()
    size_bytes: Mapped[int] = mapped_column(Integer)
    duration_s: Mapped[float | None] = mapped_column(Float)
    channels: Mapped[int | None] = mapped_column(Integer)
    sample_rate: Mapped[int | None] = mapped_column(Integer)
    # ingested -> transcribed -> scored; or quarantined (bad input) / failed (our error).
    status: Mapped[str] = mapped_column(String(16), default="ingested")
    error: Mapped[str | None] = mapped_column(Text)
    quarantine_path: Mapped[str | None] = mapped_column(Text)
    # From the CRM sidecar, when there is one.
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("managers.id"), index=True)
    started_at: Mapped[datetime | None] = mapped_column(index=True)
    direction: Mapped[str | None] = mapped_column(String(16))
    # The client's number is kept only as a keyed hash (to group a client's calls) and masked.
    client_phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    client_phone_masked: Mapped[str | None] = mapped_column(String(32))
    order_outcome: Mapped[str | None] = mapped_column(String(16))
    order_amount: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(String(8))
    scorecard_id: Mapped[str | None] = mapped_column(String(64))
    # A worker's claim on the call; a claim whose lease has expired belongs to nobody.
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=_now)
    updated_at: Mapped[datetime] = mapped_column(default=_now, onupdate=_now)

    manager: Mapped[ManagerRow | None] = relationship()
    transcripts: Mapped[list[TranscriptRow]] = relationship(back_populates="call", cascade="all, delete-orphan")
    assessments: Mapped[list[AssessmentRow]] = relationship(back_populates="call", cascade="all, delete-orphan")


def _one_current_per_call(table: str) -> Index:
    """At most one current row per call, enforced by the database itself."""
    only_current = text("is_current")
    return Index(f"uq_{table}_current", "call_id", unique=True, sqlite_where=only_current, postgresql_where=only_current)


class TranscriptRow(Base):
    __tablename__ = "transcripts"
    __table_args__ = (_one_current_per_call("transcripts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    engine: Mapped[str | None] = mapped_column(String(32))
    model: Mapped[str | None] = mapped_column(String(128))
    duration_s: Mapped[float | None] = mapped_column(Float)
    # Stereo calls: the manager's channel, and whether configured, inferred or swapped by a person.
    agent_channel: Mapped[str | None] = mapped_column(String(8))
    roles_source: Mapped[str | None] = mapped_column(String(16))
    roles_confidence: Mapped[float | None] = mapped_column(Float)
    roles_note: Mapped[str | None] = mapped_column(Text)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=_now)

    call: Mapped[CallRow] = relationship(back_populates="transcripts")
    segments: Mapped[list[SegmentRow]] = relationship(
        back_populates="transcript", cascade="all, delete-orphan", order_by="SegmentRow.position"
    )
    redactions: Mapped[list[RedactionRow]] = relationship(cascade="all, delete-orphan", order_by="RedactionRow.start_s")


class SegmentRow(Base):
    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("transcript_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    speaker: Mapped[str] = mapped_column(String(8))
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float | None] = mapped_column(Float)
    avg_logprob: Mapped[float | None] = mapped_column(Float)
    no_speech_prob: Mapped[float | None] = mapped_column(Float)
    words: Mapped[list | None] = mapped_column(JSON)
    language: Mapped[str | None] = mapped_column(String(8))

    transcript: Mapped[TranscriptRow] = relationship(back_populates="segments")


class AssessmentRow(Base):
    __tablename__ = "assessments"
    __table_args__ = (_one_current_per_call("assessments"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"))
    scorecard_id: Mapped[str] = mapped_column(String(64))
    scorecard_version: Mapped[int] = mapped_column(Integer)
    scorecard_hash: Mapped[str] = mapped_column(String(64))
    transcript_engine: Mapped[str | None] = mapped_column(String(32))
    transcript_model: Mapped[str | None] = mapped_column(String(128))
    language: Mapped[str] = mapped_column(String(8))
    score: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool] = mapped_column(Boolean)
    metrics: Mapped[dict] = mapped_column(JSON)
    flags: Mapped[list] = mapped_column(JSON)
    # Re-scoring keeps the history; exactly one assessment per call is current.
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=_now)

    call: Mapped[CallRow] = relationship(back_populates="assessments")
    items: Mapped[list[ItemResultRow]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", order_by="ItemResultRow.position"
    )


class ItemResultRow(Base):
    __tablename__ = "item_results"
    __table_args__ = (UniqueConstraint("assessment_id", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list] = mapped_column(JSON)
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    feedback: Mapped[str | None] = mapped_column(Text)
    example: Mapped[str | None] = mapped_column(Text)

    assessment: Mapped[AssessmentRow] = relationship(back_populates="items")


class RedactionRow(Base):
    """Where personal data was taken out of a transcript (never what it was)."""

    __tablename__ = "redactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    speaker: Mapped[str] = mapped_column(String(8))
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)


class AuditEventRow(Base):
    """Who opened which call or audio, and when: personal data is read only with a trace."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_call", "call_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=_now, index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(32))
    call_id: Mapped[str | None] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
