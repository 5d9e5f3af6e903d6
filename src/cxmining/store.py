"""The processed directory (default ``data/processed``): partitioned Parquet datasets, their
digests for caches, and the embedding cache.

Layout::

    <kind>/records/period=2026Q3/part-<k>.parquet validated records: part-0 from the local ingest
                                                  engine, part-1... from dask ingest runs
    <kind>/units/period=2026Q3/part-<k>.parquet   analysed units (part-0 carries the provenance)
    <kind>/quarantine/<file>-<sha8>.csv           rejected rows of one source file, with reasons
    <kind>/ingest_log.csv                         one line per ingest run
    embeddings/<back-end key>/part-<n>.npz        cached embeddings (text hashes + vectors)
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .io import InputError, atomic_path, file_digest

DEFAULT_PROCESSED = Path("data/processed")


def records_dir(processed: str | Path, kind: str) -> Path:
    return Path(processed) / kind / "records"


def read_records(processed: str | Path = DEFAULT_PROCESSED, kind: str = "external",
                 periods: list[str] | None = None, columns: list[str] | None = None) -> pd.DataFrame:
    """Read stored records of one kind (optionally some periods / columns) as one DataFrame."""
    return _read_partitions(records_dir(processed, kind), periods, columns)


def part_number(path: Path) -> int:
    """The k of ``part-k.parquet`` (parts are read in this order, not in name order: part-10 after part-9)."""
    tail = Path(path).stem.split("-", 1)[-1]
    return int(tail) if tail.isdigit() else 1 << 30


def _read_partitions(root: Path, periods: list[str] | None, columns: list[str] | None) -> pd.DataFrame:
    """Concatenate ``root/period=*/part-*.parquet`` (optionally some periods / columns), in order."""
    files = sorted(root.glob("period=*/part-*.parquet"), key=lambda f: (f.parent.name, part_number(f)))
    if periods is not None:
        files = [f for f in files if f.parent.name.split("=", 1)[1] in set(periods)]
    if not files:
        return pd.DataFrame(columns=columns or [])
    return pd.concat([pd.read_parquet(f, columns=columns) for f in files], ignore_index=True)


def list_periods(processed: str | Path = DEFAULT_PROCESSED, kind: str = "external") -> list[str]:
    return sorted(p.name.split("=", 1)[1] for p in records_dir(processed, kind).glob("period=*") if p.is_dir())


def require_period(processed: str | Path, kind: str, period: str) -> list[str]:
    """The stored periods of ``kind``; an :class:`InputError` naming them when ``period`` is not one."""
    periods = list_periods(processed, kind)
    if period not in periods:
        what, fix = (("external records", "run ingest") if kind == "external"
                     else ("internal survey records", "run ingest --kind internal"))
        raise InputError(f"{processed}: no {what} for period {period!r}; periods: {', '.join(periods) or f'none ({fix})'}")
    return periods


# --------------------------------------------------------------------------------- units
UNITS_META_KEY = b"cxmining"


def units_path(processed: str | Path, kind: str, period: str) -> Path:
    """The first part of a period's units (it carries the provenance metadata; the dask engine
    writes more parts beside it)."""
    return Path(processed) / kind / "units" / f"period={period}" / "part-0.parquet"


def units_digest(processed: str | Path, kind: str, period: str) -> str:
    """Identity of a period's units for caches: their provenance (records digest, text
    configuration, pipeline version), whichever engine wrote them and in how many parts."""
    meta = units_metadata(units_path(processed, kind, period)) or {}
    keep = {k: meta.get(k) for k in ("records_sha256", "config", "pipeline_version", "kind", "period")}
    return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()


def units_rows(processed: str | Path, kind: str, period: str) -> int:
    return sum(parquet_rows(p) for p in units_path(processed, kind, period).parent.glob("part-*.parquet"))




def records_path(processed: str | Path, kind: str, period: str) -> Path:
    """The part the local ingest engine writes (``part-0``)."""
    return records_dir(processed, kind) / f"period={period}" / "part-0.parquet"


def records_files(processed: str | Path, kind: str, period: str) -> list[Path]:
    """A period's records parts in reading order (part-0, part-1, ..., part-10)."""
    return sorted((records_dir(processed, kind) / f"period={period}").glob("part-*.parquet"), key=part_number)


