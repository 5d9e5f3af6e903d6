"""Masking quality on a labelled set written for this project (tests/data/pii_cases.yaml)."""
import json
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cxmining.privacy import snils_is_valid

DATA = Path(__file__).parent / "data"
RECALL_TARGET = {"name": 0.95, "phone": 0.95, "address": 0.90, "email": 0.95, "snils": 0.95, "inn": 0.95,
                 "passport": 0.95, "card": 0.95}


def load_cases(name="pii_cases.yaml"):
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))["cases"]


def masking_scores(masker, cases):
    """Per type: recall (labelled spans whose every letter/digit is masked, by any type) and
    precision (masked spans of that type that overlap a labelled span)."""
    found = masker.find_many([c["text"] for c in cases])
    hit, total, wrong, predicted = Counter(), Counter(), Counter(), Counter()
    for case, spans in zip(cases, found):
        text = case["text"]
        gold = []
        for g in case["spans"]:
            start = text.index(g["value"])
            gold.append((start, start + len(g["value"]), g["type"]))
        for start, end, kind in gold:
            total[kind] += 1
            hit[kind] += all(any(s.start <= i < s.end for s in spans) for i in range(start, end) if text[i].isalnum())
        for s in spans:
            predicted[s.type] += 1
            wrong[s.type] += not any(s.start < e and b < s.end for b, e, _ in gold)
    recall = {k: hit[k] / total[k] for k in total}
    precision = {k: 1 - wrong[k] / predicted[k] for k in predicted}
    return recall, precision


# pii_cases.yaml: the development set; pii_holdout.yaml: written separately later (its address
# recall was 0.778 before street names without a street type were handled).
@pytest.fixture(scope="module", params=["pii_cases.yaml", "pii_holdout.yaml"])
def scores(masker, request):
    return masking_scores(masker, load_cases(request.param))


def test_labelled_set_is_large_and_valid():
    cases = load_cases()
    counts = Counter(s["type"] for c in cases for s in c["spans"])
    assert counts["name"] >= 100 and counts["phone"] >= 50 and counts["address"] >= 50
    assert sum(1 for c in cases if not c["spans"]) >= 40  # negatives: precision is measured too
    for c in cases:
        for s in c["spans"]:
            assert s["value"] in c["text"]


@pytest.mark.parametrize("kind", sorted(RECALL_TARGET))
def test_recall_per_type(scores, kind):
    recall, precision = scores
    print(f"{kind}: recall {recall[kind]:.3f}, precision {precision.get(kind, 1):.3f}")
    assert recall[kind] >= RECALL_TARGET[kind]


def test_precision_keeps_reports_readable(scores):
    _, precision = scores
    assert precision["name"] >= 0.9
    assert all(p >= 0.9 for p in precision.values()), precision


@pytest.mark.parametrize("text, placeholder, leaked", [
    ("Меня зовут Иванов Пётр Сергеевич, тел. 8 (910) 123-45-67.", "[ФИО]", "Иванов"),
    ("Меня зовут Иванов Пётр Сергеевич, тел. 8 (910) 123-45-67.", "[ТЕЛЕФОН]", "123-45-67"),
    ("Звоните +7 (4712) 51-23-45 доб. 12", "[ТЕЛЕФОН]", "51-23-45"),
    ("Мой тел. 51-23-45, звоните вечером", "[ТЕЛЕФОН]", "51-23-45"),
    ("Ответ прошу на ivanova.a@mail.ru", "[ЭЛ_ПОЧТА]", "ivanova"),
    ("СНИЛС 112-233-445 95 не отображается", "[СНИЛС]", "445"),
    ("ИНН 7707083893 указан в договоре", "[ИНН]", "7707083893"),
    ("паспорт серия 3812 № 456789 выдан", "[ПАСПОРТ]", "456789"),
    ("списали с карты 4276 3800 1234 5678 дважды", "[КАРТА]", "5678"),   # context: masked without Luhn
    ("списали 4276 3800 1234 5679 дважды", "[КАРТА]", "5679"),           # no context: Luhn-valid
    ("Яма у дома ул. Ленина, д. 5, кв. 12 не заделана", "[АДРЕС]", "Ленина, д. 5"),
    ("Прошу убрать снег у дома 12 по улице Садовой", "[АДРЕС]", "Садовой"),
    ("Московское шоссе, 10 — нет тротуара", "[АДРЕС]", "шоссе, 10"),
    ("Специалист Петров А.В. нагрубил", "[ФИО]", "Петров"),
    ("начальник отдела А. В. Петрова не отвечает", "[ФИО]", "Петрова"),
    ("пишет вам иванов иван иванович из соседнего дома", "[ФИО]", "иванов"),
    ("Заявитель: Рахимов Шерзод Алишерович", "[ФИО]", "Шерзод"),
    ("Живу на Широтной, 104, кв. 3 — дует из окон", "[АДРЕС]", "Широтной"),
    ("Паспорт матери 7116 228390 приложен", "[ПАСПОРТ]", "228390"),
])
def test_masked_examples(masker, text, placeholder, leaked):
    masked = masker.mask(text)
    assert placeholder in masked and leaked not in masked, masked


@pytest.mark.parametrize("text", [
    "На улице Ленина нет освещения уже месяц.",          # a street without a house number stays
    "Автобус № 15 ходит раз в 40 минут.",
    "Сумма 3 500 рублей списана 12.03.2024, обращение № 123-45/2024.",
    "МФЦ на Госуслугах не принимает заявления.",
    "Кадастровый номер 46:29:102003:123 указан неверно.",
    "Надежда на лучшее угасает, вера в обещания тоже.",
    "В Курске и Железногорске те же проблемы.",
    "Яма на ул. Щепкина у остановки не заделана.",        # a person's name that names a street
    "В больнице имени Семашко нет кондиционеров.",
    "На Широтной снова пробка, ждали 2 часа.",
])
def test_negatives_are_left_alone(masker, text):
    assert masker.mask(text) == text


def test_snils_checksum():
    assert snils_is_valid("11223344595")
    assert not snils_is_valid("11223344596")
    assert not snils_is_valid("1122334459")


def test_numbers_failing_their_checksum_are_not_masked_without_context(masker):
    text = "Номер договора 4276 3800 1234 5678, сумма 7707083894"  # Luhn and INN checksums fail
    assert masker.mask(text) == text


def test_demo_planted_personal_data_never_survives(pipeline):
    """The demo generator plants names, phones, e-mails and addresses; none may reach a unit."""
    root = Path(__file__).resolve().parents[1] / "data" / "raw" / "demo"
    truth = pd.read_csv(root / "external_truth.csv", dtype=str)
    feedback = pd.read_csv(root / "external_feedback.csv", dtype=str, sep=None, engine="python")
    text_col = next(c for c in feedback.columns if "текст" in c.lower() or c.lower() == "text")
    id_col = feedback.columns[0]
    with_pii = truth[truth["pii"].fillna("[]") != "[]"].head(150)
    texts = feedback.set_index(id_col).loc[with_pii["response_id"], text_col].tolist()
    masked = pipeline.mask(texts)
    leaks = [(item["type"], item["value"], m) for pii, m in zip(with_pii["pii"], masked)
             for item in json.loads(pii) if item["value"] in m]
    assert len(with_pii) >= 100
    assert not leaks, leaks[:5]
