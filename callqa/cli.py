"""The `callqa` command: a thin face over the flows and the pipeline."""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from pathlib import Path

import click
from rich.console import Console
from pydantic import ValidationError

from pipeline.errors import CallQAError, TranscriptFormatError
from pipeline.settings import get_settings

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _fail_cleanly(command):
    """Report a CallQAError as one line on stderr and exit 1, instead of a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except CallQAError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(1)

    return wrapper


def _sessions():
    from models import create_schema, make_engine, make_session_factory

    engine = make_engine(get_settings().resolved_database_url)
    create_schema(engine)
    return make_session_factory(engine)


@click.group(context_settings=CONTEXT)
@click.option("--config", type=click.Path(exists=True, dir_okay=False), help="A TOML settings file (also CALLQA_CONFIG).")
@click.option("-v", "--verbose", is_flag=True, help="Log each stage of each call.")
@click.version_option(package_name="callqa")
def cli(config: str | None, verbose: bool) -> None:
    """Score recorded sales calls against a sales script, with evidence.

    Settings come from CALLQA_* environment variables (CALLQA_DATA_DIR, CALLQA_DATABASE_URL,
    CALLQA_WHISPER_MODEL, ...) and an optional TOML config file.
    """
    if config:
        os.environ["CALLQA_CONFIG"] = config
        get_settings.cache_clear()
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The console shows this level even where the progress bar listens to more detail.
    for handler in logging.getLogger().handlers:
        handler.setLevel(level)


def _row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip()


class _ProgressBar(logging.Handler):
    """A progress bar over the run's calls, fed by the workers' outcome log records."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("scoring calls"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            TextColumn("{task.description}"), console=Console(stderr=True), transient=True,
        )
        self.task = self.progress.add_task("", total=None)

    def emit(self, record: logging.LogRecord) -> None:
        if hasattr(record, "queued"):
            self.progress.update(self.task, total=record.queued)
        elif hasattr(record, "outcome"):
            self.progress.update(self.task, advance=1, description=record.outcome.file)

    # The loggers whose records carry the queue size and each call's outcome.
    _SOURCES = ("pipeline.worker", "flows.process")

    def __enter__(self) -> _ProgressBar:
        self.progress.start()
        self._levels = {}
        for name in self._SOURCES:
            source = logging.getLogger(name)
            self._levels[name] = source.level
            source.setLevel(logging.INFO)
            source.addHandler(self)
        return self

    def __exit__(self, *exc) -> None:
        for name, level in self._levels.items():
            source = logging.getLogger(name)
            source.removeHandler(self)
            source.setLevel(level)
        self.progress.stop()


def _print_summary(summary) -> None:
    widths = [24, 16, 4, 6, 5, 7, 11, 0]
    click.echo(_row(["file", "call", "lang", "length", "score", "verdict", "this run", "failed items / reason"], widths))
    for o in summary.outcomes:
        verdict = "-" if o.passed is None else ("pass" if o.passed else "FAIL")
        detail = ", ".join(o.failed_items) if o.status == "processed" else (o.reason or "")
        cells = [
            o.file,
            o.call_id or "-",
            o.language or "-",
            f"{o.duration_s:.1f}s" if o.duration_s else "-",
            f"{o.score:.2f}" if o.score is not None else "-",
            verdict,
            o.status,
            detail or "-",
        ]
        click.echo(_row(cells, widths))
    counts = {status: summary.count(status) for status in ("processed", "skipped", "quarantined", "failed")}
    click.echo(", ".join(f"{n} {status}" for status, n in counts.items()))
    if counts["processed"]:
        click.echo(
            f"{summary.audio_s / 3600:.3f} h ({summary.audio_s:.1f} s) of audio in {summary.wall_s:.1f} s "
            f"with {summary.workers} worker{'s' if summary.workers > 1 else ''} (real-time factor {summary.real_time_factor:.2f})"
        )
    elif summary.outcomes and counts["skipped"] == len(summary.outcomes):
        click.echo("Nothing new to process: every call was already scored.")
    click.echo(f"Database: {summary.database}")


