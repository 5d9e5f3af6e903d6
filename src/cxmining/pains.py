"""Pain detection: every answer unit is a ``problem``, a ``need``, ``praise`` or ``other``.

The default is :class:`RuleClassifier`: transparent rules from the configuration (section
``pains``) over the stored spaCy analysis of each unit — lemma lexicons with weights, spaCy
``Matcher`` patterns on lemmas, POS and morphology, negation and its scope, intensifiers, contrast
(«…, но …») and modal, imperative and question constructions. Each unit gets three scores, a kind,
a negativity in [-1, 1] (+1 most negative) and the evidence that formed them.

:class:`LearnedClassifier` is optional: logistic regression on lemma n-grams plus the rule scores,
trained on an analyst's labelled units. Both follow scikit-learn's conventions (``fit`` returns
``self``; learned state ends in ``_``) and take a units DataFrame (``cxmining.preprocess``).
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd

from .frozen import thaw
from .sections import PainsConfig

KINDS = ("problem", "need", "praise", "other")
SEVERITY = {k: i for i, k in enumerate(KINDS)}  # for an answer: the most severe kind present
SCORED = ("problem", "need", "praise")
_BOUNDARY = {",", ";", ":", "—", "-", ".", "!", "?", "…", "(", ")"}


class RuleClassifier:
    """Rule-based unit classifier.

    Parameters
    ----------
    rules : PainsConfig
        ``config.pains``: lexicons, patterns, negators, intensifiers, thresholds.
    """

    def __init__(self, *, rules: PainsConfig):
        self.rules = rules

    def __getstate__(self):
        # Compiled matchers and dictionaries are rebuilt on unpickling, not stored.
        return {"rules": self.rules, "fitted": hasattr(self, "matcher_")}

    def __setstate__(self, state):
        self.rules = state["rules"]
        if state["fitted"]:
            self.fit()

    def fit(self, units: pd.DataFrame | None = None, y=None) -> "RuleClassifier":
        """Compile the Matcher patterns (nothing is learned from data)."""
        import spacy
        from spacy.matcher import Matcher

        self.vocab_ = spacy.blank("ru").vocab
        self.fuzzy_ = _fuzzy_index(self.rules)
        from .nlp import load_pymorphy

        self._known = load_pymorphy().word_is_known
        self.matcher_ = Matcher(self.vocab_)
        self.pattern_info_ = {}
        for kind in SCORED:
            for name, weight, pattern in self.rules.markers[kind].patterns:
                key = f"{kind}:{name}"
                self.matcher_.add(key, [thaw(pattern)], greedy="LONGEST")
                self.pattern_info_[self.vocab_.strings[key]] = (kind, name, weight)
        return self

    # ------------------------------------------------------------------ scoring
    def score(self, units: pd.DataFrame) -> pd.DataFrame:
        """Scores, kind, negativity and evidence for every unit (index kept).

        ``units`` needs the analysis columns ``tokens``, ``spaces``, ``pos``, ``morph`` and
        ``lemmas``; an optional ``rating`` column (1–5) is used as weak evidence.
        """
        from .nlp import doc_from_columns

        ratings = units["rating"] if "rating" in units.columns else pd.Series([None] * len(units), index=units.index)
        rows = []
        for (_, u), rating in zip(units.iterrows(), ratings):
            doc = doc_from_columns(self.vocab_, u["tokens"], u["spaces"], u["pos"], u["morph"], u["lemmas"])
            rows.append(self._score_doc(doc, None if pd.isna(rating) else int(rating)))
        return pd.DataFrame(rows, index=units.index,
                            columns=["problem_score", "need_score", "praise_score", "kind", "negativity", "evidence"])

    def predict(self, units: pd.DataFrame) -> pd.Series:
        return self.score(units)["kind"]

    def _score_doc(self, doc, rating: int | None) -> list:
        r = self.rules
        lemmas = [t.lemma_.lower().replace("ё", "е") for t in doc]
        lower = [t.lower_.replace("ё", "е") for t in doc]
        hits: list[tuple[str, str, float, int]] = []  # (kind, label, weight, token position)
        covered: set[int] = set()
        seen: set[str] = set()
        contrast_at = next((i for i, w in enumerate(lower) if w in r.contrast and i > 0), None)

        def boost(i: int) -> float:
            factor = 1.0
            for j in (i - 1, i - 2):
                if j >= 0 and (lower[j] in r.intensifiers or lemmas[j] in r.intensifiers):
                    factor = max(factor, r.intensifiers.get(lower[j], r.intensifiers.get(lemmas[j], 1.0)))
            if contrast_at is not None and i > contrast_at:
                factor *= r.contrast_boost
            return factor

        # Requests first: a problem or praise pattern overlapping a request pattern is part of the
        # request («не могли бы вы…», «почему бы не поставить…?»), not evidence of its own.
        matches = sorted(((self.pattern_info_[m], s, e) for m, s, e in self.matcher_(doc)),
                         key=lambda x: (x[0][0] != "need", x[1]))
        spans: list[tuple[str, int, int]] = []
        problem_words = r.markers["problem"].lemmas
        for (kind, name, weight), start, end in matches:
            if name in seen or any(k != kind and start < e and s < end for k, s, e in spans):
                continue
            if name == "negated_verb" and "Conv" in doc[end - 1].morph.get("VerbForm"):
                continue  # «не выходя из дома»: a negated gerund is circumstance, not a defect
            if kind == "problem" and end - start <= 4 and any(
                    (self._marker_lemma(lower[i], lemmas[i]) in problem_words or lower[i] in problem_words)
                    and self._negated(doc, lower, lemmas, i) for i in range(start, end)):
                continue  # «ни одной протечки», «ничего не сломалось»: a negated defect is praise (below)
            seen.add(name)
            spans.append((kind, start, end))
            hits.append((kind, name, weight * boost(start), start))
            if end - start <= 4:
                covered.update(range(start, end))

        for i, lemma in enumerate(lemmas):
            if i in covered:
                continue
            lemma = self._marker_lemma(lower[i], lemma)
            for kind in SCORED:
                weight = r.markers[kind].lemmas.get(lemma) or r.markers[kind].lemmas.get(lower[i])
                if not weight:
                    continue
                if not self._negated(doc, lower, lemmas, i):
                    hits.append((kind, lemma, weight * boost(i), i))
                elif kind != "need":  # a negated problem is praise, a negated praise a problem
                    flipped = "praise" if kind == "problem" else "problem"
                    hits.append((flipped, f"не_{lemma}", 0.8 * weight * boost(i), i))

        procedural = [i for i, lemma in enumerate(lemmas) if lemma in r.procedural]
        if procedural:
            hits = [h for h in hits if h[1] not in r.procedural_cancels or
                    not any(abs(h[3] - i) <= 3 for i in procedural)]

        # «Претензий … не было»: the negated noun says all is well; the negated verb is not a defect.
        flipped_at = [pos for k, label, _, pos in hits if k == "praise" and label.startswith("не_")]
        hits = [h for h in hits if not (h[1] == "negated_verb" and any(0 < h[3] - p <= 5 for p in flipped_at))]

        if contrast_at is not None and lower[contrast_at] in r.reservation:
            # «Сайт удобный, но часто недоступен», «Всё устраивает, кроме графика»: praise with a
            # reservation reports, after the contrast word, what is wrong.
            praise_before = any(k == "praise" and pos < contrast_at for k, _, _, pos in hits)
            after = [k for k, _, _, pos in hits if pos > contrast_at]
            if praise_before and "praise" not in after and "need" not in after and contrast_at < len(lower) - 2:
                hits.append(("problem", "reservation", 1.0, contrast_at))

        scores = {k: sum(w for kind, _, w, _ in hits if kind == k) for k in SCORED}
        if rating is not None:
            if rating <= 2 and scores["problem"] > 0:
                hits.append(("problem", f"rating={rating}", r.rating_weight, -1))
                scores["problem"] += r.rating_weight
            elif rating == 5 and scores["praise"] > 0:
                hits.append(("praise", f"rating={rating}", r.rating_weight, -1))
                scores["praise"] += r.rating_weight

        kind = decide(scores["problem"], scores["need"], scores["praise"], r.threshold)
        negativity = math.tanh(scores["problem"] + 0.3 * scores["need"] - scores["praise"])
        evidence = "; ".join(f"{k}:{label}×{w:.2g}" for k, label, w, _ in hits)
        return [round(scores["problem"], 4), round(scores["need"], 4), round(scores["praise"], 4), kind,
                round(negativity, 4), evidence]

    def _marker_lemma(self, word: str, lemma: str) -> str:
        """The token's lemma, or the marker lemma it is a typo of: a word of ``fuzzy_min_length``
        letters or more that is no marker itself."""
        r = self.rules
        if len(word) >= r.fuzzy_min_length and not any(
                lemma in r.markers[k].lemmas or word in r.markers[k].lemmas for k in SCORED):
            return self._fuzzy(word) or lemma
        return lemma

    def _fuzzy(self, word: str) -> str | None:
        """The marker lemma whose word form is one edit away from ``word`` (a typo), if unique.
        Only words the dictionary does not know: «прошлом» is not a typo of «пролом»."""
        if self._known(word):
            return None
        found = {self.fuzzy_[k] for k in _deletes(word) if k in self.fuzzy_}
        found.discard(None)
        return found.pop() if len(found) == 1 else None

    def _negated(self, doc, lower: Sequence[str], lemmas: Sequence[str], i: int) -> bool:
        """Is token ``i`` negated: a negator before it within the scope, or — for a genitive
        noun — «нет» / «не» + verb after it («проблем не возникло», «претензий нет»)?
        Negation does not cross punctuation or a contrast word («но»)."""
        r = self.rules
        for j in range(i - 1, max(-1, i - 1 - r.negation_scope), -1):
            if lower[j] in _BOUNDARY or lower[j] in r.contrast:
                break
            if lower[j] in r.negators or lemmas[j] in r.negators:
                return True
        if doc[i].pos_ in ("NOUN", "PROPN", "X"):
            genitive = "Gen" in doc[i].morph.get("Case")
            for j in range(i + 1, min(len(lower), i + 2 + r.negation_scope)):
                if lower[j] in _BOUNDARY or lower[j] in r.contrast:
                    return False
                if lower[j] == "нет" or (genitive and lower[j] == "не" and j + 1 < len(lower)
                                         and doc[j + 1].pos_ in ("VERB", "AUX")):
                    return True
        return False


def _deletes(word: str) -> set[str]:
    return {word} | {word[:i] + word[i + 1:] for i in range(len(word))}


def _fuzzy_index(rules: PainsConfig) -> dict[str, str | None]:
    """Symmetric-delete index of every word form of the marker lemmas (pymorphy3 lexemes):
    a key shared by forms of two lemmas maps to ``None`` (ambiguous, never used)."""
    from .nlp import load_pymorphy

    morph = load_pymorphy()
    index: dict[str, str | None] = {}
    for kind in SCORED:
        for lemma in rules.markers[kind].lemmas:
            forms = {lemma} | {f.word.replace("ё", "е") for p in morph.parse(lemma)[:1] for f in p.lexeme}
            for form in forms:
                if len(form) < rules.fuzzy_min_length - 1:
                    continue
                for key in _deletes(form):
                    if index.get(key, lemma) != lemma:
                        index[key] = None
                    else:
                        index[key] = lemma
    return index


def decide(problem: float, need: float, praise: float, threshold: float) -> str:
    """The unit's kind from its scores.

    A stated defect wins (problem), unless praise clearly outweighs a weak problem
    («ждать не пришлось, всё быстро»); then a request (need); then praise; else other.
    """
    if problem >= threshold and problem >= 0.5 * praise:
        return "problem"
    if need >= threshold:
        return "need"
    if praise >= threshold:
        return "praise"
    if problem >= threshold:
        return "problem"
    return "other"


class LearnedClassifier:
    """Logistic regression on lemma n-grams of ``analysis_text`` plus the rule scores.

    Parameters
    ----------
    rules : PainsConfig
    ngram_max, min_df, C : settings of the TF-IDF vectoriser and the regression
        (defaults from ``pains.learned`` in the configuration).
    random_state : int
    """

    def __init__(self, *, rules: PainsConfig, ngram_max: int | None = None, min_df: int | None = None,
                 C: float | None = None, random_state: int = 0):
        self.rules = rules
        self.ngram_max = ngram_max
        self.min_df = min_df
        self.C = C
        self.random_state = random_state

    def _features(self, units: pd.DataFrame, fit: bool):
        from scipy.sparse import csr_matrix, hstack

        texts = [f"{a} {' '.join(t.lower() for t in tok if t.lower() in ('?', '!'))}"
                 for a, tok in zip(units["analysis_text"], units["tokens"])]
        words = self.vectorizer_.fit_transform(texts) if fit else self.vectorizer_.transform(texts)
        scored = self.rules_.score(units)
        dense = np.tanh(scored[["problem_score", "need_score", "praise_score"]].to_numpy(dtype=float))
        return hstack([words, csr_matrix(dense * 2.0)]).tocsr()

    def fit(self, units: pd.DataFrame, y: Sequence[str]) -> "LearnedClassifier":
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        learned = self.rules.learned
        self.rules_ = RuleClassifier(rules=self.rules).fit()
        self.vectorizer_ = TfidfVectorizer(ngram_range=(1, self.ngram_max or int(learned.get("ngram_max", 2))),
                                           min_df=self.min_df or int(learned.get("min_df", 2)),
                                           token_pattern=r"[^\s]+", sublinear_tf=True)
        self.model_ = LogisticRegression(C=self.C or float(learned.get("C", 4.0)), max_iter=2000,
                                         class_weight="balanced", random_state=self.random_state)
        self.model_.fit(self._features(units, fit=True), list(y))
        self.classes_ = self.model_.classes_
        return self

    def predict(self, units: pd.DataFrame) -> pd.Series:
        return pd.Series(self.model_.predict(self._features(units, fit=False)), index=units.index, name="kind")

    def score(self, units: pd.DataFrame) -> pd.DataFrame:
        """Like :meth:`RuleClassifier.score`, with the learned kind; negativity stays the rules'."""
        out = self.rules_.score(units)
        out["kind"] = self.predict(units)
        return out


