"""The ``dask`` engine: the same pipeline on a Dask cluster (an edge module: reads and writes the
processed data from the workers).

- :func:`client` attaches to a scheduler (``--scheduler tcp://host:8786``) or starts a
  ``LocalCluster`` with one single-threaded worker process per core.
- :func:`update_units` preprocesses every out-of-date period: the records file is cut into tasks of
  ``partition_rows`` rows (read on the worker, row group by row group, so no process ever holds a
  whole period), each worker loads the NLP models once and writes its units to
  ``units/period=P/part-<k>.parquet``; the period directory is swapped in atomically when all tasks
  are done. Readers (``io.read_units``) take the parts in order, so the pain map and the reports
  read the result unchanged, and the units equal those of the local engine row for row.
- :func:`classify` writes the unit kinds of a period as partitioned Parquet, one task per units part.
- :func:`embed` embeds the texts a cache lacks on the cluster, chunk by chunk.
- :func:`fit_sample_assign` fits topics on a stratified sample and assigns every document on the
  cluster (nearest topic centroid); ``benchmarks/scale.py`` measures what this costs against a full fit.

The processed directory must be on a filesystem every worker sees (a shared disk or NFS mount).
"""
from __future__ import annotations

import math
import os
import shutil
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from . import io

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
                           dashboard_address=None, memory_limit=0)
    return Client(cluster)


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
    return io.write_units(frames, target, units_arrow_schema(kind, cfg), meta)


def update_units(processed: Path, kinds, cfg, *, dask_client, force: bool = False, partition_rows: int = 2000,
                 echo: Callable[[str], None] = print) -> None:
    """Preprocess every out-of-date period (``prepjob.stale_periods``) on the cluster."""
    import pyarrow.parquet as pq

    from .prepjob import stale_periods

    for kind, period, source, target, meta in stale_periods(processed, kinds, cfg, force=force, echo=echo):
        meta["records"] = pq.ParquetFile(source).metadata.num_rows
        staging = target.parent.parent / f".{target.parent.name}.tmp-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        tasks, k = [], 0
        metadata = pq.ParquetFile(source).metadata
        for rg in range(metadata.num_row_groups):
            for b in range(math.ceil(metadata.row_group(rg).num_rows / partition_rows)):
                tasks.append(dask_client.submit(_units_task, str(source), rg, b, partition_rows, cfg, kind,
                                                str(staging / f"part-{k}.parquet"), meta, pure=False))
                k += 1
        try:
            rows = sum(dask_client.gather(tasks))
            io.swap_dir(staging, target.parent)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        echo(f"{target.parent}: {rows} units written from {meta['records']} records in {k} parts (dask)")


def _kinds_task(source: str, target: str, rules) -> int:
    from .pains import RuleClassifier, classify_units

    units = pd.read_parquet(source)
    kinds = classify_units(units, RuleClassifier(rules=rules).fit())
    io.write_parquet(kinds[["response_id", "unit_id", "kind", "negativity"]], target)
    return len(kinds)


def classify(processed: Path, kind: str, period: str, cfg, *, dask_client) -> Path:
    """Unit kinds and negativity of one period, one task per units part, written as
    ``<kind>/kinds/period=P/part-<k>.parquet``. Returns the directory."""
    parts = sorted(io.units_path(processed, kind, period).parent.glob("part-*.parquet"), key=io.part_number)
    out = Path(processed) / kind / "kinds" / f"period={period}"
    staging = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        futures = [dask_client.submit(_kinds_task, str(p), str(staging / p.name), cfg.pains, pure=False) for p in parts]
        dask_client.gather(futures)
        io.swap_dir(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def _transform_task(embedder, docs):
    return embedder.transform(docs)


def embed(embedder, docs, *, dask_client, store=None, chunk: int = 5000) -> np.ndarray:
    """``embeddings.embed`` with the unseen texts embedded on the cluster in chunks (the fitted
    embedder is broadcast once); the store, when given, is read and filled from this process."""
    from .embeddings import embed as local_embed

    shared = dask_client.scatter(embedder, broadcast=True)

    def distributed(texts):
        futures = [dask_client.submit(_transform_task, shared, texts[i:i + chunk], pure=False)
                   for i in range(0, len(texts), chunk)]
        return np.vstack(dask_client.gather(futures))

    return local_embed(embedder, list(docs), store, transform=distributed)


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