@cli.command(context_settings=CONTEXT)
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes; each loads the Whisper model once.")
@click.option("--scorecard", "scorecard_id", help="Scorecard for these calls (default: from the CRM sidecar's direction, else default_scorecard).")
@_fail_cleanly
def run(paths: tuple[Path, ...], workers: int, scorecard_id: str | None) -> None:
    """Transcribe, score and store every call in PATHS (files or folders; default: the inbox).

    Each recording is registered by the hash of its bytes (with its CRM sidecar, if any),
    then every call with work left is processed, including calls an interrupted run left
    behind. Running again is safe: finished work is never redone. Unusable files are
    quarantined (see `callqa quarantine`). The exit code is 1 when any call failed for
    another reason.

    Example: callqa run samples/ --workers 2
    """
    from flows import process_inbox

    if sys.stderr.isatty():
        with _ProgressBar():
            summary = process_inbox([str(p) for p in paths] or None, workers=workers, scorecard_id=scorecard_id)
    else:
        summary = process_inbox([str(p) for p in paths] or None, workers=workers, scorecard_id=scorecard_id)
    _print_summary(summary)
    if not summary.ok:
        sys.exit(1)


@cli.command(context_settings=CONTEXT)
@click.option("--drain", is_flag=True, help="Stop when no call is left, instead of waiting for more.")
@click.option("--poll", default=30.0, show_default=True, help="Seconds between looks at an empty queue.")
@click.option("--jsonl", is_flag=True, help="Print each call's outcome as one JSON line.")
@_fail_cleanly
def worker(drain: bool, poll: float, jsonl: bool) -> None:
    """Process queued calls from the shared database until stopped (or, with --drain, until none is left).

    Run one per core, on as many machines as you like, against one PostgreSQL
    (CALLQA_DATABASE_URL): each call is claimed by exactly one worker, and a call whose
    worker died is taken over when its lease (claim_lease_s) expires.

    Example: CALLQA_DATABASE_URL=postgresql+psycopg://callqa@db/callqa callqa worker
    """
    import time

    from models import create_schema, make_engine, make_session_factory
    from pipeline.worker import CallWorker

    settings = get_settings()
    engine = make_engine(settings.resolved_database_url)
    create_schema(engine)
    call_worker = CallWorker(settings, make_session_factory(engine))

    def process(call_id: str):
        outcome = call_worker.process(call_id)
        if jsonl:
            click.echo(json.dumps(outcome.to_dict(), ensure_ascii=False))
        return outcome

    failed = False
    while True:
        failed |= any(outcome.status == "failed" for outcome in call_worker.drain(process))
        if drain:
            break
        time.sleep(poll)
    sys.exit(1 if failed else 0)


