"""Bring the units tables up to date (an edge module: reads records, writes units)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable

from . import io, store


def stale_periods(processed: Path, kinds, cfg, *, force: bool = False, echo: Callable[[str], None] = print):
    """Yield ``(kind, period, records parts, units file, provenance)`` of every period whose units are
    missing or out of date: the units file records the digest of its records parts, the fingerprint
    of the ``text`` configuration section (the only one the text pipeline reads) and the pipeline
    version; a period is recomputed when any differs, or with ``force``. Both engines use this."""
    from . import preprocess as pp

    for kind in kinds:
        for period in store.list_periods(processed, kind):
            sources = store.records_files(processed, kind, period)
            target = store.units_path(processed, kind, period)
            meta = {"records_sha256": store.records_digest(processed, kind, period), "config": cfg.section_fingerprint("text"),
                    "pipeline_version": pp.PIPELINE_VERSION, "kind": kind, "period": period}
            old = store.units_metadata(target)
            if not force and old is not None and all(old.get(k) == v for k, v in meta.items()):
                echo(f"{target.parent}: up to date ({store.units_rows(processed, kind, period)} units)")
                continue
            yield kind, period, sources, target, meta


def update_units(processed: Path, kinds, cfg, *, workers: int = 2, force: bool = False,
                 echo: Callable[[str], None] = print) -> None:
    """Preprocess every out-of-date period (:func:`stale_periods`) with a local process pool;
    one pool of workers serves all periods."""
    from . import preprocess as pp
    from .schema import units_arrow_schema

    pool = None
    try:
        for kind, period, _, target, meta in stale_periods(processed, kinds, cfg, force=force, echo=echo):
            if pool is None and workers > 1:
                pool = pp.worker_pool(cfg, workers)
            records = store.read_records(processed, kind, periods=[period])
            frames = pp.iter_unit_frames(records, cfg, kind=kind, n_workers=workers, pool=pool)
            meta["records"] = len(records)
            # Written beside the period's directory and swapped in whole: parts left by the
            # dask engine go with the old directory.
            staging = target.parent.parent / f".{target.parent.name}.tmp-{os.getpid()}"
            shutil.rmtree(staging, ignore_errors=True)
            try:
                rows = store.write_units(frames, staging / target.name, units_arrow_schema(kind, cfg), meta)
                io.swap_dir(staging, target.parent)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            echo(f"{target}: {rows} units written from {len(records)} records")
    finally:
        if pool is not None:
            pool.shutdown()
