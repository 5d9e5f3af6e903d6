"""The pain-map job: from the processed data of a quarter to its pain map (an edge module: reads
and caches on disk; the statistics live in :mod:`cxmining.painmap`).

Per period, in order (a period's ids depend on the ones before it):

1. classify units (:mod:`cxmining.pains`) and fit topics on the problem and need units (their
   analysis text plus, ``painmap.evidence_weight`` times, the lemmas that made them a problem or need);
2. give each topic a stable pain id (:mod:`cxmining.identity`) against the pains of earlier periods;
3. cache ``processed/painmap/period=P/`` (``assignments.parquet``: unit -> kind, topic, pain id;
   ``pains.parquet``: id, label, keywords, centroid; ``state.json``: the inputs' digest).

A cached period is reused while its units, the ``pains``/``topics``/``painmap`` configuration, the
seed and the periods before it are unchanged. :func:`build_pain_map` then applies the analysts'
curation to this and the previous period, computes the table, trend and rises, merges the measures
register and returns a :class:`PainMapResult` for the exports and the notebooks.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from . import curation as cur
from . import identity, io, store
from . import painmap as pm
from .config import Config

STATE_VERSION = 6  # 5: topics on evidence-weighted documents, kept in assignments.parquet (topic_text); 6: LSA on unigrams
GROUPINGS = ("process", "touchpoint", "service", "is_electronic", "client_type")


@dataclass
class PainMapResult:
    """A built pain map: DataFrames for the exports, notebooks and charts."""

    period: str
    by: str
    table: pd.DataFrame        # one row per (group, pain), English column names
    vanished: pd.DataFrame     # pains of the previous period that did not come back
    history: pd.DataFrame      # period, group, pain_id, label, respondents, n_group, prevalence
    coverage: float
    method: dict = field(default_factory=dict)


def period_dir(processed: Path, period: str) -> Path:
    return Path(processed) / "painmap" / f"period={period}"


def period_pains(processed: Path, cfg: Config, periods: list[str], *, seed: int = 0,
                 echo: Callable[[str], None] = print, dask_client=None) -> pd.DataFrame:
    """Fit or reuse the topics and stable ids of every period in ``periods`` (in order).

    With ``dask_client``, unit kinds and embeddings are computed on that cluster (the same values).

    Returns the id history: one row per (period, pain) with label, keywords, taxonomy, centroid.
    """
    from .nlp import load_navec

    navec, classifier, previous_digest, history, last = None, None, "", [], None
    described = io.classifier_key(cfg)  # loaded only when a period is fitted, like navec
    for period in sorted(periods):
        target = period_dir(processed, period)
        digest = hashlib.sha256(json.dumps([STATE_VERSION, store.units_digest(processed, "external", period), seed, previous_digest,
                                            cfg.section_fingerprint("pains", "topics", "painmap"), described]).encode()).hexdigest()
        state = target / "state.json"
        if state.exists() and json.loads(state.read_text(encoding="utf-8")).get("digest") == digest:
            history.append(pd.read_parquet(target / "pains.parquet"))
            echo(f"{target}: up to date")
        else:
            navec = navec if navec is not None else load_navec()
            classifier = classifier if classifier is not None else io.load_classifier(cfg)
            pains, assignments, earlier, info = _fit_period(processed, cfg, period, seed,
                                                            pd.concat(history) if history else None, navec, last,
                                                            classifier, dask_client)
            info["classifier"] = described
            io.write_parquet(assignments, target / "assignments.parquet")
            io.write_parquet(earlier, target / "previous.parquet")
            io.write_parquet(pains.assign(centroid=[c.tolist() for c in pains["centroid"]]), target / "pains.parquet")
            with io.atomic_path(state) as tmp:
                tmp.write_text(json.dumps({"digest": digest, **info}, ensure_ascii=False, indent=1), encoding="utf-8")
            history.append(pd.read_parquet(target / "pains.parquet"))
            echo(f"{target}: {len(pains)} pains ({info['method']})")
        previous_digest, last = digest, period
    out = pd.concat(history, ignore_index=True)
    out["centroid"] = [np.asarray(c, dtype=np.float32) for c in out["centroid"]]
    return out


def _fit_period(processed, cfg, period, seed, history, navec, previous, classifier, dask_client=None):
    from .pains import classify_units, topic_documents
    from .topics import TopicModel

    units, embed_on = store.read_units(processed, "external", periods=[period]), None
    if dask_client is None:
        units = classify_units(units, classifier)
    else:
        from . import daskengine

        kinds = daskengine.kinds_of(processed, "external", period, classifier, dask_client=dask_client)
        units = units.merge(kinds, on=["response_id", "unit_id"], how="left", validate="one_to_one")
        embed_on = daskengine.embed_on(dask_client)
    pains = units[units["kind"].isin(["problem", "need"])].reset_index(drop=True)
    pains["topic_text"] = topic_documents(pains, cfg.painmap.evidence_weight)
    model = TopicModel(**cfg.map_topic_settings(), seed=seed).fit(
        pains["topic_text"].tolist(), pains["text_masked"].tolist(), store=store.EmbeddingStore(Path(processed) / "embeddings"),
        embed_on=embed_on)
    vectors = identity.unit_vectors(pains["analysis_text"].tolist(), navec)
    info = model.topic_info_.set_index("topic")
    cents = identity.centroids(vectors, model.labels_)
    current = pd.DataFrame({"topic": list(cents), "centroid": list(cents.values())})
    current["keywords"] = [[w for w in str(info.at[t, "keywords"]).split(", ") if w] for t in current["topic"]]
    # The previous period's problem and need units under this period's topics (strictly: a unit
    # far from every topic counts for none): evidence for the ids, and a like-for-like trend.
    before, shared = None, None
    if previous is not None:
        before = pd.read_parquet(period_dir(processed, previous) / "assignments.parquet",
                                 columns=["unit_id", "response_id", "pain_id", "topic_text"])
        texts = store.read_units(processed, "external", periods=[previous], columns=["unit_id", "text_masked"])
        before = before.merge(texts, on="unit_id", how="left")
        before["topic"] = model.transform(before["topic_text"].fillna("").tolist(), before["text_masked"].fillna("").tolist(),
                                          store=store.EmbeddingStore(Path(processed) / "embeddings"), strict=True,
                                          embed_on=embed_on)
        shared = identity.overlap(before["pain_id"], before["topic"])
    matched = identity.match_pains(current, identity.reference(history, period), cfg.painmap.identity, shared)
    labels = model.labels()
    matched["label"] = [labels[t] for t in matched["topic"]]
    matched["taxonomy"] = [info.at[t, "taxonomy"] for t in matched["topic"]]
    matched["size"] = [int(info.at[t, "size"]) for t in matched["topic"]]
    matched["period"] = period
    ids = dict(zip(matched["topic"], matched["pain_id"]))
    assignments = pd.DataFrame({"unit_id": pains["unit_id"], "response_id": pains["response_id"], "kind": pains["kind"],
                                "negativity": pains["negativity"], "topic_text": pains["topic_text"], "topic": model.labels_,
                                "pain_id": [ids.get(int(t)) for t in model.labels_]})
    earlier = pd.DataFrame({"unit_id": pd.Series(dtype=str), "response_id": pd.Series(dtype=str),
                            "pain_id": pd.Series(dtype=object)})
    if before is not None:
        earlier = pd.DataFrame({"unit_id": before["unit_id"], "response_id": before["response_id"],
                                "pain_id": [ids.get(int(t)) for t in before["topic"]]})
    pains_table = matched[["period", "pain_id", "topic", "label", "keywords", "taxonomy", "size", "status",
                           "matched_cosine", "matched_keywords", "matched_overlap", "centroid"]]
    info_out = {"method": model.method_, "outliers_before": model.outliers_before_,
                "outliers_after": model.outliers_after_, "units": len(units), "pain_units": len(pains)}
    return pains_table, assignments, earlier, info_out


def _records(processed, period, by):
    """A period's answers with the grouping column as text (the denominators)."""
    records = store.read_records(processed, "external", periods=[period], columns=["response_id", by, "rating"])
    records[by] = records[by].astype(str)
    return records


