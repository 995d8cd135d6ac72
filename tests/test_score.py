"""Verdicts of the shipped scorecards on hand-made transcripts, in Russian and English."""

import json
from pathlib import Path

import pytest

from pipeline.score import STANDARD_ITEM_IDS, load_scorecard, score
from pipeline.types import Segment, Transcript, Word
from tests.fakes import TURNS_DIR, transcript_from_turns

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="module")
def inbound():
    return load_scorecard("inbound_inquiry", ROOT / "scorecards")


@pytest.fixture(scope="module")
def outbound():
    return load_scorecard("outbound_followup", ROOT / "scorecards")


def statuses(assessment) -> dict[str, str]:
    return {item.id: item.status for item in assessment.items}


def call(language: str, *turns: tuple[str, str], confidence: float | None = 0.9) -> Transcript:
    """A transcript from (speaker, text) turns, 3 s each."""
    segments = [
        Segment(speaker=speaker, start=3.0 * i, end=3.0 * i + 2.5, text=text, confidence=confidence)
        for i, (speaker, text) in enumerate(turns)
    ]
    return Transcript(language=language, engine="test", model="hand", segments=tuple(segments))


@pytest.mark.parametrize("name", ["ru_good_vacuum", "en_good_laptop"])
def test_good_sample_script_passes_every_item(inbound, name):
    assessment = score(transcript_from_turns(TURNS_DIR / f"{name}.yaml"), inbound)
    assert statuses(assessment) | {} == {**dict.fromkeys(STANDARD_ITEM_IDS, "pass"), "listening": "pass", "no_long_monologue": "pass"}
    assert assessment.passed and assessment.score == 1.0


@pytest.mark.parametrize("name", ["ru_poor_vacuum", "en_poor_laptop"])
def test_poor_sample_script_fails_what_it_was_written_to_fail(inbound, name):
    assessment = score(transcript_from_turns(TURNS_DIR / f"{name}.yaml"), inbound)
    assert {item: statuses(assessment)[item] for item in STANDARD_ITEM_IDS} == dict.fromkeys(STANDARD_ITEM_IDS, "fail")
    assert not assessment.passed and "critical_failed:no_pressure" in assessment.flags
    pressure = next(item for item in assessment.items if item.id == "no_pressure")
    assert pressure.evidence and all(e.speaker == "agent" for e in pressure.evidence)


@pytest.mark.parametrize("language", ["ru", "en"])
def test_handwritten_transcript_passes_with_evidence(inbound, language):
    transcript = Transcript.model_validate_json((DATA / f"transcript_{language}_handwritten.json").read_text())
    assessment = score(transcript, inbound)
    assert {item: statuses(assessment)[item] for item in STANDARD_ITEM_IDS} == dict.fromkeys(STANDARD_ITEM_IDS, "pass")
    for item in assessment.items:
        assert item.reason
        if item.id not in ("no_pressure", "listening", "no_long_monologue"):
            assert item.evidence, item.id


@pytest.mark.parametrize(
    "language, turns",
    [
        ("ru", [("agent", "Добрый день! Магазин «Уют», меня зовут Анна."), ("client", "Хочу заказать плед."), ("agent", "Спасибо, до свидания.")]),
        ("en", [("agent", "Good morning! Cosy Home, my name is Anna."), ("client", "I want to order a blanket."), ("agent", "Thank you, goodbye.")]),
    ],
)
def test_objection_handling_is_na_without_an_objection(inbound, language, turns):
    result = statuses(score(call(language, *turns), inbound))
    assert result["objection_handling"] == "na"
    assert result["greeting"] == result["introduction"] == result["closing"] == "pass"


@pytest.mark.parametrize(
    "language, objection, answer, ignored",
    [
        ("ru", "Ой, это дороговато.", "Понимаю вас. Зато есть рассрочка на полгода без переплаты.", "Нормальная цена. Доставка нужна?"),
        ("en", "Hmm, that's too expensive for me.", "I understand. You can pay in six instalments with no interest.", "That's just the price. Do you need delivery?"),
    ],
)
def test_an_objection_must_be_answered_in_the_next_turn(inbound, language, objection, answer, ignored):
    answered = statuses(score(call(language, ("client", objection), ("agent", answer)), inbound))
    assert answered["objection_handling"] == "pass"
    skipped = statuses(score(call(language, ("client", objection), ("agent", ignored)), inbound))
    assert skipped["objection_handling"] == "fail"


@pytest.mark.parametrize(
    "language, open_question, offer",
    [
        ("ru", "Расскажите, для чего вам ноутбук и что для вас важно?", "Тогда я рекомендую вот эту модель."),
        ("en", "Could you tell me what you will mostly use it for?", "Then I would recommend the Aero fourteen."),
    ],
)
def test_discovery_counts_only_before_the_first_offer(inbound, language, open_question, offer):
    before = statuses(score(call(language, ("agent", open_question), ("client", "…"), ("agent", offer)), inbound))
    assert before["needs_discovery"] == "pass"
    after = statuses(score(call(language, ("agent", offer), ("client", "…"), ("agent", open_question)), inbound))
    assert after["needs_discovery"] == "fail"


