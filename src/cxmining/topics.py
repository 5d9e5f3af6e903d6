"""Topic modelling of Russian feedback: BERTopic on our embeddings, done right for Russian.

:class:`TopicModel` follows scikit-learn's conventions. ``fit`` takes analysis texts (lemmas)
and, for quotes and the sentence-transformers back-end, masked texts; it

1. embeds (``embeddings.make_embedder``; cached through a ``store.EmbeddingStore`` when given);
2. puts the documents in a canonical order (by text hash), so the order of input rows does not
   change the result, and seeds every random step;
3. clusters: for a corpus of at least ``min_bertopic`` documents, BERTopic with UMAP
   (``n_neighbors`` from the corpus size, PCA init — UMAP's default spectral init starts ARPACK
   from a random vector and differs between processes even with a seed — ``random_state=seed``) and HDBSCAN
   (``min_cluster_size`` from the corpus size), merged down to ``max_topics``; for a smaller
   corpus, k-means on the embeddings with k chosen by the silhouette criterion (``method_`` says
   which); with ``guided``, the taxonomy seeds it first (:func:`guide`);
4. builds c-TF-IDF over lemmas and bigrams with ``language="multilingual"`` (BERTopic's default
   ``english`` deletes every non-ASCII character first: Russian words would vanish);
5. reassigns outliers to the nearest topic by embedding (share before and after in
   ``outliers_before_`` / ``outliers_after_``);
6. labels topics with 2–4 lemmas or bigrams, names them after a taxonomy entry when their keywords
   match it, and keeps three representative masked texts.

New documents go to the topic with the nearest centroid (:meth:`transform`).
"""
from __future__ import annotations

import hashlib
import math
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .embeddings import arrays_under, embed, embedder_from_state, embedder_state, make_embedder, uses_lemmas
from .sections import count_or_share

OUTLIER = -1
NO_WORDS = "(нет содержательных слов)"
# BERTopic's guided topic modelling moves a seeded document a quarter of the way to its seed.
GUIDE_WEIGHT = 0.25
SETTINGS = ("embedder", "seed", "max_topics", "min_bertopic", "reduce_outliers", "taxonomy", "taxonomy_min_overlap",
            "top_n_words", "min_cluster_size", "guided")
INFO_COLUMNS = ["topic", "label", "taxonomy", "size", "keywords", "representative"]


