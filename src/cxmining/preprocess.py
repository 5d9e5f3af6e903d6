"""The text pipeline: records → units (clean → strip boilerplate → mask → sentences → analysis → clauses).

:class:`TextPipeline` holds the models and turns texts into units; :func:`preprocess_frame`
does it for a records DataFrame (for notebooks); :func:`iter_unit_frames` streams chunks through
worker processes that load the models once each, for the CLI and large inputs. Nothing here
touches disk (``store.write_units`` does).

Units table, one row per unit (``UNIT_COLUMNS`` then the record's grouping columns):

* ``response_id`` — the answer (``respondent_id`` for the internal survey); ``field`` — the text
  column it came from (``text`` or an open-answer question);
* ``unit_id`` — ``<response_id>/<field>/<sentence>.<clause>``, unique and traceable;
* ``sent_idx``, ``clause_idx`` — position in the answer (0-based);
* ``text_masked`` — the unit's text, cleaned and masked (the only text that leaves ``data/raw``);
* ``tokens``, ``spaces``, ``pos``, ``morph``, ``lemmas`` — the analysis (``nlp.doc_from_columns``
  rebuilds a spaCy ``Doc`` from them); ``analysis_text`` — space-joined analysis tokens;
* ``pii`` — the personal-data types masked in the answer (e.g. ``name,phone``), answer-level.
"""
from __future__ import annotations

import multiprocessing as mp
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from typing import Iterable, Iterator, Sequence

import pandas as pd

from .clean import clean_text, strip_boilerplate
from .config import Config
from .privacy import Masker
from .schema import ID_COLUMN, UNIT_GROUPING, UNITS
from .units import clause_bounds, sentences
from .validate import open_columns

PIPELINE_VERSION = "1"  # bump when units change for the same input and configuration
UNIT_COLUMNS = [f.name for f in UNITS]
EMPTY_UNIT = {"tokens": [], "spaces": [], "pos": [], "morph": [], "lemmas": [], "analysis_text": "", "text_masked": "",
              "pii": ""}


class TextPipeline:
    """Texts → units. Build with :meth:`load` (models from natasha's wheel) or pass models in."""

    def __init__(self, config: Config, *, nlp, masker: Masker, batch_size: int = 64):
        self.config = config
        self.nlp = nlp
        self.masker = masker
        self.batch_size = batch_size

    @classmethod
    def load(cls, config: Config, *, ner: bool = True) -> "TextPipeline":
        """Load the spaCy pipeline, slovnet NER and pymorphy3 (once per process; cached)."""
        from .nlp import build_nlp, load_ner, load_pymorphy  # heavy: spaCy, natasha

        masker = Masker(config.text, ner=load_ner() if ner else None, morph=load_pymorphy())
        return cls(config, nlp=build_nlp(), masker=masker)

    def mask(self, texts: Sequence[str]) -> list[str]:
        """Cleaned, boilerplate-free, masked texts (what a report may quote)."""
        return [m for m, _ in self._masked(texts)]

    def _masked(self, texts: Sequence[str]) -> list[tuple[str, str]]:
        bodies = [strip_boilerplate(clean_text(t), self.config.text) for t in texts]
        spans = self.masker.find_many(bodies)
        return [(self.masker.apply(b, s), ",".join(sorted({x.type for x in s}))) for b, s in zip(bodies, spans)]

    def analyse(self, texts: Sequence[str]) -> pd.DataFrame:
        """Each text as exactly one unit (labelled units, short answers), in order; a text that is
        empty after cleaning (only a greeting) gives an empty unit, which classifies as «other»."""
        return pd.DataFrame([u[0] if u else dict(EMPTY_UNIT) for u in self.units(texts, split=False)])

    def units(self, texts: Sequence[str], split: bool = True) -> list[list[dict]]:
        """The units of each text, as dictionaries with the analysis columns of ``UNIT_COLUMNS``.

        With ``split=False`` each text is analysed as one unit (labelled units, short answers).
        """
        from .nlp import analysis_tokens

        masked = self._masked(texts)
        owners, sents = [], []
        for i, (text, _) in enumerate(masked):
            for j, sent in enumerate(sentences(text) if split else ([text.replace("\n", " ")] if text else [])):
                owners.append((i, j))
                sents.append(sent)
        out: list[list[dict]] = [[] for _ in texts]
        cfg = self.config.text
        for (i, j), doc in zip(owners, self.nlp.pipe(sents, batch_size=self.batch_size)):
            for k, (start, end) in enumerate(clause_bounds(doc, cfg) if split else [(0, len(doc))]):
                span = doc[start:end]
                lemmas = [t.lemma_ for t in span]
                pos = [t.pos_ for t in span]
                out[i].append({
                    "sent_idx": j, "clause_idx": k, "text_masked": span.text,
                    "tokens": [t.text for t in span], "spaces": [bool(t.whitespace_) for t in span],
                    "pos": pos, "morph": [str(t.morph) for t in span], "lemmas": lemmas,
                    "analysis_text": " ".join(analysis_tokens(lemmas, pos, cfg)), "pii": masked[i][1],
                })
        return out


def text_fields(records: pd.DataFrame, kind: str, config: Config) -> list[str]:
    """The text columns of a records table: ``text``, or the survey's open-answer columns."""
    return ["text"] if kind == "external" else open_columns(records, config)


