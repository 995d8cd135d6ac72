"""Conversation metrics of a transcript: who talked how much, how long, how fast."""

from __future__ import annotations

from pipeline.score.questions import question_kinds
from pipeline.score.text import tokens
from pipeline.types import Segment, Transcript

# Consecutive agent segments closer than this (with no client speech between) are one monologue.
MONOLOGUE_JOIN_GAP_S = 1.5
# A speaker who starts this long before the other one stops interrupts them.
INTERRUPTION_OVERLAP_S = 0.5


def _union_length(intervals: list[tuple[float, float]]) -> float:
    total, current_start, current_end = 0.0, None, None
    for start, end in sorted(intervals):
        if current_end is None or start > current_end:
            if current_end is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None:
        total += current_end - current_start
    return total


def _longest_monologue(segments: tuple[Segment, ...]) -> float:
    longest, run_start, run_end = 0.0, None, None
    for segment in segments:
        if segment.speaker != "agent":
            if segment.speaker == "client":
                run_start = run_end = None
            continue
        if run_end is not None and segment.start - run_end <= MONOLOGUE_JOIN_GAP_S:
            run_end = max(run_end, segment.end)
        else:
            run_start, run_end = segment.start, segment.end
        longest = max(longest, run_end - run_start)
    return longest


def _interruptions(segments: tuple[Segment, ...], by: str) -> int:
    """How often ``by`` starts talking while the other party is still talking."""
    other = "client" if by == "agent" else "agent"
    last_end = {"agent": float("-inf"), "client": float("-inf")}
    count = 0
    for segment in sorted(segments, key=lambda s: s.start):
        if segment.speaker == by and last_end[other] - segment.start >= INTERRUPTION_OVERLAP_S:
            count += 1
        if segment.speaker in last_end:
            last_end[segment.speaker] = max(last_end[segment.speaker], segment.end)
    return count


def conversation_metrics(transcript: Transcript) -> dict[str, float]:
    segments = transcript.segments
    talk = {"agent": 0.0, "client": 0.0, "unknown": 0.0}
    for segment in segments:
        talk[segment.speaker] += max(0.0, segment.end - segment.start)
    spoken = sum(talk.values())
    duration = transcript.duration or max((s.end for s in segments), default=0.0)
    agent_kinds = [kind for s in segments if s.speaker == "agent" for kind in question_kinds(s.text)]
    agent_words = sum(len(tokens(s.text)) for s in segments if s.speaker == "agent")
    speech = _union_length([(s.start, s.end) for s in segments])
    return {
        "duration_s": round(duration, 2),
        "agent_talk_s": round(talk["agent"], 2),
        "client_talk_s": round(talk["client"], 2),
        "agent_talk_ratio": round(talk["agent"] / spoken, 4) if spoken else 0.0,
        "longest_agent_monologue_s": round(_longest_monologue(segments), 2),
        "agent_questions": float(len(agent_kinds)),
        "agent_open_questions": float(agent_kinds.count("open")),
        "agent_interruptions": float(_interruptions(segments, "agent")),
        "client_interruptions": float(_interruptions(segments, "client")),
        "silence_share": round(max(0.0, 1 - speech / duration), 4) if duration else 0.0,
        "agent_words_per_minute": round(agent_words / (talk["agent"] / 60), 1) if talk["agent"] else 0.0,
    }
