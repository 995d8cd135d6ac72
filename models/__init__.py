"""SQLAlchemy 2.0 models of calls, transcripts and assessments, and the engine factory."""

from models.db import create_schema, make_engine, make_session_factory
from models.tables import AssessmentRow, Base, CallRow, ItemResultRow, SegmentRow, TranscriptRow

__all__ = [
    "AssessmentRow",
    "Base",
    "CallRow",
    "ItemResultRow",
    "SegmentRow",
    "TranscriptRow",
    "create_schema",
    "make_engine",
    "make_session_factory",
]
