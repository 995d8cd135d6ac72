"""SQLAlchemy 2.0 models of calls, managers, transcripts and assessments; engines; migrations."""

from models.db import create_schema, make_engine, make_session_factory, schema_revision
from models.review_tables import (
    ROLES,
    AcknowledgementRow,
    CommentRow,
    DisputeRow,
    ItemOverrideRow,
    ReviewMarkRow,
    ReviewStateRow,
    UserRow,
)
from models.tables import (
    AssessmentRow,
    AuditEventRow,
    Base,
    CallRow,
    ItemResultRow,
    ManagerRow,
    RedactionRow,
    SegmentRow,
    TeamRow,
    TranscriptRow,
)

__all__ = [
    "ROLES",
    "AcknowledgementRow",
    "AssessmentRow",
    "AuditEventRow",
    "Base",
    "CallRow",
    "CommentRow",
    "DisputeRow",
    "ItemOverrideRow",
    "ItemResultRow",
    "ManagerRow",
    "RedactionRow",
    "ReviewMarkRow",
    "ReviewStateRow",
    "SegmentRow",
    "TeamRow",
    "TranscriptRow",
    "UserRow",
    "create_schema",
    "make_engine",
    "make_session_factory",
    "schema_revision",
]
