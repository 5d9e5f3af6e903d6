"""Scale-out on Dask: ingest and preprocessing of >= 300,000 answers, 1 vs 2 workers, and topics at scale.

    .venv/bin/python benchmarks/scale.py [--n 300000] [--slice 8000] [--skip-full] [--skip-preprocess]

Corpus: the 2,000 real appeals of ../shared/data/kursk_appeals_train.csv, ingested once
(`io.ingest`), then replicated into one period's records file with light perturbation (each copy
loses one random word; new ids), written in row groups of 10,000 rows.

1. Throughput with 1 and 2 workers (`LocalCluster`, single-threaded worker processes) on
   `--slice` answers in 16 tasks; the cluster's start-up and the one model load per worker are
   timed apart. Target: 2 workers >= 1.7x one.
2. The full corpus as one CSV export (the seed export's rows, perturbed the same way): ingested
   by the dask engine with 2 workers and, as the reference, by the local engine (one process
   reading the whole file), each with its wall time and peak RSS; then preprocessed from the
   dask-ingested records (in parts) with 2 workers (``--skip-preprocess`` leaves this out): wall
   time, answers/s, and the peak RSS of the whole process tree (client, scheduler, nannies,
   workers), sampled every 0.5 s. Target: completes with memory bounded (no process holds the
   corpus).
3. Topics at scale on the appeals replicated 5x (10,000 documents): a full fit against a fit on a
   stratified sample of 2,000 (by expert category) with distributed assignment: NMI / ARI between
   the two labelings and with the expert category, and the fit times.
"""
from __future__ import annotations

import argparse
import functools
import multiprocessing
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
KURSK = ROOT.parent / "shared" / "data" / "kursk_appeals_train.csv"
PERIOD = "2026Q3"
print = functools.partial(print, flush=True)  # progress shows while the long run goes on