class TopicModel:
    """BERTopic wrapper with corpus-size-aware defaults.

    Parameters
    ----------
    embedder : str
        ``navec``, ``lsa``, ``navec+lsa`` or ``st:PATH``.
    seed : int
    max_topics : int
        Upper bound on the number of topics (merged by c-TF-IDF similarity above it).
    min_bertopic : int
        Below this many documents, k-means with a silhouette-chosen k replaces UMAP + HDBSCAN.
    min_cluster_size : int or float, optional
        HDBSCAN's smallest topic: a number of documents, or a float in (0, 1) for a share of them
        (as scikit-learn's ``min_df``), at least 5; by default ``n // 200`` clipped to 8..60.
    reduce_outliers : bool
    taxonomy : mapping of name -> seed lemmas, optional
        Topics whose keywords match an entry carry its name.
    taxonomy_min_overlap : float
        Share of a topic's keyword weight that must fall on an entry's lemmas.
    guided : bool
        Seed the clustering with the taxonomy (:func:`guide`): documents closer to an entry than
        to the corpus mean move towards it, and UMAP gets the entries as partial labels.
        Centroids, outlier reduction and new documents use the unmoved vectors.
    """

    def __init__(self, *, embedder: str = "navec", seed: int = 0, max_topics: int = 60, min_bertopic: int = 300,
                 reduce_outliers: bool = True, taxonomy: Mapping[str, Sequence[str]] | None = None,
                 taxonomy_min_overlap: float = 0.25, top_n_words: int = 10, min_cluster_size: int | float | None = None,
                 guided: bool = False):
        self.embedder = embedder
        self.seed = seed
        self.max_topics = max_topics
        self.min_bertopic = min_bertopic
        self.reduce_outliers = reduce_outliers
        self.taxonomy = taxonomy
        self.taxonomy_min_overlap = taxonomy_min_overlap
        self.top_n_words = top_n_words
        self.min_cluster_size = min_cluster_size
        self.guided = guided

    # ------------------------------------------------------------------ fitting
    def fit(self, docs: Sequence[str], texts: Sequence[str] | None = None, store=None, embed_on=None) -> "TopicModel":
        """Fit on analysis texts ``docs`` (masked ``texts`` for quotes and the st: back-end).

        ``embed_on(embedder)``, when given, returns the function that embeds the texts the store
        lacks (``daskengine.embed_on``: on a cluster); the vectors are the same."""
        docs = [d or "" for d in docs]
        texts = list(texts) if texts is not None else list(docs)
        # A document without a single content lemma has nothing to cluster on: it stays an outlier.
        order = sorted((i for i in range(len(docs)) if docs[i].strip()),
                       key=lambda i: (hashlib.sha256(docs[i].encode()).hexdigest(), texts[i]))
        d_sorted = [docs[i] for i in order]
        t_sorted = [texts[i] for i in order]
        self.embedder_ = make_embedder(self.embedder, seed=self.seed)
        inputs = d_sorted if uses_lemmas(self.embedder_) else t_sorted
        self.embedder_.fit(inputs)
        vectors = embed(self.embedder_, inputs, store, transform=embed_on(self.embedder_) if embed_on else None)
        n = len(d_sorted)
        seeds, cluster_on = None, vectors
        if self.guided and self.taxonomy and n:
            names = list(self.taxonomy)
            seeds, cluster_on = guide(vectors, self.embedder_.transform([" ".join(self.taxonomy[k]) for k in names]))
            self.guided_ = {name: int((seeds == i).sum()) for i, name in enumerate(names)}
        else:
            self.guided_ = {}
        if n >= self.min_bertopic:
            topics, self.bertopic_ = self._fit_bertopic(d_sorted, cluster_on, seeds)
            self.method_ = (f"BERTopic: UMAP(n_neighbors={self.params_['n_neighbors']}) + "
                            f"HDBSCAN(min_cluster_size={self.params_['min_cluster_size']})")
        else:
            topics = self._fit_kmeans(cluster_on)
            self.bertopic_ = None
            self.method_ = (f"k-means, k={self.params_['k']} chosen by silhouette "
                            f"(corpus of {n} < {self.min_bertopic} documents: too small for HDBSCAN)")
        if self.guided_:
            self.method_ += f"; guided by the taxonomy ({sum(self.guided_.values())} of {n} documents seeded)"
        topics = np.asarray(topics)
        self.outliers_before_ = float(np.mean(topics == OUTLIER)) if n else 0.0  # among documents with words
        self.centroids_ = self._centroids(vectors, topics)
        if self.reduce_outliers and (topics == OUTLIER).any() and self.centroids_:
            topics = topics.copy()
            topics[topics == OUTLIER] = self._nearest(vectors[topics == OUTLIER])
            self.centroids_ = self._centroids(vectors, topics)
        self.outliers_after_ = float(np.mean(topics == OUTLIER)) if n else 0.0
        # How far a topic's own documents lie from its centroid: a new document further than
        # nearly all of them (5th percentile of similarity) is not that topic (transform(strict=True)).
        self.radius_ = {t: float(np.quantile(vectors[topics == t] @ c, 0.05)) for t, c in self.centroids_.items()}
        self.topic_info_ = self._describe(d_sorted, t_sorted, vectors, topics)
        labels = np.full(len(docs), OUTLIER, dtype=int)
        labels[order] = topics
        self.labels_ = labels
        self.empty_ = int(len(docs) - n)
        return self

    def _min_cluster_size(self, n: int) -> int:
        size = count_or_share(self.min_cluster_size, "min_cluster_size")  # the rule the configuration checks
        if size is None:
            return int(np.clip(n // 200, 8, 60))
        # HDBSCAN runs with min_samples=5: a smaller topic could not form anyway.
        return max(5, int(round(size * n)) if isinstance(size, float) else size)

    def _fit_bertopic(self, docs, vectors, seeds=None):
        import hdbscan
        import umap
        from bertopic import BERTopic
        from bertopic.vectorizers import ClassTfidfTransformer

        n = len(docs)
        # Wider neighbourhoods (sqrt(n)/1.5) and min_samples=5 made assignments stabler across seeds
        # on the Kursk appeals (mean pairwise ARI 0.69 -> 0.76 at the same NMI).
        self.params_ = {"n_neighbors": int(np.clip(round(math.sqrt(n) / 1.5), 10, 50)),
                        "min_cluster_size": self._min_cluster_size(n), "min_samples": 5}
        reducer = umap.UMAP(n_neighbors=self.params_["n_neighbors"], n_components=5, min_dist=0.0, metric="cosine",
                            init="pca", random_state=self.seed, low_memory=True)
        clusterer = hdbscan.HDBSCAN(min_cluster_size=self.params_["min_cluster_size"],
                                    min_samples=self.params_["min_samples"],
                                    metric="euclidean", cluster_selection_method="eom", prediction_data=False)
        model = BERTopic(language="multilingual", umap_model=reducer, hdbscan_model=clusterer,
                         vectorizer_model=self._vectorizer(n), ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
                         nr_topics=self.max_topics, top_n_words=self.top_n_words, calculate_probabilities=False)
        # Seeds are partial labels for UMAP (-1: none), as in BERTopic's guided mode; HDBSCAN ignores them.
        topics, _ = model.fit_transform(docs, embeddings=vectors, y=seeds)
        return list(topics), model

    def _vectorizer(self, n):
        from sklearn.feature_extraction.text import CountVectorizer

        # Analysis texts are already lemmatised and stopword-free; tokens are space-separated.
        return CountVectorizer(token_pattern=r"[^\s]+", ngram_range=(1, 2), min_df=2 if n >= 50 else 1)

    def _fit_kmeans(self, vectors):
        from sklearn.cluster import KMeans
        from sklearn.metrics import silhouette_score

        n = len(vectors)
        candidates = range(2, max(3, min(12, n // 8) + 1))
        best, best_score = None, -2.0
        for k in candidates:
            if k >= n:
                break
            labels = KMeans(k, n_init=10, random_state=self.seed).fit_predict(vectors)
            score = silhouette_score(vectors, labels, metric="cosine") if len(set(labels)) > 1 else -1
            if score > best_score + 1e-9:
                best, best_score = (k, labels), score
        k, labels = best if best is not None else (1, np.zeros(n, dtype=int))
        self.params_ = {"k": k, "silhouette": round(float(best_score), 4)}
        return list(labels)

    # ------------------------------------------------------------------ description
    def _centroids(self, vectors, topics) -> dict[int, np.ndarray]:
        out = {}
        for t in sorted(set(topics.tolist()) - {OUTLIER}):
            c = vectors[topics == t].mean(axis=0)
            out[t] = c / (np.linalg.norm(c) or 1)
        return out

    def _nearest(self, vectors) -> np.ndarray:
        ids = np.array(sorted(self.centroids_))
        matrix = np.vstack([self.centroids_[t] for t in ids])
        return ids[np.argmax(vectors @ matrix.T, axis=1)]

    def _describe(self, docs, texts, vectors, topics) -> pd.DataFrame:
        from sklearn.feature_extraction.text import CountVectorizer

        rows = []
        ids = sorted(set(topics.tolist()))
        joined = [" ".join(docs[i] for i in np.flatnonzero(topics == t)) for t in ids]
        counter = self._vectorizer(len(docs)).fit(docs) if any(joined) else CountVectorizer()
        counts = counter.transform(joined).toarray().astype(float) if any(joined) else np.zeros((len(ids), 0))
        vocab = np.array(counter.get_feature_names_out()) if any(joined) else np.array([])
        # c-TF-IDF (BERTopic's formula): tf per class x log(1 + average words per class / word frequency).
        tf = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        idf = np.log(1 + counts.sum(axis=1).mean() / np.maximum(counts.sum(axis=0), 1))
        weights = tf * idf
        for row, t in enumerate(ids):
            members = np.flatnonzero(topics == t)
            top = np.argsort(-weights[row], kind="stable")[: self.top_n_words] if len(vocab) else []
            keywords = [(str(vocab[j]), float(weights[row, j])) for j in top if weights[row, j] > 0]
            centroid = self.centroids_.get(t)
            closest = members[np.argsort(-(vectors[members] @ centroid), kind="stable")[:3]] if centroid is not None else members[:3]
            name = self._taxonomy_name(keywords)
            rows.append({"topic": int(t), "label": _label(keywords, name), "taxonomy": name, "size": len(members),
                         "keywords": ", ".join(w for w, _ in keywords), "representative": [texts[i] for i in closest]})
        info = pd.DataFrame(rows, columns=INFO_COLUMNS)
        return info.sort_values(["size", "topic"], ascending=[False, True], kind="stable").reset_index(drop=True)

    def _taxonomy_name(self, keywords) -> str | None:
        if not self.taxonomy or not keywords:
            return None
        total = sum(w for _, w in keywords) or 1.0
        best, best_share = None, 0.0
        for name, words in self.taxonomy.items():
            lemmas = {w.replace("ё", "е") for w in words}
            share = sum(w for k, w in keywords if set(k.split()) & lemmas) / total
            if share > best_share:
                best, best_share = name, share
        return best if best_share >= self.taxonomy_min_overlap else None

    # ------------------------------------------------------------------ using
    def transform(self, docs: Sequence[str], texts: Sequence[str] | None = None, store=None,
                  strict: bool = False, embed_on=None) -> np.ndarray:
        """Topics of new documents: the nearest topic centroid in embedding space.

        With ``strict``, a document less similar to that centroid than 95% of the topic's own
        documents were stays an outlier (-1): used to count an earlier period's answers under
        today's topics without forcing every answer into some topic.
        """
        docs = [d or "" for d in docs]
        inputs = docs if uses_lemmas(self.embedder_) else list(texts if texts is not None else docs)
        out = np.full(len(docs), OUTLIER, dtype=int)
        keep = [i for i, d in enumerate(docs) if d.strip()]
        if keep:
            vectors = embed(self.embedder_, [inputs[i] for i in keep], store,
                            transform=embed_on(self.embedder_) if embed_on else None)
            nearest = self._nearest(vectors)
            if strict:
                sims = np.einsum("ij,ij->i", vectors, np.vstack([self.centroids_[t] for t in nearest]))
                nearest = np.where(sims >= np.array([self.radius_[t] for t in nearest]), nearest, OUTLIER)
            out[keep] = nearest
        return out

    def labels(self) -> dict[int, str]:
        """Topic id -> label; ``-1`` (a document without content lemmas) -> «(нет содержательных слов)»."""
        return {**dict(zip(self.topic_info_["topic"], self.topic_info_["label"])), OUTLIER: NO_WORDS}

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("bertopic_", None)  # saved separately in BERTopic's own format (io.save_topic_model)
        return state

    # ------------------------------------------------------------------ stored form
    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """The fitted model as JSON-able metadata and named arrays (``io.save_topic_model`` writes
        them as JSON and safetensors: no pickle, so loading a model file cannot run code)."""
        embedder_meta, embedder_arrays = embedder_state(self.embedder_)
        ids = sorted(self.centroids_)
        info = self.topic_info_.astype(object).where(self.topic_info_.notna(), None)
        # getattr with a default: a model pickled by an earlier version lacks the newer settings.
        settings = {k: getattr(self, k, None) for k in SETTINGS}
        settings["guided"] = bool(settings["guided"])
        settings["taxonomy"] = {k: list(v) for k, v in settings["taxonomy"].items()} if settings["taxonomy"] else None
        meta = {"settings": settings, "embedder": embedder_meta,
                "method": self.method_, "params": {k: v.item() if hasattr(v, "item") else v for k, v in self.params_.items()},
                "outliers_before": self.outliers_before_, "outliers_after": self.outliers_after_, "empty": self.empty_,
                "guided": getattr(self, "guided_", {}), "radius": {str(t): r for t, r in self.radius_.items()},
                "topic_info": info.to_dict("records")}
        centroids = np.vstack([self.centroids_[t] for t in ids]) if ids else np.zeros((0, 0), dtype=np.float32)
        arrays = {"labels": self.labels_.astype(np.int64), "centroid_topics": np.asarray(ids, dtype=np.int64),
                  "centroids": centroids, **{f"embedder.{k}": v for k, v in embedder_arrays.items()}}
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> "TopicModel":
        """The fitted model that :meth:`to_state` described (``bertopic_`` is not rebuilt: new
        documents go to the nearest centroid, which needs only the embedder and the centroids)."""
        model = cls(**meta["settings"])
        model.embedder_ = embedder_from_state(meta["embedder"], arrays_under(arrays, "embedder"))
        model.bertopic_ = None
        model.method_, model.params_ = meta["method"], dict(meta["params"])
        model.outliers_before_, model.outliers_after_, model.empty_ = meta["outliers_before"], meta["outliers_after"], meta["empty"]
        model.guided_ = dict(meta["guided"])
        model.centroids_ = {int(t): row for t, row in zip(arrays["centroid_topics"], arrays["centroids"])}
        model.radius_ = {int(t): float(r) for t, r in meta["radius"].items()}
        model.topic_info_ = pd.DataFrame(meta["topic_info"], columns=INFO_COLUMNS)
        model.labels_ = arrays["labels"].astype(int)
        return model


def guide(vectors: np.ndarray, seed_vectors: np.ndarray, weight: float = GUIDE_WEIGHT) -> tuple[np.ndarray, np.ndarray]:
    """Seed documents with taxonomy entries, as BERTopic's guided topic modelling does.

    A document goes to the entry it is most similar to (cosine), unless the mean of all documents
    is more similar still; a seeded document moves ``weight`` of the way to its entry.

    Parameters
    ----------
    vectors : ndarray of shape (n, d)
        Document embeddings (not modified).
    seed_vectors : ndarray of shape (k, d)
        One embedding per taxonomy entry (its seed lemmas as a document).
    weight : float

    Returns
    -------
    seeds : ndarray of int, shape (n,)
        Entry index per document, ``-1`` for none.
    moved : ndarray of shape (n, d)
    """
    candidates = np.vstack([seed_vectors, vectors.mean(axis=0, keepdims=True)])
    candidates = candidates / np.maximum(np.linalg.norm(candidates, axis=1, keepdims=True), 1e-12)
    norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    seeds = np.argmax((vectors / norms) @ candidates.T, axis=1)
    seeds[seeds == len(seed_vectors)] = OUTLIER
    seeds[norms[:, 0] <= 1e-12] = OUTLIER  # no known word: similar to nothing, argmax would say entry 0
    moved = vectors.copy()
    hit = seeds != OUTLIER
    moved[hit] = (1 - weight) * vectors[hit] + weight * seed_vectors[seeds[hit]]
    return seeds, moved


def _label(keywords, taxonomy: str | None) -> str:
    """2–4 distinct lemmas or bigrams from the top keywords (a word inside a chosen bigram is skipped)."""
    chosen: list[str] = []
    for word, _ in keywords:
        if any(set(word.split()) & set(c.split()) for c in chosen):
            continue
        chosen.append(word)
        if len(chosen) == 3:
            break
    # Negation is glued to its verb in the analysis text (не_работать); a reader sees "не работать".
    words = ", ".join(c.replace("_", " ") for c in chosen) if chosen else "(без ключевых слов)"
    return f"{taxonomy}: {words}" if taxonomy else words


# ------------------------------------------------------------------------------ evaluation
def npmi_coherence(topic_words: Sequence[Sequence[str]], docs: Sequence[str], top_n: int = 10) -> float:
    """Mean NPMI of word pairs among each topic's top words, by document co-occurrence."""
    sets = [set(d.split()) for d in docs]
    n = len(sets) or 1
    scores = []
    for words in topic_words:
        words = [w for w in words if " " not in w][:top_n]
        for i in range(len(words)):
            for j in range(i + 1, len(words)):
                a, b = words[i], words[j]
                pa = sum(a in s for s in sets) / n
                pb = sum(b in s for s in sets) / n
                pab = sum(a in s and b in s for s in sets) / n
                if pab == 0:
                    scores.append(-1.0)
                elif pab == 1:
                    scores.append(1.0)
                else:
                    scores.append(math.log(pab / (pa * pb)) / -math.log(pab))
    return float(np.mean(scores)) if scores else 0.0


def topic_diversity(topic_words: Sequence[Sequence[str]], top_n: int = 10) -> float:
    """Share of unique words among all topics' top words (1 = no topic repeats another's words)."""
    words = [w for ws in topic_words for w in list(ws)[:top_n]]
    return len(set(words)) / len(words) if words else 0.0


def agreement(labels: Sequence, truth: Sequence) -> dict[str, float]:
    """NMI and ARI against reference labels."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    return {"nmi": float(normalized_mutual_info_score(truth, labels)), "ari": float(adjusted_rand_score(truth, labels))}


def stability(label_sets: Sequence[Sequence[int]]) -> float:
    """Mean pairwise ARI between the assignments of fits with different seeds."""
    from itertools import combinations

    from sklearn.metrics import adjusted_rand_score

    pairs = [adjusted_rand_score(a, b) for a, b in combinations(label_sets, 2)]
    return float(np.mean(pairs)) if pairs else 1.0
