"""The ``dask`` engine: the same pipeline on a Dask cluster (an edge module: reads and writes the
processed data from the workers).

- :func:`client` attaches to a scheduler (``--scheduler tcp://host:8786``) or starts a
  ``LocalCluster`` with one single-threaded worker process per core.
- :func:`ingest` validates an export on the workers: this process streams the file into chunks of
  ``partition_rows`` rows (CSV and Parquet are never held whole); each chunk is mapped and checked
  on a worker; repeated ids are settled over the whole file and the stored records by a Dask
  DataFrame shuffle on the id (``validate.resolve_ids``, the rule of the local engine); each chunk
  then writes its new rows as ``records/period=P/part-<k>.parquet`` and its quarantined rows.
- :func:`update_units` preprocesses every out-of-date period: the records parts are cut into tasks of
  ``partition_rows`` rows (read on the worker, row group by row group, so no process ever holds a
  whole period), each worker loads the NLP models once and writes its units to
  ``units/period=P/part-<k>.parquet``; the period directory is swapped in atomically when all tasks
  are done. Readers (``store.read_units``) take the parts in order, so the pain map and the reports
  read the result unchanged, and the units equal those of the local engine row for row.
- :func:`classify` writes the unit kinds of a period as partitioned Parquet, one task per units part.
- :func:`embed` embeds the texts a cache lacks on the cluster, chunk by chunk (:func:`embed_on` gives
  the same to ``TopicModel.fit``; ``cxmining painmap --engine dask`` classifies and embeds on the
  cluster this way).
- :func:`fit_sample_assign` fits topics on a stratified sample and assigns every document on the
  cluster (nearest topic centroid); ``benchmarks/scale.py`` measures what this costs against a full fit.

The processed directory must be on a filesystem every worker sees (a shared disk or NFS mount).
"""
from __future__ import annotations

import logging
import math
import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from . import io, store

_PIPELINES: dict = {}  # per worker process: configuration fingerprint -> loaded TextPipeline


