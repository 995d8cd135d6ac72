"""Which side of a call is the sales manager?

PBX exports differ: some record the manager on the left, some on the right, and a wrong
map turns every verdict upside down. When the map is not configured, the manager is the
side that introduces themselves and the company, greets first and asks the questions. The
same evidence decides which of the two voices separated from a mono call is the manager.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipeline.score.features import gives_name, names_company
from pipeline.score.questions import question_kinds
from pipeline.score.text import tokens
from pipeline.types import ChannelMap, Segment, Transcript

_OPENING_S = 30.0
# The other channel must look this much more like the manager before the map is swapped.
_SWAP_MARGIN = 1.5


@dataclass(frozen=True)
class _Evidence:
    points: float
    reasons: tuple[str, ...]


def _agent_evidence(segments: list[Segment], speaks_first: bool) -> _Evidence:
    opening = [s for s in segments if s.start < _OPENING_S]
    points, reasons = 0.0, []
    if any(gives_name(s.text, tuple(tokens(s.text))) for s in opening):
        points, reasons = points + 2, reasons + ["gives a name"]
    if any(names_company(s.text) for s in opening):
        points, reasons = points + 1.5, reasons + ["names a company"]
    if speaks_first:
        points, reasons = points + 1, reasons + ["speaks first"]
    kinds = [kind for s in segments for kind in question_kinds(s.text)]
    if kinds:
        points += min(3.0, 0.5 * kinds.count("open") + 0.2 * kinds.count("closed"))
        reasons.append(f"asks {len(kinds)} question(s)")
    return _Evidence(points, tuple(reasons))


def assign_roles(transcript: Transcript, channels: int, agent_channel: str) -> Transcript:
    """Record the channel map of a stereo call: as configured, or inferred when "auto"."""
    if channels != 2:
        return transcript
    if agent_channel == "auto":
        return infer_roles(transcript, "left")
    return transcript.model_copy(update={"channel_map": ChannelMap(agent_channel=agent_channel, source="configured")})


def infer_roles(transcript: Transcript, agent_channel: str) -> Transcript:
    """The transcript with agent and client swapped when the other channel looks far more like
    the manager, and its channel map recorded either way with a confidence."""
    agent = [s for s in transcript.segments if s.speaker == "agent"]
    client = [s for s in transcript.segments if s.speaker == "client"]
    if not agent and not client:
        return transcript.model_copy(update={"channel_map": ChannelMap(agent_channel=agent_channel, source="inferred", confidence=0.5)})
    first = min(transcript.segments, key=lambda s: s.start).speaker
    as_agent = _agent_evidence(agent, first == "agent")
    as_client = _agent_evidence(client, first == "client")
    margin = as_agent.points - as_client.points
    if margin > -_SWAP_MARGIN:
        # Below 0.5 when the other side looked more like the manager, but not clearly enough to swap.
        confidence = round(1 / (1 + math.exp(-margin)), 3)
        note = f"agent channel: {', '.join(as_agent.reasons) or 'no evidence either way'}"
        return transcript.model_copy(update={"channel_map": ChannelMap(agent_channel=agent_channel, source="inferred", confidence=confidence, note=note)})
    confidence = round(1 / (1 + math.exp(margin)), 3)
    other = "right" if agent_channel == "left" else "left"
    note = f"swapped: the {other} channel {', '.join(as_client.reasons)}"
    return swap_speakers(transcript, ChannelMap(agent_channel=other, source="inferred", confidence=confidence, note=note))


def swap_speakers(transcript: Transcript, channel_map: ChannelMap) -> Transcript:
    """Agent and client exchanged in every segment, with the new channel map."""
    return transcript.model_copy(update={"segments": _flipped(transcript.segments), "channel_map": channel_map})


def _flipped(segments: tuple[Segment, ...]) -> tuple[Segment, ...]:
    flip = {"agent": "client", "client": "agent", "unknown": "unknown"}
    return tuple(s.model_copy(update={"speaker": flip[s.speaker]}) for s in segments)


@dataclass(frozen=True)
class VoiceRoles:
    """Which of the two voices of a mono call is the manager, and how sure that is."""

    # The provisional speaker (pipeline.diarize.VOICE_SPEAKERS) that turned out to be the manager.
    agent_voice: str
    confidence: float
    note: str


def resolve_voices(transcript: Transcript) -> tuple[Transcript, VoiceRoles]:
    """The voices of a separated mono call named by what they say: unlike a stereo channel
    map there is no configured side to prefer, so the voice with more evidence is the manager."""
    agent = [s for s in transcript.segments if s.speaker == "agent"]
    client = [s for s in transcript.segments if s.speaker == "client"]
    if not agent and not client:
        return transcript, VoiceRoles(agent_voice="agent", confidence=0.5, note="no speech")
    first = min(transcript.segments, key=lambda s: s.start).speaker
    as_agent = _agent_evidence(agent, first == "agent")
    as_client = _agent_evidence(client, first == "client")
    margin = as_agent.points - as_client.points
    confidence = round(1 / (1 + math.exp(-abs(margin))), 3)
    if margin >= 0:
        roles = VoiceRoles("agent", confidence, f"manager's voice: {', '.join(as_agent.reasons) or 'no evidence either way'}")
    else:
        roles = VoiceRoles("client", confidence, f"manager's voice: {', '.join(as_client.reasons)}")
        transcript = transcript.model_copy(update={"segments": _flipped(transcript.segments)})
    # Recorded like a stereo channel map, so that a person can swap a wrong decision later.
    voice = "voice_1" if roles.agent_voice == "agent" else "voice_2"
    channel_map = ChannelMap(agent_channel=voice, source="inferred", confidence=confidence, note=roles.note)
    return transcript.model_copy(update={"channel_map": channel_map}), roles
