"""Each detector alone, in Russian and English, including near-misses that must not fire."""

from pathlib import Path

import pytest

from pipeline.score import load_scorecard
from pipeline.score.features import gives_name, names_company
from pipeline.score.learned import fitted_classifier
from pipeline.score.metrics import conversation_metrics
from pipeline.score.questions import question_kinds
from pipeline.score.text import tokens
from pipeline.types import Segment, Transcript

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "text, kinds",
    [
        ("Что для вас важнее всего при уборке?", ("open",)),
        ("расскажите для чего вам ноутбук", ("open",)),
        ("ага а вы где бегаете и сколько по времени", ("open",)),
        ("Вам нужна доставка?", ("closed",)),
        ("Хорошо. Есть ли у вас животные?", ("closed",)),
        ("Could you tell me what you will mostly use it for?", ("open",)),
        ("so how are you gonna use it mostly", ("open",)),
        ("Do you want the blue one?", ("closed",)),
        ("I see. Is it for work", ("closed",)),
        ("Сейчас посмотрю наличие.", ()),
        ("Let me check the stock.", ()),
    ],
)
def test_question_kinds(text, kinds):
    assert question_kinds(text) == kinds


@pytest.fixture(scope="module")
def classifiers():
    card = load_scorecard("inbound_inquiry", ROOT / "scorecards")
    return {name: fitted_classifier(examples) for name, examples in card.examples.items()}


@pytest.mark.parametrize(
    "cue, positive, near_miss",
    [
        ("value_statement", "Раз у вас маленькая кухня, эта модель встанет в нишу, и место останется.", "Ширина шестьдесят сантиметров, объём двести литров."),
        ("value_statement", "Since you work from home, the quiet motor means your calls won't be disturbed.", "It has a twelve hundred watt motor and a two litre jug."),
        ("pressure", "Решайтесь сейчас, завтра цена вырастет, потом пожалеете.", "Акция до пятницы, если удобно — успеете, не торопитесь."),
        ("pressure", "Come on, just order it now, this is your last chance.", "Take your time, I can hold it for you until Friday."),
        ("open_question", "Подскажите, а для чего вам нужна кофемашина?", "Вам удобно сейчас говорить?"),
        ("open_question", "What matters most to you when you pick a mattress?", "Do you want it delivered on Monday?"),
        ("objection_response", "Понимаю, сумма заметная. Зато есть рассрочка без переплаты.", "Нормальная цена, другой нет."),
        ("objection_response", "I understand. It comes with a three-year warranty, so you're covered.", "That's just the price."),
    ],
)
def test_learned_cue_separates_positive_from_near_miss(classifiers, cue, positive, near_miss):
    high, low = classifiers[cue].positive_probability([positive, near_miss])
    assert high > 0.5 > low


def test_learned_probabilities_are_calibrated_and_repeatable(classifiers):
    texts = ["Для вас это значит, что шерсть не будет наматываться.", "Сорок восемь тысяч."]
    first = classifiers["value_statement"].positive_probability(texts)
    assert first == classifiers["value_statement"].positive_probability(texts)
    assert all(0 <= p <= 1 for p in first)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Добрый день! Меня зовут Ирина, магазин «Диван-Центр».", True),
        ("Магазин бытовой техники «ТехноДом», Алексей, слушаю вас.", True),
        ("Марина? Это «Спорт-Стрит».", False),
        ("Hi, this is Megan speaking, how can I help?", True),
        ("is this emily this is josh from fresh crate", True),
        ("Hi, I'm calling from Northpeak Outdoor.", False),
        ("This is your last chance.", False),
    ],
)
def test_own_name(text, expected):
    assert gives_name(text, tuple(tokens(text))) is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Добрый день, магазин «Сад и Огород».", True),
        ("Good afternoon, KitchenCraft Direct, my name is Paul.", True),
        ("Здравствуйте, меня зовут Андрей.", False),
        ("Hello, this is Chris. How can I help?", False),
    ],
)
def test_company_name(text, expected):
    assert names_company(text) is expected


def test_conversation_metrics():
    segments = (
        Segment(speaker="agent", start=0.0, end=10.0, text="Добрый день! Что для вас важно?"),
        Segment(speaker="agent", start=10.5, end=40.0, text="one two three four five six seven eight nine ten"),
        Segment(speaker="client", start=39.0, end=45.0, text="Да, понятно."),
        Segment(speaker="agent", start=44.0, end=50.0, text="Do you want it?"),
    )
    metrics = conversation_metrics(Transcript(language="ru", duration=60.0, segments=segments))
    assert metrics["agent_talk_ratio"] == pytest.approx(45.5 / 51.5, abs=1e-3)
    assert metrics["longest_agent_monologue_s"] == 40.0
    assert metrics["agent_questions"] == 2 and metrics["agent_open_questions"] == 1
    assert metrics["agent_interruptions"] == 1 and metrics["client_interruptions"] == 1
    assert metrics["silence_share"] == pytest.approx(10.5 / 60, abs=1e-3)
    assert metrics["agent_words_per_minute"] == pytest.approx(20 / (45.5 / 60), abs=0.1)


def test_fitted_classifiers_are_cached_on_disk_by_content(tmp_path, monkeypatch):
    from pipeline.score import learned

    card = load_scorecard("inbound_inquiry", ROOT / "scorecards")
    monkeypatch.setattr(learned, "_FITTED", {})
    learned.warm_classifiers(list(card.examples.values()), tmp_path)
    files = sorted(p.name for p in tmp_path.glob("cue-*.pkl"))
    assert files == sorted(f"cue-{e.cue}-{e.content_hash}.pkl" for e in card.examples.values())
    monkeypatch.setattr(learned, "_FITTED", {})
    monkeypatch.setattr(learned.CueClassifier, "fit", lambda *a: pytest.fail("must load from disk, not fit"))
    learned.warm_classifiers(list(card.examples.values()), tmp_path)
    assert len(learned._FITTED) == len(card.examples)
