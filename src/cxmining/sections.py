"""The analysis sections of the configuration (``text``, ``pains``, ``topics``, ``painmap``) as
frozen dataclasses, and their builders from the merged YAML (called by ``config.load_config``)."""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

from .frozen import freeze, normalize_label


@dataclass(frozen=True)
class TextConfig:
    """Lexicons of the text pipeline (section ``text``); word lists are lower case, ё = е."""

    greetings: tuple[str, ...]
    sign_offs: tuple[str, ...]
    sign_off_tail: int
    placeholders: Mapping[str, str]
    street_types: tuple[str, ...]
    phone_context: tuple[str, ...]
    not_names: frozenset[str]
    place_words: frozenset[str]
    clause_conjunctions: frozenset[str]
    subordinators: frozenset[str]
    predicatives: frozenset[str]
    stopwords: frozenset[str]
    keep: frozenset[str]
    negation_skip: frozenset[str]


@dataclass(frozen=True)
class MarkerSet:
    """Markers of one unit kind: lemma weights and spaCy ``Matcher`` patterns (name, weight, pattern)."""

    lemmas: Mapping[str, float]
    patterns: tuple[tuple[str, float, tuple], ...]


@dataclass(frozen=True)
class PainsConfig:
    """Rules of the pain classifier (section ``pains``)."""

    threshold: float
    negation_scope: int
    contrast_boost: float
    rating_weight: float
    negators: frozenset[str]
    intensifiers: Mapping[str, float]
    contrast: frozenset[str]
    reservation: frozenset[str]
    markers: Mapping[str, MarkerSet]  # problem, need, praise
    procedural: frozenset[str]
    procedural_cancels: frozenset[str]
    fuzzy_min_length: int
    learned: Mapping[str, Any]
    model: str | None = None  # a learned layer saved by `cxmining pains train`; None: the rules


def build_pains(p: dict) -> PainsConfig:
    markers = {}
    for kind in ("problem", "need", "praise"):
        section = p[kind]
        lemmas = {normalize_label(k): float(v) for k, v in (section.get("lemmas") or {}).items()}
        phrases = sorted(k for k in lemmas if " " in k)
        if phrases:  # lemmas are matched one token at a time: a phrase would never match
            raise ValueError(f"pains.{kind}.lemmas: {phrases} are phrases; a lemma entry is one word "
                             f"(write a phrase as a pattern under pains.{kind}.patterns)")
        patterns = tuple((str(x["name"]), float(x["weight"]), freeze(x["pattern"])) for x in section.get("patterns") or [])
        markers[kind] = MarkerSet(MappingProxyType(lemmas), patterns)
    return PainsConfig(
        threshold=float(p["threshold"]), negation_scope=int(p["negation_scope"]),
        contrast_boost=float(p["contrast_boost"]), rating_weight=float(p["rating_weight"]),
        negators=frozenset(normalize_label(w) for w in p["negators"]),
        intensifiers=MappingProxyType({normalize_label(k): float(v) for k, v in p["intensifiers"].items()}),
        contrast=frozenset(normalize_label(w) for w in p["contrast"]),
        reservation=frozenset(normalize_label(w) for w in p["reservation"]),
        markers=MappingProxyType(markers),
        procedural=frozenset(normalize_label(w) for w in p["procedural"]["lemmas"]),
        procedural_cancels=frozenset(normalize_label(w) for w in p["procedural"]["cancels"]),
        fuzzy_min_length=int(p["fuzzy_min_length"]), learned=MappingProxyType(dict(p.get("learned") or {})),
        model=str(p["model"]) if p.get("model") else None,
    )


@dataclass(frozen=True)
class TopicsConfig:
    """Topic-model defaults and the pain taxonomy (section ``topics``)."""

    embedder: str
    max_topics: int
    min_bertopic: int
    taxonomy_min_overlap: float
    taxonomy: Mapping[str, tuple[str, ...]]
    guided: bool = False

    def model_settings(self) -> dict:
        """Keyword settings for ``topics.TopicModel``."""
        return {"embedder": self.embedder, "max_topics": self.max_topics, "min_bertopic": self.min_bertopic,
                "taxonomy": dict(self.taxonomy), "taxonomy_min_overlap": self.taxonomy_min_overlap,
                "guided": self.guided}