def units_frame(records: pd.DataFrame, kind: str, config: Config, results: Iterable[list[list[dict]]]) -> pd.DataFrame:
    """Assemble the units table of ``records`` from per-field results of :meth:`TextPipeline.units`."""
    id_col = ID_COLUMN[kind]
    grouping = [c for c in UNIT_GROUPING[kind] if c in records.columns]
    fields = text_fields(records, kind, config)
    results = list(results)
    rows = []
    # Answer by answer, then field by field, then in text order.
    for r, (_, rec) in enumerate(records.iterrows()):
        rid = str(rec[id_col])
        for field, per_text in zip(fields, results):
            for u in per_text[r]:
                row = {"response_id": rid, "field": field,
                       "unit_id": f"{rid}/{field}/{u['sent_idx']}.{u['clause_idx']}", **u}
                row.update({c: rec[c] for c in grouping})
                rows.append(row)
    frame = pd.DataFrame(rows, columns=UNIT_COLUMNS + grouping)
    for c in grouping:
        frame[c] = frame[c].astype(records[c].dtype)
    for c in ("response_id", "field", "unit_id", "text_masked", "analysis_text", "pii"):
        frame[c] = frame[c].astype("str")
    for c in ("sent_idx", "clause_idx"):
        frame[c] = frame[c].astype("int32")
    return frame


def _texts(records: pd.DataFrame, field: str) -> list[str]:
    return ["" if pd.isna(v) else str(v) for v in records[field]]


def preprocess_frame(records: pd.DataFrame, config: Config, *, kind: str = "external",
                     pipeline: TextPipeline | None = None, n_workers: int = 1, chunk_size: int = 256) -> pd.DataFrame:
    """The units table of a records DataFrame (see the module docstring for its columns).

    Parameters
    ----------
    records : DataFrame
        Validated records (``store.read_records``) of one ``kind``.
    pipeline : TextPipeline, optional
        Reuse loaded models (notebooks); built with :meth:`TextPipeline.load` when missing.
    n_workers : int
        Worker processes; 1 runs in this process. Workers are spawned, so a script that uses
        them must call this under ``if __name__ == "__main__":`` (notebooks need nothing).
    """
    frames = list(iter_unit_frames(records, config, kind=kind, pipeline=pipeline, n_workers=n_workers,
                                   chunk_size=chunk_size))
    if not frames:
        return units_frame(records.iloc[0:0], kind, config, [[] for _ in text_fields(records, kind, config)])
    return pd.concat(frames, ignore_index=True)


def worker_pool(config: Config, n_workers: int) -> ProcessPoolExecutor:
    """Worker processes that each load the models once; pass to :func:`iter_unit_frames` to reuse them."""
    # spawn, not fork: the parent may hold pyarrow/torch threads, which forked children can deadlock on.
    return ProcessPoolExecutor(n_workers, mp_context=mp.get_context("spawn"), initializer=_init_worker,
                               initargs=(config,))


def iter_unit_frames(records: pd.DataFrame | Iterable[pd.DataFrame], config: Config, *, kind: str = "external",
                     pipeline: TextPipeline | None = None, n_workers: int = 1, pool: ProcessPoolExecutor | None = None,
                     chunk_size: int = 256) -> Iterator[pd.DataFrame]:
    """Stream units tables chunk by chunk, in input order.

    With ``n_workers > 1`` (or a ``pool`` from :func:`worker_pool`, built with the same
    configuration) chunks go to worker processes, at most two per worker in flight, so memory
    stays flat whatever the input size.
    """
    chunks = _chunks(records, chunk_size)
    if pool is None and n_workers <= 1:
        pipeline = pipeline or TextPipeline.load(config)
        for chunk in chunks:
            results = [pipeline.units(_texts(chunk, f)) for f in text_fields(chunk, kind, config)]
            yield units_frame(chunk, kind, config, results)
        return
    own = pool is None
    pool = pool or worker_pool(config, n_workers)
    in_flight = 2 * max(n_workers, 2)
    try:
        pending: deque = deque()
        for chunk in chunks:
            fields = text_fields(chunk, kind, config)
            pending.append((chunk, pool.submit(_work, [_texts(chunk, f) for f in fields])))
            if len(pending) >= in_flight:
                done_chunk, future = pending.popleft()
                yield units_frame(done_chunk, kind, config, future.result())
        while pending:
            done_chunk, future = pending.popleft()
            yield units_frame(done_chunk, kind, config, future.result())
    finally:
        if own:
            pool.shutdown(cancel_futures=True)


def _chunks(records, size: int) -> Iterator[pd.DataFrame]:
    frames = [records] if isinstance(records, pd.DataFrame) else records
    for frame in frames:
        for start in range(0, len(frame), size):
            yield frame.iloc[start:start + size]


_WORKER: dict = {}


def _init_worker(config: Config) -> None:
    import sys

    # spaCy's thinc imports torch when it is installed (BERTopic needs it) although nothing here
    # uses it: blocking the import saves ~230 MB per worker. This module imports no spaCy at
    # import time, so the block is in place before spaCy loads in the worker.
    if "torch" not in sys.modules:
        sys.modules["torch"] = None  # type: ignore[assignment]
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # one core per worker: BLAS threads would fight the other workers
    _WORKER["pipeline"] = TextPipeline.load(config)


def _work(field_texts: list[list[str]]) -> list[list[list[dict]]]:
    pipeline = _WORKER["pipeline"]
    return [pipeline.units(texts) for texts in field_texts]
