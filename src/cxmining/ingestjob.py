"""Ingest an export into the processed dataset (an edge module: reads the export, writes records,
quarantine and the ingest log).

Both engines (:func:`ingest` here, ``daskengine.ingest`` on a cluster) run the same steps:

1. map the export's headers (``io.map_columns``) and check every row (``validate``), without
   settling repeated ids yet (:func:`check_rows`);
2. settle repeated ids over the whole file and the stored data with ``validate.resolve_ids``;
3. write the new rows under ``<kind>/records/period=P/``, every quarantined row once (with all its
   reasons and its line in the file) to ``<kind>/quarantine/<file>-<sha8>.csv``, and a line to
   ``<kind>/ingest_log.csv``.

Every input row is counted exactly once: accepted, already present, identical duplicate in the
file, or quarantined.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from . import io, store
from .config import Config
from .schema import ID_COLUMN, arrow_schema
from .validate import CONFLICT_IN_FILE, CONFLICT_STORED, REASON, open_columns, resolve_ids, validate_external, \
    validate_internal


@dataclass(frozen=True)
class IngestResult:
    source: str
    kind: str
    accepted: int
    already_present: int
    duplicates_in_file: int
    quarantined: int
    quarantine_path: Path | None
    periods: tuple[str, ...]
    ignored_columns: tuple[str, ...]


def check_kind(kind: str) -> str:
    if kind not in ID_COLUMN:
        raise io.InputError(f"unknown kind {kind!r}; use external or internal")
    return ID_COLUMN[kind]


def check_rows(raw: pd.DataFrame, kind: str, config: Config, source: Path, *, period: str | None = None,
               today: date | None = None):
    """Map and validate raw rows (labelled by their row in the file).

    Returns ``records`` (rows passing every row check, with ``_row``), ``rejected`` (reason and id
    per failing row), ``keys`` (id, content hash, ``_row`` and ``bad`` of every row: the input of
    ``validate.resolve_ids``) and the ignored headers.
    """
    mapped, ignored = io.map_columns(raw, kind, config, source=str(source))
    if kind == "external":
        records, rejected, _ = validate_external(mapped, config, source=source.name, today=today, dedupe=False)
    else:
        records, rejected, _ = validate_internal(mapped, config, source=source.name, period=period, dedupe=False)
    id_col = ID_COLUMN[kind]
    keys = pd.concat([
        pd.DataFrame({id_col: records[id_col].astype(object).to_numpy(), "row_hash": records["row_hash"].astype(object).to_numpy(),
                      "_row": records["_row"].to_numpy(), "bad": False}),
        pd.DataFrame({id_col: rejected[id_col].astype(object).to_numpy(), "row_hash": None,
                      "_row": rejected.index.to_numpy(dtype="int64"), "bad": True}),
    ], ignore_index=True)
    return records, rejected, keys, ignored


def settle(records, rejected, raw, decided: pd.DataFrame, id_col: str):
    """Apply decisions (``resolve_ids`` output indexed by ``_row``) to one chunk.

    Returns the new records (without ``_row``), the quarantined raw rows (each once, reasons
    joined, ``source_row`` = line in the file, header being line 1) and counts.
    """
    status = decided["status"].reindex(records["_row"]).to_numpy()
    new = records[status == "new"].drop(columns="_row")
    reasons: dict[int, list[str]] = {int(r): [reason] for r, reason in rejected[REASON].items()}
    for r in decided.index[decided["status"] == "conflict"]:
        reasons.setdefault(int(r), []).append(CONFLICT_IN_FILE.format(id_col=id_col))
    for r in decided.index[decided["stored_conflict"]]:
        reasons.setdefault(int(r), []).append(CONFLICT_STORED.format(id_col=id_col))
    labels = sorted(reasons)
    bad_rows = raw.loc[labels].astype(object)
    bad_rows.insert(0, REASON, ["; ".join(reasons[r]) for r in labels])
    bad_rows.insert(1, "source_row", [r + 2 for r in labels])
    counts = {"accepted": len(new),
              "already_present": int((decided["status"] == "present").sum()),
              "duplicates_in_file": int(((decided["status"] == "duplicate") & ~decided["stored_conflict"]).sum()),
              "quarantined": len(labels)}
    return new, bad_rows, counts


def write_new(new: pd.DataFrame, kind: str, config: Config, target) -> None:
    """Write the new rows of each period, in the records schema and sorted by id, to
    ``target(period, rows)`` (the path to write; the local engine merges the stored part into the
    rows it is given)."""
    extra_open = tuple(c for c in open_columns(new, config) if c not in [q.key for q in config.survey.open_answers])
    schema = arrow_schema(kind, config, extra_open)
    for p, part in new.groupby("period", sort=True):
        path, rows = target(p, part)
        io.write_parquet(rows.reindex(columns=schema.names).sort_values(ID_COLUMN[kind], kind="stable"), path,
                         schema=schema)


def quarantine_name(processed, kind: str, path: Path) -> Path:
    return Path(processed) / kind / "quarantine" / f"{path.stem}-{io.file_digest(path)[:8]}.csv"


def ingest(path: str | Path, kind: str, config: Config, processed: str | Path = store.DEFAULT_PROCESSED,
           period: str | None = None, encoding: str | None = None, today: date | None = None) -> IngestResult:
    """Validate an export and add its new rows to the processed dataset (in this process).

    Idempotent: rows whose id is already stored with the same content are counted as
    ``already_present``; an id stored with different content is quarantined. Everything is
    validated before the first write, and every file is replaced atomically.
    """
    id_col = check_kind(kind)
    path = Path(path)
    raw = io.read_table(path, encoding)
    records, rejected, keys, ignored = check_rows(raw, kind, config, path, period=period, today=today)
    stored = store.read_records(processed, kind, columns=[id_col, "row_hash"])
    keys["stored_hash"] = keys[id_col].map(dict(zip(stored[id_col], stored["row_hash"])) if len(stored) else {})
    decided = resolve_ids(keys, id_col).set_index(keys["_row"])
    new, bad_rows, counts = settle(records, rejected, raw, decided, id_col)

    qpath = quarantine_name(processed, kind, path)
    if len(bad_rows):
        io.write_csv(bad_rows, qpath)
    elif qpath.exists():
        qpath.unlink()

    def merged(p, part):
        path = store.records_path(processed, kind, p)
        return path, pd.concat([pd.read_parquet(path), part], ignore_index=True) if path.exists() else part

    write_new(new, kind, config, merged)
    return finish(path, kind, processed, counts, qpath if len(bad_rows) else None,
                  tuple(sorted(new["period"].unique())), tuple(ignored))


def finish(path: Path, kind: str, processed, counts: dict, quarantine: Path | None, periods, ignored) -> IngestResult:
    """The result of a run, also appended to ``<kind>/ingest_log.csv``."""
    result = IngestResult(str(path), kind, counts["accepted"], counts["already_present"],
                          counts["duplicates_in_file"], counts["quarantined"], quarantine, tuple(periods), tuple(ignored))
    row = pd.DataFrame([{
        "ingested_at": datetime.now().isoformat(timespec="seconds"), "source": result.source,
        "accepted": result.accepted, "already_present": result.already_present,
        "duplicates_in_file": result.duplicates_in_file, "quarantined": result.quarantined,
        "periods": " ".join(result.periods),
    }])
    log = Path(processed) / kind / "ingest_log.csv"
    if log.exists():
        row = pd.concat([pd.read_csv(log, dtype=str), row.astype(str)], ignore_index=True)
    io.write_csv(row, log)
    return result
