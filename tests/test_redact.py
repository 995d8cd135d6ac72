"""Redaction: spoken numbers, detectors in both languages, transcripts, and the labelled set."""

from pathlib import Path

import pytest

from pipeline.redact import detect, normalise_numbers, redact_text, redact_transcript
from pipeline.redact.checksums import inn_valid, luhn_valid, snils_valid
from pipeline.redact.evaluate import evaluate, read_labelled
from pipeline.types import Segment, Transcript, Word

DATA = Path(__file__).resolve().parent / "data" / "redaction"


def kinds(text: str) -> list[tuple[str, str]]:
    return [(hit.type, text[hit.start : hit.end]) for hit in detect(text)]


@pytest.mark.parametrize(
    ("said", "digits"),
    [
        ("восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь", "89161234567"),
        ("четыре тысячи", "4000"),
        ("тысяча девятьсот восемьдесят пять", "1985"),
        ("четыре тысячи сто одиннадцать", "4111"),
        ("сорок один одиннадцать", "4111"),
        ("ноль пять", "05"),
        ("двести двадцать два ноль четыре", "22204"),
        ("four one one one", "4111"),
        ("double five, triple seven", "55777"),
        ("five five five oh one two three", "5550123"),
        ("nineteen eighty-five", "1985"),
        ("two thousand and five", "2005"),
        ("a hundred and twenty", "120"),
        ("4111 1111 1111 1111", "4111111111111111"),
        ("+7 (916) 123-45-67", "+79161234567"),
        ("плюс семь 916 сто двадцать три 45 шестьдесят семь", "+79161234567"),
    ],
)
def test_spoken_and_written_numbers_become_digits(said, digits):
    assert normalise_numbers(said) == digits


def test_normalising_keeps_the_words_around_numbers():
    assert normalise_numbers("Мой телефон восемь девятьсот три, спасибо") == "Мой телефон 8903, спасибо"
    assert normalise_numbers("oh well, it's four two") == "oh well, it's 42"


def test_check_digits():
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert inn_valid("7707083893") and inn_valid("500100732259") and not inn_valid("7707083894")
    assert snils_valid("11223344595") and not snils_valid("11223344596")


@pytest.mark.parametrize(
    ("text", "kind", "span"),
    [
        ("Номер карты 4276 7975 4323 1948", "CARD", "4276 7975 4323 1948"),
        ("The card is four one one one, one one one one, one one one one, one one one one",
         "CARD", "four one one one, one one one one, one one one one, one one one one"),
        ("Телефон восемь девятьсот три семьсот шестьдесят пять сорок три двадцать один", "PHONE",
         "восемь девятьсот три семьсот шестьдесят пять сорок три двадцать один"),
        ("Call me at (212) 555-0147", "PHONE", "(212) 555-0147"),
        ("Почта иван точка петров собака mail точка ru", "EMAIL", "иван точка петров собака mail точка ru"),
        ("email john dot smith at gmail dot com", "EMAIL", "john dot smith at gmail dot com"),
        ("Паспорт серия 45 06 номер 123456", "PASSPORT", "45 06 номер 123456"),
        ("my passport number is 4506 123456", "PASSPORT", "4506 123456"),
        ("ИНН 7707083893", "INN", "7707083893"),
        ("Our INN is 7707083893", "INN", "7707083893"),
        ("СНИЛС 112-233-445 95", "SNILS", "112-233-445 95"),
        ("my SNILS is 112 233 445 95", "SNILS", "112 233 445 95"),
        ("Код CVV сто двадцать три", "CVV", "сто двадцать три"),
        ("the security code is one two three", "CVV", "one two three"),
        ("Дата рождения 12 марта 1985 года", "DOB", "12 марта 1985 года"),
        ("I was born on March 12th, 1985", "DOB", "March 12th, 1985"),
    ],
)
def test_each_kind_is_found_in_both_languages(text, kind, span):
    assert kinds(text) == [(kind, span)]


@pytest.mark.parametrize(
    "text",
    [
        "Пылесос стоит 24 990 рублей",
        "Итого двенадцать тысяч девятьсот девяносто рублей",
        "Номер заказа 4815162342",
        "Доставим 12 марта 1985 года",  # a date, but nobody's birth date
        "Номер сертификата 4276 3800 1234 5671",  # fails the Luhn check
        "Размеры 180 на 200, вес 34 килограмма",
        "код 123",  # a code, but no card in sight
        "That's $1,299.99 in total",
        "Your order number is 2125550147",
        "We deliver on March 12th, 2025",
        "The RTX 4090 or the 5080",
        "look at the blue one",
        "It's a birthday gift for the 20th of May",
    ],
)
def test_near_misses_stay(text):
    assert kinds(text) == []


def test_context_from_the_other_speaker_decides_a_bare_number():
    asked = Transcript(language="ru", segments=(
        Segment(speaker="agent", start=0, end=2, text="И три цифры на обороте карты."),
        Segment(speaker="client", start=2.5, end=3.5, text="Семьсот сорок два."),
    ))
    not_asked = asked.model_copy(update={"segments": (
        Segment(speaker="agent", start=0, end=2, text="Сколько штук вам нужно?"),
        Segment(speaker="client", start=2.5, end=3.5, text="Семьсот сорок два."),
    )})
    assert redact_transcript(asked).transcript.segments[1].text == "[CVV]."
    assert redact_transcript(not_asked).redactions == ()