def build_topics(t: dict) -> TopicsConfig:
    taxonomy = {str(k): tuple(normalize_label(w) for w in v) for k, v in (t.get("taxonomy") or {}).items()}
    guided = t.get("guided", False)
    if not isinstance(guided, bool):
        raise ValueError(f"topics.guided: {guided!r} is neither true nor false")
    return TopicsConfig(embedder=str(t["embedder"]), max_topics=int(t["max_topics"]), min_bertopic=int(t["min_bertopic"]),
                        taxonomy_min_overlap=float(t["taxonomy_min_overlap"]), taxonomy=MappingProxyType(taxonomy),
                        guided=guided)


@dataclass(frozen=True)
class IdentityConfig:
    """Thresholds that let a quarter's topic continue a known pain (section ``painmap.identity``)."""

    min_cosine: float      # centroids at least this close ...
    min_keywords: float    # ... and keywords overlapping at least this much (Jaccard), or
    strong_cosine: float   # centroids this close whatever the keywords, or
    min_overlap: float     # this Jaccard share of the previous period's units in common


@dataclass(frozen=True)
class PainMapConfig:
    """Pain-map statistics, priority weights and the measure catalogue (section ``painmap``)."""

    confidence: float
    min_respondents: int
    weights: Mapping[str, float]
    prevalence_full: float
    rating_full: float
    trend_full: float
    classes: tuple[tuple[str, float], ...]  # (name, lowest score), highest first
    measures: Mapping[str, tuple[str, ...]]
    default_measure: str
    identity: IdentityConfig
    rise_alpha: float           # family-wise level of the test for rises
    rise_correction: str        # statsmodels.stats.multitest.multipletests method
    evidence_weight: int = 2    # repeats of a unit's problem/need evidence lemmas in its topic document
    max_topics: int = 200       # the map's topic model spans every group: a higher cap than topics.max_topics
    min_cluster_size: int | float | None = None  # HDBSCAN's smallest topic (a share if < 1); None: from the size


def count_or_share(value, name: str):
    """None, a count (int >= 1) or a share (float in (0, 1)), as scikit-learn's ``min_df``; else a
    ValueError naming the setting ``name``."""
    if value is None:
        return None
    if isinstance(value, float) and 0 < value < 1:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise ValueError(f"{name}: a count >= 1 or a share in (0, 1), got {value!r}")


def build_painmap(p: dict) -> PainMapConfig:
    pr = p["priority"]
    weights = {k: float(v) for k, v in pr["weights"].items()}
    unknown = set(weights) - {"prevalence", "negativity", "rating_impact", "trend"}
    if unknown:
        raise ValueError(f"painmap.priority.weights: unknown component(s) {sorted(unknown)}")
    classes = tuple(sorted(((str(k), float(v)) for k, v in pr["classes"].items()), key=lambda kv: -kv[1]))
    return PainMapConfig(
        confidence=float(p["confidence"]), min_respondents=int(p["min_respondents"]),
        weights=MappingProxyType(weights), prevalence_full=float(pr["prevalence_full"]),
        rating_full=float(pr["rating_full"]), trend_full=float(pr["trend_full"]), classes=classes,
        measures=MappingProxyType({str(k): tuple(v) for k, v in (p.get("measures") or {}).items()}),
        default_measure=str(p["default_measure"]),
        identity=IdentityConfig(**{k: float(v) for k, v in p["identity"].items()}),
        rise_alpha=float(p["rises"]["alpha"]), rise_correction=str(p["rises"]["correction"]),
        evidence_weight=int(p.get("evidence_weight", 2)), max_topics=int(p.get("max_topics", 200)),
        min_cluster_size=count_or_share(p.get("min_cluster_size"), "painmap.min_cluster_size"),
    )


PII_TYPES = ("name", "phone", "email", "snils", "inn", "passport", "card", "address")


def build_text(t: dict) -> TextConfig:
    def words(key):
        return tuple(normalize_label(w) for w in t[key])

    placeholders = dict(t["placeholders"])
    missing = [k for k in PII_TYPES if not placeholders.get(k)]
    if missing:
        raise ValueError(f"text.placeholders lacks {missing}")
    return TextConfig(
        greetings=words("greetings"), sign_offs=words("sign_offs"), sign_off_tail=int(t["sign_off_tail"]),
        placeholders=MappingProxyType(placeholders), street_types=tuple(str(w).lower() for w in t["street_types"]),
        phone_context=words("phone_context"), not_names=frozenset(words("not_names")),
        place_words=frozenset(words("place_words")),
        clause_conjunctions=frozenset(words("clause_conjunctions")), subordinators=frozenset(words("subordinators")),
        predicatives=frozenset(words("predicatives")), stopwords=frozenset(words("stopwords")),
        keep=frozenset(words("keep")), negation_skip=frozenset(words("negation_skip")),
    )
