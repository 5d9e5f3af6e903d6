from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from cxmining import io
from cxmining.io import InputError, ingest, map_columns, read_records, read_table

TODAY = date(2026, 12, 4)
CANONICAL = "response_id;received_at;channel;process;client_type;rating;text\n"
GOOD_BAD = CANONICAL + (
    "1;2026-07-01;портал;Благоустройство;гражданин РФ;2;Во дворе не убирают снег уже неделю.\n"
    "2;15.08.2026;МФЦ;ЖКХ;юридическое лицо;;Хотелось бы записываться онлайн.\n"
    "3;2026-08-02;портал;ЖКХ;гражданин РФ;7;Оценка вне шкалы.\n"
    "4;2026-08-03;телефон;ЖКХ;гражданин РФ;3;\n"
)


def _write(path: Path, text: str, encoding="utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding, sep", [("cp1251", ";"), ("utf-8-sig", ","), ("utf-8", ";"), ("utf-8", "\t")])
def test_read_csv_detects_encoding_and_separator(tmp_path, encoding, sep):
    path = _write(tmp_path / "x.csv", f"Текст обращения{sep}Оценка\nЯма на дороге{sep}2\n", encoding)
    df = read_table(path)
    assert list(df.columns) == ["Текст обращения", "Оценка"]
    assert df.iloc[0].tolist() == ["Яма на дороге", "2"]


def test_read_xlsx_and_parquet(tmp_path):
    df = pd.DataFrame({"Текст обращения": ["Яма"], "Дата обращения": [pd.Timestamp("2026-07-01")]})
    df.to_excel(tmp_path / "x.xlsx", index=False)
    df.to_parquet(tmp_path / "x.parquet")
    for name in ("x.xlsx", "x.parquet"):
        back = read_table(tmp_path / name)
        assert back.iloc[0]["Текст обращения"] == "Яма"
        assert pd.Timestamp(back.iloc[0]["Дата обращения"]) == pd.Timestamp("2026-07-01")


@pytest.mark.parametrize("name, content, message", [
    ("nope.csv", None, "nope.csv: file not found"),
    ("empty.csv", b"", "the file is empty"),
    ("broken.xlsx", b"not a zip", "cannot be read as XLSX"),
    ("data.json", b"{}", "unsupported file type '.json'"),
])
def test_unreadable_files_get_one_clear_line(tmp_path, name, content, message):
    if content is not None:
        (tmp_path / name).write_bytes(content)
    with pytest.raises(InputError, match=message) as err:
        read_table(tmp_path / name)
    assert "\n" not in str(err.value) and name in str(err.value)


def test_russian_headers_are_mapped(config):
    df = pd.DataFrame(columns=["№ обращения", "Дата обращения", "Текст  обращения:", "Оценка", "Лишнее"])
    mapped, ignored = map_columns(df, "external", config)
    assert list(mapped.columns) == ["response_id", "received_at", "text", "rating"]
    assert ignored == ["Лишнее"]


def test_survey_questions_are_mapped_by_fragment(config):
    df = pd.DataFrame(columns=["Подразделение", "Насколько вы удовлетворены автоматизацией вашей деятельности?",
                               "Насколько вы в целом удовлетворены работой?", "Что мешает вам работать?", "open_extra"])
    mapped, _ = map_columns(df, "internal", config)
    assert list(mapped.columns) == ["department", "automation", "overall", "open_problems", "open_extra"]


def test_missing_required_column_names_it_and_the_columns_found(config):
    df = pd.DataFrame(columns=["Дата обращения", "Оценка"])
    with pytest.raises(InputError) as err:
        map_columns(df, "external", config, source="export.csv")
    assert str(err.value).startswith("export.csv: missing required column 'text'")
    assert "columns found: Дата обращения, Оценка" in str(err.value)


