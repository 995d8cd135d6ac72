"""A worker process for the crash and concurrency tests: the real queue code (registration,
claims, stages, commits) with the fake transcriber; prints one JSON outcome per call.

Usage: python -m tests.queue_worker [FOLDER...]   (settings from CALLQA_* variables)
"""

import json
import sys
from pathlib import Path

from models import create_schema, make_engine, make_session_factory
from pipeline.settings import get_settings
from pipeline.worker import CallWorker, register
from tests.fakes import FakeTranscriber

settings = get_settings()
engine = make_engine(settings.resolved_database_url)
create_schema(engine)
sessions = make_session_factory(engine)
if sys.argv[1:]:
    register([Path(p) for p in sys.argv[1:]], settings, sessions)
for outcome in CallWorker(settings, sessions, transcriber=FakeTranscriber(default="en_poor_laptop")).drain():
    print(json.dumps(outcome.to_dict()), flush=True)
