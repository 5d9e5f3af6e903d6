"""The ``cxmining pains`` and ``cxmining topics`` command groups (registered by :mod:`cxmining.cli`),
and the options every command shares. Their tests sit with the modules they wrap
(``tests/test_pains.py``, ``tests/test_topics.py``)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import pandas as pd
import typer

from . import io, store
from .config import load_config

ConfigOpt = typer.Option(None, "--config", help="A configuration YAML (a copy of `cxmining config`).")
ProcessedOpt = typer.Option(store.DEFAULT_PROCESSED, "--processed", help="Processed-data directory.")

pains_app = typer.Typer(no_args_is_help=True, help="Pain detection: problem | need | praise | other.")


@pains_app.command("classify")
def pains_classify(
    input: Path = typer.Option(..., "--input", help="CSV/XLSX/Parquet with one answer per row."),
    text_column: str = typer.Option(..., "--text-column", help="The column with the answers' text."),
    out: Path = typer.Option(..., "--out", help="Where to write the input with `kind` and `negativity` added."),
    rating_column: Optional[str] = typer.Option(None, "--rating-column", help="Ratings 1–5: weak evidence."),
    model: Optional[Path] = typer.Option(None, "--model", help="A model from `cxmining pains train` (default: the configuration's pains.model, else the rules)."),
    workers: int = typer.Option(1, "--workers", help="Worker processes for the text pipeline."),
    config: Optional[Path] = ConfigOpt,
) -> None:
    """Add `kind` (most severe unit kind: problem, need, praise, other) and `negativity` to every row."""
    from . import pains
    from .preprocess import preprocess_frame

    cfg = load_config(config)
    table = io.read_table(input)
    io.require_columns(table, input, text_column, rating_column)
    records = pd.DataFrame({"response_id": [str(i) for i in range(len(table))],
                            "text": table[text_column].astype(object).to_numpy(), "period": "-"})
    if rating_column:
        records["rating"] = pd.to_numeric(table[rating_column], errors="coerce").where(lambda r: r.between(1, 5))
    classifier = _classifier(cfg, model)
    units = pains.classify_units(preprocess_frame(records, cfg, n_workers=workers), classifier)
    answers = pains.answer_kinds(units).set_index("response_id")
    result = table.copy()
    result["kind"] = answers["kind"].reindex(records["response_id"]).fillna("other").to_numpy()
    result["negativity"] = answers["negativity"].reindex(records["response_id"]).fillna(0.0).round(4).to_numpy()
    io.write_csv(result, out)
    counts = result["kind"].value_counts().reindex(list(pains.KINDS), fill_value=0)
    typer.echo(f"{out}: {len(result)} rows; " + ", ".join(f"{k} {n}" for k, n in counts.items()))


def _classifier(cfg, model: Optional[Path]):
    if model is None:  # the configuration's: pains.model, or the rules
        return io.load_classifier(cfg)
    loaded, fingerprint = io.load_model(model)
    if fingerprint != cfg.fingerprint:
        typer.echo(f"warning: {model} was trained with another configuration", err=True)
    return loaded


@pains_app.command("train")
def pains_train(
    labels: Path = typer.Option(..., "--labels", help="Labelled units: one unit text and its kind per row."),
    out: Path = typer.Option(..., "--out", help="Where to save the model (joblib)."),
    text_column: str = typer.Option("text", "--text-column"),
    label_column: str = typer.Option("kind", "--label-column"),
    config: Optional[Path] = ConfigOpt,
) -> None:
    """Train the optional learned layer (lemma n-grams + rule scores) on an analyst's labelled units."""
    from . import pains
    from .preprocess import TextPipeline

    cfg = load_config(config)
    table = io.read_table(labels)
    io.require_columns(table, labels, text_column, label_column)
    kinds = table[label_column].astype(str).str.strip().str.lower()
    bad = [i + 2 for i, k in enumerate(kinds) if k not in pains.KINDS]
    if bad:
        raise io.InputError(f"{labels}: rows {bad[:10]} have a {label_column!r} that is not one of "
                            f"{', '.join(pains.KINDS)}")
    frame = TextPipeline.load(cfg).analyse(table[text_column].fillna("").astype(str).tolist())
    model = pains.LearnedClassifier(rules=cfg.pains).fit(frame, kinds.tolist())
    io.save_model(model, out, cfg)
    typer.echo(f"{out}: trained on {len(frame)} units ({', '.join(f'{k} {n}' for k, n in kinds.value_counts().items())})")


