"""Store stage: the only code that reads and writes the database, for the pipeline and the web app."""

from pipeline.store.audit import *  # noqa: F403
from pipeline.store.audit import __all__ as _audit_all
from pipeline.store.calls import *  # noqa: F403
from pipeline.store.calls import __all__ as _calls_all
from pipeline.store.review import *  # noqa: F403
from pipeline.store.review import __all__ as _review_all

__all__ = [*_audit_all, *_calls_all, *_review_all]
