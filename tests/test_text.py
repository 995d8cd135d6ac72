import pytest

from pipeline.text import Phrase, find_phrase, normal_forms, tokens


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
    assert find_phrase(Phrase.of(cue), normal_forms(text))


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
    assert find_phrase(Phrase.of(cue), normal_forms(text))


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
    assert not find_phrase(Phrase.of(cue), normal_forms(text))


def test_tokens_fold_case_yo_and_contractions():
    assert tokens("Ещё РАЗ, I'll call") == ["еще", "раз", "i", "will", "call"]