def test_ingest_acceptance_cp1251(tmp_path, config):
    """The issue's acceptance case: 2 good rows, rating 7 and empty text quarantined; re-run adds nothing."""
    src = _write(tmp_path / "export.csv", GOOD_BAD, "cp1251")
    processed = tmp_path / "processed"
    first = ingest(src, "external", config, processed=processed, today=TODAY)
    assert (first.accepted, first.quarantined, first.already_present) == (2, 2, 0)
    q = pd.read_csv(first.quarantine_path, dtype=str)
    assert list(q["response_id"]) == ["3", "4"]
    assert list(q["source_row"]) == ["4", "5"]
    assert q["quarantine_reason"].tolist() == ["rating 7 out of range 1–5", "empty text"]
    second = ingest(src, "external", config, processed=processed, today=TODAY)
    assert (second.accepted, second.already_present, second.quarantined) == (0, 2, 2)
    stored = read_records(processed, "external")
    assert sorted(stored["response_id"]) == ["1", "2"]
    assert set(stored["period"]) == {"2026Q3"}
    assert stored.loc[stored.response_id == "2", "process"].item() == "Жилищно-коммунальное хозяйство"
    log = pd.read_csv(processed / "external" / "ingest_log.csv")
    assert log["accepted"].tolist() == [2, 0]


def test_ingest_partitions_by_period_with_stable_types(tmp_path, config):
    src = _write(tmp_path / "a.csv", "received_at,text,rating\n2026-05-01,Первый.,\n2026-08-01,Второй.,4\n")
    ingest(src, "external", config, processed=tmp_path / "p", today=TODAY)
    parts = sorted(p.parent.name for p in (tmp_path / "p/external/records").glob("*/part-0.parquet"))
    assert parts == ["period=2026Q2", "period=2026Q3"]
    assert io.list_periods(tmp_path / "p") == ["2026Q2", "2026Q3"]
    q2 = pd.read_parquet(tmp_path / "p/external/records/period=2026Q2/part-0.parquet")
    assert str(q2["rating"].dtype) == "Int8" and q2["rating"].isna().all()  # typed even when all empty
    assert read_records(tmp_path / "p", periods=["2026Q3"])["text"].tolist() == ["Второй."]


def test_reingest_without_ids_is_idempotent_by_content(tmp_path, config):
    src = _write(tmp_path / "noid.csv", "Дата обращения;Текст обращения\n01.07.2026;Яма.\n02.07.2026;Лужа.\n")
    ingest(src, "external", config, processed=tmp_path / "p", today=TODAY)
    again = ingest(src, "external", config, processed=tmp_path / "p", today=TODAY)
    assert (again.accepted, again.already_present) == (0, 2)
    assert len(read_records(tmp_path / "p")) == 2


def test_changed_content_under_known_id_is_quarantined_not_overwritten(tmp_path, config):
    p = tmp_path / "p"
    ingest(_write(tmp_path / "a.csv", "id;date;text\n1;01.07.2026;Старый текст.\n"), "external", config, p, today=TODAY)
    res = ingest(_write(tmp_path / "b.csv", "id;date;text\n1;01.07.2026;Новый текст.\n2;01.07.2026;Другое.\n"),
                 "external", config, p, today=TODAY)
    assert (res.accepted, res.quarantined) == (1, 1)
    assert "already ingested with different content" in pd.read_csv(res.quarantine_path)["quarantine_reason"][0]
    assert read_records(p).set_index("response_id").loc["1", "text"] == "Старый текст."


def test_failed_ingest_leaves_nothing_behind(tmp_path, config):
    src = _write(tmp_path / "bad.csv", "Дата обращения;Оценка\n01.07.2026;5\n")
    with pytest.raises(InputError, match="missing required column 'text'"):
        ingest(src, "external", config, processed=tmp_path / "p", today=TODAY)
    assert not (tmp_path / "p").exists()


def test_atomic_path_keeps_old_file_on_error(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with io.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_internal_ingest_with_words_and_period_option(tmp_path, config):
    src = _write(tmp_path / "survey.csv",
                 "Подразделение,Материально-техническое оснащение,Общая удовлетворенность,Предложения\n"
                 "Отдел ЖКХ,Скорее удовлетворена,Полностью удовлетворён,Купить новые принтеры\n"
                 "Отдел ЖКХ,Нормально,3,\n", "utf-8-sig")
    res = ingest(src, "internal", config, processed=tmp_path / "p", period="2026Q3")
    assert (res.accepted, res.quarantined) == (1, 1)
    assert "equipment: unknown answer 'Нормально'" in pd.read_csv(res.quarantine_path)["quarantine_reason"][0]
    rec = read_records(tmp_path / "p", "internal")
    assert rec.iloc[0][["equipment", "overall", "open_suggestions"]].tolist() == [4, 5, "Купить новые принтеры"]
    assert rec["regulation"].isna().all() and str(rec["regulation"].dtype) == "Int8"
