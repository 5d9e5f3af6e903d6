"""Pain map statistics: prevalence with Wilson intervals, rating impact, priority and measures.

First slice of the pain map (issue 6): :func:`pain_table` turns classified units with topics into
one row per (group, pain) with its respondents, prevalence and 95% Wilson interval
(statsmodels), mean negativity, the impact on ratings (Welch's t-test, scipy) and quotes;
:func:`add_priority` forms a transparent priority score from configured weights and says how each
row's score was formed; :func:`suggest_measures` maps taxonomy names to catalogue measures;
:func:`russian_columns` renames the columns the administration's procedure requires.
:func:`add_trend` compares each row with the previous period and flags significant rises.
Stable ids live in :mod:`cxmining.identity`, curation and the measures register in
:mod:`cxmining.curation`; :mod:`cxmining.mapjob` runs the whole map from the processed data.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .sections import PainMapConfig

RUSSIAN = {
    "group": "группа",
    "process": "наименование процесса",
    "label": "выявленные проблемы / потенциальные потребности клиентов",
    "prevalence_text": "распространённость проблемы",
    "priority_class": "приоритетность решения проблемы / удовлетворения потребности",
    "measures": "необходимые мероприятия (мероприятия по реинжинирингу)",
    "kind": "тип", "respondents": "респондентов", "n_group": "всего респондентов в группе",
    "prevalence": "доля", "ci_low": "доверительный интервал: от", "ci_high": "доверительный интервал: до",
    "negativity": "негативность", "rating_impact": "влияние на оценку", "priority": "балл приоритета",
    "priority_explained": "как сформирован приоритет", "quotes": "цитаты", "response_ids": "обращения",
    "pain_id": "код боли", "status": "статус", "trend_text": "динамика к прошлому периоду",
    "curated": "правка аналитика",
}
KIND_RU = {"problem": "проблема", "need": "потребность"}


def pain_table(units: pd.DataFrame, records: pd.DataFrame, config: PainMapConfig, *, by: str = "process",
               topic_labels: dict | None = None, taxonomy: dict | None = None) -> pd.DataFrame:
    """One row per (group value, topic) of problem and need units.

    Parameters
    ----------
    units : DataFrame
        Units with ``response_id``, ``kind``, ``negativity``, ``topic``, ``text_masked`` and ``by``.
    records : DataFrame
        The period's answers (``response_id``, ``by`` and optionally ``rating``): the denominators.
    topic_labels, taxonomy : dict, optional
        Topic id -> label, and topic id -> taxonomy name (for measures).
    """
    from statsmodels.stats.proportion import proportion_confint

    alpha = 1 - config.confidence
    pains = units[units["kind"].isin(["problem", "need"]) & (units["topic"] >= 0)]
    sizes = records.groupby(by, dropna=False)["response_id"].nunique()
    ratings = records.set_index("response_id")["rating"] if "rating" in records.columns else None
    rows = []
    key = "pain_id" if "pain_id" in pains.columns else "topic"
    pains = pains[pains[key].notna()]
    for (group, topic), part in pains.groupby([by, key], sort=True, dropna=False):
        ids = sorted(part["response_id"].unique())
        k, n = len(ids), int(sizes.get(group, 0))
        if k < config.min_respondents or n == 0:
            continue
        low, high = proportion_confint(k, n, alpha=alpha, method="wilson")
        impact, impact_p = _rating_impact(records, by, group, ids, ratings)
        quotes = part.sort_values("negativity", ascending=False, kind="stable")["text_masked"].drop_duplicates().head(3)
        rows.append({
            "group": group, key: topic if key == "pain_id" else int(topic),
            "label": (topic_labels or {}).get(topic, str(topic)),
            "taxonomy": (taxonomy or {}).get(topic), "kind": part["kind"].value_counts().idxmax(),
            "respondents": k, "n_group": n, "prevalence": k / n, "ci_low": float(low), "ci_high": float(high),
            "negativity": float(part["negativity"].mean()), "rating_impact": impact, "rating_impact_p": impact_p,
            "quotes": list(quotes), "response_ids": ids,
        })
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["prevalence_text"] = [f"{p:.0%} ({k} из {n}; {lo:.0%}–{hi:.0%})" for p, k, n, lo, hi in
                                table[["prevalence", "respondents", "n_group", "ci_low", "ci_high"]].itertuples(index=False)]
    return table


def _rating_impact(records, by, group, ids, ratings):
    """Mean rating of the group's respondents who do not mention the pain minus of those who do
    (positive = the pain lowers ratings), with Welch's t-test p-value; NaN without ratings."""
    if ratings is None:
        return np.nan, np.nan
    from scipy.stats import ttest_ind

    members = records.loc[records[by] == group, "response_id"]
    rated = ratings.reindex(members).dropna()
    mention = rated[rated.index.isin(ids)]
    others = rated[~rated.index.isin(ids)]
    if len(mention) < 2 or len(others) < 2:
        return np.nan, np.nan
    diff = float(others.mean() - mention.mean())
    if others.std() == 0 and mention.std() == 0:
        return diff, np.nan  # no variance: the t-test is undefined
    with warnings.catch_warnings():  # a constant group makes scipy warn about precision; the test stands
        warnings.simplefilter("ignore", RuntimeWarning)
        test = ttest_ind(others.astype(float), mention.astype(float), equal_var=False)
    return diff, float(test.pvalue)