def classify_units(units: pd.DataFrame, classifier) -> pd.DataFrame:
    """``units`` with ``kind``, ``negativity``, the three scores and ``evidence`` added."""
    scored = classifier.score(units)
    return pd.concat([units.drop(columns=[c for c in scored.columns if c in units.columns]), scored], axis=1)


def evidence_lemmas(evidence: str, kinds: Sequence[str] = ("problem", "need")) -> list[str]:
    """The lemmas among a unit's ``evidence`` for ``kinds``, in order («problem:давка×1.2; problem:
    negated_verb×1» -> ``["давка"]``); pattern names, ``reservation`` and ratings are not lemmas."""
    out = []
    for item in (evidence or "").split("; "):
        kind, _, rest = item.partition(":")
        label = rest.rsplit("×", 1)[0]
        if kind in kinds and label and not any("a" <= c <= "z" or c == "=" for c in label.lower().removeprefix("не_")):
            out.append(label)
    return out


def topic_documents(units: pd.DataFrame, evidence_weight: int) -> list[str]:
    """Each unit's ``analysis_text`` followed by its problem and need evidence lemmas, repeated
    ``evidence_weight`` times: the documents topics are fitted on, weighted towards what is wrong."""
    return [" ".join([text or "", *evidence_lemmas(ev) * evidence_weight]).strip()
            for text, ev in zip(units["analysis_text"], units["evidence"])]