@cli.command(context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@_fail_cleanly
def quarantine(as_json: bool) -> None:
    """List quarantined files: unusable audio or sidecars, each with its reason.

    A fixed file (new bytes) dropped into the inbox again is picked up by the next run.

    Example: callqa quarantine --json
    """
    from pipeline import store

    with _sessions()() as session:
        rows = [
            {"call_id": r.id, "file": r.file_name, "source": r.source_path, "reason": r.error,
             "quarantined_copy": r.quarantine_path, "since": r.updated_at.isoformat()}
            for r in store.quarantined_calls(session=session)
        ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("Nothing is quarantined.")
    for r in rows:
        click.echo(f"{r['call_id']}  {r['file']}: {r['reason']}")


@cli.command(context_settings=CONTEXT)
@click.option("--cron", help="Cron expression (default: the settings' schedule_cron, 0 2 * * *).")
@click.option("--timezone", "time_zone", help="Time zone of the schedule (default: the settings' timezone, Europe/Moscow).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes per run.")
@click.option("--name", default="nightly", show_default=True, help="Deployment name.")
@_fail_cleanly
def schedule(cron: str | None, time_zone: str | None, workers: int, name: str) -> None:
    """Serve the nightly run: process the inbox on a cron schedule until stopped.

    Runs appear in the Prefect UI of the server in PREFECT_API_URL (see the README), and
    can be started from there or with `prefect deployment run process-inbox/nightly`.

    Example: callqa schedule --cron "0 2 * * *" --timezone Europe/Moscow
    """
    from flows import process_inbox
    from prefect.schedules import Cron

    settings = get_settings()
    cron = cron or settings.schedule_cron
    time_zone = time_zone or settings.timezone
    click.echo(f"Serving process-inbox/{name}: '{cron}' in {time_zone}, inbox {settings.resolved_inbox_dir}")
    process_inbox.serve(name=name, schedule=Cron(cron, timezone=time_zone), parameters={"workers": workers})


@cli.command(context_settings=CONTEXT)
@click.argument("call")
@click.option("--json", "as_json", is_flag=True, help="Print the transcript and assessment JSON.")
@_fail_cleanly
def show(call: str, as_json: bool) -> None:
    """Show a stored call: transcript with speakers and times, then the item results.

    CALL is a call id (or a unique prefix) or the path of the call's audio file.

    Example: callqa show samples/ru_good_vacuum.wav
    """
    from pipeline import store

    with _sessions()() as session:
        row = store.find_call(session=session, reference=call)
        transcript = store.load_transcript(session=session, call_id=row.id)
        assessment = store.load_assessment(session=session, call_id=row.id)
    if as_json:
        payload = {
            "call": {"id": row.id, "file": row.file_name, "status": row.status, "error": row.error},
            "transcript": json.loads(transcript.to_json()) if transcript else None,
            "assessment": json.loads(assessment.to_json()) if assessment else None,
        }
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    click.echo(f"Call {row.id}  {row.file_name}  status: {row.status}" + (f" ({row.error})" if row.error else ""))
    if transcript:
        click.echo(f"Language: {transcript.language}  duration: {transcript.duration or 0:.1f} s  model: {transcript.model}")
        if transcript.channel_map:
            roles = transcript.channel_map
            detail = f" ({roles.note})" if roles.note else ""
            where = (f"is {roles.agent_channel.replace('_', ' ')} of the mono recording" if roles.agent_channel.startswith("voice")
                     else f"on the {roles.agent_channel} channel")
            click.echo(f"Manager {where}, {roles.source}, confidence {roles.confidence:.2f}{detail}")
        for s in transcript.segments:
            click.echo(f"  [{s.start:6.1f}-{s.end:6.1f}] {s.speaker:>7}: {s.text}")
    if assessment:
        verdict = "PASSED" if assessment.passed else "FAILED"
        click.echo(f"\nScore {assessment.score:.2f} {verdict} ({assessment.scorecard.id} v{assessment.scorecard.version})")
        if assessment.flags:
            click.echo("Flags: " + ", ".join(assessment.flags))
        for item in assessment.items:
            click.echo(f"  {item.status:>12}  {item.id}: {item.reason}")
            for e in item.evidence:
                click.echo(f"                [{e.start:6.1f}-{e.end:6.1f}] {e.speaker}: {e.text}")
            if item.feedback:
                click.echo(f"                to improve: {item.feedback}")
            if item.example:
                click.echo(f"                say e.g.: {item.example}")


@cli.command(context_settings=CONTEXT)
@click.option("--transcript", "transcript_file", required=True, type=click.File("r", encoding="utf-8"),
              help="A transcript JSON file ('-' for stdin).")
@click.option("--scorecard", "scorecard_id", help="Scorecard id (default: the settings' default_scorecard).")
@_fail_cleanly
def score(transcript_file, scorecard_id: str | None) -> None:
    """Score a transcript JSON file and print the assessment JSON.

    The transcript format: {"language": "ru", "segments": [{"speaker": "agent",
    "start": 0.0, "end": 3.1, "text": "Добрый день!"}, ...]}; speaker is agent or client.

    Example: callqa score --transcript call.json --scorecard default
    """
    from pipeline.score import load_scorecard
    from pipeline.score import score as score_transcript
    from pipeline.score.learned import warm_classifiers
    from pipeline.types import Transcript

    settings = get_settings()
    try:
        transcript = Transcript.model_validate_json(transcript_file.read())
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'document'}: {err['msg']}" for err in e.errors()[:5])
        raise TranscriptFormatError(f"{transcript_file.name}: not a valid transcript: {problems}") from e
    scorecard = load_scorecard(scorecard_id or settings.default_scorecard, settings.scorecards_dir)
    warm_classifiers(list(scorecard.examples.values()), settings.cue_model_cache_dir)
    click.echo(score_transcript(transcript, scorecard).to_json())


@cli.command(context_settings=CONTEXT)
@click.option("--limit", default=50, show_default=True, help="How many of the latest calls to list.")
@_fail_cleanly
def calls(limit: int) -> None:
    """List stored calls, newest first.

    Example: callqa calls --limit 10
    """
    from pipeline import store

    with _sessions()() as session:
        for row in store.list_calls(session=session, limit=limit):
            assessment = store.current_assessment_row(session=session, call_id=row.id)
            verdict = f"{assessment.score:.2f}" if assessment else "-"
            click.echo(f"{row.id}  {row.status:<11}  {verdict:>5}  {row.file_name}")


@cli.command(context_settings=CONTEXT)
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_fail_cleanly
def scorecards(files: tuple[Path, ...]) -> None:
    """Validate scorecard files (default: every scorecard in the scorecards folder).

    Example: callqa scorecards my_script.yaml
    """
    from pipeline.score import load_scorecard_file

    paths = files or tuple(sorted(get_settings().scorecards_dir.glob("*.yaml")))
    for path in paths:
        card = load_scorecard_file(path).card
        click.echo(f"{path}: ok ({card.id} v{card.version}, {len(card.items)} items, languages {', '.join(card.languages)})")


@cli.command(context_settings=CONTEXT)
@click.option("--scorecard", "scorecard_id", help="Score every call with this scorecard instead of its own.")
@click.option("--force", is_flag=True, help="Re-score even calls whose scorecard has not changed.")
@_fail_cleanly
def rescore(scorecard_id: str | None, force: bool) -> None:
    """Re-score every stored transcript with the current scorecards; no transcription.

    Earlier assessments stay in the database as history.

    Example: callqa rescore
    """
    from flows import rescore_calls

    summary = rescore_calls(scorecard_id=scorecard_id, force=force)
    click.echo(
        f"{summary.rescored} re-scored ({summary.verdicts_changed} with a changed verdict), "
        f"{summary.unchanged} unchanged, {len(summary.failed)} failed in {summary.wall_s:.1f} s"
    )
    for failure in summary.failed:
        click.echo(f"failed: {failure}", err=True)
    click.echo(f"Database: {summary.database}")
    if summary.failed:
        sys.exit(1)


@cli.command("swap-speakers", context_settings=CONTEXT)
@click.argument("call")
@click.option("--reason", required=True, help="Why the channels were wrong; kept with the call.")
@_fail_cleanly
def swap_speakers(call: str, reason: str) -> None:
    """Exchange manager and client of a stored stereo call, then score it again.

    The swap is recorded with its reason; the earlier transcript and assessment stay as history.

    Example: callqa swap-speakers 8c824a05 --reason "PBX 2 records the manager on the right"
    """
    from flows import swap_call_speakers

    summary = swap_call_speakers(call, reason)
    before = f"{summary.score_before:.2f}" if summary.score_before is not None else "-"
    click.echo(f"Call {summary.call_id}: manager now on the {summary.agent_channel} channel; score {before} -> {summary.score_after:.2f}")


@cli.command("eval", context_settings=CONTEXT)
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--scorecard", "scorecard_id", help="Scorecard for files that name none (default: the settings').")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--disagreements", is_flag=True, help="Also list every item where the verdict differs from the label.")
@_fail_cleanly
def evaluate(folder: Path, scorecard_id: str | None, as_json: bool, disagreements: bool) -> None:
    """Compare verdicts with human labels in FOLDER's transcript JSON files.

    Each file is a transcript with "labels": {"greeting": "pass", ...} (pass, fail, na) and
    optionally "scorecard": ID. Prints per item and language: accuracy, Cohen's kappa, and
    precision, recall and F1 of "fail" verdicts, then a confusion table per item.

    Example: callqa eval tests/data/devset
    """
    import dataclasses

    from pipeline.score import load_scorecard
    from pipeline.score.evaluate import LABELS, PREDICTIONS, read_labelled
    from pipeline.score.evaluate import evaluate as run_evaluation
    from pipeline.score.learned import warm_classifiers

    settings = get_settings()
    cache: dict[str, object] = {}

    def scorecard_for(card_id: str | None):
        card_id = card_id or scorecard_id or settings.default_scorecard
        if card_id not in cache:
            cache[card_id] = load_scorecard(card_id, settings.scorecards_dir)
            warm_classifiers(list(cache[card_id].examples.values()), settings.cue_model_cache_dir)
        return cache[card_id]

    report = run_evaluation(read_labelled(folder), scorecard_for)
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(report), ensure_ascii=False, indent=2))
        return
    widths = [20, 4, 4, 8, 6, 9, 8, 6, 6]
    click.echo(f"{report.calls} labelled calls")
    click.echo(_row(["item", "lang", "n", "accuracy", "kappa", "precision", "recall", "F1", "review"], widths))
    for r in report.items:
        cells = [r.item, r.language, str(r.n), f"{r.accuracy:.2f}", f"{r.kappa:.2f}", f"{r.precision:.2f}",
                 f"{r.recall:.2f}", f"{r.f1:.2f}", str(r.needs_review)]
        click.echo(_row(cells, widths))
    click.echo("\nConfusion (rows: label, columns: verdict; all languages)")
    for r in report.items:
        if r.language != "all":
            continue
        click.echo(f"{r.item}")
        click.echo("  " + _row(["", *PREDICTIONS], [6, 6, 6, 6, 12]))
        for label in LABELS:
            click.echo("  " + _row([label, *(str(r.confusion[label][p]) for p in PREDICTIONS)], [6, 6, 6, 6, 12]))
    if disagreements:
        click.echo("\nDisagreements")
        for d in report.disagreements:
            click.echo(f"  {Path(d.path).name}  {d.item}: label {d.label}, verdict {d.predicted} ({d.reason})")