def client(scheduler: str | None = None, n_workers: int | None = None):
    """A ``distributed.Client``: attached to ``scheduler`` or to a new ``LocalCluster``."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - dask is a pinned dependency
        raise ImportError("the dask engine needs `dask` and `distributed` (pip install dask distributed)") from None
    if scheduler:
        return Client(scheduler)
    cluster = LocalCluster(n_workers=n_workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                           dashboard_address=":0", memory_limit=0,  # ":0": no clash on port 8787
                           # Task errors reach us as exceptions; what the cluster logs on its own
                           # (heartbeats cut off at shutdown) would bury a one-line error message.
                           silence_logs=logging.CRITICAL)
    return Client(cluster)


@contextmanager
def session(scheduler: str | None = None, n_workers: int | None = None):
    """:func:`client` for the length of a ``with`` block; a cluster it started is shut down after."""
    dask_client = client(scheduler, n_workers)
    try:
        yield dask_client
    finally:
        dask_client.close()
        if scheduler is None:
            dask_client.cluster.close()


def _pipeline(cfg):
    from .preprocess import TextPipeline

    key = cfg.fingerprint
    if key not in _PIPELINES:  # once per worker process, not per task
        _PIPELINES[key] = TextPipeline.load(cfg)
    return _PIPELINES[key]


def warm(cfg) -> bool:
    """Load the NLP models in this worker now (``client.run(warm, cfg)``), not on its first task."""
    _pipeline(cfg)
    return True


def _check_task(staging: str, part: int, kind: str, cfg, source: str, period, today) -> list[str]:
    """Map and check chunk ``part`` (rows stay on disk; only ignored headers come back)."""
    import pyarrow as pa

    from . import ingestjob

    root = Path(staging)
    raw = pd.read_pickle(root / "raw" / f"part-{part}.pkl")
    records, rejected, keys, ignored = ingestjob.check_rows(raw, kind, cfg, Path(source), period=period, today=today)
    records.to_pickle(root / "valid" / f"part-{part}.pkl")  # pickles keep every dtype exactly
    rejected.to_pickle(root / "rejected" / f"part-{part}.pkl")
    id_col = keys.columns[0]
    schema = pa.schema([(id_col, pa.string()), ("row_hash", pa.string()), ("_row", pa.int64()), ("bad", pa.bool_()),
                        ("part", pa.int64())])
    io.write_parquet(keys.assign(part=part), root / "keys" / f"part-{part}.parquet", schema=schema)
    return ignored


def _decide(frame: pd.DataFrame, id_col: str) -> pd.DataFrame:
    from .validate import resolve_ids

    out = resolve_ids(frame.reset_index(drop=True), id_col)
    return pd.DataFrame({"part": frame["part"].to_numpy(), "_row": frame["_row"].to_numpy(),
                         "status": pd.array(out["status"].astype(str), dtype="string"), "stored_conflict": out["stored_conflict"].to_numpy()})


def _settle_task(staging: str, part: int, kind: str, cfg, number: int) -> dict:
    """Chunk ``part``'s new rows -> ``records/period=P/part-<number>.parquet``; its quarantined rows
    -> ``quarantine/part-<part>.pkl``. Returns its counts and periods."""
    from . import ingestjob
    from .schema import ID_COLUMN

    root, id_col = Path(staging), ID_COLUMN[kind]
    raw = pd.read_pickle(root / "raw" / f"part-{part}.pkl")
    records = pd.read_pickle(root / "valid" / f"part-{part}.pkl")
    rejected = pd.read_pickle(root / "rejected" / f"part-{part}.pkl")
    where = root / "decisions" / f"part={part}"
    decided = pd.concat([pd.read_parquet(f) for f in sorted(where.glob("*.parquet"))], ignore_index=True) \
        if where.exists() else pd.DataFrame({"_row": [], "status": [], "stored_conflict": []})
    decided = decided.set_index(decided["_row"].astype("int64"))[["status", "stored_conflict"]].astype({"stored_conflict": bool})
    new, bad_rows, counts = ingestjob.settle(records, rejected, raw, decided, id_col)
    ingestjob.write_new(new, kind, cfg, lambda p, rows: (root / "records" / f"period={p}" / f"part-{number}.parquet", rows))
    if len(bad_rows):
        bad_rows.to_pickle(root / "quarantine" / f"part-{part}.pkl")
    return {**counts, "periods": sorted(new["period"].unique())}


def check_header(path, kind: str, cfg, encoding: str | None = None) -> None:
    """An :class:`io.InputError` now if the export's headers cannot be mapped: the CLI calls this
    before it starts a cluster."""
    io.map_columns(next(io.iter_table(path, 1, encoding)), kind, cfg, source=str(path))


def ingest(path, kind: str, cfg, processed=store.DEFAULT_PROCESSED, *, dask_client, period: str | None = None,
           encoding: str | None = None, today=None, partition_rows: int = 50_000, echo: Callable[[str], None] = print):
    """``ingestjob.ingest`` on the cluster: the same records, quarantine and counts.

    New rows of run ``r`` land in ``records/period=P/part-<k>.parquet`` (numbers above every part
    already there); all parts of a run are moved in after every chunk has succeeded.
    """
    import dask.dataframe as dd

    from . import ingestjob

    id_col = ingestjob.check_kind(kind)
    path, processed = Path(path), Path(processed)
    existed = processed.exists()
    staging = processed / kind / f".ingest-{uuid.uuid4().hex[:12]}"
    try:
        for sub in ("raw", "valid", "rejected", "keys", "records", "quarantine"):
            (staging / sub).mkdir(parents=True, exist_ok=True)
        futures, rows = [], 0
        for k, chunk in enumerate(io.iter_table(path, partition_rows, encoding)):
            if k == 0:  # a missing column is reported before anything is sent to the cluster
                io.map_columns(chunk, kind, cfg, source=str(path))
            chunk.to_pickle(staging / "raw" / f"part-{k}.pkl")
            rows += len(chunk)
            futures.append(dask_client.submit(_check_task, str(staging), k, kind, cfg, str(path), period, today, pure=False))
        ignored = dask_client.gather(futures)[0]
        echo(f"{path}: {rows} rows checked in {len(futures)} chunks")

        keys = dd.read_parquet(str(staging / "keys"))
        stored = [str(f) for f in sorted(store.records_dir(processed, kind).glob("period=*/part-*.parquet"))]
        if stored:
            known = dd.read_parquet(stored, columns=[id_col, "row_hash"]).rename(columns={"row_hash": "stored_hash"})
            keys = keys.merge(known, on=id_col, how="left")
        else:
            keys = keys.assign(stored_hash=None)
        # Every row of an id in one partition: resolve_ids sees the whole file and the stored data.
        keys = keys.shuffle(on=id_col, npartitions=max(1, len(futures)))
        meta = pd.DataFrame({"part": pd.Series(dtype="int64"), "_row": pd.Series(dtype="int64"),
                             "status": pd.Series(dtype="string"), "stored_conflict": pd.Series(dtype=bool)})
        decided = keys.map_partitions(_decide, id_col, meta=meta)
        decided.to_parquet(str(staging / "decisions"), partition_on=["part"], write_index=False, compute=True)

        first = store.next_part(store.records_dir(processed, kind))
        results = dask_client.gather([dask_client.submit(_settle_task, str(staging), k, kind, cfg, first + k, pure=False)
                                      for k in range(len(futures))])
        for part in sorted((staging / "records").glob("period=*/part-*.parquet")):
            target = store.records_dir(processed, kind) / part.parent.name / part.name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(part, target)
        qpath = ingestjob.quarantine_name(processed, kind, path)
        chunks = sorted((staging / "quarantine").glob("part-*.pkl"), key=store.part_number)
        if chunks:
            with io.atomic_path(qpath) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
                for i, chunk in enumerate(chunks):  # chunk by chunk: the file is in line order already
                    pd.read_pickle(chunk).to_csv(fh, header=i == 0, index=False, lineterminator="\n")
        elif qpath.exists():
            qpath.unlink()
        counts = {key: sum(r[key] for r in results) for key in ("accepted", "already_present", "duplicates_in_file",
                                                                 "quarantined")}
        periods = sorted({p for r in results for p in r["periods"]})
        return ingestjob.finish(path, kind, processed, counts, qpath if chunks else None, periods, ignored)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if not existed:  # a run that failed before writing anything leaves no empty directories
            for d in (processed / kind, processed):
                if d.exists() and not any(d.iterdir()):
                    d.rmdir()


def _units_task(source: str, row_group: int, batch: int, rows: int, cfg, kind: str, target: str, meta: dict) -> int:
    """One task: ``rows`` records (batch ``batch`` of row group ``row_group``) -> one units part."""
    import pyarrow.parquet as pq

    from .preprocess import iter_unit_frames
    from .schema import units_arrow_schema

    records = None
    for i, part in enumerate(pq.ParquetFile(source).iter_batches(batch_size=rows, row_groups=[row_group])):
        if i == batch:
            records = part.to_pandas()
            break
    frames = iter_unit_frames(records, cfg, kind=kind, pipeline=_pipeline(cfg))
    return store.write_units(frames, target, units_arrow_schema(kind, cfg), meta)


def update_units(processed: Path, kinds, cfg, *, dask_client, force: bool = False, partition_rows: int = 2000,
                 echo: Callable[[str], None] = print) -> None:
    """Preprocess every out-of-date period (``prepjob.stale_periods``) on the cluster."""
    import pyarrow.parquet as pq

    from .prepjob import stale_periods

    for kind, period, sources, target, meta in stale_periods(processed, kinds, cfg, force=force, echo=echo):
        staging = target.parent.parent / f".{target.parent.name}.tmp-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        tasks, k, meta["records"] = [], 0, 0
        for source in sources:  # parts in reading order: units come out in the records' order
            metadata = pq.ParquetFile(source).metadata
            meta["records"] += metadata.num_rows
            for rg in range(metadata.num_row_groups):
                for b in range(math.ceil(metadata.row_group(rg).num_rows / partition_rows)):
                    tasks.append((str(source), rg, b, str(staging / f"part-{k}.parquet")))
                    k += 1
        futures = [dask_client.submit(_units_task, src, rg, b, partition_rows, cfg, kind, out, meta, pure=False)
                   for src, rg, b, out in tasks]
        try:
            rows = sum(dask_client.gather(futures))
            io.swap_dir(staging, target.parent)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        echo(f"{target.parent}: {rows} units written from {meta['records']} records in {k} parts (dask)")


def _kinds_task(source: str, target: str, classifier) -> int:
    from .pains import classify_units

    units = pd.read_parquet(source)
    kinds = classify_units(units, classifier)
    io.write_parquet(kinds[["response_id", "unit_id", "kind", "negativity", "evidence"]], target)
    return len(kinds)


def classify(processed: Path, kind: str, period: str, classifier, *, dask_client) -> Path:
    """Unit kinds and negativity of one period by ``classifier`` (``io.load_classifier``), one task
    per units part, written as ``<kind>/kinds/period=P/part-<k>.parquet``. Returns the directory."""
    parts = sorted(store.units_path(processed, kind, period).parent.glob("part-*.parquet"), key=store.part_number)
    out = Path(processed) / kind / "kinds" / f"period={period}"
    staging = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        futures = [dask_client.submit(_kinds_task, str(p), str(staging / p.name), classifier, pure=False) for p in parts]
        dask_client.gather(futures)
        io.swap_dir(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def _transform_task(embedder, docs):
    return embedder.transform(docs)


def embed_on(dask_client, chunk: int = 5000):
    """For ``TopicModel.fit(embed_on=...)``: given the fitted embedder, a function that embeds texts
    on the cluster in chunks (the embedder is broadcast once, on the first call)."""
    def bind(embedder):
        shared = []

        def distributed(texts):
            if not shared:
                shared.append(dask_client.scatter(embedder, broadcast=True))
            futures = [dask_client.submit(_transform_task, shared[0], texts[i:i + chunk], pure=False)
                       for i in range(0, len(texts), chunk)]
            return np.vstack(dask_client.gather(futures))
        return distributed
    return bind


def embed(embedder, docs, *, dask_client, store=None, chunk: int = 5000) -> np.ndarray:
    """``embeddings.embed`` with the unseen texts embedded on the cluster in chunks; the store, when
    given, is read and filled from this process."""
    from .embeddings import embed as local_embed

    return local_embed(embedder, list(docs), store, transform=embed_on(dask_client, chunk)(embedder))


def kinds_of(processed: Path, kind: str, period: str, classifier, *, dask_client) -> pd.DataFrame:
    """:func:`classify` of one period, read back (``response_id``, ``unit_id``, ``kind``, ``negativity``,
    ``evidence``)."""
    out = classify(processed, kind, period, classifier, dask_client=dask_client)
    parts = sorted(out.glob("part-*.parquet"), key=store.part_number)
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True) if parts else \
        pd.DataFrame(columns=["response_id", "unit_id", "kind", "negativity", "evidence"])


def _assign_task(model, docs, texts):
    return model.transform(docs, texts)


def fit_sample_assign(docs, texts, strata, settings: dict, *, dask_client, sample: int = 5000, chunk: int = 2000,
                      seed: int = 0):
    """Fit topics on a stratified sample (``sample`` documents, each stratum in proportion, at
    least one each) and assign all documents on the cluster. Returns (model, labels)."""
    from .topics import TopicModel

    frame = pd.DataFrame({"doc": list(docs), "text": list(texts), "stratum": list(strata)})
    if len(frame) <= sample:
        chosen = frame.index
    else:
        share = sample / len(frame)
        rng = np.random.default_rng(seed)
        chosen = np.sort(np.concatenate([
            rng.choice(idx.to_numpy(), size=max(1, round(len(idx) * share)), replace=False)
            for _, idx in frame.groupby("stratum", sort=True).groups.items()]))
    model = TopicModel(**settings, seed=seed).fit(frame.loc[chosen, "doc"].tolist(), frame.loc[chosen, "text"].tolist())
    shared = dask_client.scatter(model, broadcast=True)
    futures = [dask_client.submit(_assign_task, shared, frame["doc"].iloc[i:i + chunk].tolist(),
                                  frame["text"].iloc[i:i + chunk].tolist(), pure=False)
               for i in range(0, len(frame), chunk)]
    return model, np.concatenate(dask_client.gather(futures)) if futures else np.array([], dtype=int)