def build_pain_map(processed: Path, period: str, cfg: Config, *, by: str = "process", seed: int = 0,
                   curation: cur.Curation | None = None, register: pd.DataFrame | None = None,
                   echo: Callable[[str], None] = print, dask_client=None) -> PainMapResult:
    """The pain map of ``period`` grouped by ``by`` (units must be preprocessed; see ``prepjob.update_units``).
    With ``dask_client``, unit kinds and embeddings are computed on that cluster."""
    if by not in GROUPINGS:
        raise ValueError(f"--by {by!r}: use one of {', '.join(GROUPINGS)}")
    periods = store.require_period(processed, "external", period)
    curation = curation or cur.Curation()
    upto = [p for p in periods if p <= period]
    history = period_pains(processed, cfg, upto, seed=seed, echo=echo, dask_client=dask_client)
    current = history[history["period"] == period]
    labels = dict(zip(current["pain_id"], current["label"]))
    units = store.read_units(processed, "external", periods=[period],
                          columns=["unit_id", "response_id", "text_masked", by])
    units[by] = units[by].astype(str)
    records = _records(processed, period, by)
    a, labels, notes = cur.apply_curation(pd.read_parquet(period_dir(processed, period) / "assignments.parquet"),
                                          labels, curation)
    pains = a.merge(units, on=["unit_id", "response_id"], how="left")
    table = pm.pain_table(pains, records, cfg.painmap, by=by, topic_labels=labels,
                          taxonomy=dict(zip(current["pain_id"], current["taxonomy"])))
    if table.empty:
        raise ValueError(f"period {period}: no pain mentioned by {cfg.painmap.min_respondents}+ respondents of a group")
    counts = {p: _counts(processed, p, curation, by) for p in upto}
    previous = upto[-2] if len(upto) > 1 else None
    before = _counts(processed, previous, curation, by, under=period) if previous else None
    table = pm.add_trend(table, before, cfg.painmap, previous)
    table = pm.suggest_measures(pm.add_priority(table, cfg.painmap), cfg.painmap)
    table = cur.merge_measures(table.rename(columns={"measures": "suggested_measures"}).assign(
        measures=lambda t: t["suggested_measures"]), register)
    fresh = table["prev_respondents"] < cfg.painmap.min_respondents if previous else pd.Series(False, index=table.index)
    table["status"] = [", ".join(s for s in (identity.STATUS_NEW if f else "", "рост" if r else "") if s) or "—"
                       for f, r in zip(fresh, table["rise"])]
    table["curated"] = ["; ".join(notes.get(p, [])) for p in table["pain_id"]]
    shown = set(zip(table["group"], table["pain_id"]))
    pain_units = pains  # every problem and need unit, with or without a pain
    coverage = float(np.mean([(g, p) in shown for g, p in zip(pain_units[by], pain_units["pain_id"])])) if len(pain_units) else 0.0
    gone = _vanished(counts, previous, set(a["pain_id"].dropna()), history, cfg) if previous else pd.DataFrame()
    hist = pd.concat([c.assign(period=p) for p, c in counts.items()], ignore_index=True)
    hist["label"] = hist["pain_id"].map(labels).fillna(hist["pain_id"].map(
        history.sort_values("period").groupby("pain_id")["label"].last()))
    state = json.loads((period_dir(processed, period) / "state.json").read_text(encoding="utf-8"))
    method = {
        "период": period, "предыдущий период": previous or "нет", "группировка": by,
        "классификатор высказываний": _classifier_text(state.get("classifier", "rules")),
        "тематическая модель": state["method"],
        "выбросы до / после переназначения": f"{state['outliers_before']:.1%} / {state['outliers_after']:.1%}",
        "покрытие проблем и потребностей": f"{coverage:.1%} из {len(pain_units)} высказываний",
        "распространённость": f"доля респондентов группы, {cfg.painmap.confidence:.0%} интервал Уилсона",
        "рост": f"односторонний z-тест долей к прошлому периоду, поправка {cfg.painmap.rise_correction}, "
                f"уровень {cfg.painmap.rise_alpha}",
        "приоритет": " + ".join(f"{w}×{k}" for k, w in cfg.painmap.weights.items()),
        "устойчивые коды болей": (f"косинус центроидов ≥ {cfg.painmap.identity.min_cosine} и пересечение ключевых "
                                  f"слов ≥ {cfg.painmap.identity.min_keywords} (или косинус ≥ "
                                  f"{cfg.painmap.identity.strong_cosine})"),
        "правки аналитиков": f"{curation.source or 'нет'}; изменено строк: {int((table['curated'] != '').sum())}",
        "реестр мероприятий": f"строк в реестре: {0 if register is None else len(register)}",
        "seed": seed, "конфигурация": cfg.fingerprint,
    }
    return PainMapResult(period, by, table, gone, hist, coverage, method)


