import numpy as np
import pytest

from cxmining.embeddings import LSA, Concat, NavecSIF, SentenceTransformerEmbedder, embed, make_embedder
from cxmining.store import EmbeddingStore

DOCS = ["дорога яма асфальт не_отремонтировать", "яма дорога колесо", "асфальт дорога ремонт",
        "детский сад запись очередь", "сад место запись ребенок", "очередь сад место долго",
        "автобус остановка расписание", "автобус ходить редко остановка"]


def cosine(a, b):
    return float(a @ b)


def test_navec_sif_groups_similar_units():
    model = NavecSIF().fit(DOCS)
    vectors = model.transform(DOCS)
    assert vectors.shape == (len(DOCS), 300) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[3])
    assert cosine(vectors[3], vectors[4]) > cosine(vectors[3], vectors[6])
    assert np.array_equal(vectors, NavecSIF().fit(DOCS).transform(DOCS))  # deterministic
    assert not np.any(model.transform(["zzzz qqqq"]))  # no known word: a zero vector, not NaN


def test_lsa_and_concat():
    lsa = LSA(n_components=4, min_df=1).fit(DOCS)
    vectors = lsa.transform(DOCS)
    assert vectors.shape == (len(DOCS), 4)
    assert np.array_equal(vectors, LSA(n_components=4, min_df=1).fit(DOCS).transform(DOCS))
    both = Concat(parts=[NavecSIF(), LSA(n_components=4, min_df=1)]).fit(DOCS)
    assert both.transform(DOCS).shape == (len(DOCS), 304)
    assert both.cache_key().startswith("navec-sif-") and "+lsa-" in both.cache_key()


@pytest.mark.parametrize("spec, kind", [("navec", NavecSIF), ("lsa", LSA), ("navec+lsa", Concat),
                                        ("st:/models/x", SentenceTransformerEmbedder)])
def test_make_embedder(spec, kind):
    assert isinstance(make_embedder(spec), kind)


@pytest.mark.parametrize("spec", ["navec", "lsa", "navec+lsa"])
def test_a_stored_back_end_gives_the_same_vectors_and_cache_key(spec):
    import json

    from cxmining.embeddings import embedder_from_state, embedder_state

    docs = ["дорога яма асфальт", "яма дорога колесо", "детский сад очередь", "сад место ребенок",
            "автобус остановка", "редкий опечатка"] * 4 + ["слово однажды"]
    fitted = make_embedder(spec, seed=0).fit(docs)
    meta, arrays = embedder_state(fitted)
    rebuilt = embedder_from_state(json.loads(json.dumps(meta)), arrays)  # through JSON, as on disk
    assert np.array_equal(rebuilt.transform(docs), fitted.transform(docs))
    assert np.array_equal(rebuilt.transform(["яма новый"]), fitted.transform(["яма новый"]))
    assert rebuilt.cache_key() == fitted.cache_key()


def test_make_embedder_rejects_unknown():
    with pytest.raises(ValueError, match="unknown embedder 'bert'"):
        make_embedder("bert")


class CountingLSA(LSA):
    calls = 0

    def transform(self, docs):
        CountingLSA.calls += len(docs)
        return super().transform(docs)


def test_embedding_store_computes_each_text_once(tmp_path):
    model = CountingLSA(n_components=3, min_df=1).fit(DOCS)
    first = embed(model, DOCS, EmbeddingStore(tmp_path))
    assert CountingLSA.calls == len(DOCS)
    again = embed(model, DOCS[::-1] + ["новый текст дорога"], EmbeddingStore(tmp_path))  # a fresh store: from disk
    assert CountingLSA.calls == len(DOCS) + 1
    assert np.allclose(again[:len(DOCS)], first[::-1])
    assert len(list((tmp_path / model.cache_key()).glob("part-*.npz"))) == 2


def build_tiny_sentence_transformer(path):
    """A 2-layer BERT with a word-level vocabulary, built and saved locally (no download)."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import modules as models
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    words = sorted({w for d in DOCS for w in d.split()})
    vocab = {w: i for i, w in enumerate(specials + words)}
    tok = Tokenizer(WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]")
    base = path / "base"
    fast.save_pretrained(base)
    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                         intermediate_size=64, max_position_embeddings=64)).save_pretrained(base)
    word = models.Transformer(str(base), max_seq_length=32)
    SentenceTransformer(modules=[word, models.Pooling(word.get_embedding_dimension())]).save(str(path / "st"))
    return path / "st"


def test_sentence_transformer_backend_from_a_local_path(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model_dir = build_tiny_sentence_transformer(tmp_path)
    embedder = make_embedder(f"st:{model_dir}").fit()
    vectors = embedder.transform(DOCS)
    assert vectors.shape == (len(DOCS), 32)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert np.allclose(vectors, make_embedder(f"st:{model_dir}").fit().transform(DOCS), atol=1e-6)


def test_sentence_transformer_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="not available locally"):
        SentenceTransformerEmbedder(model=str(tmp_path / "nothing-here")).fit()
