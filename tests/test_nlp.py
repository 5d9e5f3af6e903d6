import pytest
from spacy.matcher import Matcher

from cxmining.nlp import analysis_tokens, doc_from_columns


@pytest.mark.parametrize("text, expected", [
    ("Дороги не чистят уже неделю.", [("Дороги", "NOUN", "дорога"), ("не", "PART", "не"), ("чистят", "VERB", "чистить")]),
    ("Сотрудники грубят", [("Сотрудники", "NOUN", "сотрудник"), ("грубят", "VERB", "грубить")]),
    ("Документы были приняты быстро", [("Документы", "NOUN", "документ"), ("были", "AUX", "быть"),
                                       ("приняты", "VERB", "принять")]),
    ("Звоните по тел. [ТЕЛЕФОН]", [("Звоните", "VERB", "звонить"), ("по", "ADP", "по"), ("тел", "NOUN", "тел"),
                                   (".", "PUNCT", "."), ("[ТЕЛЕФОН]", "X", "[телефон]")]),
])
def test_tokens_pos_lemmas(nlp, text, expected):
    doc = nlp(text)
    assert [(t.text, t.pos_, t.lemma_) for t in doc][:len(expected)] == expected


def test_morphology_features_come_from_slovnet(nlp):
    doc = nlp("Мы долго ждали в очереди")
    assert doc[2].morph.get("Tense") == ["Past"]
    assert doc[4].morph.get("Case") == ["Loc"]


def test_placeholder_is_one_token_and_text_round_trips(nlp):
    text = "Меня зовут [ФИО], живу на [АДРЕС]."
    doc = nlp(text)
    assert doc.text == text
    assert "[ФИО]" in [t.text for t in doc] and doc[2].pos_ == "PROPN"


def test_matcher_on_lemmas_and_pos(nlp):
    matcher = Matcher(nlp.vocab)
    matcher.add("NEG_VERB", [[{"LOWER": "не"}, {"POS": "VERB"}]])
    matcher.add("WAIT", [[{"LEMMA": "ждать"}]])
    doc = nlp("Никто не перезвонил, а я ждала ответа две недели.")
    found = {nlp.vocab.strings[m] for m, _, _ in matcher(doc)}
    assert found == {"NEG_VERB", "WAIT"}


def test_doc_from_columns_restores_the_analysis(nlp):
    doc = nlp("Сайт не работает третий день")
    rebuilt = doc_from_columns(nlp.vocab, [t.text for t in doc], [bool(t.whitespace_) for t in doc],
                               [t.pos_ for t in doc], [str(t.morph) for t in doc], [t.lemma_ for t in doc])
    assert [(t.text, t.pos_, t.lemma_, str(t.morph)) for t in rebuilt] == \
           [(t.text, t.pos_, t.lemma_, str(t.morph)) for t in doc]
    assert rebuilt.text == doc.text


@pytest.mark.parametrize("text, expected", [
    ("Дороги не чистят уже неделю.", ["дорога", "не_чистить", "неделя"]),
    ("Сайт не очень удобный", ["сайт", "не_удобный"]),
    ("Никто не отвечает на звонки!", ["никто", "не_отвечать", "звонок"]),
    ("Ждали 3 часа, [ФИО] ушла", ["ждать", "час", "уйти"]),
    ("Всё ещё нет света", ["нет", "свет"]),
    ("Не работает. Телефон молчит", ["не_работать", "телефон", "молчать"]),
])
def test_analysis_tokens(nlp, config, text, expected):
    doc = nlp(text)
    assert analysis_tokens([t.lemma_ for t in doc], [t.pos_ for t in doc], config.text) == expected
