import pytest

from pipeline.roles import assign_roles, infer_roles, swap_speakers
from pipeline.types import ChannelMap
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
