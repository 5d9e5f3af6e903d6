"""The processed directory: parts read in numeric order, digests that notice every part, periods."""
import pandas as pd
import pytest

from cxmining import io, store


def _part(processed, period, k, ids):
    path = store.records_dir(processed, "external") / f"period={period}" / f"part-{k}.parquet"
    io.write_parquet(pd.DataFrame({"response_id": ids}), path)
    return path


@pytest.mark.parametrize("name, number", [("part-0.parquet", 0), ("part-10.parquet", 10), ("part-x.parquet", 1 << 30)])
def test_part_number(name, number):
    assert store.part_number(name) == number


def test_records_parts_are_read_in_numeric_order_and_every_part_changes_the_digest(tmp_path):
    first = _part(tmp_path, "2026Q3", 0, ["a"])
    single = store.records_digest(tmp_path, "external", "2026Q3")
    assert single == io.file_digest(first)  # one part-0: the digest caches built before parts existed
    for k in (10, 2, 9):
        _part(tmp_path, "2026Q3", k, [f"r{k}"])
    _part(tmp_path, "2026Q2", 0, ["old"])
    assert [f.name for f in store.records_files(tmp_path, "external", "2026Q3")] == [
        "part-0.parquet", "part-2.parquet", "part-9.parquet", "part-10.parquet"]
    assert store.read_records(tmp_path, "external", periods=["2026Q3"])["response_id"].tolist() == ["a", "r2", "r9", "r10"]
    assert store.next_part(store.records_dir(tmp_path, "external")) == 11
    several = store.records_digest(tmp_path, "external", "2026Q3")
    _part(tmp_path, "2026Q3", 9, ["changed"])
    assert len({single, several, store.records_digest(tmp_path, "external", "2026Q3")}) == 3
    assert store.list_periods(tmp_path, "external") == ["2026Q2", "2026Q3"]


def test_require_period_names_the_stored_periods_and_the_fix(tmp_path):
    with pytest.raises(io.InputError, match=r"no external records for period '2026Q1'; periods: none \(run ingest\)"):
        store.require_period(tmp_path, "external", "2026Q1")
    _part(tmp_path, "2026Q3", 0, ["a"])
    assert store.require_period(tmp_path, "external", "2026Q3") == ["2026Q3"]
    with pytest.raises(io.InputError, match="periods: 2026Q3"):
        store.require_period(tmp_path, "external", "2026Q1")


def test_units_written_in_frames_keep_their_provenance_and_typed_nulls(tmp_path):
    import pyarrow as pa

    schema = pa.schema([("unit_id", pa.string()), ("rating", pa.int8())])
    path = store.units_path(tmp_path, "external", "2026Q3")
    frames = [pd.DataFrame({"unit_id": ["u1", "u2"]}), pd.DataFrame({"unit_id": ["u3"], "rating": [5]})]
    assert store.write_units(iter(frames), path, schema, {"records_sha256": "x", "period": "2026Q3"}) == 3
    assert store.units_metadata(path) == {"records_sha256": "x", "period": "2026Q3"}
    assert store.units_rows(tmp_path, "external", "2026Q3") == 3
    units = store.read_units(tmp_path, "external")
    assert units["unit_id"].tolist() == ["u1", "u2", "u3"] and units["rating"].isna().tolist() == [True, True, False]
    before = store.units_digest(tmp_path, "external", "2026Q3")
    store.write_units(iter(frames), path, schema, {"records_sha256": "y", "period": "2026Q3"})
    assert store.units_digest(tmp_path, "external", "2026Q3") != before
