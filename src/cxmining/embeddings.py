"""Embedding back-ends for topic modelling, behind one interface (``fit`` / ``transform`` / ``cache_key``).

* :class:`NavecSIF` — navec word vectors (bundled with natasha) pooled over a unit's lemmas with
  smooth-inverse-frequency weights ``a / (a + p(w))`` and the first principal component removed
  (Arora, Liang, Ma 2017). The offline default.
* :class:`LSA` — TF-IDF over lemma n-grams reduced by truncated SVD.
* :class:`Concat` — several back-ends side by side (``navec+lsa``), each part L2-normalised.
* :class:`SentenceTransformerEmbedder` — any sentence-transformers model given by a local path or a
  name already in the local cache; it never downloads (``HF_HUB_OFFLINE``).

Inputs are strings: analysis texts (space-separated lemmas) for navec and LSA, masked texts for
sentence-transformers. Outputs are float32 rows of unit length. :func:`embed` consults an
embedding store (``store.EmbeddingStore``) keyed by text hash and ``cache_key()``, so re-running a
notebook does not recompute vectors.
"""
from __future__ import annotations

import hashlib
import os
from collections import Counter
from typing import Sequence

import numpy as np


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms == 0, 1, norms)).astype(np.float32)


def _digest(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else repr(p).encode("utf-8"))
    return h.hexdigest()[:12]


class NavecSIF:
    """SIF-weighted mean of navec vectors over lemmas.

    Parameters
    ----------
    a : float
        SIF smoothing; frequent words weigh ``a / (a + p(w))``.
    remove_pc : bool
        Remove the projection on the first principal component (the common discourse direction).
    navec_path : str, optional
        navec archive (default: the one in natasha's wheel).
    """

    def __init__(self, *, a: float = 1e-3, remove_pc: bool = True, navec_path: str | None = None):
        self.a = a
        self.remove_pc = remove_pc
        self.navec_path = navec_path

    def _navec(self):
        from .nlp import NAVEC_PATH, load_navec

        return load_navec(self.navec_path or NAVEC_PATH)

    def fit(self, docs: Sequence[str], y=None) -> "NavecSIF":
        counts = Counter(w for d in docs for w in d.split())
        total = sum(counts.values()) or 1
        self.frequency_ = {w: c / total for w, c in counts.items()}
        self.pc_ = None
        if self.remove_pc and len(docs) > 1:
            from sklearn.decomposition import TruncatedSVD

            pooled = self._pool(docs)
            self.pc_ = TruncatedSVD(1, random_state=0).fit(pooled).components_[0].astype(np.float32)
        return self

    def _pool(self, docs: Sequence[str]) -> np.ndarray:
        navec = self._navec()
        dim = navec.pq.dim
        out = np.zeros((len(docs), dim), dtype=np.float32)
        floor = 1.0 / (sum(1 for _ in self.frequency_) + 1)
        for i, doc in enumerate(docs):
            vectors, weights = [], []
            for word in doc.split():
                base = word[3:] if word.startswith("не_") else word  # «не_работать»: the verb's vector
                if base in navec:
                    vectors.append(navec[base])
                    weights.append(self.a / (self.a + self.frequency_.get(word, floor)))
            if vectors:
                out[i] = np.average(np.asarray(vectors), axis=0, weights=weights)
        return out

    def transform(self, docs: Sequence[str]) -> np.ndarray:
        pooled = self._pool(docs)
        if self.pc_ is not None:
            pooled = pooled - np.outer(pooled @ self.pc_, self.pc_)
        return _normalise(pooled)

    def cache_key(self) -> str:
        state = sorted(self.frequency_.items())
        return f"navec-sif-{_digest(self.a, self.remove_pc, self.navec_path, state, self.pc_.tobytes() if self.pc_ is not None else b'')}"


