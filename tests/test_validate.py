from datetime import date

import pandas as pd
import pytest

from cxmining.validate import parse_dates, parse_likert, parse_period, validate_external, validate_internal


@pytest.mark.parametrize("raw, expected", [
    ("2026Q3", "2026Q3"), ("2026-q3", "2026Q3"), ("2026 Q1", "2026Q1"), ("Q2 2026", "2026Q2"),
    ("3 квартал 2026", "2026Q3"), ("2 квартал 2026 года", "2026Q2"), ("III кв. 2026", "2026Q3"),
    ("4 кв 2025 г.", "2025Q4"), ("2026Q5", None), ("весна", None), ("", None),
])
def test_parse_period(raw, expected):
    assert parse_period(raw) == expected


def test_parse_dates_formats():
    raw = pd.Series(["2026-07-03", "03.07.2026", "03.07.2026 14:05", "3.7.26", pd.Timestamp("2026-07-03"),
                     "46206", "вчера", None])
    out = parse_dates(raw)
    assert list(out[:4].dt.date) == [date(2026, 7, 3)] * 4
    assert out[2].hour == 14
    assert out[4].date() == date(2026, 7, 3)
    assert out[5].date() == date(2026, 7, 3)  # Excel serial day number
    assert out[6:].isna().all()


@pytest.mark.parametrize("raw, score, error", [
    ("Полностью удовлетворён", 5, None), ("полностью удовлетворена", 5, None), ("Скорее удовлетворены", 4, None),
    ("Скорее не удовлетворен", 2, None), ("совсем не удовлетворена", 1, None), ("Частично удовлетворён", 3, None),
    ("4", 4, None), ("5.0", 5, None), (3, 3, None), ("5 - полностью удовлетворен", 5, None),
    ("Затрудняюсь ответить", None, None), (None, None, None),
    ("6", None, "unknown"), (7, None, "out of 1–5"), ("отстой", None, "unknown answer 'отстой'"),
])
def test_parse_likert(config, raw, score, error):
    got, err = parse_likert(raw, config)
    assert got == score
    assert (err is None) if error is None else (error in err)


def _external(**cols):
    base = {"text": ["Дороги не чистят."], "received_at": ["01.07.2026"]}
    base.update(cols)
    return pd.DataFrame(base)


@pytest.mark.parametrize("cols, reason", [
    ({"text": ["   "]}, "empty text"),
    ({"text": ["<p>&nbsp;</p>"]}, "empty text"),
    ({"received_at": ["32.13.2026"]}, "unparseable received_at '32.13.2026'"),
    ({"received_at": [None]}, "missing received_at"),
    ({"received_at": ["01.01.2099"]}, "implausible received_at 2099-01-01"),
    ({"rating": ["7"]}, "rating 7 out of range 1–5"),
    ({"rating": ["4.5"]}, "rating 4.5 out of range 1–5"),
    ({"rating": ["хорошо"]}, "rating 'хорошо' is not a number"),
    ({"is_electronic": ["может быть"]}, "is_electronic 'может быть' is not yes/no"),
    ({"client_type": ["пенсионер"]}, "unknown client_type 'пенсионер'"),
])
def test_external_rules_quarantine_with_reason(config, cols, reason):
    records, rejected, _ = validate_external(_external(**cols), config, today=date(2026, 12, 4))
    assert records.empty
    assert reason in rejected["quarantine_reason"].iloc[0]


def test_external_normalises_and_types(config):
    raw = _external(rating=["5"], is_electronic=["Да"], client_type=["ИП"], channel=["ЕПГУ"], process=["ЖКХ"],
                    response_id=[" 007 "])
    records, rejected, _ = validate_external(raw, config, source="x.csv", today=date(2026, 12, 4))
    assert rejected.empty
    row = records.iloc[0]
    assert (row.response_id, row.period, row.channel, row.process) == ("007", "2026Q3", "портал",
                                                                      "Жилищно-коммунальное хозяйство")
    assert row.client_type == "индивидуальный предприниматель" and bool(row.is_electronic) and row.rating == 5
    assert str(records["rating"].dtype) == "Int8" and str(records["received_at"].dtype) == "datetime64[ns]"


def test_external_several_reasons_are_all_given(config):
    _, rejected, _ = validate_external(_external(text=[""], rating=["0"]), config, today=date(2026, 12, 4))
    assert rejected["quarantine_reason"].iloc[0] == "empty text; rating 0 out of range 1–5"


def test_missing_ids_become_content_hashes(config):
    raw = pd.DataFrame({"text": ["Один.", "Два.", "Один."], "received_at": ["01.07.2026"] * 3})
    records, rejected, dups = validate_external(raw, config, today=date(2026, 12, 4))
    assert len(records) == 2 and dups == 1 and rejected.empty
    assert records["response_id"].str.fullmatch(r"h[0-9a-f]{16}").all()


def test_same_id_different_content_in_one_file_is_quarantined(config):
    raw = pd.DataFrame({"response_id": ["1", "1", "2"], "text": ["А.", "Б.", "В."], "received_at": ["01.07.2026"] * 3})
    records, rejected, _ = validate_external(raw, config, today=date(2026, 12, 4))
    assert list(records["response_id"]) == ["2"]
    assert list(rejected.index) == [0, 1]
    assert rejected["quarantine_reason"].str.contains("more than once").all()


def test_internal_rules(config):
    raw = pd.DataFrame({
        "department": ["Отдел ЖКХ", None, "Отдел ЖКХ", "Финансовое управление"],
        "period": ["3 квартал 2026", "2026Q3", "весна", None],
        "equipment": ["Скорее удовлетворена", "5", "4", "Затрудняюсь ответить"],
        "overall": ["2", "великолепно", "3", None],
        "open_problems": ["Старые компьютеры.", None, None, None],
    })
    records, rejected, _ = validate_internal(raw, config)
    assert list(records["equipment"]) == [4]
    assert records.iloc[0]["period"] == "2026Q3" and records.iloc[0]["position_group"] == "не указано"
    reasons = rejected["quarantine_reason"].to_dict()
    assert reasons[1] == "empty department; overall: unknown answer 'великолепно'"
    assert reasons[2] == "period 'весна' is not a quarter like 2026Q3"
    assert "missing period" in reasons[3] and "empty response" in reasons[3]


def test_internal_period_option_fills_rows_without_one(config):
    raw = pd.DataFrame({"department": ["Архивный отдел"], "equipment": ["3"]})
    records, rejected, _ = validate_internal(raw, config, period="2026-Q2")
    assert rejected.empty and records.iloc[0]["period"] == "2026Q2"
    with pytest.raises(ValueError, match="not a quarter"):
        validate_internal(raw, config, period="лето")
