"""The internal-survey job: from the processed survey of a period to its tables, charts and the
internal pain map (an edge module: reads the processed data and writes the exports; the
statistics live in :mod:`cxmining.survey` and :mod:`cxmining.painmap`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from . import io, store
from . import painmap as pm
from . import survey as sv
from .config import Config

OTHER = "other"
CACHE_VERSION = 2  # bump when the same inputs give another result (2: LSA on unigrams)
SUMMARY_COLUMNS = ["breakdown", "group", "dimension", "n", "mean", "index", "top2", "bottom2", "ci_low", "ci_high",
                   "suppressed"]
BREAKDOWN_RU = {"all": "все", "department": "подразделение", "position_group": "группа должностей",
                "tenure_group": "стаж"}


@dataclass
class SurveyResult:
    """A built survey report: DataFrames for the exports, notebooks and charts."""

    period: str
    previous: str | None
    summary: pd.DataFrame
    changes: pd.DataFrame
    drivers: pd.DataFrame
    pain_map: pd.DataFrame
    labels: dict            # dimension key -> Russian label
    min_group: int
    method: dict = field(default_factory=dict)


def build_survey(processed: Path, period: str, cfg: Config, *, min_group: int | None = None, seed: int = 0,
                 echo: Callable[[str], None] = print) -> SurveyResult:
    """Satisfaction summary, changes, drivers and the internal pain map of ``period``."""
    periods = store.require_period(processed, "internal", period)
    min_group = cfg.survey.min_group if min_group is None else int(min_group)
    if min_group < 1:
        raise ValueError("--min-group must be >= 1")
    s = cfg.survey
    dims = list(s.dimension_keys)
    labels = {d.key: d.label for d in s.dimensions}
    records = store.read_records(processed, "internal")
    current = records[records["period"] == period]
    previous = max((p for p in periods if p < period), default=None)
    summary = sv.summary(current, dims, min_group=min_group, confidence=s.confidence)
    changes = (sv.changes(current, records[records["period"] == previous], dims, min_group=min_group,
                          alpha=s.change_alpha, correction=s.change_correction) if previous else pd.DataFrame())
    inputs = [d for d in dims if d != "overall"]
    drivers = sv.drivers(current, inputs, "overall", n_boot=s.bootstrap, seed=seed, confidence=s.confidence)
    shown = set(summary.loc[(summary["breakdown"] == "department") & ~summary["suppressed"], "group"])
    pains = _pain_map(processed, period, cfg, current, inputs, labels, shown, seed)
    method = {
        "период": period, "предыдущий период": previous or "нет", "респондентов": len(current),
        "порог анонимности": f"группа меньше {min_group} респондентов не показывается нигде; дополнительно скрываются "
                             f"группы, по которым скрытое можно было бы восстановить вычитанием из итога",
        "индекс": "(среднее − 1) / 4 × 100; top-2 — доля ответов 4–5, bottom-2 — доля 1–2",
        "интервал": f"{s.confidence:.0%} t-интервал среднего",
        "изменения": f"t-тест Уэлча к прошлому периоду, поправка {s.change_correction} на число сравнений, уровень {s.change_alpha}",
        "драйверы": f"относительные веса Джонсона в R² общей удовлетворённости, {s.bootstrap} бутстреп-выборок, "
                    f"n = {int(drivers['n'].iat[0])} полных анкет, R² = {drivers['r2'].iat[0]:.2f}",
        "открытые ответы": "проблемы и потребности из ответов, отнесённые к параметру по словарям конфигурации; "
                           "цитаты только от подразделений не ниже порога",
        "seed": seed, "конфигурация": cfg.fingerprint,
    }
    return SurveyResult(period, previous, summary, changes, drivers, pains, labels, min_group, method)


def _pain_map(processed, period, cfg, current, dims, labels, shown_departments, seed) -> pd.DataFrame:
    """The internal pain map: problems and needs of the open answers, dimensions as processes."""
    from .pains import classify_units, topic_documents
    from .topics import TopicModel

    if not store.units_path(processed, "internal", period).exists():
        return pd.DataFrame()
    units = classify_units(store.read_units(processed, "internal", periods=[period]), io.load_classifier(cfg))
    units = units[units["kind"].isin(["problem", "need"])].reset_index(drop=True)
    if units.empty:
        return pd.DataFrame()
    units["dimension"] = sv.assign_dimensions(units, cfg.survey.lexicons, other=OTHER)
    model = TopicModel(**cfg.map_topic_settings(), seed=seed).fit(
        topic_documents(units, cfg.painmap.evidence_weight), units["text_masked"].tolist(), store=store.EmbeddingStore(Path(processed) / "embeddings"))
    units["topic"] = model.labels_
    # Every respondent answered about every dimension: each is counted once per dimension.
    # Ids are made unique per dimension for the statistics and restored afterwards.
    groups = [*dims, OTHER]
    records = pd.concat([pd.DataFrame({"response_id": current["respondent_id"].astype(str) + "|" + d, "dimension": d,
                                       "rating": pd.to_numeric(current[d if d != OTHER else "overall"], errors="coerce")})
                         for d in groups], ignore_index=True)
    units["response_id"] = units["response_id"].astype(str) + "|" + units["dimension"]
    table = pm.pain_table(units, records, cfg.painmap, by="dimension", topic_labels=model.labels(),
                          taxonomy=dict(zip(model.topic_info_["topic"], model.topic_info_["taxonomy"])))
    if table.empty:
        return table
    table = pm.suggest_measures(pm.add_priority(table, cfg.painmap), cfg.painmap)
    # Quotes only from respondents of departments shown in the tables (anonymity).
    department = dict(zip(current["respondent_id"].astype(str), current["department"]))
    allowed = units[[department.get(r.split("|")[0]) in shown_departments for r in units["response_id"]]]
    by_row = allowed.groupby(["dimension", "topic"])
    table["quotes"] = [list(by_row.get_group((g, t)).sort_values("negativity", ascending=False, kind="stable")
                            ["text_masked"].drop_duplicates().head(3)) if (g, t) in by_row.groups else []
                       for g, t in zip(table["group"], table["topic"])]
    table["response_ids"] = [[r.split("|")[0] for r in ids] for ids in table["response_ids"]]
    table["process"] = table["group"].map({**labels, OTHER: "прочее"})
    table["group"] = table["process"]
    return table


def summary_russian(result: SurveyResult) -> pd.DataFrame:
    """The summary with Russian headers; hidden cells read «< N» or «скрыто»."""
    t = result.summary.copy()
    t["dimension"] = t["dimension"].map(result.labels)
    t["breakdown"] = t["breakdown"].map(BREAKDOWN_RU)
    figures = ["n", "mean", "index", "top2", "bottom2", "ci_low", "ci_high", "d1", "d2", "d3", "d4", "d5"]
    shown = t[figures].astype(object)
    for i in t.index[t["suppressed"]]:
        shown.loc[i, :] = f"< {result.min_group}" if t.at[i, "suppression"] == sv.PRIMARY else "скрыто"
    t[figures] = shown
    return t[["breakdown", "group", "dimension", *figures]].rename(columns={
        "breakdown": "разрез", "group": "группа", "dimension": "параметр", "n": "респондентов", "mean": "среднее (1–5)",
        "index": "индекс 0–100", "top2": "доля 4–5", "bottom2": "доля 1–2", "ci_low": "95% интервал: от",
        "ci_high": "95% интервал: до", **{f"d{k}": f"ответов «{k}»" for k in range(1, 6)}})


def write_survey(result: SurveyResult, out: Path) -> list[Path]:
    """Write ``survey_summary.csv`` (tidy), ``survey.xlsx``, the internal pain map, changes,
    drivers, the three charts and ``method.json``."""
    from . import plots

    out = Path(out)
    paths = [io.write_csv(result.summary[SUMMARY_COLUMNS], out / "survey_summary.csv")]
    sheets = {"Сводка": summary_russian(result)}
    if len(result.changes):
        ch = result.changes.assign(dimension=result.changes["dimension"].map(result.labels))
        paths.append(io.write_csv(result.changes, out / "survey_changes.csv"))
        sheets["Изменения"] = ch[~ch["suppressed"]].drop(columns=["suppressed"]).rename(columns={
            "breakdown": "разрез", "group": "группа", "dimension": "параметр", "n_prev": "респондентов ранее",
            "mean_prev": "среднее ранее", "n": "респондентов", "mean": "среднее", "diff": "изменение", "p": "p",
            "p_adj": "p с поправкой", "significant": "значимое изменение"})
    d = result.drivers
    paths.append(io.write_csv(d, out / "survey_drivers.csv"))
    sheets["Драйверы"] = d.assign(dimension=d["dimension"].map(result.labels)).rename(columns={
        "dimension": "параметр", "raw_weight": "вклад в R²", "share_of_r2": "доля вклада", "ci_low": "95% интервал: от",
        "ci_high": "95% интервал: до", "index": "индекс 0–100", "n": "анкет", "r2": "R²", "quadrant": "квадрант"})
    if len(result.pain_map):
        pmap = result.pain_map
        tidy = pmap.drop(columns=["quotes", "response_ids"]).assign(
            quotes=[" | ".join(q) for q in pmap["quotes"]], response_ids=[";".join(r) for r in pmap["response_ids"]])
        paths.append(io.write_csv(tidy, out / "internal_pain_map.csv"))
        sheets["Карта болей"] = pm.russian_columns(pmap.assign(quotes=[" | ".join(q) for q in pmap["quotes"]])
                                                   .drop(columns=["response_ids"]))
    sheets["Метод"] = pd.DataFrame({"параметр": list(result.method), "значение": [str(v) for v in result.method.values()]})
    paths.append(io.write_xlsx(sheets, out / "survey.xlsx"))
    figures = {"likert": lambda: plots.likert_bars(result.summary, result.labels),
               "departments_heatmap": lambda: plots.survey_heatmap(result.summary, result.labels, result.min_group),
               "drivers_quadrant": lambda: plots.drivers_quadrant(result.drivers, result.labels)}
    for name, make in figures.items():
        paths.append(io.save_figure(make(), out / f"{name}.png"))
    with io.atomic_path(out / "method.json") as tmp:
        tmp.write_text(json.dumps(result.method, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return [*paths, out / "method.json"]


def load_or_build_survey(processed: Path, period: str, cfg: Config, *, min_group: int | None = None, seed: int = 0,
                         echo: Callable[[str], None] = print) -> SurveyResult:
    """:func:`build_survey`, cached in ``processed/survey/period=P/`` under a key of its inputs."""
    import hashlib

    import joblib

    digests = [store.records_digest(processed, "internal", p) for p in store.list_periods(processed, "internal") if p <= period]
    digests += [store.units_digest(processed, "internal", period)]
    key = hashlib.sha256(json.dumps([CACHE_VERSION, digests, cfg.fingerprint, min_group, seed, io.classifier_key(cfg)]).encode()).hexdigest()
    path = Path(processed) / "survey" / f"period={period}" / f"survey-{key[:16]}.joblib"
    if path.exists():
        return joblib.load(path)
    result = build_survey(processed, period, cfg, min_group=min_group, seed=seed, echo=echo)
    with io.atomic_path(path) as tmp:
        joblib.dump(result, tmp)
    return result