def records_digest(processed: str | Path, kind: str, period: str) -> str:
    """Identity of a period's records: the file digest of a single ``part-0`` (as before parts
    existed, so caches built then stay valid), otherwise a digest over every part's."""
    files = records_files(processed, kind, period)
    if [f.name for f in files] == ["part-0.parquet"]:
        return file_digest(files[0])
    return hashlib.sha256(json.dumps([[f.name, file_digest(f)] for f in files]).encode()).hexdigest()


def next_part(root: str | Path) -> int:
    """The first part number above every ``period=*/part-<k>.parquet`` under ``root`` (at least 1:
    ``part-0`` belongs to the local engine)."""
    return 1 + max([0] + [part_number(f) for f in Path(root).glob("period=*/part-*.parquet")])




def parquet_rows(path: str | Path) -> int:
    return pq.read_metadata(path).num_rows


def units_metadata(path: str | Path) -> dict | None:
    """The provenance stored in a units file (records digest, configuration, pipeline version)."""
    path = Path(path)
    if not path.exists():
        return None
    meta = pq.read_schema(path).metadata or {}
    raw = meta.get(UNITS_META_KEY)
    return json.loads(raw) if raw else None


def write_units(frames, path: str | Path, schema: pa.Schema, metadata: dict) -> int:
    """Stream units DataFrames into one Parquet file (a row group per frame), atomically.

    Returns the number of rows written. ``metadata`` is stored in the file's schema so a later
    run can tell whether the file is up to date.
    """
    schema = schema.with_metadata({UNITS_META_KEY: json.dumps(metadata, ensure_ascii=False).encode("utf-8")})
    rows = 0
    with atomic_path(path) as tmp:
        with pq.ParquetWriter(tmp, schema) as writer:
            for frame in frames:
                writer.write_table(_to_table(frame, schema))
                rows += len(frame)
    return rows


def _to_table(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """``frame`` as a table of ``schema``; columns the frame lacks become typed nulls."""
    present = [f for f in schema if f.name in frame.columns]
    table = pa.Table.from_pandas(frame[[f.name for f in present]], schema=pa.schema(present), preserve_index=False)
    arrays = [table.column(f.name) if f.name in frame.columns else pa.nulls(len(frame), f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema.remove_metadata()).replace_schema_metadata(schema.metadata)


def read_units(processed: str | Path = DEFAULT_PROCESSED, kind: str = "external",
               periods: list[str] | None = None, columns: list[str] | None = None) -> pd.DataFrame:
    """Read the units table of one kind (optionally some periods / columns)."""
    return _read_partitions(Path(processed) / kind / "units", periods, columns)


# --------------------------------------------------------------------------------- embeddings
class EmbeddingStore:
    """Embeddings cached on disk: ``<root>/<back-end key>/part-<n>.npz`` (text hashes + vectors).

    ``get`` returns the known vectors of some text hashes; ``put`` adds a part atomically, so an
    interrupted run leaves only whole parts. Default root: ``data/processed/embeddings``.
    """

    def __init__(self, root: str | Path = DEFAULT_PROCESSED / "embeddings"):
        self.root = Path(root)
        self._loaded: dict[str, dict] = {}

    def _load(self, key: str) -> dict:
        if key not in self._loaded:
            table: dict = {}
            for part in sorted((self.root / key).glob("part-*.npz")):
                with np.load(part, allow_pickle=False) as blob:
                    table.update(zip(blob["keys"].tolist(), blob["vectors"]))
            self._loaded[key] = table
        return self._loaded[key]

    def get(self, key: str, hashes) -> dict:
        table = self._load(key)
        return {h: table[h] for h in hashes if h in table}

    def put(self, key: str, hashes, vectors) -> None:
        folder = self.root / key
        n = len(list(folder.glob("part-*.npz"))) if folder.exists() else 0
        with atomic_path(folder / f"part-{n:05d}.npz") as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, keys=np.asarray(list(hashes)), vectors=np.asarray(vectors, dtype=np.float32))
        self._load(key).update(zip(hashes, vectors))
