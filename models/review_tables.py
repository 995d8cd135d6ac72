"""What people add to the pipeline's verdicts: accounts, overrides, comments, reviews, disputes.

Every human decision is a row of its own (who, when, what, why) and is never rewritten, so
the history of a call can be read back. `ReviewStateRow` is the one derived table: the
current standing of each scored call in the quality lead's queue, kept so the queue is an
index scan instead of a pass over every assessment.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.tables import Base, CallRow, ManagerRow


def _now() -> datetime:
    return datetime.now(timezone.utc)


ROLES = ("admin", "lead", "manager")


class UserRow(Base):
    """A person who logs in to the review app; a manager's account is tied to their CRM record."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # hashlib.scrypt, written as "scrypt$n$r$p$salt_hex$hash_hex".
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("managers.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)

    manager: Mapped[ManagerRow | None] = relationship()


class ItemOverrideRow(Base):
    """A reviewer's change of one item's verdict; the newest per assessment and item is in force."""

    __tablename__ = "item_overrides"
    __table_args__ = (Index("ix_item_overrides_item", "assessment_id", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)

    user: Mapped[UserRow] = relationship()


class CommentRow(Base):
    """A remark on a call, optionally pinned to a moment of its audio."""

    __tablename__ = "call_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at_s: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)

    user: Mapped[UserRow] = relationship()


class ReviewMarkRow(Base):
    """A quality lead's "reviewed" on one assessment of a call."""

    __tablename__ = "review_marks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)

    user: Mapped[UserRow] = relationship()


class DisputeRow(Base):
    """A manager's objection to one item's verdict; open until a lead reviews the call."""

    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # open -> resolved (a lead reviewed the call after it was raised).
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[UserRow] = relationship(foreign_keys=[user_id])


class AcknowledgementRow(Base):
    """A manager's "I have read this feedback" on one assessment."""

    __tablename__ = "acknowledgements"
    __table_args__ = (UniqueConstraint("assessment_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ReviewStateRow(Base):
    """Where a call stands, derived from its current assessment, its call and the rows above.

    It is the one row per scored call that the queue and the KPI pages read, so that neither
    joins calls, assessments and item results over a month of calls.
    priority: 4 open dispute, 3 critical item failed, 2 items need review, 1 low score, 0 none.
    """

    __tablename__ = "review_states"

    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"), index=True)
    scorecard_id: Mapped[str] = mapped_column(String(64))
    critical_failed: Mapped[bool] = mapped_column(Boolean)
    needs_review: Mapped[bool] = mapped_column(Boolean)
    low_score: Mapped[bool] = mapped_column(Boolean)
    open_disputes: Mapped[int] = mapped_column(Integer, default=0)
    priority: Mapped[int] = mapped_column(Integer)
    auto_score: Mapped[float] = mapped_column(Float)
    # The manager's share of talk time, from the assessment's metrics, for the KPI pages.
    talk_ratio: Mapped[float | None] = mapped_column(Float)
    effective_score: Mapped[float] = mapped_column(Float)
    effective_passed: Mapped[bool] = mapped_column(Boolean)
    reviewed: Mapped[bool] = mapped_column(Boolean, default=False)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    # The standard items (STANDARD_ITEM_IDS, bit i for item i) decided pass or fail, and those
    # passed, after overrides: the KPI pages sum these bits instead of reading item results.
    items_decided: Mapped[int] = mapped_column(Integer, default=0)
    items_passed: Mapped[int] = mapped_column(Integer, default=0)
    # Copies of the call's CRM facts, refreshed whenever the call's updated_at moves past
    # call_updated_at.
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("managers.id"))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    order_outcome: Mapped[str | None] = mapped_column(String(16))
    order_amount: Mapped[float | None] = mapped_column(Float)
    call_updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)

    call: Mapped[CallRow] = relationship()


# The queue: unreviewed calls, most urgent first, the worst scores first within a priority.
Index("ix_review_states_queue", ReviewStateRow.reviewed, ReviewStateRow.priority.desc(), ReviewStateRow.effective_score)
# A manager's KPIs over a date range.
Index("ix_review_states_manager_started", ReviewStateRow.manager_id, ReviewStateRow.started_at)
# The queue filtered by manager or period, and a manager's own list, find those calls first.
Index("ix_calls_manager_started", CallRow.manager_id, CallRow.started_at)
# Calls changed since the queue state copied their CRM facts.
Index("ix_calls_updated_at", CallRow.updated_at)
