"""Re-score stored transcripts with the current scorecards, without transcribing again.

Earlier assessments stay as history; the new one becomes current. A call whose current
assessment already used the same scorecard content is left alone.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from prefect import flow

from models import create_schema, make_engine, make_session_factory
from pipeline import store
from pipeline.errors import CallQAError
from pipeline.roles import swap_speakers
from pipeline.score import LoadedScorecard, load_scorecard, score
from pipeline.score.learned import warm_classifiers
from pipeline.settings import get_settings
from pipeline.types import ChannelMap

log = logging.getLogger(__name__)

# The manager's stereo channel, or separated voice of a mono call, after a swap.
_OTHER_SIDE = {"left": "right", "right": "left", "voice_1": "voice_2", "voice_2": "voice_1"}


@dataclass(frozen=True)
class RescoreSummary:
    database: str
    rescored: int
    unchanged: int
    verdicts_changed: int
    failed: tuple[str, ...]
    wall_s: float


@dataclass(frozen=True)
class SwapSummary:
    call_id: str
    agent_channel: str
    score_before: float | None
    score_after: float


@flow(name="swap-speakers")
def swap_call_speakers(reference: str, reason: str) -> SwapSummary:
    """Exchange agent and client in a stored stereo call, record who decided it and why, and
    score the call again. The earlier transcript and assessment stay as history."""
    settings = get_settings()
    engine = make_engine(settings.resolved_database_url)
    create_schema(engine)
    try:
        with make_session_factory(engine).begin() as session:
            call = store.find_call(session=session, reference=reference)
            transcript = store.load_transcript(session=session, call_id=call.id)
            if transcript is None:
                raise CallQAError(f"call {call.id} has no transcript to swap")
            current = transcript.channel_map.agent_channel if transcript.channel_map else "left"
            swapped = swap_speakers(
                transcript, ChannelMap(agent_channel=_OTHER_SIDE[current], source="swapped", note=reason)
            )
            row = store.save_transcript(session=session, call_id=call.id, transcript=swapped)
            before = store.current_assessment_row(session=session, call_id=call.id)
            card = load_scorecard(before.scorecard_id if before else settings.default_scorecard, settings.scorecards_dir)
            warm_classifiers(list(card.examples.values()), settings.cue_model_cache_dir)
            assessment = score(swapped, card)
            store.save_assessment(session=session, call_id=call.id, transcript_id=row.id, assessment=assessment)
            return SwapSummary(
                call_id=call.id,
                agent_channel=swapped.channel_map.agent_channel,
                score_before=before.score if before else None,
                score_after=assessment.score,
            )
    finally:
        engine.dispose()


@flow(name="rescore")
def rescore_calls(scorecard_id: str | None = None, force: bool = False) -> RescoreSummary:
    """Score every stored transcript again with its scorecard's current version (or ``scorecard_id``)."""
    started = time.perf_counter()
    settings = get_settings()
    engine = make_engine(settings.resolved_database_url)
    create_schema(engine)
    sessions = make_session_factory(engine)
    scorecards: dict[str, LoadedScorecard] = {}
    rescored = unchanged = changed = 0
    failed = []
    try:
        with sessions() as session:
            call_ids = store.calls_with_transcripts(session=session)
        for call_id in call_ids:
            try:
                with sessions.begin() as session:
                    current = store.current_assessment_row(session=session, call_id=call_id)
                    card_id = scorecard_id or (current.scorecard_id if current else settings.default_scorecard)
                    if card_id not in scorecards:
                        scorecards[card_id] = load_scorecard(card_id, settings.scorecards_dir)
                        warm_classifiers(list(scorecards[card_id].examples.values()), settings.cue_model_cache_dir)
                    card = scorecards[card_id]
                    if current is not None and current.scorecard_hash == card.content_hash and not force:
                        unchanged += 1
                        continue
                    transcript = store.load_transcript(session=session, call_id=call_id)
                    assessment = score(transcript, card)
                    before = {i.item_id: i.status for i in current.items} if current else {}
                    transcript_id = store.current_transcript_row(session=session, call_id=call_id).id
                    store.save_assessment(session=session, call_id=call_id, transcript_id=transcript_id, assessment=assessment)
                rescored += 1
                changed += any(before.get(i.id) != i.status for i in assessment.items)
            except CallQAError as e:
                log.error("call %s: %s", call_id, e)
                failed.append(f"{call_id}: {e}")
    finally:
        engine.dispose()
    return RescoreSummary(
        database=settings.resolved_database_url,
        rescored=rescored,
        unchanged=unchanged,
        verdicts_changed=changed,
        failed=tuple(failed),
        wall_s=round(time.perf_counter() - started, 2),
    )
