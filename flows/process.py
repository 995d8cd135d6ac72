"""The main job: every recording through ingest -> audio -> transcribe -> score -> store.

Each finished stage is committed, so a re-run skips what is done: a call already scored
with the same scorecard is skipped, a transcribed call is only scored. Bad input is
quarantined with its reason and the batch goes on.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from models import create_schema, make_engine, make_session_factory
from pipeline import store
from pipeline.audio import AudioOptions, decode_call
from pipeline.errors import AudioDecodeError, CallQAError
from pipeline.ingest import IngestedCall, archive, discover, ingest
from pipeline.score import LoadedScorecard, load_scorecard, score
from pipeline.roles import assign_roles
from pipeline.score.learned import warm_classifiers
from pipeline.settings import Settings, get_settings
from pipeline.transcribe import TranscribeOptions, Transcriber, make_transcriber
from pipeline.types import Assessment, CallAudio, Transcript

log = logging.getLogger(__name__)

Outcome = Literal["processed", "skipped", "quarantined", "failed"]


@dataclass(frozen=True)
class CallOutcome:
    file: str
    status: Outcome
    call_id: str | None = None
    language: str | None = None
    duration_s: float | None = None
    score: float | None = None
    passed: bool | None = None
    failed_items: tuple[str, ...] = ()
    reason: str | None = None


@dataclass(frozen=True)
class RunSummary:
    database: str
    outcomes: tuple[CallOutcome, ...]
    wall_s: float
    audio_s: float = field(default=0.0)

    def count(self, status: Outcome) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def ok(self) -> bool:
        return self.count("failed") == 0


def transcribe_options(settings: Settings) -> TranscribeOptions:
    return TranscribeOptions(
        engine=settings.engine,
        model=settings.whisper_model,
        model_cache_dir=settings.resolved_model_cache_dir,
        languages=tuple(settings.languages),
        beam_size=settings.beam_size,
        device=settings.device,
        compute_type=settings.compute_type,
        vad=settings.vad,
    )


@lru_cache(maxsize=2)
def get_transcriber(options: TranscribeOptions) -> Transcriber:
    """One loaded model per process and options, reused by every call of every run."""
    return make_transcriber(options)


@task(retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def ingest_task(path: Path, archive_dir: Path) -> tuple[IngestedCall, Path]:
    ingested = ingest(path)
    return ingested, archive(ingested, archive_dir)


@task(cache_policy=NO_CACHE)
def audio_task(path: Path, options: AudioOptions) -> CallAudio:
    return decode_call(path, options)


@task(cache_policy=NO_CACHE)
def transcribe_task(audio: CallAudio, options: TranscribeOptions, agent_channel: str) -> Transcript:
    return assign_roles(get_transcriber(options).transcribe(audio), audio.channels, agent_channel)


@task(cache_policy=NO_CACHE)
def score_task(transcript: Transcript, scorecard: LoadedScorecard) -> Assessment:
    return score(transcript, scorecard)


def _quarantine(settings: Settings, ingested: IngestedCall, reason: str) -> None:
    folder = settings.data_dir / "quarantine"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{ingested.call_id}{ingested.path.suffix.lower()}"
    shutil.copyfile(ingested.path, target)
    target.with_name(target.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")


def _process_one(path: Path, settings: Settings, scorecard: LoadedScorecard, sessions) -> CallOutcome:
    ingested, archive_path = ingest_task(path, settings.archive_dir)
    call_id = ingested.call_id
    with sessions.begin() as session:
        call, _ = store.upsert_call(session=session, ingested=ingested, archive_path=archive_path)
        done = store.current_assessment_row(session=session, call_id=call_id)
        if done is not None and done.scorecard_hash == scorecard.content_hash:
            return CallOutcome(
                file=path.name, status="skipped", call_id=call_id, language=done.language,
                duration_s=call.duration_s, score=done.score, passed=done.passed, reason="already scored",
            )
        if call.status == "quarantined":
            return CallOutcome(file=path.name, status="skipped", call_id=call_id, reason=f"quarantined: {call.error}")

    with sessions() as session:
        transcript = store.load_transcript(session=session, call_id=call_id)
    if transcript is None:
        try:
            audio = audio_task(path, AudioOptions(agent_channel=settings.agent_channel))
        except AudioDecodeError as e:
            reason = str(e).replace(str(path), path.name)
            _quarantine(settings, ingested, reason)
            with sessions.begin() as session:
                store.mark_call(session=session, call_id=call_id, status="quarantined", error=reason)
            log.warning("quarantined %s: %s", path.name, reason)
            return CallOutcome(file=path.name, status="quarantined", call_id=call_id, reason=reason)
        transcript = transcribe_task(audio, transcribe_options(settings), settings.agent_channel)
        transcript = transcript.model_copy(update={"call_id": call_id})
        with sessions.begin() as session:
            store.record_audio(session=session, call_id=call_id, audio=audio)
            store.save_transcript(session=session, call_id=call_id, transcript=transcript)

    assessment = score_task(transcript, scorecard)
    with sessions.begin() as session:
        transcript_row = store.current_transcript_row(session=session, call_id=call_id)
        store.save_assessment(
            session=session, call_id=call_id, transcript_id=transcript_row.id, assessment=assessment
        )
    return CallOutcome(
        file=path.name,
        status="processed",
        call_id=call_id,
        language=transcript.language,
        duration_s=transcript.duration,
        score=assessment.score,
        passed=assessment.passed,
        failed_items=tuple(assessment.failed_items),
    )


@flow(name="process-calls", log_prints=False)
def process_calls(paths: list[str], scorecard_id: str | None = None) -> RunSummary:
    """Score every recording in the given files and folders; returns one outcome per file."""
    started = time.perf_counter()
    settings = get_settings()
    scorecard = load_scorecard(scorecard_id or settings.default_scorecard, settings.scorecards_dir)
    warm_classifiers(list(scorecard.examples.values()), settings.cue_model_cache_dir)
    engine = make_engine(settings.resolved_database_url)
    create_schema(engine)
    sessions = make_session_factory(engine)
    outcomes = []
    try:
        for path in discover([Path(p) for p in paths]):
            try:
                outcome = _process_one(path, settings, scorecard, sessions)
            except CallQAError as e:
                log.error("failed %s: %s", path.name, e)
                outcome = CallOutcome(file=path.name, status="failed", reason=str(e))
            except Exception as e:  # one broken call must not stop the night's batch
                log.exception("failed %s", path.name)
                outcome = CallOutcome(file=path.name, status="failed", reason=f"{type(e).__name__}: {e}")
            log.info("%s: %s", path.name, outcome.status)
            outcomes.append(outcome)
    finally:
        engine.dispose()
    audio_s = sum(o.duration_s or 0.0 for o in outcomes if o.status == "processed")
    return RunSummary(
        database=settings.resolved_database_url,
        outcomes=tuple(outcomes),
        wall_s=round(time.perf_counter() - started, 2),
        audio_s=round(audio_s, 2),
    )
