"""The audit log: who opened which call and which audio, and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AuditEventRow

__all__ = ["audit_events", "record_access"]


def record_access(*, session: Session, username: str, action: str, call_id: str | None, detail: str | None = None) -> None:
    session.add(AuditEventRow(username=username, action=action, call_id=call_id, detail=detail))


def audit_events(
    *, session: Session, call_id: str | None = None, username: str | None = None, since: datetime | None = None,
    limit: int = 1000,
) -> list[AuditEventRow]:
    """Newest first."""
    query = select(AuditEventRow).order_by(AuditEventRow.at.desc(), AuditEventRow.id.desc()).limit(limit)
    if call_id:
        query = query.where(AuditEventRow.call_id == call_id)
    if username:
        query = query.where(AuditEventRow.username == username)
    if since:
        query = query.where(AuditEventRow.at >= since)
    return list(session.scalars(query))