topics_app = typer.Typer(no_args_is_help=True, help="Topic modelling (BERTopic on navec / LSA / local encoders).")
CacheOpt = typer.Option(store.DEFAULT_PROCESSED / "embeddings", "--cache", help="Embedding cache directory.")


def _documents(path: Path, text_column: str, cfg, workers: int):
    """Masked and analysed documents (one per row) of a table's text column."""
    from .preprocess import preprocess_frame

    table = io.read_table(path)
    io.require_columns(table, path, text_column)
    ids = [str(i) for i in range(len(table))]
    records = pd.DataFrame({"response_id": ids, "text": table[text_column].astype(object).to_numpy(), "period": "-"})
    units = preprocess_frame(records, cfg, n_workers=workers)
    grouped = units.groupby("response_id", sort=False)
    docs = grouped["analysis_text"].agg(" ".join).reindex(ids).fillna("")
    texts = grouped["text_masked"].agg(" ".join).reindex(ids).fillna("")
    return table, docs.tolist(), texts.tolist()


@topics_app.command("fit")
def topics_fit(
    input: Path = typer.Option(..., "--input", help="CSV/XLSX/Parquet with one answer per row."),
    text_column: str = typer.Option(..., "--text-column"),
    out: Path = typer.Option(..., "--out", help="Output directory: assignments.csv, topics.csv, model/."),
    embedder: Optional[str] = typer.Option(None, "--embedder", help="navec | lsa | navec+lsa | st:PATH (default: config)."),
    seed: int = typer.Option(0, "--seed"),
    guided: Optional[bool] = typer.Option(None, "--guided/--no-guided",
                                          help="Seed the topics with the taxonomy (default: config topics.guided)."),
    workers: int = typer.Option(1, "--workers", help="Worker processes for the text pipeline."),
    cache: Path = CacheOpt,
    config: Optional[Path] = ConfigOpt,
) -> None:
    """Fit a topic model on a column of answers; one topic per row, labelled in Russian."""
    from .topics import TopicModel

    cfg = load_config(config)
    table, docs, texts = _documents(input, text_column, cfg, workers)
    settings = {**cfg.topics.model_settings(), **({"embedder": embedder} if embedder else {}),
                **({"guided": guided} if guided is not None else {})}
    model = TopicModel(**settings, seed=seed).fit(docs, texts, store=store.EmbeddingStore(cache))
    labels = model.labels()
    io.write_csv(pd.DataFrame({"row": range(len(docs)), "topic": model.labels_,
                               "label": [labels[t] for t in model.labels_]}), out / "assignments.csv")
    info = model.topic_info_.assign(representative=[" | ".join(r) for r in model.topic_info_["representative"]])
    io.write_csv(info, out / "topics.csv")
    io.save_topic_model(model, out / "model", cfg)
    typer.echo(f"{out}: {len(docs)} rows, {len(info)} topics; {model.method_}; outliers "
               f"{model.outliers_before_:.1%} -> {model.outliers_after_:.1%}")


@topics_app.command("assign")
def topics_assign(
    model: Path = typer.Option(..., "--model", help="The model directory written by `topics fit` (DIR/model)."),
    input: Path = typer.Option(..., "--input"),
    text_column: str = typer.Option(..., "--text-column"),
    out: Path = typer.Option(..., "--out", help="CSV: row, topic, label."),
    workers: int = typer.Option(1, "--workers"),
    cache: Path = CacheOpt,
    config: Optional[Path] = ConfigOpt,
) -> None:
    """Assign new answers to the topics of a fitted model (nearest topic centroid)."""
    cfg = load_config(config)
    fitted, _ = io.load_topic_model(model)
    _, docs, texts = _documents(input, text_column, cfg, workers)
    topics = fitted.transform(docs, texts, store=store.EmbeddingStore(cache))
    labels = fitted.labels()
    io.write_csv(pd.DataFrame({"row": range(len(docs)), "topic": topics, "label": [labels[t] for t in topics]}), out)
    typer.echo(f"{out}: {len(docs)} rows assigned to {len(set(topics.tolist()))} topics")
