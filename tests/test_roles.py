import pytest

from pipeline.roles import VoiceRoles, assign_roles, infer_roles, resolve_voices, swap_speakers
from pipeline.types import ChannelMap, Transcript
from tests.fakes import TURNS_DIR, transcript_from_turns


@pytest.mark.parametrize("name", ["ru_good_vacuum", "ru_poor_vacuum", "en_good_laptop", "en_poor_laptop"])
def test_the_manager_is_found_on_either_channel(name):
    transcript = transcript_from_turns(TURNS_DIR / f"{name}.yaml")
    kept = infer_roles(transcript, "left")
    assert kept.segments == transcript.segments
    assert kept.channel_map.agent_channel == "left" and kept.channel_map.source == "inferred"

    mirrored = swap_speakers(transcript, ChannelMap(agent_channel="left", source="configured"))
    repaired = infer_roles(mirrored, "left")
    assert [s.speaker for s in repaired.segments] == [s.speaker for s in transcript.segments]
    assert repaired.channel_map.agent_channel == "right" and repaired.channel_map.note.startswith("swapped")
    assert repaired.channel_map.confidence > 0.5


def test_a_good_call_is_inferred_with_high_confidence():
    transcript = transcript_from_turns(TURNS_DIR / "en_good_laptop.yaml")
    assert infer_roles(transcript, "left").channel_map.confidence >= 0.95


def test_configured_maps_are_kept_and_mono_calls_have_none():
    transcript = transcript_from_turns(TURNS_DIR / "ru_good_vacuum.yaml")
    configured = assign_roles(transcript, channels=2, agent_channel="right")
    assert configured.channel_map == ChannelMap(agent_channel="right", source="configured")
    assert configured.segments == transcript.segments
    assert assign_roles(transcript, channels=1, agent_channel="auto").channel_map is None


@pytest.mark.parametrize("name", ["ru_good_vacuum", "ru_poor_vacuum", "en_good_laptop", "en_poor_laptop"])
def test_the_manager_is_found_among_the_voices_of_a_mono_call(name):
    """Separated voices are named provisionally (the first voice "agent"); which one is the
    manager is decided by what each says, whichever voice spoke first."""
    transcript = transcript_from_turns(TURNS_DIR / f"{name}.yaml")
    kept, roles = resolve_voices(transcript)
    assert kept.segments == transcript.segments
    assert roles.agent_voice == "agent" and roles.confidence > 0.8
    assert kept.channel_map.agent_channel == "voice_1" and kept.channel_map.source == "inferred"
    assert kept.channel_map.confidence == roles.confidence

    # The client's voice heard first: the provisional names are the wrong way round.
    mirrored = swap_speakers(transcript, ChannelMap(agent_channel="left", source="configured"))
    repaired, roles = resolve_voices(mirrored)
    assert [s.speaker for s in repaired.segments] == [s.speaker for s in transcript.segments]
    assert roles.agent_voice == "client" and roles.confidence > 0.8
    assert repaired.channel_map.agent_channel == "voice_2" and repaired.channel_map.note == roles.note


def test_a_mono_call_without_speech_keeps_its_names():
    empty = Transcript(language="ru", segments=())
    assert resolve_voices(empty) == (empty, VoiceRoles(agent_voice="agent", confidence=0.5, note="no speech"))
