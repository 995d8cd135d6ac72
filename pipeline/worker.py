"""The work queue: register recordings, then claim calls one at a time and process them.

Registration (ingest) identifies each file by its content hash, archives it, reads its CRM
sidecar and stores the call; bad input is quarantined there or at decoding. A worker then
claims a call with a lease, runs the stages it still lacks (transcribe, then score) and
commits each stage on its own, so a worker that dies loses only the stage it was in and
another worker resumes the call once the lease expires. No Prefect here: flows compose
this, and `callqa worker` runs it as a long-lived worker against a shared database.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import time
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable, Literal

from sqlalchemy.orm import Session, sessionmaker

from pipeline import store
from pipeline.audio import AUDIO_EXTENSIONS, AudioOptions, CallRecording, open_call
from pipeline.errors import AudioDecodeError, CallQAError, SidecarError
from pipeline.ingest import archive, ingest, scan
from pipeline.redact import Redaction, bleep_file, redact_transcript
from pipeline.roles import assign_roles
from pipeline.score import LoadedScorecard, load_scorecard, score
from pipeline.score.learned import warm_classifiers
from pipeline.settings import Settings
from pipeline.sidecar import SidecarIndex
from pipeline.transcribe import TranscribeOptions, Transcriber, make_transcriber

log = logging.getLogger(__name__)

Outcome = Literal["processed", "skipped", "quarantined", "failed"]
# Below this peak level a recording is digital silence (a dead line, a muted channel).
SILENCE_PEAK = 1e-4
_IO_ATTEMPTS = 3


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

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, fields: dict) -> CallOutcome:
        return cls(**{**fields, "failed_items": tuple(fields.get("failed_items", ()))})


@dataclass(frozen=True)
class RunSummary:
    database: str
    outcomes: tuple[CallOutcome, ...]
    wall_s: float
    audio_s: float = field(default=0.0)
    workers: int = 1

    def count(self, status: Outcome) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def ok(self) -> bool:
        return self.count("failed") == 0

    @property
    def real_time_factor(self) -> float | None:
        """Seconds of work per second of processed audio (below 1 is faster than real time)."""
        return round(self.wall_s / self.audio_s, 3) if self.audio_s else None


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
    """One loaded model per process and options, reused by every call the process handles."""
    return make_transcriber(options)


def failpoint(settings: Settings, name: str) -> None:
    """Crash tests name a point here; the process dies as abruptly as with `kill -9`."""
    if settings.failpoint == name:
        os.kill(os.getpid(), signal.SIGKILL)


def retry_io(action: Callable, *args):
    """Run a file operation, retrying transient OS errors (a network share that hiccups)."""
    for attempt in range(1, _IO_ATTEMPTS + 1):
        try:
            return action(*args)
        except (FileNotFoundError, IsADirectoryError, PermissionError):
            raise
        except OSError as e:
            if attempt == _IO_ATTEMPTS:
                raise
            log.warning("retrying after %s (attempt %d of %d)", e, attempt, _IO_ATTEMPTS)
            time.sleep(0.5 * attempt)


def quarantine_file(settings: Settings, source: Path, call_id: str, reason: str) -> Path:
    """Keep a copy of a bad file with its reason beside it; the original stays where it was."""
    folder = settings.quarantine_dir
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{call_id}{source.suffix.lower()}"
    retry_io(shutil.copyfile, source, target)
    target.with_name(target.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")
    return target


def _outcome_of_known_call(session: Session, path: Path, call) -> CallOutcome | None:
    if call.status == "scored":
        done = store.current_assessment_row(session=session, call_id=call.id)
        return CallOutcome(
            file=path.name, status="skipped", call_id=call.id, language=done.language, duration_s=call.duration_s,
            score=done.score, passed=done.passed, reason="already scored",
        )
    if call.status == "quarantined":
        return CallOutcome(file=path.name, status="skipped", call_id=call.id, reason=f"quarantined earlier: {call.error}")
    return None


def register(
    paths: list[Path], settings: Settings, sessions: sessionmaker[Session], scorecard_id: str | None = None,
    settle_s: float = 0.0,
) -> list[CallOutcome]:
    """Ingest every recording under `paths`; returns the outcomes already decided here
    (skipped or quarantined). Queued calls are left for the workers. Files changed less than
    `settle_s` ago are left alone: a recorder may still be writing them."""
    sidecars = SidecarIndex()
    phone_key = settings.resolved_secret_key()
    decided: list[CallOutcome] = []
    for path in scan(paths):
        age_s = time.time() - path.stat().st_mtime
        if age_s < settle_s:
            decided.append(CallOutcome(
                file=path.name, status="skipped", reason=f"changed {age_s:.0f} s ago, may still be written; next run",
            ))
            continue
        ingested = retry_io(ingest, path)
        call_id = ingested.call_id
        problem = None
        if path.suffix.lower() not in AUDIO_EXTENSIONS:
            problem = f"unsupported file type '{path.suffix or path.name}': expected audio ({', '.join(sorted(AUDIO_EXTENSIONS))})"
        try:
            metadata = sidecars.metadata_for(path) if problem is None else None
        except SidecarError as e:
            problem = str(e)
            metadata = None
        archive_path = retry_io(archive, ingested, settings.archive_dir) if problem is None else None
        with sessions.begin() as session:
            call, is_new = store.upsert_call(session=session, ingested=ingested, archive_path=archive_path)
            if not is_new and (known := _outcome_of_known_call(session, path, call)):
                sidecar_fixed = call.status == "quarantined" and (call.error or "").startswith("sidecar") and problem is None
                if not sidecar_fixed:
                    decided.append(known)
                    continue
                call.status, call.error, call.attempts = "ingested", None, 0
            if metadata is not None:
                store.apply_metadata(
                    session=session, call=call, metadata=metadata.with_time_zone(settings.timezone), phone_key=phone_key,
                    scorecard_id=scorecard_id or metadata.scorecard or settings.direction_scorecards.get(metadata.direction or ""),
                )
            elif scorecard_id:
                call.scorecard_id = scorecard_id
            if problem is not None:
                store.quarantine_call(
                    session=session, call_id=call_id, reason=problem,
                    quarantine_path=quarantine_file(settings, path, call_id, problem),
                )
        if problem is not None:
            log.warning("call %s (%s) quarantined: %s", call_id, path.name, problem)
            decided.append(CallOutcome(file=path.name, status="quarantined", call_id=call_id, reason=problem))
        failpoint(settings, "after_register")
    return decided


def report_outcome(outcome: CallOutcome) -> None:
    """Log one call's outcome; a progress bar listens for the `outcome` attribute."""
    log.info("call %s (%s): %s%s", outcome.call_id, outcome.file, outcome.status,
             f" ({outcome.reason})" if outcome.reason else "", extra={"outcome": outcome})


