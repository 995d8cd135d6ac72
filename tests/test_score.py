import json
from pathlib import Path

import pytest

from pipeline.score import score
from pipeline.scorecard import STANDARD_ITEM_IDS, load_scorecard
from pipeline.types import Segment, Transcript
from tests.fakes import TURNS_DIR, transcript_from_turns

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="module")
def scorecard():
    return load_scorecard("default", ROOT / "scorecards")


def statuses(assessment) -> dict[str, str]:
    return {item.id: item.status for item in assessment.items}


@pytest.mark.parametrize("name", ["ru_good_vacuum", "en_good_laptop"])
def test_good_sample_script_passes_every_item(scorecard, name):
    assessment = score(transcript_from_turns(TURNS_DIR / f"{name}.yaml"), scorecard)
    assert statuses(assessment) == dict.fromkeys(STANDARD_ITEM_IDS, "pass")
    assert assessment.passed and assessment.score == 1.0 and assessment.flags == ()


@pytest.mark.parametrize("name", ["ru_poor_vacuum", "en_poor_laptop"])
def test_poor_sample_script_fails_what_it_was_written_to_fail(scorecard, name):
    assessment = score(transcript_from_turns(TURNS_DIR / f"{name}.yaml"), scorecard)
    assert statuses(assessment) == dict.fromkeys(STANDARD_ITEM_IDS, "fail")
    assert not assessment.passed
    assert "critical_failed:no_pressure" in assessment.flags
    pressure = next(item for item in assessment.items if item.id == "no_pressure")
    assert pressure.evidence and all(e.speaker == "agent" for e in pressure.evidence)


@pytest.mark.parametrize("language", ["ru", "en"])
def test_handwritten_transcript_passes_with_evidence(scorecard, language):
    transcript = Transcript.model_validate_json((DATA / f"transcript_{language}_handwritten.json").read_text())
    assessment = score(transcript, scorecard)
    assert statuses(assessment) == dict.fromkeys(STANDARD_ITEM_IDS, "pass")
    for item in assessment.items:
        if item.id != "no_pressure":
            assert item.evidence, item.id
            assert item.reason


def _call(language: str, agent_lines: list[str], client_lines: list[str] = (), confidence: float = 0.9) -> Transcript:
    segments, clock = [], 0.0
    for speaker, text in [("agent", t) for t in agent_lines] + [("client", t) for t in client_lines]:
        segments.append(Segment(speaker=speaker, start=clock, end=clock + 2, text=text, confidence=confidence))
        clock += 2.5
    return Transcript(language=language, segments=tuple(segments))


@pytest.mark.parametrize(
    "language, lines",
    [("ru", ["Добрый день!", "Спасибо, до свидания."]), ("en", ["Good morning!", "Thank you, goodbye."])],
)
def test_objection_handling_is_na_without_an_objection(scorecard, language, lines):
    result = statuses(score(_call(language, lines), scorecard))
    assert result["objection_handling"] == "na"
    assert result["greeting"] == "pass"


@pytest.mark.parametrize("language, line", [("ru", "Добрый день!"), ("en", "Good morning!")])
def test_low_asr_confidence_sends_the_item_to_a_human(scorecard, language, line):
    assessment = score(_call(language, [line], confidence=0.2), scorecard)
    assert statuses(assessment)["greeting"] == "needs_review"
    assert "needs_review:greeting" in assessment.flags


@pytest.mark.parametrize("language, line", [("ru", "Берите прямо сейчас!"), ("en", "Buy it right now!")])
def test_pressure_fails_the_call_whatever_the_score(scorecard, language, line):
    assessment = score(_call(language, [line]), scorecard)
    assert statuses(assessment)["no_pressure"] == "fail"
    assert not assessment.passed


def test_greeting_outside_its_window_does_not_count(scorecard):
    late = Transcript(language="en", segments=(Segment(speaker="agent", start=45.0, end=47.0, text="Hello!"),))
    assert statuses(score(late, scorecard))["greeting"] == "fail"


def test_mono_call_with_unknown_speaker_is_still_judged(scorecard):
    mono = Transcript(language="ru", segments=(Segment(speaker="unknown", start=0.0, end=2.0, text="Здравствуйте!"),))
    assert statuses(score(mono, scorecard))["greeting"] == "pass"


def test_scoring_is_deterministic(scorecard):
    transcript = transcript_from_turns(TURNS_DIR / "ru_good_vacuum.yaml")
    first, second = score(transcript, scorecard).to_json(), score(transcript, scorecard).to_json()
    assert first == second
    payload = json.loads(first)
    assert set(payload) == {"scorecard", "language", "score", "passed", "items", "metrics", "flags"}


def test_metrics_count_talk_time_and_questions(scorecard):
    transcript = transcript_from_turns(TURNS_DIR / "en_good_laptop.yaml")
    metrics = score(transcript, scorecard).metrics
    assert 0.5 < metrics["agent_talk_ratio"] < 0.9
    assert metrics["agent_questions"] >= 3
