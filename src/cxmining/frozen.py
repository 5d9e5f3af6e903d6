"""Read-only containers and label normalisation shared by the configuration modules."""
from __future__ import annotations

import copyreg
import re
from types import MappingProxyType
from typing import Any, Mapping


def _mapping_proxy(items: dict) -> MappingProxyType:
    return MappingProxyType(items)


# Frozen configurations hold read-only mappings; let them pickle (saved models, worker processes).
copyreg.pickle(MappingProxyType, lambda m: (_mapping_proxy, (dict(m),)))

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


def freeze(obj):
    if isinstance(obj, Mapping):
        return MappingProxyType({k: freeze(v) for k, v in obj.items()})
    if isinstance(obj, list):
        return tuple(freeze(v) for v in obj)
    return obj


def thaw(obj):
    if isinstance(obj, Mapping):
        return {k: thaw(v) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return [thaw(v) for v in obj]
    return obj