def words_of(text: str, start: float, step: float = 0.3) -> tuple[Word, ...]:
    return tuple(
        Word(start=start + k * step, end=start + (k + 1) * step, text=" " + w) for k, w in enumerate(text.split())
    )


def test_redaction_replaces_text_and_words_and_times_the_span_by_its_words():
    text = "Да, мой телефон 8 916 123 45 67, записали?"
    segment = Segment(speaker="client", start=10.0, end=13.0, text=text, words=words_of(text, 10.0))
    result = redact_transcript(Transcript(language="ru", segments=(segment,)))
    redacted = result.transcript.segments[0]
    assert redacted.text == "Да, мой телефон [PHONE], записали?"
    assert "".join(w.text for w in redacted.words).strip() == redacted.text
    assert not any(c.isdigit() for w in redacted.words for c in w.text)
    (redaction,) = result.redactions
    # "8" is the 4th word (10.9 s) and "67," the 8th (ends 12.4 s).
    assert (redaction.type, redaction.segment, redaction.speaker) == ("PHONE", 0, "client")
    assert (redaction.start, redaction.end) == pytest.approx((10.9, 12.4))
    assert result.time_spans == ((redaction.start, redaction.end),)


def test_a_segment_without_words_gives_the_segment_span():
    segment = Segment(speaker="client", start=4.0, end=7.5, text="my number is 415 555 0199")
    (redaction,) = redact_transcript(Transcript(language="en", segments=(segment,))).redactions
    assert (redaction.start, redaction.end) == (4.0, 7.5)


def test_words_that_do_not_match_the_text_are_dropped_not_leaked():
    segment = Segment(speaker="client", start=0, end=3, text="card 4111 1111 1111 1111",
                      words=words_of("cart four one one one", 0))
    redacted = redact_transcript(Transcript(language="en", segments=(segment,))).transcript.segments[0]
    assert redacted.text == "card [CARD]" and redacted.words == ()


@pytest.mark.parametrize(
    ("first", "second", "kind"),
    [
        ("Записывайте: восемь девятьсот три", "семьсот шестьдесят пять сорок три двадцать один.", "PHONE"),
        ("Okay, the card is 4916 2009", "7737 9727.", "CARD"),
    ],
)
def test_a_number_dictated_across_two_segments_is_caught_in_both(first, second, kind):
    transcript = Transcript(language="ru", segments=(
        Segment(speaker="client", start=0, end=2, text=first),
        Segment(speaker="agent", start=2.1, end=2.4, text="Угу."),  # the other channel nods in between
        Segment(speaker="client", start=2.6, end=5, text=second),
    ))
    result = redact_transcript(transcript)
    assert [(r.type, r.segment, r.split) for r in result.redactions] == [(kind, 0, True), (kind, 2, True)]
    assert not any(c.isdigit() for s in result.transcript.segments for c in s.text)
    assert result.transcript.segments[1].text == "Угу."


def test_segments_far_apart_are_not_joined():
    transcript = Transcript(language="en", segments=(
        Segment(speaker="client", start=0, end=2, text="I'll take 4916"),
        Segment(speaker="client", start=60, end=62, text="2009 7737 9727 was the old model"),
    ))
    assert redact_transcript(transcript).redactions == ()


def test_redact_text_in_both_languages():
    assert redact_text("карта 4111 1111 1111 1111, почта anna@mail.ru") == "карта [CARD], почта [EMAIL]"
    assert redact_text("call 212 555 0147 or mail me at bob at gmail dot com") == (
        "call [PHONE] or mail me at [EMAIL]"
    )


@pytest.fixture(scope="module")
def labelled():
    return read_labelled(DATA / "dev.yaml") + read_labelled(DATA / "heldout.yaml")


def test_the_labelled_set_is_balanced_and_has_near_misses(labelled):
    assert len(labelled) >= 80
    russian = sum(1 for u in labelled if u.language == "ru")
    assert abs(2 * russian - len(labelled)) <= 0.1 * len(labelled)
    assert sum(1 for u in labelled if not u.expected) >= 25
    assert {span.type for u in labelled for span in u.expected} == {
        "CARD", "PHONE", "EMAIL", "PASSPORT", "INN", "SNILS", "CVV", "DOB"
    }


def test_recall_and_precision_on_the_labelled_set(labelled):
    scores = evaluate(labelled)
    report = [f"{m.utterance}: {m.type} {m.kind}" for m in scores.misses]
    assert scores.of("CARD").recall >= 0.99, report
    assert scores.of("PHONE").recall >= 0.99, report
    assert scores.recall >= 0.95, report
    assert scores.precision >= 0.95, report


@pytest.mark.parametrize(
    "text",
    [
        "My card number is 4 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1.",
        "Номер карты 4 2 7 6 3 8 0 0 1 2 3 4 5 6",
        "My card, please, my card number is 4111111111111111111",
        "Номер карты 427638001234567123",
    ],
)
def test_a_card_misheard_digit_by_digit_is_still_redacted(text):
    """Real Whisper output on a dictated card: digits dropped, repeated or run together, so
    the Luhn sum fails."""
    assert redact_text(text).count("[CARD]") == 1 and not any(ch.isdigit() for ch in redact_text(text))
