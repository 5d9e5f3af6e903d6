"""Analysts' corrections to the pain map: the pain dictionary and the measures register.

Both are files an analyst edits and keeps under version control (``data/curation/``); cxmining
reads them on every run and never writes to them.

The **pain dictionary** (YAML) works on stable pain ids (:mod:`cxmining.identity`)::

    rename: {P0003: Долгое рассмотрение заявлений}   # the map shows this label
    merge: {P0007: P0003}                            # P0007's units count as P0003
    noise: [P0012]                                   # not a pain: left out of the map
    move:                                            # single answers or units to another pain
      - {response_id: E00123, from: P0004, to: P0002}
      - {unit_id: E00456/text/1.0, to: P0002}

The **measures register** (CSV or XLSX) lists what is being done: ``pain_id``, ``measure``,
``owner``, ``deadline``, ``status`` (optionally ``group`` to restrict a row to one process).
Its rows come first in the map's measures; catalogue suggestions follow for what it lacks.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import pandas as pd

REGISTER_COLUMNS = ("pain_id", "measure", "owner", "deadline", "status")
SUGGESTED = "предложено"


class CurationError(ValueError):
    """A pain dictionary or register an analyst needs to fix (the message says where)."""


@dataclass(frozen=True)
class Curation:
    """A parsed pain dictionary (see the module docstring)."""

    rename: Mapping[str, str] = field(default_factory=dict)
    merge: Mapping[str, str] = field(default_factory=dict)
    noise: tuple[str, ...] = ()
    move: tuple[dict, ...] = ()
    source: str = ""

    @classmethod
    def from_dict(cls, raw: dict | None, source: str = "") -> "Curation":
        raw = raw or {}
        unknown = set(raw) - {"rename", "merge", "noise", "move"}
        if unknown:
            raise CurationError(f"{source}: unknown section(s) {sorted(unknown)}; use rename, merge, noise, move")
        move = tuple(dict(m) for m in raw.get("move") or ())
        for i, m in enumerate(move, 1):
            if "to" not in m or not ({"response_id", "unit_id"} & set(m)):
                raise CurationError(f"{source}: move entry {i} needs `to` and a `response_id` or `unit_id`")
        merge = {str(k): str(v) for k, v in (raw.get("merge") or {}).items()}
        for start in merge:  # a cycle would have no surviving pain
            seen, p = {start}, merge[start]
            while p in merge:
                if p in seen:
                    raise CurationError(f"{source}: merge has a cycle through {start}")
                seen.add(p)
                p = merge[p]
        return cls(rename={str(k): str(v) for k, v in (raw.get("rename") or {}).items()}, merge=merge,
                   noise=tuple(str(p) for p in raw.get("noise") or ()), move=move, source=source)

    def final(self, pain_id: str) -> str:
        """The id a pain ends up under after merges (chains followed)."""
        while pain_id in self.merge:
            pain_id = self.merge[pain_id]
        return pain_id


def apply_curation(units: pd.DataFrame, labels: Mapping[str, str], curation: Curation):
    """Apply a pain dictionary to units carrying ``pain_id``.

    Returns
    -------
    units : DataFrame
        With curated ``pain_id`` (None for units of pains marked as noise).
    labels : dict
        pain id -> label, renamed where the analyst said so.
    notes : dict
        pain id -> list of Russian notes on what was applied (for the «правка аналитика» column).
    """
    out = units.copy()
    notes: dict[str, list[str]] = {}
    for m in curation.move:
        key = "unit_id" if "unit_id" in m else "response_id"
        mask = out[key].astype(str) == str(m[key])
        if "from" in m:
            mask &= out["pain_id"] == str(m["from"])
        mask &= out["pain_id"].notna()
        if mask.any():
            for source in out.loc[mask, "pain_id"].unique():
                notes.setdefault(source, []).append(f"ответ {m[key]} перенесён в {m['to']}")
            out.loc[mask, "pain_id"] = str(m["to"])
            notes.setdefault(str(m["to"]), []).append(f"ответ {m[key]} перенесён сюда")
    for source in sorted(curation.merge):
        if (out["pain_id"] == source).any():
            notes.setdefault(curation.final(source), []).append(f"объединена с {source}")
    out["pain_id"] = out["pain_id"].map(lambda p: curation.final(p) if isinstance(p, str) else p)
    out.loc[out["pain_id"].isin(curation.noise), "pain_id"] = None
    labels = dict(labels)
    for pain, name in curation.rename.items():
        if pain in labels:
            labels[pain] = name
            notes.setdefault(pain, []).append("переименована")
    return out, labels, notes


def check_register(register: pd.DataFrame, source: str = "") -> pd.DataFrame:
    """The register with its required columns, text values and no empty pain ids or measures."""
    missing = [c for c in ("pain_id", "measure") if c not in register.columns]
    if missing:
        raise CurationError(f"{source}: the measures register lacks column(s) {missing}; "
                            f"expected {', '.join(REGISTER_COLUMNS)} (and optionally group)")
    out = register.copy()
    for c in (*REGISTER_COLUMNS, "group"):
        if c not in out.columns:
            out[c] = ""
        out[c] = out[c].fillna("").astype(str).str.strip()
    empty = out.index[(out["pain_id"] == "") | (out["measure"] == "")]
    if len(empty):
        raise CurationError(f"{source}: rows {[int(i) + 2 for i in empty[:10]]} have no pain_id or measure")
    return out


def merge_measures(table: pd.DataFrame, register: pd.DataFrame | None) -> pd.DataFrame:
    """Put the register's measures (with owner, deadline, status) before the catalogue's suggestions.

    ``table`` needs ``pain_id``, ``group`` and ``measures`` (the suggestions, ``; ``-joined).
    Adds ``measures`` (merged) and ``in_register`` (number of register rows shown).
    """
    out = table.copy()
    register = register if register is not None else pd.DataFrame(columns=[*REGISTER_COLUMNS, "group"])
    merged, counts = [], []
    for pain, group, suggested in out[["pain_id", "group"]].assign(s=out["measures"]).itertuples(index=False):
        rows = register[(register["pain_id"] == pain) & register["group"].isin(["", str(group)])]
        done = [_describe(r) for r in rows.itertuples(index=False)]
        named = set(rows["measure"].str.lower())
        extra = [s for s in str(suggested).split("; ") if s and s.lower() not in named]
        merged.append("; ".join(done + [f"{s} ({SUGGESTED})" for s in extra]))
        counts.append(len(done))
    out["measures"], out["in_register"] = merged, counts
    return out


def _describe(row) -> str:
    details = [x for x in (row.owner, f"до {row.deadline}" if row.deadline else "", row.status) if x]
    return f"{row.measure} ({', '.join(details)})" if details else row.measure


def register_draft(table: pd.DataFrame, register: pd.DataFrame | None) -> pd.DataFrame:
    """The register as it stands plus suggested rows for the map's pains it does not cover.

    Written beside the map for analysts to copy from; the register itself is never rewritten.
    """
    register = register if register is not None else pd.DataFrame(columns=[*REGISTER_COLUMNS, "group"])
    covered = set(register["pain_id"])
    rows = [{"pain_id": p, "group": g, "label": lab, "measure": m, "owner": "", "deadline": "", "status": SUGGESTED}
            for p, g, lab, ms in table[["pain_id", "group", "label", "suggested_measures"]].itertuples(index=False)
            if p not in covered for m in str(ms).split("; ") if m]
    return pd.concat([register.assign(label=register.get("label", "")), pd.DataFrame(rows)], ignore_index=True)
