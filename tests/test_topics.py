"""Topic modelling: labels in Russian, determinism, order invariance, save/load, back-ends, metrics."""
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxmining.topics import OUTLIER, TopicModel, agreement, guide, npmi_coherence, stability, topic_diversity

ROOT = Path(__file__).resolve().parents[1]
KURSK = ROOT.parent / "shared" / "data" / "kursk_appeals_train.csv"
CYRILLIC = re.compile(r"[а-яё]{3,}")

THEMES = {
    "дорога": ["дорога яма асфальт", "яма дорога колесо машина", "ремонт дорога асфальт яма", "дорога разбитый яма"],
    "сад": ["детский сад очередь место", "сад место ребенок очередь", "запись сад ребенок", "очередь детский сад"],
    "автобус": ["автобус остановка расписание", "автобус ходить редко", "маршрут автобус остановка", "автобус опаздывать"],
}
SMALL = [doc for docs in THEMES.values() for doc in docs for _ in range(3)]


def test_small_corpus_falls_back_to_kmeans_and_finds_the_themes():
    model = TopicModel(embedder="lsa", seed=0).fit(SMALL)
    assert "k-means" in model.method_ and "silhouette" in model.method_
    truth = [t for t, docs in THEMES.items() for _ in docs for _ in range(3)]
    assert agreement(model.labels_, truth)["nmi"] > 0.8
    assert all(CYRILLIC.search(label) for label in model.topic_info_["label"])
    assert model.outliers_after_ == 0.0


def test_same_seed_same_topics_and_row_order_does_not_matter():
    a = TopicModel(embedder="navec+lsa", seed=3).fit(SMALL)
    b = TopicModel(embedder="navec+lsa", seed=3).fit(SMALL)
    assert a.labels_.tolist() == b.labels_.tolist() and a.labels() == b.labels()
    order = np.random.default_rng(0).permutation(len(SMALL))
    shuffled = TopicModel(embedder="navec+lsa", seed=3).fit([SMALL[i] for i in order])
    assert shuffled.labels_.tolist() == a.labels_[order].tolist()


@pytest.fixture(scope="module")
def demo_docs(pipeline, config):
    from cxmining.preprocess import preprocess_frame

    feedback = pd.read_csv(ROOT / "data/raw/demo/external_feedback.csv", sep=";", dtype=str).head(400)
    records = pd.DataFrame({"response_id": feedback["Номер обращения"], "text": feedback["Текст обращения"],
                            "process": feedback["Процесс"], "period": "-"})
    units = preprocess_frame(records, config, pipeline=pipeline)
    docs = units.groupby("response_id", sort=False).agg(analysis=("analysis_text", " ".join),
                                                        text=("text_masked", " ".join))
    return docs.join(records.set_index("response_id")["process"])


@pytest.fixture(scope="module")
def demo_model(demo_docs, config):
    settings = {**config.topics.model_settings(), "min_bertopic": 300}
    return TopicModel(**settings, seed=0).fit(demo_docs["analysis"].tolist(), demo_docs["text"].tolist())


def test_bertopic_path_keeps_russian_words_and_reduces_outliers(demo_model, demo_docs):
    info = demo_model.topic_info_
    assert demo_model.method_.startswith("BERTopic")
    assert 2 <= len(info) <= 60
    # BERTopic's default language="english" would strip every Cyrillic character before c-TF-IDF.
    assert all(CYRILLIC.search(label) for label in info["label"])
    assert all(CYRILLIC.search(k) for k in info["keywords"])
    assert demo_model.outliers_after_ == 0.0 and demo_model.outliers_before_ >= 0.0
    assert agreement(demo_model.labels_, demo_docs["process"])["nmi"] > 0.3
    assert all(len(r) <= 3 and all("[" not in q or "]" in q for q in r) for r in info["representative"])


def test_taxonomy_names_topics(demo_model):
    named = demo_model.topic_info_.dropna(subset=["taxonomy"])
    assert len(named) >= 1
    assert all(label.startswith(name + ":") for name, label in zip(named["taxonomy"], named["label"]))


