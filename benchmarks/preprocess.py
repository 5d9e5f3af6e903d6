"""Throughput and memory of the text pipeline against two references, in one run.

    .venv/bin/python benchmarks/preprocess.py                  # 20,000 answers, three rows
    .venv/bin/python benchmarks/preprocess.py --n 100000 --rows cxmining   # the memory target

The corpus is ../shared/data/kursk_appeals_train.csv (2,000 real appeals) replicated to ``--n``
answers; copies after the first get their sentences rotated so that no two answers are identical.
Each row runs in its own process (so model loading and caches do not leak between rows) and its
peak RSS is the sum over that process and its children, sampled every 50 ms.

Rows (same annotations: tokens, POS and features, lemmas, person names):
* cxmining: cleaning, masking (NER gated), units, slovnet morphology, pymorphy3 lemmas, analysis
  text, written to Parquet; ``--workers`` processes.
* natasha: ``Doc.segment``, ``tag_morph``, ``tag_ner``, then a pymorphy3 lemma per token chosen
  with the slovnet POS (natasha's ``MorphVocab`` needs pymorphy2, which fails on Python >= 3.11);
  one process, as natasha runs.
* spacy-lookup: ``spacy.blank("ru")`` with the ``pymorphy3_lookup`` lemmatizer (no morphology,
  no NER); one process.

tokens/s divides the same razdel token count of the raw texts by each row's wall time.
Targets (issue 3): cxmining >= 2x natasha's answers/s; peak RSS <= 2 GB at 100,000 answers.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "kursk_appeals_train.csv"


def corpus(n: int, path: Path = DATA) -> list[str]:
    import pandas as pd
    from razdel import sentenize

    base = pd.read_csv(path)["text"].fillna("").astype(str).tolist()
    out = []
    for i in range(n):
        text = base[i % len(base)]
        copy = i // len(base)
        if copy:
            sents = [s.text for s in sentenize(text)]
            k = copy % max(len(sents), 1)
            text = " ".join(sents[k:] + sents[:k]) + ("" if len(sents) > 1 else f" ({copy})")
        out.append(text)
    return out


# ------------------------------------------------------------------------------ rows (child processes)
def row_cxmining(texts: list[str], workers: int) -> None:
    import pandas as pd

    from cxmining import store
    from cxmining.config import load_config
    from cxmining.preprocess import iter_unit_frames
    from cxmining.schema import units_arrow_schema

    cfg = load_config()
    records = pd.DataFrame({"response_id": [f"r{i}" for i in range(len(texts))], "text": texts,
                            "period": "2026Q1"})
    with tempfile.TemporaryDirectory() as tmp:
        frames = iter_unit_frames(records, cfg, kind="external", n_workers=workers, chunk_size=256)
        rows = store.write_units(frames, Path(tmp) / "units.parquet", units_arrow_schema("external", cfg), {})
    print(json.dumps({"units": rows}), file=sys.stderr)


def row_natasha(texts: list[str]) -> None:
    from natasha import Doc, NewsEmbedding, NewsMorphTagger, NewsNERTagger, Segmenter

    from cxmining.nlp import UD_TO_OC, load_pymorphy

    segmenter, emb = Segmenter(), NewsEmbedding()
    morph_tagger, ner_tagger = NewsMorphTagger(emb), NewsNERTagger(emb)
    morph = load_pymorphy()

    def lemma(word, pos):
        parses = morph.parse(word.lower())
        wanted = UD_TO_OC.get(pos, set())
        return next((p.normal_form for p in parses if p.tag.POS in wanted), parses[0].normal_form)

    for text in texts:
        doc = Doc(text)
        doc.segment(segmenter)
        doc.tag_morph(morph_tagger)
        doc.tag_ner(ner_tagger)
        for token in doc.tokens:
            token.lemma = lemma(token.text, token.pos)


def row_spacy_lookup(texts: list[str]) -> None:
    import spacy

    nlp = spacy.blank("ru")
    nlp.add_pipe("lemmatizer", config={"mode": "pymorphy3_lookup"})
    nlp.initialize()
    for doc in nlp.pipe(texts, batch_size=256):
        [t.lemma_ for t in doc]


# ------------------------------------------------------------------------------ driver
def measure(row: str, n: int, workers: int) -> dict:
    """Run one row in a child process; return wall seconds and peak RSS of its process tree."""
    import psutil

    cmd = [sys.executable, __file__, "--child", row, "--n", str(n), "--workers", str(workers)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    parent = psutil.Process(proc.pid)
    peak = 0
    stop = threading.Event()

    def sample():
        nonlocal peak
        while not stop.is_set():
            try:
                procs = [parent] + parent.children(recursive=True)
                peak = max(peak, sum(p.memory_info().rss for p in procs if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.05)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, err = proc.communicate()
    stop.set()
    thread.join()
    if proc.returncode:
        raise SystemExit(f"row {row} failed:\n{err}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mb"] = peak / 2**20
    return result


def child(row: str, n: int, workers: int) -> None:
    texts = corpus(n)
    start = time.perf_counter()
    if row == "cxmining":
        row_cxmining(texts, workers)
    elif row == "natasha":
        row_natasha(texts)
    elif row == "spacy-lookup":
        row_spacy_lookup(texts)
    print(json.dumps({"seconds": time.perf_counter() - start}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20_000, help="answers (the 2,000 appeals replicated)")
    ap.add_argument("--workers", type=int, default=2, help="cxmining worker processes")
    ap.add_argument("--rows", default="cxmining,natasha,spacy-lookup")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.n, args.workers)
        return
    if not DATA.exists():
        raise SystemExit(f"{DATA}: not found (the benchmark reads the shared Kursk appeals)")
    from razdel import tokenize

    texts = corpus(args.n)
    tokens = sum(sum(1 for _ in tokenize(t)) for t in texts)
    print(f"corpus: {args.n} answers ({DATA.name} replicated), {tokens} razdel tokens; includes model loading")
    print(f"{'row':<14}{'answers/s':>11}{'tokens/s':>11}{'seconds':>9}{'peak RSS MB':>13}")
    results = {}
    for row in args.rows.split(","):
        r = measure(row, args.n, args.workers)
        results[row] = r
        print(f"{row:<14}{args.n / r['seconds']:>11.1f}{tokens / r['seconds']:>11.0f}{r['seconds']:>9.1f}"
              f"{r['peak_rss_mb']:>13.0f}", flush=True)
    if "cxmining" in results and "natasha" in results:
        ratio = results["natasha"]["seconds"] / results["cxmining"]["seconds"]
        print(f"cxmining / natasha throughput: {ratio:.2f}x (target >= 2x, {args.workers} workers)")
    if "cxmining" in results:
        print(f"cxmining peak RSS: {results['cxmining']['peak_rss_mb']:.0f} MB at {args.n} answers "
              f"(target <= 2048 MB at 100,000)")


if __name__ == "__main__":
    main()
