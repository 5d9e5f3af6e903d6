import json
import re
from datetime import date

import pandas as pd
import pytest

from cxmining import demo
from cxmining.ingestjob import ingest
from cxmining.store import read_records
from tests.conftest import ROOT

DEMO = ROOT / "data" / "raw" / "demo"


@pytest.fixture(scope="module")
def committed():
    return {name: pd.read_csv(DEMO / name, sep=";" if name == demo.EXTERNAL_FILE else ",", dtype=str,
                              keep_default_na=False)
            for name in (demo.EXTERNAL_FILE, demo.INTERNAL_FILE, demo.EXTERNAL_TRUTH, demo.PLANTED_EXTERNAL,
                         demo.INTERNAL_TRUTH, demo.PLANTED_INTERNAL)}


def test_same_seed_gives_byte_identical_files(tmp_path):
    a = demo.write_demo(tmp_path / "a", seed=1, n_external=240, n_internal=60)
    b = demo.write_demo(tmp_path / "b", seed=1, n_external=240, n_internal=60)
    c = demo.write_demo(tmp_path / "c", seed=2, n_external=240, n_internal=60)
    assert [p.name for p in a] == [p.name for p in b]
    for pa, pb in zip(a, b):
        assert pa.read_bytes() == pb.read_bytes(), pa.name
    assert a[0].read_bytes() != c[0].read_bytes()


def test_committed_demo_set_is_the_default_generation(tmp_path):
    for path in demo.write_demo(tmp_path, seed=0):
        assert path.read_bytes() == (DEMO / path.name).read_bytes(), \
            f"{path.name} differs: regenerate with `cxmining demo-data --out data/raw/demo --seed 0`"


def test_external_demo_shape(committed):
    ext, truth = committed[demo.EXTERNAL_FILE], committed[demo.EXTERNAL_TRUTH]
    assert len(ext) == 3000 and list(ext["Номер обращения"]) == list(truth["response_id"])
    assert ext["Процесс"].nunique() >= 8
    assert set(truth["period"]) == {"2026Q2", "2026Q3"}
    kinds = truth["kinds"].str.split(";").explode().value_counts(normalize=False) / len(truth)
    for kind in ("problem", "need", "praise", "other"):
        assert kinds[kind] > 0.08, kinds
    assert ext["Текст обращения"].str.contains("<p>").mean() > 0.1
    assert ext["Оценка"].eq("").mean() > 0.2  # ratings are optional


def test_personal_data_is_planted_and_recorded(committed):
    ext, truth = committed[demo.EXTERNAL_FILE], committed[demo.EXTERNAL_TRUTH]
    pii = truth["pii"].map(json.loads)
    types = pd.Series([p["type"] for items in pii for p in items]).value_counts()
    for kind in ("name", "phone", "address", "email"):
        assert types.get(kind, 0) >= 30, types
    for text, items in zip(ext["Текст обращения"], pii):
        for item in items:
            assert item["value"] in text, (item, text)  # the ground truth is exactly what the text holds


def test_planted_prevalence_is_known_and_changes_between_quarters(committed):
    plan = committed[demo.PLANTED_EXTERNAL].astype({"planted_prevalence": float, "realized_prevalence": float,
                                                    "n_answers": int})
    wide = plan.pivot_table(index="pain", columns="period", values="planted_prevalence")
    assert (wide["2026Q2"] == 0).sum() >= 1  # some pains are new in the second quarter
    changed = (wide["2026Q3"] - wide["2026Q2"]).abs() > 0.05
    assert changed.groupby(wide.index.str.split(".").str[0]).any().sum() >= 6
    # Realised prevalence follows the plan within sampling error (binomial, ~4 standard errors).
    se = (plan.planted_prevalence * (1 - plan.planted_prevalence) / plan.n_answers) ** 0.5
    assert ((plan.realized_prevalence - plan.planted_prevalence).abs() <= 4 * se + 0.01).all()


def test_internal_demo_shape(committed):
    survey, truth = committed[demo.INTERNAL_FILE], committed[demo.INTERNAL_TRUTH]
    assert 380 <= len(survey) <= 420
    sizes = survey.groupby(["Период опроса", "Подразделение"]).size().unstack(0)
    assert len(sizes) >= 8
    small = sizes[(sizes < 5).any(axis=1)]
    assert len(small) == 1 and (small < 5).all(axis=1).item()  # one department under the threshold, every wave
    assert (survey["Что мешает вам работать эффективнее?"] != "").mean() > 0.2
    assert set(truth["period"]) == {"2026Q2", "2026Q3"}


def test_demo_ingests_with_exactly_the_planted_defects_quarantined(tmp_path, config, committed):
    for kind, name, truth_name, id_col in (("external", demo.EXTERNAL_FILE, demo.EXTERNAL_TRUTH, "response_id"),
                                           ("internal", demo.INTERNAL_FILE, demo.INTERNAL_TRUTH, "respondent_id")):
        truth = committed[truth_name]
        res = ingest(DEMO / name, kind, config, processed=tmp_path, today=date(2026, 12, 4))
        defects = truth[truth["defect"] != ""]
        assert res.quarantined == len(defects) > 0 and res.accepted == len(truth) - len(defects)
        assert res.ignored_columns == ()
        q = pd.read_csv(res.quarantine_path, dtype=str)
        expected = dict(zip(defects[id_col], defects["defect"]))
        got = dict(zip(q.iloc[:, 2], q["quarantine_reason"]))  # the export's id column follows source_row
        assert got.keys() == expected.keys()
        for key, reason in expected.items():
            assert reason in got[key]
    ext = read_records(tmp_path, "external")
    assert set(ext["client_type"]) <= set(config.client_types.names)
    assert ext["is_electronic"].notna().all() and ext["rating"].between(1, 5).all()
    internal = read_records(tmp_path, "internal")
    assert set(internal["period"]) == {"2026Q2", "2026Q3"}
    assert internal[list(config.survey.dimension_keys)].notna().mean().min() > 0.9
    assert re.fullmatch(r"R\d{4}", internal["respondent_id"].iloc[0])
