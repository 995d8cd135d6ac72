"""The stored shape of a call: call -> transcripts -> segments, call -> assessments -> item results."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class CallRow(Base):
    """One recording, identified by the sha256 of its bytes so a re-run never duplicates it."""

    __tablename__ = "calls"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # first 16 hex digits of the sha256
    audio_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(String(512))
    source_path: Mapped[str] = mapped_column(Text)
    archive_path: Mapped[str | None] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(Integer)
    duration_s: Mapped[float | None] = mapped_column(Float)
    channels: Mapped[int | None] = mapped_column(Integer)
    sample_rate: Mapped[int | None] = mapped_column(Integer)
    # ingested -> transcribed -> scored; or quarantined (bad input) / failed (our error).
    status: Mapped[str] = mapped_column(String(16), default="ingested")
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, onupdate=_now)

    transcripts: Mapped[list[TranscriptRow]] = relationship(back_populates="call", cascade="all, delete-orphan")
    assessments: Mapped[list[AssessmentRow]] = relationship(back_populates="call", cascade="all, delete-orphan")


class TranscriptRow(Base):
    __tablename__ = "transcripts"

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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)

    call: Mapped[CallRow] = relationship(back_populates="transcripts")
    segments: Mapped[list[SegmentRow]] = relationship(
        back_populates="transcript", cascade="all, delete-orphan", order_by="SegmentRow.position"
    )


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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)

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