def add_trend(table: pd.DataFrame, previous: pd.DataFrame | None, config: PainMapConfig,
              previous_period: str | None = None) -> pd.DataFrame:
    """Add the previous period's prevalence, ``trend`` (difference in shares) and ``rise``.

    ``previous`` holds ``group``, ``pain_id``, ``respondents`` and ``n_group`` of the previous
    period (pains it did not have count as 0 of its group's respondents). A rise is a one-sided
    two-proportion z-test (statsmodels) whose p-value, corrected over the map's rows
    (``rise_correction``), stays under ``rise_alpha``.
    """
    from statsmodels.stats.multitest import multipletests
    from statsmodels.stats.proportion import proportions_ztest

    out = table.copy()
    if out.empty:
        return out
    if previous is None or previous.empty:
        out["prev_respondents"], out["prev_n_group"], out["prev_prevalence"] = np.nan, np.nan, np.nan
        out["trend"], out["rise_p"], out["rise"] = np.nan, np.nan, False
        out["trend_text"] = "нет данных за прошлый период"
        return out
    prev = previous.set_index(["group", "pain_id"])
    sizes = previous.groupby("group")["n_group"].max()
    out["prev_respondents"] = [int(prev["respondents"].get((g, p), 0)) for g, p in zip(out["group"], out["pain_id"])]
    out["prev_n_group"] = [int(sizes.get(g, 0)) for g in out["group"]]
    has_prev = out["prev_n_group"] > 0
    out["prev_prevalence"] = np.where(has_prev, out["prev_respondents"] / out["prev_n_group"].where(has_prev, 1), np.nan)
    out["trend"] = out["prevalence"] - out["prev_prevalence"]
    raw = np.full(len(out), np.nan)
    for i, (k, n, k0, n0) in enumerate(out[["respondents", "n_group", "prev_respondents", "prev_n_group"]].itertuples(index=False)):
        if n0 > 0 and (k + k0) > 0:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                raw[i] = proportions_ztest([k, k0], [n, n0], alternative="larger")[1]
    tested = ~np.isnan(raw)
    out["rise_p"] = np.nan
    out["rise"] = False
    if tested.any():
        reject, corrected, _, _ = multipletests(raw[tested], alpha=config.rise_alpha, method=config.rise_correction)
        out.loc[tested, "rise_p"] = corrected
        out.loc[tested, "rise"] = reject & (out.loc[tested, "trend"].to_numpy() > 0)
    label = f" к {previous_period}" if previous_period else ""
    out["trend_text"] = [
        "нет данных за прошлый период" if np.isnan(t) else
        f"{t * 100:+.0f} п.п.{label} ({k0} из {n0} → {k} из {n})" + ("; рост" if r else "")
        for t, k0, n0, k, n, r in out[["trend", "prev_respondents", "prev_n_group", "respondents", "n_group", "rise"]]
        .itertuples(index=False)]
    return out


def add_priority(table: pd.DataFrame, config: PainMapConfig) -> pd.DataFrame:
    """Add ``priority`` (0–1), ``priority_rank``, ``priority_class`` and ``priority_explained``.

    Components scaled to [0, 1]: prevalence / ``prevalence_full``; negativity from [-1, 1];
    rating impact / ``rating_full`` (0 when unknown); trend / ``trend_full`` (0 without a
    ``trend`` column). The score is their weighted sum divided by the sum of weights.
    """
    out = table.copy()
    if out.empty:
        return out
    comp = pd.DataFrame({
        "prevalence": (out["prevalence"] / config.prevalence_full).clip(0, 1),
        "negativity": ((out["negativity"] + 1) / 2).clip(0, 1),
        "rating_impact": (out["rating_impact"].fillna(0) / config.rating_full).clip(0, 1),
        "trend": (out["trend"].fillna(0) / config.trend_full).clip(0, 1) if "trend" in out else 0.0,
    }, index=out.index)
    weights = pd.Series(config.weights).reindex(comp.columns).fillna(0)
    out["priority"] = (comp * weights).sum(axis=1) / (weights.sum() or 1)
    out["priority_rank"] = out["priority"].rank(ascending=False, method="first").astype(int)
    out["priority_class"] = [_class(s, config) for s in out["priority"]]
    out["priority_explained"] = [
        " + ".join(f"{weights[c]:.2f}×{_RU_COMPONENT[c]} {comp.at[i, c]:.2f}" for c in comp.columns if weights[c])
        + f" = {out.at[i, 'priority']:.2f}" for i in out.index]
    return out.sort_values("priority_rank", kind="stable").reset_index(drop=True)


_RU_COMPONENT = {"prevalence": "распространённость", "negativity": "негативность",
                 "rating_impact": "влияние на оценку", "trend": "рост"}


def _class(score: float, config: PainMapConfig) -> str:
    for name, lowest in config.classes:
        if score >= lowest:
            return name
    return "низкий"


def suggest_measures(table: pd.DataFrame, config: PainMapConfig) -> pd.DataFrame:
    """Add ``measures``: the catalogue's measures for the row's taxonomy entry, else the default."""
    out = table.copy()
    out["measures"] = ["; ".join(config.measures.get(t, ())) if isinstance(t, str) and t in config.measures
                       else config.default_measure for t in out.get("taxonomy", pd.Series([None] * len(out)))]
    return out


def russian_columns(table: pd.DataFrame, by: str = "process") -> pd.DataFrame:
    """The map with the procedure's Russian headers (the grouping column named after ``by``)."""
    out = table.assign(kind=table["kind"].map(KIND_RU).fillna(table["kind"]))
    names = {**RUSSIAN, "group": RUSSIAN["process"] if by == "process" else RUSSIAN["group"]}
    keep = [c for c in names if c in out.columns and c != "process"]
    return out[keep].rename(columns=names)
