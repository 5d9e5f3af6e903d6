"""The dask engine gives the same units, kinds and lemmas as the local one."""
import numpy as np
import pandas as pd
import pytest

from cxmining import daskengine, ingestjob, store
from cxmining.pains import RuleClassifier, classify_units
from cxmining.prepjob import update_units
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def cluster(dask_cluster):
    return dask_cluster


@pytest.fixture(scope="module")
def small(tmp_path_factory, config):
    export = pd.read_csv(ROOT / "data/raw/demo/external_feedback.csv", sep=";", dtype=str).head(150)
    src = tmp_path_factory.mktemp("dask") / "small.csv"
    export.to_csv(src, sep=";", index=False)
    dirs = {}
    for engine in ("local", "dask"):
        dirs[engine] = src.parent / engine
        ingestjob.ingest(src, "external", config, processed=dirs[engine])
    update_units(dirs["local"], ("external",), config, workers=1, echo=lambda s: None)
    return dirs


def test_local_and_dask_units_kinds_and_lemmas_are_identical(small, cluster, config):
    daskengine.update_units(small["dask"], ("external",), config, dask_client=cluster, partition_rows=20,
                            echo=lambda s: None)
    periods = store.list_periods(small["dask"], "external")
    parts = list(store.units_path(small["dask"], "external", periods[0]).parent.glob("part-*.parquet"))
    assert len(parts) >= 3  # really split across tasks
    local = store.read_units(small["local"], "external")
    dask = store.read_units(small["dask"], "external")
    assert len(local) > 300
    pd.testing.assert_frame_equal(local, dask)
    for period in periods:
        out = daskengine.classify(small["dask"], "external", period, RuleClassifier(rules=config.pains).fit(),
                                  dask_client=cluster)
        got = pd.concat([pd.read_parquet(p) for p in sorted(out.glob("part-*.parquet"), key=store.part_number)],
                        ignore_index=True)
        want = classify_units(store.read_units(small["local"], "external", periods=[period]), RuleClassifier(rules=config.pains).fit())
        pd.testing.assert_frame_equal(got, want[["response_id", "unit_id", "kind", "negativity", "evidence"]]
                                      .reset_index(drop=True))
    # the local engine replaces the dask parts whole, and a run on up-to-date data does nothing
    update_units(small["dask"], ("external",), config, workers=1, force=True, echo=lambda s: None)
    assert [p.name for p in store.units_path(small["dask"], "external", periods[0]).parent.glob("part-*")] == ["part-0.parquet"]
    pd.testing.assert_frame_equal(store.read_units(small["dask"], "external"), local)


def test_sample_fit_and_distributed_assignment(small, cluster, config):
    units = store.read_units(small["local"], "external")
    docs, texts = units["analysis_text"].tolist(), units["text_masked"].tolist()
    settings = {**config.topics.model_settings(), "embedder": "navec"}
    model, labels = daskengine.fit_sample_assign(docs, texts, units["process"], settings, dask_client=cluster,
                                                 sample=10_000, chunk=100)
    assert (labels == model.transform(docs, texts)).all() and len(labels) == len(docs)
    small_model, small_labels = daskengine.fit_sample_assign(docs, texts, units["process"], settings,
                                                             dask_client=cluster, sample=200, chunk=100)
    words = [bool(d.strip()) for d in docs]
    assert len(small_labels) == len(docs) and (small_labels[words] >= 0).all() and (small_labels[~pd.Series(words)] == -1).all()


def test_embeddings_on_the_cluster_equal_local_ones(small, cluster, tmp_path):
    from cxmining.embeddings import embed, make_embedder

    docs = store.read_units(small["local"], "external")["analysis_text"].tolist()
    embedder = make_embedder("navec+lsa", seed=0)
    embedder.fit(docs)
    cache = store.EmbeddingStore(tmp_path / "cache")
    remote = daskengine.embed(embedder, docs, dask_client=cluster, store=cache, chunk=100)
    np.testing.assert_allclose(remote, embed(embedder, docs), atol=1e-6)
    np.testing.assert_allclose(embed(embedder, docs, cache), remote)  # the cache was filled


def test_pain_map_with_kinds_and_embeddings_on_the_cluster_equals_the_local_one(small, cluster, config, tmp_path):
    import shutil

    from distributed import get_task_stream

    from cxmining.mapjob import build_pain_map

    dirs = [tmp_path / "local", tmp_path / "dask"]
    for d in dirs:
        shutil.copytree(small["local"], d, ignore=shutil.ignore_patterns("painmap", "embeddings", "kinds"))
    period = store.list_periods(dirs[0], "external")[-1]
    local = build_pain_map(dirs[0], period, config, echo=lambda s: None)
    with get_task_stream(cluster) as stream:
        dask = build_pain_map(dirs[1], period, config, echo=lambda s: None, dask_client=cluster)
    ran = {str(t["key"]).split("-")[0].strip("('") for t in stream.data}
    assert {"_transform_task", "_kinds_task"} <= ran, ran  # embeddings and kinds came from the workers
    assert len(local.table) >= 3
    pd.testing.assert_frame_equal(local.table, dask.table)
    assert list((dirs[1] / "external/kinds").glob("period=*/part-*.parquet"))
    assert not (dirs[0] / "external/kinds").exists()
