import pytest

from pipeline.score.text import Phrase, find_phrase, normal_forms, tokens


@pytest.mark.parametrize(
    "cue, text",
    [
        ("предложить", "Я могу вам предложить доставку"),
        ("предложить", "Я предложу вам другую модель"),
        ("перезвонить", "Завтра я вам перезвоню"),
        ("отправить ссылку", "Давайте я отправлю вам ссылку"),
        ("меня зовут", "Меня зовут Андрей"),
        ("звонок", "Спасибо за звонок!"),
        ("ещё", "Что-нибудь еще?"),
    ],
)
def test_russian_cue_matches_other_word_forms(cue, text):
    assert find_phrase(Phrase.of(cue), normal_forms(text)) is not None


@pytest.mark.parametrize(
    "cue, text",
    [
        ("call you back", "I will be calling you back tomorrow"),
        ("I will send", "I'll send you the link"),
        ("instalment", "You can pay in twelve instalments"),
        ("matters most", "What mattered most to you?"),
    ],
)
def test_english_cue_matches_other_word_forms(cue, text):
    assert find_phrase(Phrase.of(cue), normal_forms(text)) is not None


@pytest.mark.parametrize(
    "cue, text",
    [
        ("до свидания", "свидания до"),
        ("добрый день", "добрый, очень хороший и солнечный день"),
        ("call you back", "call me back"),
        ("right now", "right, we can talk now"),
    ],
)
def test_cue_needs_its_words_in_order_and_close(cue, text):
    assert find_phrase(Phrase.of(cue), normal_forms(text)) is None


def test_tokens_fold_case_yo_and_contractions():
    assert tokens("Ещё РАЗ, I'll call, can't") == ["еще", "раз", "i", "will", "call", "can", "not"]


def _finds(cue: str, text: str) -> bool:
    return find_phrase(Phrase.of(cue), normal_forms(text)) is not None


@pytest.mark.parametrize(
    "cue, text",
    [
        ("рассрочка", "можно оформить в расрочку без переплаты"),
        ("рекомендую", "я рекамендую вот эту модель"),
        ("instalment", "pay in twelve installments"),
        ("warranty", "it comes with a three year waranty"),
    ],
)
def test_a_long_word_matches_with_an_asr_slip(cue, text):
    assert _finds(cue, text)


@pytest.mark.parametrize(
    "cue, text",
    [("кошка", "кашка"), ("send", "sand"), ("дорого", "долго"), ("store", "story")],
)
def test_short_words_must_match_exactly(cue, text):
    assert not _finds(cue, text)


@pytest.mark.parametrize(
    "cue, text",
    [
        ("предложить", "К сожалению, не могу вам предложить скидку"),
        ("рекомендую", "Эту модель я не рекомендую"),
        ("i can offer", "I can't offer you a discount today"),
        ("recommend", "I would not recommend that one"),
    ],
)
def test_a_negated_cue_does_not_count(cue, text):
    assert not _finds(cue, text)


@pytest.mark.parametrize(
    "cue, text",
    [("мне не нужно", "Нет, мне это не нужно"), ("not interested", "Sorry, I am not interested")],
)
def test_a_cue_that_holds_a_negation_still_matches(cue, text):
    assert _finds(cue, text)
