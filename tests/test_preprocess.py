import pandas as pd
import pytest

from cxmining.preprocess import UNIT_COLUMNS, TextPipeline, preprocess_frame

ACCEPTANCE = ("<p>Здравствуйте! Меня зовут Иванов Пётр Сергеевич, тел. 8 (910) 123-45-67. "
              "Дороги не чистят уже неделю.&nbsp;</p>")


def test_acceptance_example(pipeline):
    units = pipeline.units([ACCEPTANCE])[0]
    masked = " ".join(u["text_masked"] for u in units)
    for leaked in ("Иванов", "Пётр", "Сергеевич", "910", "123-45-67", "<p>", "&nbsp;", "</p>", "Здравствуйте"):
        assert leaked not in masked
    assert "[ФИО]" in masked and "[ТЕЛЕФОН]" in masked
    analysis = " ".join(u["analysis_text"] for u in units).split()
    assert "дорога" in analysis and "не_чистить" in analysis
    assert units[0]["pii"] == "name,phone"


def external_records():
    return pd.DataFrame({
        "response_id": ["a1", "a2", "a3", "a4"],
        "period": ["2026Q3"] * 4,
        "process": ["Благоустройство территории", "Запись в детский сад", "Благоустройство территории", "x"],
        "rating": pd.array([2, 5, None, 1], dtype="Int8"),
        "text": [ACCEPTANCE, "Всё быстро, спасибо!", None,
                 "Долго ждать; сотрудники грубят, сайт не работает. Прошу разобраться."],
    })


@pytest.fixture(scope="module")
def units(pipeline, config):
    return preprocess_frame(external_records(), config, pipeline=pipeline)


def test_units_table_columns_and_traceability(units):
    assert list(units.columns[:len(UNIT_COLUMNS)]) == UNIT_COLUMNS
    assert {"period", "process", "rating"} <= set(units.columns)
    assert units["unit_id"].is_unique
    # Every answer with text is traceable; the empty one has no units (and is still in records).
    assert set(units["response_id"]) == {"a1", "a2", "a4"}
    a4 = units[units["response_id"] == "a4"]
    assert a4["text_masked"].tolist() == ["Долго ждать", "сотрудники грубят", "сайт не работает.", "Прошу разобраться."]
    assert a4[["sent_idx", "clause_idx"]].values.tolist() == [[0, 0], [0, 1], [0, 2], [1, 0]]
    assert a4["unit_id"].iloc[1] == "a4/text/0.1"
    assert (units.loc[units["response_id"] == "a2", "rating"] == 5).all()


def test_tokens_and_analysis_columns_agree(units):
    for row in units.itertuples():
        assert len(row.tokens) == len(row.pos) == len(row.lemmas) == len(row.morph) == len(row.spaces)
        assert "".join(t + (" " if s else "") for t, s in zip(row.tokens, row.spaces)).strip() == row.text_masked


def test_internal_open_answers_become_units(pipeline, config):
    records = pd.DataFrame({
        "respondent_id": ["r1", "r2"], "period": ["2026Q3"] * 2, "department": ["Отдел кадров", "Финансовое управление"],
        "open_problems": ["Компьютеры старые, принтер не печатает.", None],
        "open_suggestions": ["Хотелось бы обучения по 1С.", "Обновить технику"],
    })
    units = preprocess_frame(records, config, kind="internal", pipeline=pipeline)
    assert units[["response_id", "field", "text_masked"]].values.tolist() == [
        ["r1", "open_problems", "Компьютеры старые, принтер не печатает."],
        ["r1", "open_suggestions", "Хотелось бы обучения по 1С."],
        ["r2", "open_suggestions", "Обновить технику"]]
    assert set(units["department"]) == {"Отдел кадров", "Финансовое управление"}


def test_worker_processes_give_identical_units(units, config):
    parallel = preprocess_frame(external_records(), config, n_workers=2, chunk_size=1)
    pd.testing.assert_frame_equal(parallel, units)


def test_pipeline_load_builds_its_own_models(config):
    pipeline = TextPipeline.load(config, ner=False)
    assert pipeline.mask(["Звоните 8-910-123-45-67"]) == ["Звоните [ТЕЛЕФОН]"]


def test_analyse_gives_exactly_one_unit_per_text(pipeline):
    frame = pipeline.analyse(["Здравствуйте!", "Дороги не чистят. Сайт не работает.", ""])
    assert len(frame) == 3
    assert frame["tokens"][0] == [] and frame["analysis_text"][0] == "" and frame["tokens"][2] == []
    assert frame["analysis_text"][1] == "дорога не_чистить сайт не_работать"  # not split into sentences
