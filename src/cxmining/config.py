"""Configuration: one YAML data file loaded once into frozen dataclasses.

The defaults ship inside the package (``DEFAULT_CONFIG_PATH``). A user copies that file,
edits it and passes it to :func:`load_config`; a partial file is merged onto the defaults
(dictionaries key by key, lists replaced whole). Nothing here touches disk except
:func:`load_config` and :func:`read_yaml`.
"""
from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import yaml

from .frozen import freeze, normalize_label, thaw
from .sections import (PainMapConfig, PainsConfig, TextConfig, TopicsConfig, build_painmap, build_pains, build_text,
                       build_topics)
from .sections import IdentityConfig, MarkerSet  # noqa: F401 - models pickled before sections.py name cxmining.config.*

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_CONFIG_PATH = DATA_DIR / "default.yaml"


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
        return yaml.safe_dump(thaw(self.raw), allow_unicode=True, sort_keys=False)

    def map_topic_settings(self) -> dict:
        """``TopicModel`` settings of the pain maps: section ``topics`` with ``painmap.max_topics`` and
        ``painmap.min_cluster_size``."""
        return {**self.topics.model_settings(), "max_topics": self.painmap.max_topics,
                "min_cluster_size": self.painmap.min_cluster_size}

    def section_fingerprint(self, *sections: str) -> str:
        """A short hash of some sections only (a cache that depends on them is not invalidated by others)."""
        blob = json.dumps({k: thaw(self.raw[k]) for k in sections}, ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]

    @property
    def fingerprint(self) -> str:
        """A short hash of the effective configuration (used in cache keys)."""
        blob = json.dumps(thaw(self.raw), ensure_ascii=False, sort_keys=True)
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
        text=build_text(raw["text"]),
        pains=build_pains(raw["pains"]),
        topics=build_topics(raw["topics"]),
        painmap=build_painmap(raw["painmap"]),
        raw=freeze(raw),
        source=source,
    )
