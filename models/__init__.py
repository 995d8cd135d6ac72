"""SQLAlchemy 2.0 models of calls, managers, transcripts and assessments; engines; migrations."""

from models.db import create_schema, make_engine, make_session_factory, schema_revision
from models.tables import (
    AssessmentRow,
    Base,
    CallRow,
    ItemResultRow,
    ManagerRow,
    SegmentRow,
    TeamRow,
    TranscriptRow,
)

__all__ = [
    "AssessmentRow",
    "Base",
    "CallRow",
    "ItemResultRow",
    "ManagerRow",
    "SegmentRow",
    "TeamRow",
    "TranscriptRow",
    "create_schema",
    "make_engine",
    "make_session_factory",
    "schema_revision",
]