def _classifier_text(key: str) -> str:
    return "правила конфигурации" if key == "rules" else key


def _counts(processed, period, curation, by, under: str | None = None):
    """Respondents per (group, pain id) of a period, with the group's size; ``under`` a later
    period: the period's units counted under that period's pains (its ``previous.parquet``)."""
    records = _records(processed, period, by)
    source = period_dir(processed, under) / "previous.parquet" if under else period_dir(processed, period) / "assignments.parquet"
    a, _, _ = cur.apply_curation(pd.read_parquet(source), {}, curation)
    a = a[a["pain_id"].notna()].merge(records[["response_id", by]], on="response_id")
    sizes = records.groupby(by)["response_id"].nunique()
    out = a.groupby([by, "pain_id"])["response_id"].nunique().rename("respondents").reset_index()
    out = out.rename(columns={by: "group"})
    out["n_group"] = out["group"].map(sizes).astype(int)
    out["prevalence"] = out["respondents"] / out["n_group"]
    return out


def _vanished(counts, previous, now_ids, history, cfg):
    prev = counts[previous]
    prev = prev[(prev["respondents"] >= cfg.painmap.min_respondents) & ~prev["pain_id"].isin(now_ids)]
    labels = history[history["period"] == previous].set_index("pain_id")["label"]
    return prev.assign(label=prev["pain_id"].map(labels), status=identity.STATUS_GONE, period=previous).reset_index(drop=True)