class LSA:
    """TF-IDF over lemma n-grams, then truncated SVD.

    Parameters
    ----------
    n_components : int
    ngram_max, min_df : TF-IDF settings (tokens are the space-separated lemmas). Unigrams by
        default: with bigrams the SVD spends components on phrases, and the Kursk appeals' NMI fell
        from 0.61 to 0.59 (the demo pain map: 0.74 of pains within ±5 pp against 0.66). Topic
        labels still use bigrams (c-TF-IDF has its own vectoriser).
    seed : int
    """

    def __init__(self, *, n_components: int = 100, ngram_max: int = 1, min_df: int = 2, seed: int = 0):
        self.n_components = n_components
        self.ngram_max = ngram_max
        self.min_df = min_df
        self.seed = seed

    def fit(self, docs: Sequence[str], y=None) -> "LSA":
        from sklearn.decomposition import TruncatedSVD

        self.vectorizer_ = self._tfidf(min(self.min_df, max(1, len(docs) // 10)))
        matrix = self.vectorizer_.fit_transform(docs)
        k = max(1, min(self.n_components, matrix.shape[1] - 1, len(docs) - 1))
        self.svd_ = TruncatedSVD(k, random_state=self.seed, algorithm="arpack" if k < 50 else "randomized").fit(matrix)
        return self

    def _tfidf(self, min_df: int):
        from sklearn.feature_extraction.text import TfidfVectorizer

        return TfidfVectorizer(token_pattern=r"[^\s]+", ngram_range=(1, self.ngram_max), min_df=min_df, sublinear_tf=True)

    def transform(self, docs: Sequence[str]) -> np.ndarray:
        return _normalise(self.svd_.transform(self.vectorizer_.transform(docs)))

    def cache_key(self) -> str:
        vocabulary = sorted((k, int(v)) for k, v in self.vectorizer_.vocabulary_.items())  # int: the same after a reload
        return f"lsa-{_digest(self.n_components, self.ngram_max, self.min_df, self.seed, vocabulary, self.svd_.components_.tobytes())}"


class Concat:
    """Back-ends side by side; each part is L2-normalised, the whole too."""

    def __init__(self, *, parts: Sequence):
        self.parts = parts

    def fit(self, docs: Sequence[str], y=None) -> "Concat":
        self.parts_ = [p.fit(docs) for p in self.parts]
        return self

    def transform(self, docs: Sequence[str]) -> np.ndarray:
        return _normalise(np.hstack([p.transform(docs) for p in self.parts_]))

    def cache_key(self) -> str:
        return "+".join(p.cache_key() for p in self.parts_)


class SentenceTransformerEmbedder:
    """A sentence-transformers encoder from a local path (or a name already in the local cache).

    Parameters
    ----------
    model : str
        Directory of a saved model (``SentenceTransformer.save``) or a cached name.
    batch_size : int
    """

    def __init__(self, *, model: str, batch_size: int = 32):
        self.model = model
        self.batch_size = batch_size

    def fit(self, docs: Sequence[str] = (), y=None) -> "SentenceTransformerEmbedder":
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a model hub
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - installed with BERTopic
            raise ImportError("the st: back-end needs sentence-transformers: pip install sentence-transformers") from exc
        try:
            self.encoder_ = SentenceTransformer(self.model, device="cpu", local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - one clear message, no download attempt
            raise ValueError(f"sentence-transformers model {self.model!r} is not available locally "
                             f"({type(exc).__name__}); give the path of a saved model") from None
        return self

    def transform(self, docs: Sequence[str]) -> np.ndarray:
        vectors = self.encoder_.encode(list(docs), batch_size=self.batch_size, show_progress_bar=False,
                                       convert_to_numpy=True, normalize_embeddings=True)
        return vectors.astype(np.float32)

    def cache_key(self) -> str:
        return f"st-{_digest(os.path.abspath(self.model) if os.path.exists(self.model) else self.model)}"

    def __getstate__(self):
        return {"model": self.model, "batch_size": self.batch_size}

    def __setstate__(self, state):
        self.__init__(**state)
        self.fit()


def embedder_state(embedder) -> tuple[dict, dict[str, np.ndarray]]:
    """A fitted back-end as JSON-able settings and named arrays, for a model file without pickles.

    :func:`embedder_from_state` rebuilds it; the rebuilt back-end gives the same vectors and the
    same ``cache_key``. An ``st:`` back-end is stored as its path: the model stays where it is.
    """
    if isinstance(embedder, Concat):
        metas, arrays = [], {}
        for i, part in enumerate(embedder.parts_):
            meta, part_arrays = embedder_state(part)
            metas.append(meta)
            arrays.update({f"{i}.{name}": value for name, value in part_arrays.items()})
        return {"kind": "concat", "parts": metas}, arrays
    if isinstance(embedder, NavecSIF):
        return ({"kind": "navec", "a": embedder.a, "remove_pc": embedder.remove_pc, "navec_path": embedder.navec_path,
                 "frequency": embedder.frequency_}, {"pc": embedder.pc_} if embedder.pc_ is not None else {})
    if isinstance(embedder, LSA):
        vectorizer = embedder.vectorizer_
        return ({"kind": "lsa", "n_components": embedder.n_components, "ngram_max": embedder.ngram_max,
                 "min_df": embedder.min_df, "seed": embedder.seed, "fitted_min_df": vectorizer.min_df,
                 "vocabulary": {k: int(v) for k, v in vectorizer.vocabulary_.items()}},
                {"idf": vectorizer.idf_, "components": embedder.svd_.components_})
    if isinstance(embedder, SentenceTransformerEmbedder):
        return {"kind": "st", "model": embedder.model, "batch_size": embedder.batch_size}, {}
    raise TypeError(f"no stored form for {type(embedder).__name__}")


def arrays_under(arrays: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    """The arrays named ``prefix.NAME``, as ``NAME`` (stored forms nest their parts' arrays so)."""
    return {k[len(prefix) + 1:]: v for k, v in arrays.items() if k.startswith(prefix + ".")}


def embedder_from_state(meta: dict, arrays: dict[str, np.ndarray]):
    """The back-end that :func:`embedder_state` described, fitted."""
    kind = meta["kind"]
    if kind == "concat":
        parts = [embedder_from_state(part, arrays_under(arrays, str(i))) for i, part in enumerate(meta["parts"])]
        built = Concat(parts=parts)
        built.parts_ = parts
        return built
    if kind == "navec":
        built = NavecSIF(a=meta["a"], remove_pc=meta["remove_pc"], navec_path=meta["navec_path"])
        built.frequency_, built.pc_ = dict(meta["frequency"]), arrays.get("pc")
        return built
    if kind == "lsa":
        from sklearn.decomposition import TruncatedSVD

        built = LSA(n_components=meta["n_components"], ngram_max=meta["ngram_max"], min_df=meta["min_df"], seed=meta["seed"])
        built.vectorizer_ = built._tfidf(meta["fitted_min_df"])
        built.vectorizer_.vocabulary_ = dict(meta["vocabulary"])
        built.vectorizer_.idf_ = arrays["idf"]
        built.svd_ = TruncatedSVD(len(arrays["components"]), random_state=built.seed)
        built.svd_.components_ = arrays["components"]
        return built
    if kind == "st":
        return SentenceTransformerEmbedder(model=meta["model"], batch_size=meta["batch_size"]).fit()
    raise ValueError(f"unknown embedder kind {kind!r}")


def make_embedder(spec: str, seed: int = 0):
    """Build a back-end from its CLI spelling: ``navec``, ``lsa``, ``navec+lsa`` or ``st:PATH``."""
    if spec.startswith("st:"):
        return SentenceTransformerEmbedder(model=spec[3:])
    parts = {"navec": lambda: NavecSIF(), "lsa": lambda: LSA(seed=seed)}
    names = spec.split("+")
    unknown = [n for n in names if n not in parts]
    if unknown or not names:
        raise ValueError(f"unknown embedder {spec!r}; use navec, lsa, navec+lsa or st:PATH")
    built = [parts[n]() for n in names]
    return built[0] if len(built) == 1 else Concat(parts=built)


def uses_lemmas(embedder) -> bool:
    """navec and LSA read analysis texts (lemmas); sentence-transformers reads masked text."""
    return not isinstance(embedder, SentenceTransformerEmbedder)


def embed(embedder, docs: Sequence[str], store=None, transform=None) -> np.ndarray:
    """``embedder.transform(docs)`` through an embedding store: only unseen texts are computed.

    ``transform`` replaces ``embedder.transform`` for the unseen texts (the dask engine passes
    one that embeds them on the cluster)."""
    transform = transform or embedder.transform
    if store is None:
        return transform(list(docs))
    key = embedder.cache_key()
    hashes = [hashlib.sha256(d.encode("utf-8")).hexdigest()[:24] for d in docs]
    known = store.get(key, hashes)
    missing = sorted({h for h in hashes if h not in known})
    if missing:
        index = {h: i for i, h in enumerate(hashes)}
        vectors = transform([docs[index[h]] for h in missing])
        store.put(key, missing, vectors)
        known.update(zip(missing, vectors))
    return np.vstack([known[h] for h in hashes]).astype(np.float32)