class PeakRSS:
    """Peak of the summed RSS of this process and all its descendants (``peak``), and the peak RSS
    of the largest single process among them (``largest``)."""

    def __enter__(self):
        import psutil

        self.peak, self.largest, self._stop = 0, 0, threading.Event()
        me = psutil.Process()

        def watch():
            while not self._stop.is_set():
                total = 0
                for p in [me, *me.children(recursive=True)]:
                    try:
                        rss = p.memory_info().rss
                    except psutil.Error:
                        continue
                    total += rss
                    self.largest = max(self.largest, rss)
                self.peak = max(self.peak, total)
                time.sleep(0.5)

        self._thread = threading.Thread(target=watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def seed_export() -> pd.DataFrame:
    appeals = pd.read_csv(KURSK)
    return pd.DataFrame({"Номер обращения": "K" + appeals["id"].astype(str), "Дата обращения": "15.08.2026 10:00",
                         "Процесс": appeals["executor"].fillna("—"), "Текст обращения": appeals["text"]})


def _perturb(texts: pd.Series, rng: np.random.Generator) -> list[str]:
    words = texts.str.split()
    drop = [int(rng.integers(len(w))) if len(w) > 3 else -1 for w in words]
    return [" ".join(w[:d] + w[d + 1:]) if d >= 0 else " ".join(w) for w, d in zip(words, drop)]


def replicate_export(export: pd.DataFrame, path: Path, n: int, rng: np.random.Generator) -> int:
    """Write ``n`` rows of ``export`` (perturbed, new ids) as one CSV export, 10,000 rows at a time."""
    written = 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        while written < n:
            take = export.sample(n=min(10_000, n - written), replace=True, random_state=int(rng.integers(1 << 31)))
            take = take.assign(**{"Текст обращения": _perturb(take["Текст обращения"], rng),
                                  "Номер обращения": [f"S{written + i:07d}" for i in range(len(take))]})
            take.to_csv(fh, sep=";", index=False, header=written == 0)
            written += len(take)
    return written


def ingest_both(export: Path, cfg, tmp: Path) -> Path:
    """Ingest ``export`` with the dask engine (2 workers) and the local one; print both; return the
    dask-ingested processed directory."""
    from cxmining import daskengine, ingestjob

    rows = {}
    for engine in ("dask", "local"):
        processed = tmp / f"ingest-{engine}"
        with PeakRSS() as peak:
            start = time.perf_counter()
            if engine == "dask":
                with daskengine.session(n_workers=2) as client:
                    ready = time.perf_counter()
                    result = daskengine.ingest(export, "external", cfg, processed, dask_client=client, echo=lambda s: None)
            else:  # in a child process: this one must not keep the whole file's memory for what follows
                ready = start
                with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                    result = pool.submit(ingestjob.ingest, export, "external", cfg, processed=processed).result()
            seconds = time.perf_counter() - ready
        rows[engine] = (result.accepted, result.quarantined)
        print(f"ingest of {export.stat().st_size / 2**20:,.0f} MB CSV, {engine:>5} engine: {seconds:6.1f} s "
              f"({result.accepted:,} accepted, {result.quarantined} quarantined), peak RSS of the process tree "
              f"{peak.peak / 2**20:,.0f} MB, of its largest process {peak.largest / 2**20:,.0f} MB")
    print(f"  same counts from both engines: {rows['dask'] == rows['local']}")
    shutil.rmtree(tmp / "ingest-local")
    return tmp / "ingest-dask"


def seed_records(tmp: Path, cfg) -> Path:
    from cxmining import ingestjob, store

    seed_export().to_csv(tmp / "kursk.csv", sep=";", index=False)
    ingestjob.ingest(tmp / "kursk.csv", "external", cfg, processed=tmp / "seed")
    return store.records_path(tmp / "seed", "external", PERIOD)


def replicate(seed: Path, processed: Path, n: int, rng: np.random.Generator) -> int:
    """Write ``n`` records (the seed's, perturbed) as the period's records file, 10,000 rows per group."""
    from cxmining import store

    base = pd.read_parquet(seed)
    target = store.records_path(processed, "external", PERIOD)
    target.parent.mkdir(parents=True, exist_ok=True)
    schema = pa.Schema.from_pandas(base, preserve_index=False)
    written = 0
    with pq.ParquetWriter(target, schema) as writer:
        while written < n:
            take = base.sample(n=min(10_000, n - written), replace=True, random_state=int(rng.integers(1 << 31)))
            take = take.assign(text=_perturb(take["text"], rng), response_id=[f"S{written + i:07d}" for i in range(len(take))])
            writer.write_table(pa.Table.from_pandas(take, schema=schema, preserve_index=False))
            written += len(take)
    return written


def run(processed: Path, cfg, workers: int, partition_rows: int):
    """(seconds of processing, seconds of start-up, peak MB of the tree, peak MB of its largest
    process): start-up = the cluster starting and every worker loading the models once, timed
    apart from the throughput."""
    from cxmining import daskengine

    with PeakRSS() as peak:
        start = time.perf_counter()
        client = daskengine.client(n_workers=workers)
        try:
            client.run(daskengine.warm, cfg)
            ready = time.perf_counter()
            daskengine.update_units(processed, ("external",), cfg, dask_client=client, force=True,
                                    partition_rows=partition_rows, echo=lambda s: None)
            seconds = time.perf_counter() - ready
        finally:
            client.close()
            client.cluster.close()
    return seconds, ready - start, peak.peak / 2**20, peak.largest / 2**20


def topics_at_scale(cfg, client) -> None:
    from cxmining import daskengine
    from cxmining.preprocess import preprocess_frame
    from cxmining.topics import TopicModel, agreement

    appeals = pd.read_csv(KURSK)
    records = pd.DataFrame({"response_id": appeals["id"].astype(str), "text": appeals["text"], "period": "-"})
    units = preprocess_frame(records, cfg, n_workers=2)
    docs = units.groupby("response_id", sort=False)["analysis_text"].agg(" ".join).reindex(records["response_id"]).fillna("")
    rng = np.random.default_rng(0)
    rows = []
    for copy in range(5):
        for d, c in zip(docs, appeals["category"]):
            w = d.split()
            if copy and len(w) > 3:
                del w[int(rng.integers(len(w)))]
            rows.append((" ".join(w), c))
    corpus = pd.DataFrame(rows, columns=["doc", "category"])
    settings = cfg.topics.model_settings()
    start = time.perf_counter()
    full = TopicModel(**settings, seed=0).fit(corpus["doc"].tolist())
    t_full = time.perf_counter() - start
    start = time.perf_counter()
    _, scaled = daskengine.fit_sample_assign(corpus["doc"].tolist(), corpus["doc"].tolist(), corpus["category"], settings,
                                             dask_client=client, sample=2000, chunk=2500)
    t_scaled = time.perf_counter() - start
    between = agreement(scaled, full.labels_)
    print(f"\ntopics on {len(corpus):,} documents (Kursk x5): full fit {t_full:.1f} s; "
          f"stratified sample of 2,000 + distributed assignment {t_scaled:.1f} s")
    print(f"  scaled vs full: NMI {between['nmi']:.3f}, ARI {between['ari']:.3f}")
    for name, labels in (("full", full.labels_), ("scaled", scaled)):
        a = agreement(labels, corpus["category"])
        print(f"  {name:<6} vs expert category: NMI {a['nmi']:.3f}, ARI {a['ari']:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300_000)
    ap.add_argument("--slice", type=int, default=8000)
    ap.add_argument("--partition-rows", type=int, default=2000)
    ap.add_argument("--skip-full", action="store_true", help="only the 1-vs-2-worker slice and topics")
    ap.add_argument("--skip-preprocess", action="store_true", help="full corpus: ingest only")
    args = ap.parse_args()
    from cxmining import daskengine, store
    from cxmining.config import load_config

    if not KURSK.exists():
        sys.exit(f"{KURSK}: not found (the benchmark needs the shared Kursk appeals)")
    cfg = load_config()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        seed = seed_records(tmp, cfg)
        small = tmp / "small"
        replicate(seed, small, args.slice, rng)
        times = {}
        for workers in (1, 2):  # 16 tasks, so that two workers share them evenly
            seconds, startup, peak, _ = run(small, cfg, workers, max(100, args.slice // 16))
            times[workers] = seconds
            print(f"{args.slice:,} answers, {workers} worker(s): {seconds:6.1f} s, {args.slice / seconds:6.1f} answers/s "
                  f"(+ {startup:.1f} s start-up and model loading); peak RSS of the process tree {peak:,.0f} MB")
        print(f"  speed-up 2 vs 1 worker: {times[1] / times[2]:.2f}x (target >= 1.7x)")
        shutil.rmtree(small)
        if not args.skip_full:
            export = tmp / "export.csv"
            n = replicate_export(seed_export(), export, args.n, rng)
            big = ingest_both(export, cfg, tmp)
            export.unlink()
            if not args.skip_preprocess:
                seconds, startup, peak, largest = run(big, cfg, 2, args.partition_rows)
                units = store.units_rows(big, "external", PERIOD)
                size = sum(f.stat().st_size for f in store.records_files(big, "external", PERIOD))
                print(f"{n:,} answers, 2 workers: {seconds:.0f} s, {n / seconds:.1f} answers/s, {units:,} units; "
                      f"peak RSS of the process tree {peak:,.0f} MB, of its largest process {largest:,.0f} MB "
                      f"(target: bounded — the records are {size / 2**20:,.0f} MB on disk)")
            shutil.rmtree(big)
        client = daskengine.client(n_workers=2)
        try:
            topics_at_scale(cfg, client)
        finally:
            client.close()
            client.cluster.close()


if __name__ == "__main__":
    main()