@pytest.mark.parametrize("doc, entry", [("дорога яма асфальт колесо", 0), ("детский сад очередь место", 1),
                                        ("запись сад ребенок", 1), ("автобус остановка расписание", OUTLIER),
                                        ("автобус ходить редко", OUTLIER)])
def test_guide_moves_a_document_towards_the_closest_entry_only(doc, entry):
    from cxmining.embeddings import make_embedder

    others = ["зарплата премия отпуск", "компьютер принтер картридж", "справка копия документ", "пандус лифт коляска"]
    corpus = [doc, *SMALL, *others * 3]  # a corpus mean that leans to no entry
    embedder = make_embedder("navec", seed=0).fit(corpus)
    vectors = embedder.transform(corpus)
    seeds_vectors = embedder.transform(["дорога яма асфальт ремонт", "детский сад очередь ребенок"])
    before = vectors.copy()
    seeds, moved = guide(vectors, seeds_vectors)
    assert (vectors == before).all()  # the caller's vectors stay as they were
    assert seeds[0] == entry
    if entry == OUTLIER:  # closer to the corpus mean than to either entry: not moved
        assert (moved[0] == vectors[0]).all()
    else:
        target = seeds_vectors[entry]
        assert moved[0] @ target / np.linalg.norm(moved[0]) > vectors[0] @ target / np.linalg.norm(vectors[0])


def test_guide_leaves_a_document_without_known_words_alone():
    vectors = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    seeds, moved = guide(vectors, np.array([[1.0, 0.0], [0.0, 1.0]]))
    assert seeds.tolist() == [OUTLIER, 0, 1] and (moved[0] == 0).all()


def test_guided_topics_follow_the_taxonomy(demo_model, demo_docs, config):
    """Seeded documents gather in topics of their entry; without guidance they spread over others."""
    settings = {**config.topics.model_settings(), "min_bertopic": 300, "guided": True}
    docs, texts = demo_docs["analysis"].tolist(), demo_docs["text"].tolist()
    guided = TopicModel(**settings, seed=0).fit(docs, texts)
    names = list(settings["taxonomy"])
    seeds, _ = guide(guided.embedder_.transform(docs),
                     guided.embedder_.transform([" ".join(settings["taxonomy"][k]) for k in names]))
    hit = seeds != OUTLIER
    assert sum(guided.guided_.values()) == hit.sum() > len(docs) / 2
    assert guided.guided_ == {name: int((seeds == i).sum()) for i, name in enumerate(names)}
    assert f"guided by the taxonomy ({hit.sum()} of {len(docs)} documents seeded)" in guided.method_
    assert agreement(guided.labels_[hit], seeds[hit])["nmi"] > 0.8
    assert agreement(demo_model.labels_[hit], seeds[hit])["nmi"] < 0.7
    assert demo_model.guided_ == {} and "guided" not in demo_model.method_
    # Centroids come from the unmoved vectors: the training documents mostly get their own topic back.
    assert (guided.transform(docs[:100]) == guided.labels_[:100]).mean() > 0.8


def test_saved_model_reloads_and_assigns_the_same_topics(demo_model, demo_docs, config, tmp_path):
    from bertopic import BERTopic

    from cxmining import io

    saved = io.save_topic_model(demo_model, tmp_path / "model", config)
    names = sorted(p.name for p in saved.iterdir())
    assert names == ["bertopic", "config.yaml", "topic_model.json", "topic_model.safetensors"]
    assert not [p for p in saved.rglob("*") if p.suffix in {".joblib", ".pkl", ".pickle"}]  # nothing runs code on load
    loaded, fingerprint = io.load_topic_model(saved)
    assert fingerprint == config.fingerprint
    docs = demo_docs["analysis"].tolist()
    assert loaded.transform(docs).tolist() == demo_model.transform(docs).tolist()
    assert loaded.transform(docs[:50], strict=True).tolist() == demo_model.transform(docs[:50], strict=True).tolist()
    assert (demo_model.transform(docs[:50]) == demo_model.labels_[:50]).mean() > 0.8
    assert loaded.labels() == demo_model.labels() and loaded.labels_.tolist() == demo_model.labels_.tolist()
    assert loaded.embedder_.cache_key() == demo_model.embedder_.cache_key()  # the embedding store is reused
    assert loaded.topic_info_["representative"].tolist() == demo_model.topic_info_["representative"].tolist()
    assert (loaded.method_, loaded.outliers_before_) == (demo_model.method_, demo_model.outliers_before_)
    # BERTopic's own directory format, for BERTopic's tools.
    assert len(BERTopic.load(str(saved / "bertopic")).get_topic_info()) >= len(demo_model.topic_info_)
    # Saving again replaces the directory whole.
    (saved / "stale.txt").write_text("x", encoding="utf-8")
    io.save_topic_model(loaded, saved, config)
    assert not (saved / "stale.txt").exists() and not (saved / "bertopic").exists()  # a reloaded model has no BERTopic


