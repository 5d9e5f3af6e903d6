"""Configuration: one YAML data file loaded once into frozen dataclasses.

The defaults ship inside the package (``DEFAULT_CONFIG_PATH``). A user copies that file,
edits it and passes it to :func:`load_config`; a partial file is merged onto the defaults
(dictionaries key by key, lists replaced whole). Nothing here touches disk except
:func:`load_config` and :func:`read_yaml`.
"""
from __future__ import annotations

import copy
import copyreg
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import yaml

def _mapping_proxy(items: dict) -> MappingProxyType:
    return MappingProxyType(items)


# Frozen configurations hold read-only mappings; let them pickle (saved models, worker processes).
copyreg.pickle(MappingProxyType, lambda m: (_mapping_proxy, (dict(m),)))

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_CONFIG_PATH = DATA_DIR / "default.yaml"

_PUNCT_EDGES = re.compile(r"^[\s\"'«»:;,.*()\[\]]+|[\s\"'«»:;,.*()\[\]?!]+$")
_SPACES = re.compile(r"\s+")


def normalize_label(value: Any) -> str:
    """Normalise a header or a categorical value for matching.

    Lower case, ``ё`` → ``е``, repeated whitespace collapsed, quotes and punctuation
    trimmed at both ends. ``None`` and NaN give ``""``.
    """
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = str(value).replace("\u00a0", " ").lower().replace("ё", "е")
    text = _SPACES.sub(" ", text).strip()
    return _PUNCT_EDGES.sub("", text)


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class ColumnSpec:
    """How one canonical column is found among an export's headers."""

    name: str
    aliases: tuple[str, ...] = ()
    contains: tuple[str, ...] = ()


@dataclass(frozen=True)
class Vocabulary:
    """A closed list of canonical values with their aliases."""

    names: tuple[str, ...]
    lookup: Mapping[str, str]  # normalised alias or name -> canonical name

    def canonical(self, value: Any) -> str | None:
        """Return the canonical name for ``value``, or ``None`` when it is unknown."""
        return self.lookup.get(normalize_label(value))


@dataclass(frozen=True)
class Process:
    key: str
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Question:
    """A survey dimension (Likert item) or an open-answer question."""

    key: str
    label: str
    aliases: tuple[str, ...] = ()
    contains: tuple[str, ...] = ()

    @property
    def column(self) -> ColumnSpec:
        return ColumnSpec(self.key, self.aliases, self.contains)


@dataclass(frozen=True)
class SurveyConfig:
    min_group: int
    dimensions: tuple[Question, ...]
    open_answers: tuple[Question, ...]
    likert_scale: Mapping[str, int]
    likert_no_answer: frozenset[str]
    confidence: float = 0.95
    change_alpha: float = 0.05
    change_correction: str = "holm"
    bootstrap: int = 500
    lexicons: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # dimension -> lemmas

    @property
    def dimension_keys(self) -> tuple[str, ...]:
        return tuple(d.key for d in self.dimensions)


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


def _pains_config(p: dict) -> PainsConfig:
    markers = {}
    for kind in ("problem", "need", "praise"):
        section = p[kind]
        lemmas = {normalize_label(k): float(v) for k, v in (section.get("lemmas") or {}).items()}
        patterns = tuple((str(x["name"]), float(x["weight"]), _freeze(x["pattern"])) for x in section.get("patterns") or [])
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

    def model_settings(self) -> dict:
        """Keyword settings for ``topics.TopicModel``."""
        return {"embedder": self.embedder, "max_topics": self.max_topics, "min_bertopic": self.min_bertopic,
                "taxonomy": dict(self.taxonomy), "taxonomy_min_overlap": self.taxonomy_min_overlap}


def _topics_config(t: dict) -> TopicsConfig:
    taxonomy = {str(k): tuple(normalize_label(w) for w in v) for k, v in (t.get("taxonomy") or {}).items()}
    return TopicsConfig(embedder=str(t["embedder"]), max_topics=int(t["max_topics"]), min_bertopic=int(t["min_bertopic"]),
                        taxonomy_min_overlap=float(t["taxonomy_min_overlap"]), taxonomy=MappingProxyType(taxonomy))


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
    max_topics: int = 100       # the map's topic model spans every group: a higher cap than topics.max_topics