@cli.command(context_settings=CONTEXT)
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
@_fail_cleanly
def retention(dry_run: bool) -> None:
    """Delete original audio, reviewers' audio and transcript text past their retention
    periods (CALLQA_RETENTION_*_DAYS); assessments and KPIs stay. The nightly run does this
    after scoring.

    Example: CALLQA_RETENTION_ORIGINAL_AUDIO_DAYS=90 callqa retention --dry-run
    """
    from pipeline.retention import apply_retention

    settings = get_settings()
    report = apply_retention(settings, _sessions(), dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    click.echo(
        f"{verb}: original audio of {report.original_audio} calls, reviewers' audio of {report.review_audio}, "
        f"transcript text of {report.transcripts}"
    )
    periods = (settings.retention_original_audio_days, settings.retention_review_audio_days, settings.retention_transcript_days)
    if all(days is None for days in periods):
        click.echo("No retention period is set: everything is kept.")


@cli.command(context_settings=CONTEXT)
@click.option("--call", "call_ref", help="Only this call (id, id prefix or audio path).")
@click.option("--user", "username", help="Only this user.")
@click.option("--limit", default=200, show_default=True, help="How many of the newest events.")
@click.option("--json", "as_json", is_flag=True, help="Print the events as JSON.")
@_fail_cleanly
def audit(call_ref: str | None, username: str | None, limit: int, as_json: bool) -> None:
    """Who opened which call and which audio in the review app, newest first.

    Example: callqa audit --call 8c824a05 --json
    """
    from pipeline import store

    with _sessions()() as session:
        call_id = store.find_call(session=session, reference=call_ref).id if call_ref else None
        events = [
            {"at": e.at.isoformat(), "user": e.username, "action": e.action, "call_id": e.call_id, "detail": e.detail}
            for e in store.audit_events(session=session, call_id=call_id, username=username, limit=limit)
        ]
    if as_json:
        click.echo(json.dumps(events, ensure_ascii=False, indent=2))
        return
    for e in events:
        click.echo(f"{e['at']}  {e['user']:<16} {e['action']:<14} {e['call_id'] or '-'}  {e['detail'] or ''}".rstrip())
    if not events:
        click.echo("No events.")


def _add_web_commands() -> None:
    from review.cli import serve, users

    cli.add_command(serve)
    cli.add_command(users)


_add_web_commands()


def main() -> None:
    cli(prog_name="callqa")