def answer_kinds(units: pd.DataFrame, by: Sequence[str] = ("response_id",)) -> pd.DataFrame:
    """Per answer: the set of its unit kinds, counts per kind, the most severe kind and the
    highest negativity. ``units`` must hold ``kind`` and ``negativity`` (:func:`classify_units`)."""
    by = list(by)
    counts = pd.crosstab([units[c] for c in by], units["kind"]).reindex(columns=list(KINDS), fill_value=0)
    counts.columns = [f"n_{k}" for k in KINDS]
    out = counts.reset_index()
    out["kinds"] = [";".join(k for k in KINDS if row[f"n_{k}"]) for _, row in out.iterrows()]
    out["kind"] = [next(k for k in KINDS if row[f"n_{k}"]) for _, row in out.iterrows()]
    negativity = units.groupby(by, sort=False)["negativity"].max().rename("negativity").reset_index()
    return out.merge(negativity, on=by, how="left")


def rating_agreement(answers: pd.DataFrame) -> pd.DataFrame:
    """How kinds agree with ratings: per rating, answers n and the share with a problem or need,
    plus Spearman's rho between rating and negativity (scipy) in the ``attrs``."""
    from scipy.stats import spearmanr

    rated = answers.dropna(subset=["rating"])
    table = rated.groupby("rating").agg(n=("kind", "size"),
                                        problem_or_need=("kind", lambda k: float(np.mean(k.isin(["problem", "need"])))),
                                        mean_negativity=("negativity", "mean")).reset_index()
    if len(rated) > 2:
        rho = spearmanr(rated["rating"].astype(float), rated["negativity"].astype(float))
        table.attrs["spearman_rho"], table.attrs["p_value"] = float(rho.statistic), float(rho.pvalue)
    return table
