"""Russian text for managers: executive summaries and tables of the rendered reports.

Pure functions from built results (:class:`cxmining.mapjob.PainMapResult`,
:class:`cxmining.surveyjob.SurveyResult`) to Markdown strings or display-ready DataFrames.
Every figure is given with its n; a change is called a change only when its test passed.
"""
from __future__ import annotations

import pandas as pd

from . import painmap as pm


def _pct(x: float) -> str:
    return f"{x:.0%}"


def _pain_line(row) -> str:
    trend = "" if pd.isna(row.trend) else f"; {row.trend_text}"
    return (f"**{row.label}** ({pm.KIND_RU.get(row.kind, row.kind)}, {row.pain_id}) — {_pct(row.prevalence)} "
            f"респондентов ({row.respondents} из {row.n_group}; 95% ДИ {_pct(row.ci_low)}–{_pct(row.ci_high)}), "
            f"приоритет {row.priority_class}{trend}")


def pain_map_summary(result, group: str, top: int = 5) -> str:
    """Executive summary of one group's pain map (Markdown)."""
    t = result.table[result.table["group"] == group].sort_values("priority", ascending=False, kind="stable")
    if t.empty:
        return f"В период {result.period} в группе «{group}» болей, названных хотя бы двумя респондентами, не выявлено."
    n = int(t["n_group"].iat[0])
    kinds = t["kind"].value_counts()
    high = int((t["priority_class"] == "высокий").sum())
    lines = [f"**Период:** {result.period}; респондентов в группе: {n}. Выявлено болей: {len(t)} "
             f"(проблем {kinds.get('problem', 0)}, потребностей {kinds.get('need', 0)}); высокого приоритета: {high}.",
             "", "**Главные боли по приоритету:**", ""]
    lines += [f"{i}. {_pain_line(row)}" for i, row in enumerate(t.head(top).itertuples(), 1)]
    rises = t[t["rise"]]
    fresh = t[t["status"].str.contains("новая")]
    gone = result.vanished[result.vanished["group"] == group] if len(result.vanished) else result.vanished
    lines += ["", "**Что изменилось с прошлого периода:**", ""]
    if t["trend"].isna().all():
        lines.append("- данных за прошлый период нет.")
    else:
        lines.append("- статистически значимый рост: " + (", ".join(
            f"{r.label} ({r.trend_text})" for r in rises.itertuples()) if len(rises) else "нет") + ";")
        lines.append("- новые боли: " + (", ".join(f"{r.label} ({_pct(r.prevalence)})" for r in fresh.itertuples())
                                         if len(fresh) else "нет") + ";")
        lines.append("- больше не встречаются: " + (", ".join(
            f"{r.label} (было {_pct(r.prevalence)})" for r in gone.itertuples()) if len(gone) else "нет") + ".")
    return "\n".join(lines)


def pain_map_table(result, group: str | None = None) -> pd.DataFrame:
    """The map (one group or all) with the procedure's Russian columns, for display."""
    t = result.table if group is None else result.table[result.table["group"] == group]
    cols = ["group", "pain_id", "label", "kind", "prevalence_text", "priority_class", "measures", "status", "trend_text"]
    return pm.russian_columns(t[cols], result.by).reset_index(drop=True)


def quotes(result, group: str, top: int = 5) -> str:
    """Representative masked quotes of the group's top pains (Markdown)."""
    t = result.table[result.table["group"] == group].sort_values("priority", ascending=False, kind="stable").head(top)
    parts = []
    for row in t.itertuples():
        parts.append(f"**{row.label}** ({row.respondents} из {row.n_group}):")
        parts += [f"> «{q}»" for q in row.quotes] or ["> (цитат нет)"]
        parts.append("")
    return "\n".join(parts)


def measures(result, group: str) -> pd.DataFrame:
    """Pain → measures (register entries with their status first, then suggestions)."""
    t = result.table[result.table["group"] == group].sort_values("priority", ascending=False, kind="stable")
    return pd.DataFrame({"боль": t["label"], "код": t["pain_id"], "приоритет": t["priority_class"],
                         "мероприятия": t["measures"], "в реестре": t["in_register"]}).reset_index(drop=True)


def overview_summary(result, top: int = 10) -> str:
    """All groups of one period: the administration's top pains and where they concentrate."""
    t = result.table.sort_values("priority", ascending=False, kind="stable")
    by_group = t.groupby("group").agg(pains=("pain_id", "size"), high=("priority_class", lambda s: (s == "высокий").sum()))
    lines = [f"**Период:** {result.period}. Групп: {t['group'].nunique()}, болей в картах: {len(t)}, из них высокого "
             f"приоритета: {int((t['priority_class'] == 'высокий').sum())}, со значимым ростом: {int(t['rise'].sum())}. "
             f"Доля высказываний о проблемах и потребностях, попавших в карты: {_pct(result.coverage)}.", "",
             "**Главные боли администрации:**", ""]
    lines += [f"{i}. {row.group}: {_pain_line(row)}" for i, row in enumerate(t.head(top).itertuples(), 1)]
    busiest = by_group.sort_values(["high", "pains"], ascending=False).head(3)
    lines += ["", "**Больше всего болей высокого приоритета:** " + ", ".join(
        f"{g} ({int(r.high)} из {int(r.pains)})" for g, r in busiest.iterrows()) + "."]
    return "\n".join(lines)


def survey_summary(result) -> str:
    """Executive summary of the internal survey (Markdown); only significant changes are called changes."""
    s = result.summary
    allr = s[(s["breakdown"] == "all") & ~s["suppressed"]].set_index("dimension")
    lines = [f"**Период:** {result.period}; респондентов: {int(allr['n'].max())}. Порог анонимности: "
             f"{result.min_group} человек — меньшие группы нигде не показываются."]
    if "overall" in allr.index:
        o = allr.loc["overall"]
        lines.append(f"Общая удовлетворённость работой: индекс {o['index']:.0f} из 100 (среднее {o['mean']:.2f}, "
                     f"95% ДИ {o['ci_low']:.2f}–{o['ci_high']:.2f}, n = {int(o['n'])}).")
    low = allr.drop(index="overall", errors="ignore").sort_values("index").head(3)
    lines += ["", "**Наименее удовлетворены:** " + "; ".join(
        f"{result.labels[d]} — индекс {r['index']:.0f} (n = {int(r['n'])})" for d, r in low.iterrows()) + "."]
    ch = result.changes
    if len(ch):
        sig = ch[(ch["breakdown"] == "all") & ch["significant"]]
        lines += ["", "**Изменения к прошлому периоду** (значимые после поправки на число сравнений): " + (
            "; ".join(f"{result.labels[r.dimension]}: {r.mean_prev:.2f} → {r.mean:.2f} ({r.diff:+.2f}; n = {int(r.n)})"
                      for r in sig.itertuples()) if len(sig) else "значимых изменений нет") + "."]
    first = result.drivers[result.drivers["quadrant"] == "улучшать в первую очередь"]
    lines += ["", "**Улучшать в первую очередь** (сильно влияют на общую удовлетворённость при низкой оценке): "
              + (", ".join(result.labels[d] for d in first["dimension"]) or "нет") + "."]
    return "\n".join(lines)


def method_table(method: dict) -> pd.DataFrame:
    return pd.DataFrame({"параметр": list(method), "значение": [str(v) for v in method.values()]})
