"""The main job and the nightly run: register recordings, then process every queued call.

`process_inbox` scans folders (the inbox by default), registers what it finds and drains
the queue, in this process or in N worker processes that each load the model once.
`process_call` runs one call. Per-stage status lives in the database, so a rerun resumes
a call where it stopped and never redoes finished work.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy.exc import OperationalError

from models import create_schema, make_engine, make_session_factory
from pipeline import store
from pipeline.errors import CallQAError
from pipeline.retention import RetentionReport, apply_retention
from pipeline.settings import Settings, get_settings
from pipeline.worker import CallOutcome, CallWorker, RunSummary, register, report_outcome

log = logging.getLogger(__name__)


def _transient(task, task_run, state) -> bool:
    """Retry what a moment may fix (a busy database, a network share), not bad input."""
    try:
        state.result()
    except (OperationalError, OSError):
        return True
    except Exception:
        return False
    return False


@task(retries=2, retry_delay_seconds=2, retry_condition_fn=_transient, cache_policy=NO_CACHE)
def register_task(paths: list[Path], scorecard_id: str | None, settle_s: float) -> list[CallOutcome]:
    settings = get_settings()
    engine = make_engine(settings.resolved_database_url)
    try:
        return register(paths, settings, make_session_factory(engine), scorecard_id, settle_s)
    finally:
        engine.dispose()


@task(cache_policy=NO_CACHE, task_run_name="call-{call_id}")
def process_call_task(worker: CallWorker, call_id: str) -> CallOutcome:
    """One call, shown by its id in the Prefect UI. File reads retry inside; any other
    failure is recorded on the call, and a later run tries it again, up to max_attempts."""
    return worker.process(call_id)


@task(retries=2, retry_delay_seconds=2, retry_condition_fn=_transient, cache_policy=NO_CACHE)
def retention_task() -> RetentionReport:
    """Delete audio and transcript text past their retention periods (the nightly run's last step)."""
    settings = get_settings()
    engine = make_engine(settings.resolved_database_url)
    try:
        return apply_retention(settings, make_session_factory(engine))
    finally:
        engine.dispose()


def _drain_here(settings: Settings) -> list[CallOutcome]:
    engine = make_engine(settings.resolved_database_url)
    worker = CallWorker(settings, make_session_factory(engine))
    try:
        return worker.drain(lambda call_id: process_call_task(worker, call_id))
    finally:
        engine.dispose()


def _drain_in_processes(count: int) -> list[CallOutcome]:
    """Start `count` worker processes (`callqa worker --drain --jsonl`) and gather their outcomes."""
    command = [sys.executable, "-m", "callqa", "worker", "--drain", "--jsonl"]
    workers = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(count)]
    outcomes: list[CallOutcome] = []
    lock = threading.Lock()

    def collect(process: subprocess.Popen) -> None:
        for line in process.stdout:
            outcome = CallOutcome.from_dict(json.loads(line))
            report_outcome(outcome)
            with lock:
                outcomes.append(outcome)

    readers = [threading.Thread(target=collect, args=(p,)) for p in workers]
    for reader in readers:
        reader.start()
    for reader, process in zip(readers, workers):
        reader.join()
        # Exit 1 only says that some call failed, which the outcomes already tell.
        if process.wait() not in (0, 1):
            raise CallQAError(f"worker process {process.pid} stopped with exit code {process.returncode}")
    return outcomes


@flow(name="process-inbox", log_prints=False)
def process_inbox(paths: list[str] | None = None, workers: int = 1, scorecard_id: str | None = None) -> RunSummary:
    """Register every recording in `paths` (default: the inbox folder), process every call
    with work left, including calls an interrupted run left behind, then apply retention."""
    started = time.perf_counter()
    settings = get_settings()
    folders = [Path(p) for p in paths] if paths else [settings.resolved_inbox_dir]
    if not paths:
        settings.resolved_inbox_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    try:
        create_schema(engine)
        # Only the inbox is written to while it is scanned; named files and folders are complete.
        decided = register_task(folders, scorecard_id, 0.0 if paths else settings.inbox_settle_s)
        with make_session_factory(engine)() as session:
            queued = store.count_work_to_do(session=session, max_attempts=settings.max_attempts)
    finally:
        engine.dispose()
    log.info("%d calls queued", queued, extra={"queued": queued})
    processed = _drain_here(settings) if workers <= 1 else _drain_in_processes(workers)
    retention_task()
    outcomes = tuple(decided) + tuple(processed)
    return RunSummary(
        database=settings.resolved_database_url,
        outcomes=outcomes,
        wall_s=round(time.perf_counter() - started, 2),
        audio_s=round(sum(o.duration_s or 0.0 for o in outcomes if o.status == "processed"), 2),
        workers=max(workers, 1),
    )


@flow(name="process-call")
def process_call(call_id: str) -> CallOutcome:
    """Run the missing stages of one registered call (if no other worker holds it)."""
    settings = get_settings()
    engine = make_engine(settings.resolved_database_url)
    try:
        create_schema(engine)
        worker = CallWorker(settings, make_session_factory(engine))
        if worker.claim(call_id) is None:
            raise CallQAError(f"call {call_id} has no work left or another worker holds it")
        return process_call_task(worker, call_id)
    finally:
        engine.dispose()
