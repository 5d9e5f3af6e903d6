from pathlib import Path

import pandas as pd
import pytest

from cxmining import io
from cxmining.io import InputError, iter_table, map_columns, read_table

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


def test_atomic_path_keeps_old_file_on_error(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with io.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_iter_table_streams_the_same_rows_in_chunks(tmp_path, suffix):
    table = pd.DataFrame({"Номер": [f"{i:03d}" for i in range(7)],
                         "Текст": ["строка", "две\nстроки; с «кавычками»", None, "ё", "x", "y", "z"]})
    path = tmp_path / f"t{suffix}"
    if suffix == ".csv":
        path.write_bytes(table.to_csv(sep=";", index=False).encode("cp1251"))
    elif suffix == ".parquet":
        table.to_parquet(path)
    else:
        table.to_excel(path, index=False)
    chunks = list(iter_table(path, 3))
    assert [len(c) for c in chunks] == [3, 3, 1]
    assert [c.index[0] for c in chunks] == [0, 3, 6]  # labels are rows of the whole file
    pd.testing.assert_frame_equal(pd.concat(chunks), read_table(path))


def test_iter_table_reports_a_bad_encoding_found_late(tmp_path):
    path = tmp_path / "late.csv"
    path.write_bytes(("текст\n" + "а\n" * 700_000).encode("utf-8") + b"\x98\n")  # 0x98: neither UTF-8 nor cp1251
    with pytest.raises(InputError, match="late.csv: not readable as utf-8-sig or cp1251"):
        list(iter_table(path, 1000))


def test_load_classifier_is_the_rules_or_the_configured_layer_named_by_its_bytes(pipeline, config, tmp_path):
    from cxmining.config import load_config
    from cxmining.pains import LearnedClassifier, RuleClassifier

    rules, described = io.load_classifier(config), io.classifier_key(config)
    assert isinstance(rules, RuleClassifier) and described == "rules"
    (tmp_path / "cfg.yaml").write_text(f"pains:\n  model: {tmp_path / 'm.joblib'}\n", encoding="utf-8")
    cfg = load_config(tmp_path / "cfg.yaml")
    for call in (io.load_classifier, io.classifier_key):
        with pytest.raises(io.InputError, match="m.joblib: model file not found; train one with `cxmining pains train`"):
            call(cfg)
    units = pipeline.analyse(["Ждал два часа.", "Спасибо, всё быстро.", "Прошу поставить скамейку.", "Был в марте."] * 2)
    kinds = ["problem", "praise", "need", "other"] * 2
    io.save_model(LearnedClassifier(rules=config.pains, min_df=1).fit(units, kinds), tmp_path / "m.joblib", config)
    layer, first = io.load_classifier(cfg), io.classifier_key(cfg)
    assert isinstance(layer, LearnedClassifier) and first.startswith(f"learned layer {tmp_path / 'm.joblib'} (sha256 ")
    # Retrained at the same path: a different description, so caches keyed by it are refreshed.
    io.save_model(LearnedClassifier(rules=config.pains, min_df=1, C=0.01).fit(units, kinds), tmp_path / "m.joblib", config)
    assert io.classifier_key(cfg) != first
