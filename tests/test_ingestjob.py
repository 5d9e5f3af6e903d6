"""Ingest, by both engines: the same records, quarantine and counts (the dask engine on a 2-worker
LocalCluster, in chunks of 2 rows so that repeats cross chunk boundaries)."""
import dataclasses
import functools
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from cxmining import daskengine, ingestjob, store
from cxmining.io import InputError
from cxmining.store import read_records
from tests.conftest import ROOT
from tests.test_io import _write

TODAY = date(2026, 12, 4)
CANONICAL = "response_id;received_at;channel;process;client_type;rating;text\n"
GOOD_BAD = CANONICAL + (
    "1;2026-07-01;портал;Благоустройство;гражданин РФ;2;Во дворе не убирают снег уже неделю.\n"
    "2;15.08.2026;МФЦ;ЖКХ;юридическое лицо;;Хотелось бы записываться онлайн.\n"
    "3;2026-08-02;портал;ЖКХ;гражданин РФ;7;Оценка вне шкалы.\n"
    "4;2026-08-03;телефон;ЖКХ;гражданин РФ;3;\n"
)


@pytest.fixture(params=["local", "dask"])
def ingest(request):
    if request.param == "local":
        return ingestjob.ingest
    return functools.partial(daskengine.ingest, dask_client=request.getfixturevalue("dask_cluster"),
                             partition_rows=2, echo=lambda s: None)


def _total(res) -> int:
    return res.accepted + res.already_present + res.duplicates_in_file + res.quarantined


def test_ingest_acceptance_cp1251(tmp_path, config, ingest):
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


def test_ingest_partitions_by_period_with_stable_types(tmp_path, config, ingest):
    src = _write(tmp_path / "a.csv", "received_at,text,rating\n2026-05-01,Первый.,\n2026-08-01,Второй.,4\n")
    ingest(src, "external", config, processed=tmp_path / "p", today=TODAY)
    parts = sorted(p.parent.name for p in (tmp_path / "p/external/records").glob("*/part-*.parquet"))
    assert parts == ["period=2026Q2", "period=2026Q3"]
    assert store.list_periods(tmp_path / "p") == ["2026Q2", "2026Q3"]
    q2 = pd.read_parquet(store.records_files(tmp_path / "p", "external", "2026Q2")[0])
    assert str(q2["rating"].dtype) == "Int8" and q2["rating"].isna().all()  # typed even when all empty
    assert read_records(tmp_path / "p", periods=["2026Q3"])["text"].tolist() == ["Второй."]


def test_reingest_without_ids_is_idempotent_by_content(tmp_path, config, ingest):
    src = _write(tmp_path / "noid.csv", "Дата обращения;Текст обращения\n01.07.2026;Яма.\n02.07.2026;Лужа.\n")
    ingest(src, "external", config, processed=tmp_path / "p", today=TODAY)
    again = ingest(src, "external", config, processed=tmp_path / "p", today=TODAY)
    assert (again.accepted, again.already_present) == (0, 2)
    assert len(read_records(tmp_path / "p")) == 2


def test_changed_content_under_known_id_is_quarantined_not_overwritten(tmp_path, config, ingest):
    p = tmp_path / "p"
    ingest(_write(tmp_path / "a.csv", "id;date;text\n1;01.07.2026;Старый текст.\n"), "external", config, p, today=TODAY)
    res = ingest(_write(tmp_path / "b.csv", "id;date;text\n1;01.07.2026;Новый текст.\n2;01.07.2026;Другое.\n"),
                 "external", config, p, today=TODAY)
    assert (res.accepted, res.quarantined) == (1, 1)
    assert "already ingested with different content" in pd.read_csv(res.quarantine_path)["quarantine_reason"][0]
    assert read_records(p).set_index("response_id").loc["1", "text"] == "Старый текст."


def test_failed_ingest_leaves_nothing_behind(tmp_path, config, ingest):
    src = _write(tmp_path / "bad.csv", "Дата обращения;Оценка\n01.07.2026;5\n")
    with pytest.raises(InputError, match="missing required column 'text'"):
        ingest(src, "external", config, processed=tmp_path / "p", today=TODAY)
    assert not (tmp_path / "p").exists()


def test_internal_ingest_with_words_and_period_option(tmp_path, config, ingest):
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


REPEATS = CANONICAL + (
    "1;2026-07-01;портал;ЖКХ;гражданин РФ;2;Яма у подъезда.\n"      # line 2
    "5;2026-07-02;портал;ЖКХ;гражданин РФ;2;Нет света.\n"           # line 3: identical repeat on line 4
    "5;2026-07-02;портал;ЖКХ;гражданин РФ;2;Нет света.\n"
    "6;2026-07-03;портал;ЖКХ;гражданин РФ;2;Текст А.\n"             # lines 5, 7: one id, two contents
    "7;2026-07-03;портал;ЖКХ;гражданин РФ;9;Оценка вне шкалы.\n"
    "6;2026-07-03;портал;ЖКХ;гражданин РФ;2;Текст Б.\n"
    "8;2026-07-04;портал;ЖКХ;гражданин РФ;3;Новая запись.\n"
    "1;2026-07-01;портал;ЖКХ;гражданин РФ;2;Яма у подъезда.\n"      # line 9: repeat of line 2
)