def test_a_damaged_or_missing_topic_model_is_a_clear_error(demo_model, config, tmp_path):
    from cxmining import io

    with pytest.raises(io.InputError, match="topic_model.json, topic_model.safetensors missing.*topics fit"):
        io.load_topic_model(tmp_path)
    saved = io.save_topic_model(demo_model, tmp_path / "model", config)
    (saved / "topic_model.safetensors").write_bytes(b"not a tensor file")
    with pytest.raises(io.InputError, match=r"model: unreadable topic model .*fit it again"):
        io.load_topic_model(saved)


def test_a_model_file_of_the_earlier_version_still_loads(demo_model, demo_docs, config, tmp_path):
    from cxmining import io

    import copy

    old = copy.copy(demo_model)
    del old.guided, old.guided_  # settings that earlier versions did not have
    io.save_model(old, tmp_path / "model" / "model.joblib", config)  # what `topics fit` wrote before
    loaded, _ = io.load_topic_model(tmp_path / "model")
    docs = demo_docs["analysis"].tolist()[:50]
    assert loaded.transform(docs).tolist() == demo_model.transform(docs).tolist()
    # ... and it converts to the directory without pickles.
    converted, _ = io.load_topic_model(io.save_topic_model(loaded, tmp_path / "converted", config))
    assert converted.transform(docs).tolist() == demo_model.transform(docs).tolist() and converted.guided is False


@pytest.mark.skipif(not KURSK.exists(), reason="needs ../shared/data/kursk_appeals_train.csv")
def test_kursk_topic_labels_are_russian(pipeline, config):
    from cxmining.preprocess import preprocess_frame

    appeals = pd.read_csv(KURSK).head(300)
    records = pd.DataFrame({"response_id": appeals["id"].astype(str), "text": appeals["text"], "period": "-"})
    units = preprocess_frame(records, config, pipeline=pipeline)
    docs = units.groupby("response_id", sort=False)["analysis_text"].agg(" ".join).tolist()
    model = TopicModel(embedder="lsa", seed=0, min_bertopic=200).fit(docs)
    assert all(CYRILLIC.search(label) for label in model.topic_info_["label"])


def test_sentence_transformer_backend_in_a_topic_model(tmp_path, monkeypatch):
    from tests.test_embeddings import build_tiny_sentence_transformer

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = build_tiny_sentence_transformer(tmp_path)
    model = TopicModel(embedder=f"st:{path}", seed=0).fit(SMALL, texts=SMALL)
    assert len(model.labels_) == len(SMALL) and model.transform(SMALL[:3]).shape == (3,)
    reloaded = TopicModel.from_state(*model.to_state())  # stored as its path: the model stays where it is
    assert reloaded.transform(SMALL, texts=SMALL).tolist() == model.transform(SMALL, texts=SMALL).tolist()


def test_metrics():
    docs = ["a b", "a b", "c d", "c d"]
    assert npmi_coherence([["a", "b"]], docs) == pytest.approx(1.0)   # always together
    assert npmi_coherence([["a", "c"]], docs) == pytest.approx(-1.0)  # never together
    assert topic_diversity([["a", "b"], ["b", "c"]]) == 0.75
    assert stability([[0, 0, 1, 1], [1, 1, 0, 0], [0, 0, 1, 1]]) == 1.0
    assert stability([[0, 0, 1, 1], [0, 1, 0, 1]]) < 0