FIVE = ("process", "label", "prevalence_text", "priority_class", "measures")


def sheets(result: PainMapResult) -> dict[str, pd.DataFrame]:
    """The workbook: «Сводка» across groups, one sheet per group, vanished pains, «Метод»."""
    table = result.table
    columns = ["group", "pain_id", "label", "kind", "prevalence_text", "priority_class", "measures", "status",
               "trend_text", "priority", "priority_explained", "negativity", "rating_impact", "respondents", "n_group",
               "quotes", "curated"]
    shown = table[columns].assign(quotes=[" | ".join(q) for q in table["quotes"]])
    russian = pm.russian_columns(shown, result.by)
    out = {"Сводка": russian.head(40)}
    for group, part in russian.groupby(russian.columns[0], sort=True):
        out[str(group)] = part
    if len(result.vanished):
        v = result.vanished
        gone = pd.DataFrame({
            "group": v["group"], "pain_id": v["pain_id"], "label": v["label"],
            "prevalence_text": [f"0% в этом периоде; в {p}: {x:.0%} ({k} из {n})"
                                for p, x, k, n in v[["period", "prevalence", "respondents", "n_group"]].itertuples(index=False)],
            "priority_class": "не оценивается: боль не встречается", "measures": "проверить, устранена ли причина",
            "status": v["status"]})
        out["Не встречаются"] = pm.russian_columns(gone.assign(kind=""), result.by).drop(columns=["тип"])
    out["Метод"] = pd.DataFrame({"параметр": list(result.method), "значение": [str(v) for v in result.method.values()]})
    return out


def write_pain_map(result: PainMapResult, out: Path, register: pd.DataFrame | None = None) -> list[Path]:
    """Write ``pain_map.xlsx``, tidy ``pain_map.csv`` / ``.parquet`` (with response ids), the three
    charts as PNG, ``measures_register_draft.csv`` and ``method.json``. Returns the paths."""
    from . import plots

    out = Path(out)
    t = result.table
    tidy = t.drop(columns=["quotes", "response_ids"]).assign(
        quotes=[" | ".join(q) for q in t["quotes"]], response_ids=[";".join(map(str, r)) for r in t["response_ids"]],
        period=result.period, grouping=result.by)
    paths = [io.write_xlsx(sheets(result), out / "pain_map.xlsx"), io.write_csv(tidy, out / "pain_map.csv"),
             io.write_parquet(tidy, out / "pain_map.parquet"),
             io.write_csv(cur.register_draft(t, register), out / "measures_register_draft.csv"),
             io.write_csv(result.history, out / "pain_history.csv")]
    if len(result.vanished):
        paths.append(io.write_csv(result.vanished, out / "pain_map_vanished.csv"))
    for name, make in (("heatmap", lambda: plots.prevalence_heatmap(t)), ("priority_matrix", lambda: plots.priority_matrix(t)),
                       ("trend", lambda: plots.trend_chart(result.history, t))):
        fig = make()
        paths.append(io.save_figure(fig, out / f"{name}.png"))
    with io.atomic_path(out / "method.json") as tmp:
        tmp.write_text(json.dumps(result.method, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    paths.append(out / "method.json")
    return paths


def load_or_build_pain_map(processed: Path, period: str, cfg: Config, *, by: str = "process", seed: int = 0,
                           curation: cur.Curation | None = None, register: pd.DataFrame | None = None,
                           echo: Callable[[str], None] = print) -> PainMapResult:
    """:func:`build_pain_map`, cached in ``processed/painmap/period=P/`` under a key of everything it
    reads (the period's state, grouping, seed, configuration, curation and register), so that the
    notebooks of one batch share one computation."""
    import joblib

    period_pains(processed, cfg, [p for p in store.list_periods(processed, "external") if p <= period], seed=seed,
                 echo=lambda s: None)
    state = json.loads((period_dir(processed, period) / "state.json").read_text(encoding="utf-8"))["digest"]
    c = curation or cur.Curation()
    key = hashlib.sha256(json.dumps([state, by, seed, cfg.fingerprint, repr((dict(c.rename), dict(c.merge), c.noise, c.move)),
                                     None if register is None else register.to_csv(index=False)]).encode()).hexdigest()
    path = period_dir(processed, period) / f"map-{by}-{key[:16]}.joblib"
    if path.exists():
        return joblib.load(path)
    result = build_pain_map(processed, period, cfg, by=by, seed=seed, curation=curation, register=register, echo=echo)
    with io.atomic_path(path) as tmp:
        joblib.dump(result, tmp)
    return result