def test_repeated_ids_are_settled_over_the_whole_file_and_the_stored_data(tmp_path, config, ingest):
    p = tmp_path / "p"
    first = ingest(_write(tmp_path / "a.csv", REPEATS), "external", config, p, today=TODAY)
    assert (first.accepted, first.already_present, first.duplicates_in_file, first.quarantined) == (3, 0, 2, 3)
    assert _total(first) == 8
    q = pd.read_csv(first.quarantine_path, dtype=str)
    assert q["source_row"].tolist() == ["5", "6", "7"]
    assert q["response_id"].tolist() == ["6", "7", "6"]
    assert "appears more than once in the file with different content" in q["quarantine_reason"][0]
    assert sorted(read_records(p)["response_id"]) == ["1", "5", "8"]
    # Second export: 1 unchanged, 5 changed (and repeated), 9 new, 7 now valid.
    second = ingest(_write(tmp_path / "b.csv", CANONICAL + (
        "1;2026-07-01;портал;ЖКХ;гражданин РФ;2;Яма у подъезда.\n"
        "5;2026-07-02;портал;ЖКХ;гражданин РФ;2;Свет дали.\n"
        "9;2026-09-01;МФЦ;ЖКХ;гражданин РФ;4;Спасибо за помощь.\n"
        "5;2026-07-02;портал;ЖКХ;гражданин РФ;2;Свет дали.\n"
        "7;2026-07-03;портал;ЖКХ;гражданин РФ;1;Теперь с оценкой.\n")), "external", config, p, today=TODAY)
    assert (second.accepted, second.already_present, second.duplicates_in_file, second.quarantined) == (2, 1, 0, 2)
    q = pd.read_csv(second.quarantine_path, dtype=str)
    assert q["source_row"].tolist() == ["3", "5"]  # both copies of the changed id, each once
    assert set(q["quarantine_reason"]) == {"response_id already ingested with different content"}
    stored = read_records(p).set_index("response_id")
    assert sorted(stored.index) == ["1", "5", "7", "8", "9"]
    assert stored.loc["5", "text"] == "Нет света."
    again = ingest(tmp_path / "b.csv", "external", config, p, today=TODAY)
    assert (again.accepted, again.already_present, again.quarantined) == (0, 3, 2)


def test_bad_row_of_a_conflicting_id_is_quarantined_once_with_both_reasons(tmp_path, config, ingest):
    p = tmp_path / "p"
    ingest(_write(tmp_path / "a.csv", CANONICAL + "1;2026-07-01;портал;ЖКХ;гражданин РФ;2;Старый.\n"),
           "external", config, p, today=TODAY)
    res = ingest(_write(tmp_path / "b.csv", CANONICAL + "1;2026-07-01;портал;ЖКХ;гражданин РФ;2;Новый.\n"
                        "1;2026-07-01;портал;ЖКХ;гражданин РФ;8;Новый.\n"), "external", config, p, today=TODAY)
    assert (res.accepted, res.quarantined, _total(res)) == (0, 2, 2)
    q = pd.read_csv(res.quarantine_path, dtype=str)
    assert q["quarantine_reason"].tolist() == ["response_id already ingested with different content",
                                               "rating 8 out of range 1–5; response_id already ingested with different content"]


def test_dask_ingest_of_the_demo_equals_the_local_one(tmp_path, config, dask_cluster):
    src = ROOT / "data/raw/demo/external_feedback.csv"
    local = ingestjob.ingest(src, "external", config, processed=tmp_path / "local")
    dask = daskengine.ingest(src, "external", config, tmp_path / "dask", dask_client=dask_cluster,
                             partition_rows=700, echo=lambda s: None)
    assert local.accepted > 1000
    assert dataclasses.replace(local, quarantine_path=None) == dataclasses.replace(dask, quarantine_path=None)
    assert local.quarantine_path == dask.quarantine_path or local.quarantine_path.name == dask.quarantine_path.name
    assert len(store.records_files(tmp_path / "dask", "external", local.periods[-1])) > 1  # really in parts
    key = ["period", "response_id"]
    want = read_records(tmp_path / "local").sort_values(key).reset_index(drop=True)
    got = read_records(tmp_path / "dask").sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(want, got)
    if local.quarantine_path:
        assert Path(local.quarantine_path).read_bytes() == Path(dask.quarantine_path).read_bytes()


def test_preprocessing_reads_every_records_part(tmp_path, config, dask_cluster):
    from cxmining.prepjob import update_units

    export = pd.read_csv(ROOT / "data/raw/demo/external_feedback.csv", sep=";", dtype=str)
    head = export.head(30)
    p = tmp_path / "p"
    for i, rows in enumerate((head.iloc[:15], head.iloc[15:])):
        rows.to_csv(tmp_path / f"e{i}.csv", sep=";", index=False)
        daskengine.ingest(tmp_path / f"e{i}.csv", "external", config, p, dask_client=dask_cluster, partition_rows=10,
                          echo=lambda s: None)
    records = read_records(p)
    period = records["period"].value_counts().index[0]
    assert len(store.records_files(p, "external", period)) >= 2
    update_units(p, ("external",), config, workers=1, echo=lambda s: None)
    units = store.read_units(p, "external")
    assert set(units["response_id"]) == set(records["response_id"])
