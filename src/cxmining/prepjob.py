"""Bring the units tables up to date (an edge module: reads records, writes units)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pandas as pd

from . import io


def update_units(processed: Path, kinds, cfg, *, workers: int = 2, force: bool = False,
                 echo: Callable[[str], None] = print) -> None:
    """Preprocess every stored period whose units file is missing or out of date.

    A units file records the digest of its records file, the fingerprint of the configuration's
    ``text`` section (the only one the text pipeline reads) and the pipeline version; a period is
    recomputed when any of them differs (or with ``force``). One pool of workers serves all periods.
    """
    from . import preprocess as pp
    from .schema import units_arrow_schema

    pool = None
    try:
        for kind in kinds:
            for period in io.list_periods(processed, kind):
                source = io.records_path(processed, kind, period)
                target = io.units_path(processed, kind, period)
                meta = {"records_sha256": io.file_digest(source), "config": cfg.section_fingerprint("text"),
                        "pipeline_version": pp.PIPELINE_VERSION, "kind": kind, "period": period}
                old = io.units_metadata(target)
                if not force and old is not None and all(old.get(k) == v for k, v in meta.items()):
                    echo(f"{target}: up to date ({io.parquet_rows(target)} units)")
                    continue
                if pool is None and workers > 1:
                    pool = pp.worker_pool(cfg, workers)
                records = pd.read_parquet(source)
                frames = pp.iter_unit_frames(records, cfg, kind=kind, n_workers=workers, pool=pool)
                meta["records"] = len(records)
                rows = io.write_units(frames, target, units_arrow_schema(kind, cfg), meta)
                echo(f"{target}: {rows} units written from {len(records)} records")
    finally:
        if pool is not None:
            pool.shutdown()
