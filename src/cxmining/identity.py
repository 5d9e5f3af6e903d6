"""Stable pain identity across periods.

Each quarter's topics are fitted afresh; :func:`match_pains` gives every topic the id of the pain
it continues (``P0001``, ...) or a new id. A topic continues a known pain when their centroids
are close and their keywords overlap (thresholds in ``painmap.identity``); the pairing is
one-to-one (Hungarian assignment on the summed similarities), so two topics never share an id.

The strongest evidence is shared units: the previous period's answers, assigned to today's
topics by the fitted model, fall mostly into the topic that continues their pain
(:func:`overlap`). Centroids and keywords cover pains last seen longer ago. Centroids live in a space that does not depend on the quarter's corpus: the plain mean of navec
word vectors over each unit's lemmas (LSA axes, by contrast, are refitted each quarter and could
not be compared). :func:`reference` condenses the id history into the latest description of each
pain; :func:`vanished` lists the pains of the previous period that did not come back.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .sections import IdentityConfig

STATUS_NEW = "новая"
STATUS_GONE = "не встречается"


def unit_vectors(docs: Sequence[str], navec) -> np.ndarray:
    """Mean navec vector of each document's lemmas (zeros for a document without known words)."""
    dim = navec.pq.dim if hasattr(navec, "pq") else len(navec["дом"])
    out = np.zeros((len(docs), dim), dtype=np.float32)
    for i, doc in enumerate(docs):
        words = [w for w in doc.replace("_", " ").split() if w in navec]
        if words:
            out[i] = np.mean([navec[w] for w in words], axis=0)
    return out


def centroids(vectors: np.ndarray, topics: Sequence[int]) -> dict[int, np.ndarray]:
    """Unit-length mean vector per topic (outliers excluded)."""
    topics = np.asarray(topics)
    result = {}
    for t in sorted(set(topics.tolist()) - {-1}):
        c = vectors[topics == t].mean(axis=0)
        norm = np.linalg.norm(c)
        result[int(t)] = c / norm if norm else c
    return result


def _jaccard(a: Sequence[str], b: Sequence[str]) -> float:
    a, b = set(a), set(b)
    return len(a & b) / len(a | b) if a | b else 0.0


def overlap(previous_ids: Sequence, current_topics: Sequence) -> pd.DataFrame:
    """Jaccard overlap between the previous period's pains and this period's topics, over the
    previous period's units: |units of pain p that today's model puts in topic t| divided by
    |units of p ∪ units put in t|. Rows: topics; columns: pain ids."""
    frame = pd.DataFrame({"pain": list(previous_ids), "topic": list(current_topics)})
    frame = frame[frame["pain"].notna() & (frame["topic"] >= 0)]
    if frame.empty:
        return pd.DataFrame()
    both = pd.crosstab(frame["topic"], frame["pain"])
    size_p = pd.Series(list(previous_ids)).value_counts()
    size_t = both.sum(axis=1)
    union = size_t.to_numpy()[:, None] + size_p.reindex(both.columns).to_numpy()[None, :] - both.to_numpy()
    return pd.DataFrame(both.to_numpy() / np.maximum(union, 1), index=both.index, columns=both.columns)


def match_pains(current: pd.DataFrame, ref: pd.DataFrame, config: IdentityConfig,
                shared: pd.DataFrame | None = None) -> pd.DataFrame:
    """Give each current topic a stable pain id.

    Parameters
    ----------
    current : DataFrame
        ``topic``, ``keywords`` (list of lemmas) and ``centroid`` (unit vector) of this period.
    ref : DataFrame
        The known pains (:func:`reference`): ``pain_id``, ``keywords``, ``centroid``.
    shared : DataFrame, optional
        :func:`overlap` of the previous period's pains with the current topics: a pair sharing at
        least ``min_overlap`` of its units matches whatever the centroids say.

    Returns
    -------
    DataFrame
        ``current`` with ``pain_id``, ``matched_cosine``, ``matched_keywords`` and ``status``
        («новая» for a new id when earlier periods exist, else empty).
    """
    from scipy.optimize import linear_sum_assignment

    out = current.reset_index(drop=True).copy()
    out["pain_id"], out["matched_cosine"], out["matched_keywords"], out["matched_overlap"] = None, np.nan, np.nan, np.nan
    if len(ref) and len(out):
        cos = np.vstack(out["centroid"].to_list()) @ np.vstack(ref["centroid"].to_list()).T
        kw = np.array([[_jaccard(a, b) for b in ref["keywords"]] for a in out["keywords"]])
        ov = np.zeros_like(cos)
        if shared is not None and not shared.empty:
            ov = shared.reindex(index=out["topic"], columns=ref["pain_id"]).fillna(0.0).to_numpy()
        ok = ((cos >= config.min_cosine) & ((kw >= config.min_keywords) | (cos >= config.strong_cosine))
              | (ov >= config.min_overlap))
        score = np.where(ok, 2 * ov + cos + kw, -1.0)
        rows, cols = linear_sum_assignment(-score)
        for i, j in zip(rows, cols):
            if ok[i, j]:
                out.loc[i, ["pain_id", "matched_cosine", "matched_keywords", "matched_overlap"]] = [
                    ref["pain_id"].iat[j], cos[i, j], kw[i, j], ov[i, j]]
    number = max((int(p[1:]) for p in ref["pain_id"]), default=0) if len(ref) else 0
    status = []
    for i in out.sort_values("topic").index:  # new ids in topic order: deterministic
        if out.at[i, "pain_id"] is None:
            number += 1
            out.at[i, "pain_id"] = f"P{number:04d}"
            status.append((i, STATUS_NEW if len(ref) else ""))
        else:
            status.append((i, ""))
    out["status"] = pd.Series(dict(status))
    return out


def reference(history: pd.DataFrame | None, before: str) -> pd.DataFrame:
    """The latest description (keywords, centroid, label, period) of every pain seen before ``before``."""
    past = history[history["period"] < before] if history is not None else None
    if past is None or past.empty:
        return pd.DataFrame(columns=["pain_id", "keywords", "centroid", "label", "period"])
    return (past.sort_values(["pain_id", "period"], kind="stable").groupby("pain_id", sort=True).tail(1)
            .reset_index(drop=True))


def vanished(history: pd.DataFrame, period: str) -> pd.DataFrame:
    """Pains of the period just before ``period`` that have no topic in ``period``."""
    earlier = sorted(p for p in history["period"].unique() if p < period)
    if not earlier:
        return history.iloc[0:0]
    previous = history[history["period"] == earlier[-1]]
    now = set(history.loc[history["period"] == period, "pain_id"])
    return previous[~previous["pain_id"].isin(now)].assign(status=STATUS_GONE).reset_index(drop=True)