def _painmap_config(p: dict) -> PainMapConfig:
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
        evidence_weight=int(p.get("evidence_weight", 2)), max_topics=int(p.get("max_topics", 100)),
    )


PII_TYPES = ("name", "phone", "email", "snils", "inn", "passport", "card", "address")


def _text_config(t: dict) -> TextConfig:
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


@dataclass(frozen=True)
class Config:
    """The effective configuration. Build it with :func:`load_config`."""

    columns: Mapping[str, tuple[ColumnSpec, ...]]
    client_types: Vocabulary
    client_type_missing: str
    channels: Vocabulary
    channel_missing: str
    process_missing: str
    processes: tuple[Process, ...]
    process_lookup: Mapping[str, str]
    true_words: frozenset[str]
    false_words: frozenset[str]
    survey: SurveyConfig
    text: TextConfig
    pains: PainsConfig
    topics: TopicsConfig
    painmap: PainMapConfig
    raw: Mapping[str, Any] = field(repr=False)
    source: str = str(DEFAULT_CONFIG_PATH)

    def to_yaml(self) -> str:
        """The effective configuration as YAML, as recorded beside every output."""
        return yaml.safe_dump(_thaw(self.raw), allow_unicode=True, sort_keys=False)

    def map_topic_settings(self) -> dict:
        """``TopicModel`` settings of the pain maps: section ``topics`` with ``painmap.max_topics``."""
        return {**self.topics.model_settings(), "max_topics": self.painmap.max_topics}

    def section_fingerprint(self, *sections: str) -> str:
        """A short hash of some sections only (a cache that depends on them is not invalidated by others)."""
        blob = json.dumps({k: _thaw(self.raw[k]) for k in sections}, ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]

    @property
    def fingerprint(self) -> str:
        """A short hash of the effective configuration (used in cache keys)."""
        blob = json.dumps(_thaw(self.raw), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def read_yaml(path: str | Path) -> dict:
    """Read a YAML mapping, with an error that names the file and the problem."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid UTF-8 YAML ({exc})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, found {type(data).__name__}")
    return data


def merge(base: Mapping, override: Mapping) -> dict:
    """Deep-merge ``override`` onto ``base``: dictionaries merge, everything else replaces."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_config(path: str | Path | None = None, mapping: str | Path | None = None) -> Config:
    """Load the default configuration, merged with a user file and a column mapping.

    Parameters
    ----------
    path : path-like, optional
        A (possibly partial) copy of the default YAML.
    mapping : path-like, optional
        A column-mapping YAML: ``{external: {text: [«Комментарий»]}}``, or the flat form
        ``{text: «Комментарий»}`` that applies to both record kinds. Its headers are tried
        before the configured aliases.

    Returns
    -------
    Config
    """
    raw = read_yaml(DEFAULT_CONFIG_PATH)
    source = str(DEFAULT_CONFIG_PATH)
    if path is not None:
        user = read_yaml(path)
        unknown = sorted(set(user) - set(raw))
        if unknown:
            raise ConfigError(f"{path}: unknown section(s) {unknown}; known sections: {sorted(raw)}")
        raw = merge(raw, user)
        source = str(path)
    if mapping is not None:
        raw = merge(raw, {"columns": _mapping_overrides(read_yaml(mapping), raw["columns"], mapping)})
    try:
        return _build(raw, source)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: invalid configuration ({exc!r})") from None


def _mapping_overrides(user: dict, columns: Mapping, path) -> dict:
    kinds = {k: v for k, v in user.items() if k in ("external", "internal")}
    flat = {k: v for k, v in user.items() if k not in ("external", "internal")}
    out: dict = {}
    for kind, specs in columns.items():
        wanted = {**flat, **(kinds.get(kind) or {})}
        for name, headers in wanted.items():
            if name not in specs:
                if name in flat:
                    continue  # flat entries apply to whichever kind has the column
                raise ConfigError(f"{path}: unknown {kind} column {name!r}; known: {sorted(specs)}")
            headers = [headers] if isinstance(headers, str) else list(headers)
            old = specs[name] or {}
            out.setdefault(kind, {})[name] = {**old, "aliases": headers + list(old.get("aliases", []))}
    unused = [k for k in flat if not any(k in specs for specs in columns.values())]
    if unused:
        raise ConfigError(f"{path}: unknown column(s) {unused}")
    return out


def _vocabulary(items: list[dict]) -> Vocabulary:
    lookup: dict[str, str] = {}
    for item in items:
        for alias in [item["name"], *item.get("aliases", [])]:
            lookup.setdefault(normalize_label(alias), item["name"])
    return Vocabulary(tuple(i["name"] for i in items), MappingProxyType(lookup))


def _question(item: dict) -> Question:
    return Question(item["key"], item["label"], tuple(item.get("aliases", [])), tuple(item.get("contains", [])))


def _build(raw: dict, source: str) -> Config:
    columns = {
        kind: tuple(
            ColumnSpec(name, tuple((spec or {}).get("aliases", [])), tuple((spec or {}).get("contains", [])))
            for name, spec in specs.items()
        )
        for kind, specs in raw["columns"].items()
    }
    values = raw["values"]
    processes = tuple(Process(p["key"], p["name"], tuple(p.get("aliases", []))) for p in raw["processes"])
    process_lookup = {}
    for p in processes:
        for alias in (p.name, p.key, *p.aliases):
            process_lookup.setdefault(normalize_label(alias), p.name)
    s = raw["survey"]
    scale = {normalize_label(k): int(v) for k, v in s["likert"]["scale"].items()}
    bad = {k: v for k, v in scale.items() if not 1 <= v <= 5}
    if bad:
        raise ValueError(f"survey.likert.scale values must be 1..5, got {bad}")
    if int(s["min_group"]) < 1:
        raise ValueError("survey.min_group must be >= 1")
    survey = SurveyConfig(
        min_group=int(s["min_group"]),
        dimensions=tuple(_question(d) for d in s["dimensions"]),
        open_answers=tuple(_question(q) for q in s["open_answers"]),
        likert_scale=MappingProxyType(scale),
        likert_no_answer=frozenset(normalize_label(w) for w in s["likert"]["no_answer"]),
        confidence=float(s["confidence"]), change_alpha=float(s["change"]["alpha"]),
        change_correction=str(s["change"]["correction"]), bootstrap=int(s["drivers"]["bootstrap"]),
        lexicons=MappingProxyType({str(k): tuple(normalize_label(w) for w in v) for k, v in (s.get("lexicons") or {}).items()}),
    )
    unknown = set(survey.lexicons) - set(survey.dimension_keys)
    if unknown:
        raise ValueError(f"survey.lexicons: {sorted(unknown)} are not survey dimensions")
    return Config(
        columns=MappingProxyType(columns),
        client_types=_vocabulary(values["client_type"]),
        client_type_missing=values["client_type_missing"],
        channels=_vocabulary(values["channel"]),
        channel_missing=values["channel_missing"],
        process_missing=values["process_missing"],
        processes=processes,
        process_lookup=MappingProxyType(process_lookup),
        true_words=frozenset(normalize_label(w) for w in values["true_words"]),
        false_words=frozenset(normalize_label(w) for w in values["false_words"]),
        survey=survey,
        text=_text_config(raw["text"]),
        pains=_pains_config(raw["pains"]),
        topics=_topics_config(raw["topics"]),
        painmap=_painmap_config(raw["painmap"]),
        raw=_freeze(raw),
        source=source,
    )


def _freeze(obj):
    if isinstance(obj, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in obj.items()})
    if isinstance(obj, list):
        return tuple(_freeze(v) for v in obj)
    return obj


def _thaw(obj):
    if isinstance(obj, Mapping):
        return {k: _thaw(v) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return [_thaw(v) for v in obj]
    return obj