class LostClaim(CallQAError):
    """Another worker took the call over after this worker's lease expired."""


class CallWorker:
    """Claims calls with work to do and runs their missing stages; one model per process."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session], transcriber: Transcriber | None = None) -> None:
        self.settings = settings
        self.sessions = sessions
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self._transcriber = transcriber
        self._scorecards: dict[str, LoadedScorecard] = {}
        # A call that failed here waits for the next run rather than looping in this one.
        self._attempted: set[str] = set()

    @property
    def transcriber(self) -> Transcriber:
        if self._transcriber is None:
            self._transcriber = get_transcriber(transcribe_options(self.settings))
        return self._transcriber

    def scorecard(self, scorecard_id: str | None) -> LoadedScorecard:
        card_id = scorecard_id or self.settings.default_scorecard
        if card_id not in self._scorecards:
            card = load_scorecard(card_id, self.settings.scorecards_dir)
            warm_classifiers(list(card.examples.values()), self.settings.cue_model_cache_dir)
            self._scorecards[card_id] = card
        return self._scorecards[card_id]

    def drain(self, process: Callable[[str], CallOutcome] | None = None) -> list[CallOutcome]:
        """Process calls until none is left to claim; `process` runs one claimed call (by
        default `self.process`; a flow wraps it in a task)."""
        outcomes = []
        while (call_id := self.claim()) is not None:
            outcome = (process or self.process)(call_id)
            report_outcome(outcome)
            outcomes.append(outcome)
        with self.sessions.begin() as session:
            store.give_up_on_exhausted_calls(session=session, max_attempts=self.settings.max_attempts)
        return outcomes

    def claim(self, call_id: str | None = None) -> str | None:
        with self.sessions.begin() as session:
            claimed = store.claim_next_call(
                session=session, worker=self.name, lease_s=self.settings.claim_lease_s,
                max_attempts=self.settings.max_attempts, only=[call_id] if call_id else None, skip=self._attempted,
            )
        if claimed:
            self._attempted.add(claimed)
        return claimed

    def _still_mine(self, session: Session, call_id: str) -> None:
        if not store.renew_claim(session=session, call_id=call_id, worker=self.name, lease_s=self.settings.claim_lease_s):
            raise LostClaim(f"call {call_id} was taken over by another worker (lease expired)")

    def process(self, call_id: str) -> CallOutcome:
        """Run the stages a claimed call still lacks; never raises for one call's trouble."""
        with self.sessions() as session:
            call = store.get_call(session=session, call_id=call_id)
            file_name = call.file_name
        try:
            outcome = self._run_stages(call_id)
        except LostClaim as e:
            log.warning("call %s (%s): %s", call_id, file_name, e)
            return CallOutcome(file=file_name, status="skipped", call_id=call_id, reason=str(e))
        except Exception as e:  # one broken call must not stop the night's batch
            reason = str(e) if isinstance(e, CallQAError) else f"{type(e).__name__}: {e}"
            log.error("call %s (%s) failed: %s", call_id, file_name, reason, exc_info=not isinstance(e, CallQAError))
            with self.sessions.begin() as session:
                # The stage status stays, so a later run resumes the call where it stopped.
                if store.release_claim(session=session, call_id=call_id, worker=self.name):
                    store.get_call(session=session, call_id=call_id).error = reason
            return CallOutcome(file=file_name, status="failed", call_id=call_id, reason=reason)
        return outcome

    def _quarantine(self, call_id: str, source: Path, file_name: str, reason: str) -> CallOutcome:
        with self.sessions.begin() as session:
            self._still_mine(session, call_id)
            store.quarantine_call(
                session=session, call_id=call_id, reason=reason,
                quarantine_path=quarantine_file(self.settings, source, call_id, reason),
            )
        log.warning("call %s (%s) quarantined: %s", call_id, file_name, reason)
        return CallOutcome(file=file_name, status="quarantined", call_id=call_id, reason=reason)

    def _open(self, call_id: str, source: Path, file_name: str) -> CallRecording | str:
        """The call's recording, checked, or why it cannot be judged. Transcription reads it
        in pieces and renews this worker's claim between them (an hour takes minutes)."""
        try:
            audio = retry_io(open_call, source, AudioOptions(agent_channel=self.settings.agent_channel))
        except AudioDecodeError as e:
            return str(e).replace(str(source), file_name)
        if audio.duration < self.settings.min_call_s:
            return f"too short to judge: {audio.duration:.1f} s (at least {self.settings.min_call_s:g} s)"
        if audio.peak < SILENCE_PEAK:
            return f"digital silence only ({audio.duration:.1f} s without any signal)"
        return replace(audio, on_piece=lambda: self._renew(call_id))

    def _renew(self, call_id: str) -> None:
        with self.sessions.begin() as session:
            self._still_mine(session, call_id)

    def _review_audio(self, call_id: str, source: Path, redactions: tuple[Redaction, ...]) -> Path:
        """The audio reviewers may hear: the archived file itself when nothing was redacted."""
        if not redactions:
            return source
        target = self.settings.review_audio_dir / f"{call_id}.wav"
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        bleep_file(source, partial, [(r.start, r.end) for r in redactions])
        partial.replace(target)
        return target

    def _run_stages(self, call_id: str) -> CallOutcome:
        with self.sessions() as session:
            call = store.get_call(session=session, call_id=call_id)
            source = Path(call.archive_path or call.source_path)
            file_name, scorecard_id = call.file_name, call.scorecard_id
            transcript = store.load_transcript(session=session, call_id=call_id)
        card = self.scorecard(scorecard_id)
        if transcript is None:
            audio = self._open(call_id, source, file_name)
            if isinstance(audio, str):
                return self._quarantine(call_id, source, file_name, audio)
            transcript = assign_roles(self.transcriber.transcribe(audio), audio.channels, self.settings.agent_channel)
            transcript = transcript.model_copy(update={"call_id": call_id})
            if not transcript.segments:
                return self._quarantine(call_id, source, file_name, f"no speech found in {audio.duration:.1f} s of audio")
            redactions: tuple[Redaction, ...] = ()
            if self.settings.redact:
                redacted = redact_transcript(transcript)
                transcript, redactions = redacted.transcript, redacted.redactions
            review_audio = self._review_audio(call_id, source, redactions)
            failpoint(self.settings, "before_transcript_commit")
            with self.sessions.begin() as session:
                self._still_mine(session, call_id)
                store.record_audio(session=session, call_id=call_id, audio=audio)
                store.save_transcript(
                    session=session, call_id=call_id, transcript=transcript, redactions=redactions, review_audio=review_audio
                )
        assessment = score(transcript, card)
        failpoint(self.settings, "before_assessment_commit")
        with self.sessions.begin() as session:
            self._still_mine(session, call_id)
            transcript_row = store.current_transcript_row(session=session, call_id=call_id)
            store.save_assessment(session=session, call_id=call_id, transcript_id=transcript_row.id, assessment=assessment)
            store.release_claim(session=session, call_id=call_id, worker=self.name)
        return CallOutcome(
            file=file_name,
            status="processed",
            call_id=call_id,
            language=transcript.language,
            duration_s=transcript.duration,
            score=assessment.score,
            passed=assessment.passed,
            failed_items=tuple(assessment.failed_items),
        )