@pytest.mark.parametrize(
    "language, closed_question",
    [("ru", "Вам доставка нужна?"), ("en", "Do you want the blue one?")],
)
def test_a_closed_question_is_not_discovery(inbound, language, closed_question):
    assert statuses(score(call(language, ("agent", closed_question)), inbound))["needs_discovery"] == "fail"


@pytest.mark.parametrize(
    "language, benefit, specs",
    [
        ("ru", "Раз у вас кошка, турбощётка кстати: шерсть не будет наматываться на щётку.", "Мощность две тысячи ватт, пылесборник три литра."),
        ("en", "Since you travel a lot, the battery lasts fifteen hours, so you can work through a whole flight.", "Sixteen gigabytes of memory, one terabyte drive, fourteen inch screen."),
    ],
)
def test_value_means_a_benefit_not_a_list_of_specs(inbound, language, benefit, specs):
    assert statuses(score(call(language, ("agent", benefit)), inbound))["value_presentation"] == "pass"
    assert statuses(score(call(language, ("agent", specs)), inbound))["value_presentation"] == "fail"


@pytest.mark.parametrize(
    "language, pushy, calm",
    [
        ("ru", "Берите прямо сейчас, завтра будет дороже!", "Акция действует до пятницы, решите спокойно."),
        ("en", "Buy it now, this is your last chance!", "The offer runs until Friday, so take your time."),
    ],
)
def test_pressure_fails_the_call_and_calm_facts_do_not(inbound, language, pushy, calm):
    assessment = score(call(language, ("agent", pushy)), inbound)
    assert statuses(assessment)["no_pressure"] == "fail" and not assessment.passed
    assert statuses(score(call(language, ("agent", calm)), inbound))["no_pressure"] == "pass"


@pytest.mark.parametrize("language, line", [("ru", "Добрый день!"), ("en", "Good morning!")])
def test_low_asr_confidence_on_the_deciding_segment_needs_review(inbound, language, line):
    assessment = score(call(language, ("agent", line), confidence=0.2), inbound)
    greeting = next(item for item in assessment.items if item.id == "greeting")
    assert greeting.status == "needs_review" and greeting.evidence
    assert "needs_review" in assessment.flags


@pytest.mark.parametrize(
    "language, text, doubtful_word",
    [("ru", "Ну смотрите, потом пожалеете.", "пожалеете"), ("en", "Well, you will regret it.", "regret")],
)
def test_a_low_probability_word_in_the_deciding_phrase_needs_review_not_fail(inbound, language, text, doubtful_word):
    words = tuple(
        Word(start=0.2 * i, end=0.2 * i + 0.2, text=w, probability=0.2 if doubtful_word in w.lower() else 0.95)
        for i, w in enumerate(text.split())
    )
    segment = Segment(speaker="agent", start=0.0, end=3.0, text=text, confidence=0.9, words=words)
    transcript = Transcript(language=language, segments=(segment,))
    pressure = next(item for item in score(transcript, inbound).items if item.id == "no_pressure")
    assert pressure.status == "needs_review"
    assert pressure.evidence[0].text == text


@pytest.mark.parametrize("language", ["ru", "en"])
def test_a_failed_item_carries_feedback_and_an_example(inbound, language):
    greeting = next(item for item in score(call(language, ("agent", "...")), inbound).items if item.id == "greeting")
    assert greeting.status == "fail"
    assert greeting.feedback and greeting.example
    assert (greeting.example.startswith("Добрый")) == (language == "ru")


def test_late_greeting_does_not_count(inbound):
    late = Transcript(language="en", segments=(Segment(speaker="agent", start=45.0, end=47.0, text="Hello!"),))
    assert statuses(score(late, inbound))["greeting"] == "fail"


def test_mono_call_with_unknown_speaker_is_still_judged(inbound):
    mono = Transcript(language="ru", segments=(Segment(speaker="unknown", start=0.0, end=2.0, text="Здравствуйте!"),))
    assert statuses(score(mono, inbound))["greeting"] == "pass"


@pytest.mark.parametrize(
    "language, turns",
    [
        ("ru", [("agent", "Добрый день, Ирина! Меня зовут Андрей, интернет-магазин «ТехноДом»."), ("agent", "Звоню по поводу вашего заказа. Вам удобно сейчас говорить?")]),
        ("en", [("agent", "Good afternoon, Sarah! My name is Joe, from Brightline Electronics."), ("agent", "I am calling about your order. Is this a good time to talk?")]),
    ],
)
def test_outbound_scorecard_checks_the_reason_and_the_permission(outbound, language, turns):
    result = statuses(score(call(language, *turns), outbound))
    assert result["greeting"] == result["introduction"] == "pass"
    assert result["reason_for_call"] == result["asks_permission"] == "pass"


def test_assessment_records_scorecard_and_transcript_and_is_deterministic(inbound):
    transcript = transcript_from_turns(TURNS_DIR / "ru_good_vacuum.yaml")
    first, second = score(transcript, inbound).to_json(), score(transcript, inbound).to_json()
    assert first == second
    payload = json.loads(first)
    assert payload["scorecard"] == {"id": "inbound_inquiry", "version": 1, "hash": inbound.content_hash}
    assert payload["transcript"] == {"engine": "fake", "model": "turns"}
    assert set(payload) == {"scorecard", "transcript", "language", "score", "passed", "items", "metrics", "flags"}