def test_cli_fit_is_deterministic_and_assign_reuses_the_model(tmp_path, run_cli):
    pd.DataFrame({"Отзыв": SMALL}).to_csv(tmp_path / "in.csv", index=False)
    args = ["topics", "fit", "--input", "in.csv", "--text-column", "Отзыв", "--embedder", "lsa", "--seed", "1"]
    first = run_cli(*args, "--out", "run1")
    assert first.returncode == 0, first.stderr
    assert run_cli(*args, "--out", "run2").returncode == 0
    one = (tmp_path / "run1/assignments.csv").read_bytes()
    assert one == (tmp_path / "run2/assignments.csv").read_bytes()
    assert (tmp_path / "run1/model/topic_model.safetensors").is_file()
    assignments = pd.read_csv(tmp_path / "run1/assignments.csv")
    assert assignments["row"].tolist() == list(range(len(SMALL)))
    topics = pd.read_csv(tmp_path / "run1/topics.csv")
    assert {"topic", "label", "size", "keywords"} <= set(topics.columns)
    res = run_cli("topics", "assign", "--model", "run1/model", "--input", "in.csv", "--text-column", "Отзыв",
                  "--out", "assigned.csv")
    assert res.returncode == 0, res.stderr
    assert pd.read_csv(tmp_path / "assigned.csv")["topic"].tolist() == assignments["topic"].tolist()
    assert "guided" not in first.stdout  # the configuration's default
    guided = run_cli(*args, "--out", "run3", "--guided")
    assert guided.returncode == 0, guided.stderr
    assert "guided by the taxonomy (" in guided.stdout


FIT_SCRIPT = """
import hashlib, json, sys
from cxmining.topics import TopicModel
docs = json.load(open(sys.argv[1], encoding="utf-8"))
model = TopicModel(embedder="lsa", seed=0, min_bertopic=300).fit(docs)
print(hashlib.md5(model.bertopic_.umap_model.embedding_.tobytes()).hexdigest(), model.labels_.tolist())
"""


def test_bertopic_path_is_identical_across_processes(pipeline, config, tmp_path):
    """Two processes, same seed, 1,500 unit documents: identical UMAP coordinates and topics.
    (UMAP's default spectral init fails this from about a thousand documents on.)"""
    import json
    import subprocess
    import sys

    from cxmining.preprocess import preprocess_frame

    feedback = pd.read_csv(ROOT / "data/raw/demo/external_feedback.csv", sep=";", dtype=str).head(700)
    records = pd.DataFrame({"response_id": feedback["Номер обращения"], "text": feedback["Текст обращения"],
                            "period": "-"})
    units = preprocess_frame(records, config, pipeline=pipeline)
    docs = [d for d in units["analysis_text"] if d][:1500]  # unit-level documents, as pain topics use
    assert len(docs) >= 1200
    (tmp_path / "docs.json").write_text(json.dumps(docs, ensure_ascii=False), encoding="utf-8")
    outputs = [subprocess.run([sys.executable, "-c", FIT_SCRIPT, str(tmp_path / "docs.json")], capture_output=True,
                              text=True, timeout=600) for _ in range(2)]
    assert all(o.returncode == 0 for o in outputs), outputs[0].stderr[-2000:]
    assert outputs[0].stdout == outputs[1].stdout


@pytest.mark.parametrize("setting, n, size", [(None, 2000, 10), (None, 500, 8), (None, 40000, 60),
                                              (0.003, 2149, 6), (0.003, 10000, 30), (0.001, 2000, 5), (12, 2000, 12)])
def test_smallest_topic_is_a_count_a_share_or_the_size_rule(setting, n, size):
    assert TopicModel(min_cluster_size=setting)._min_cluster_size(n) == size


def test_a_share_above_one_is_refused():
    with pytest.raises(ValueError, match="share"):
        TopicModel(min_cluster_size=1.5)._min_cluster_size(100)
