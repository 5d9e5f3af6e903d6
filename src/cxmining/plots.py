"""Charts for managers (seaborn): every function takes DataFrames and returns a Figure; the caller
saves it. Labels are in Russian; every figure shown carries its n.
"""
from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

PALETTE = {"высокий": "#c0392b", "средний": "#e67e22", "низкий": "#7f8c8d"}


def _short(text: str, width: int = 38) -> str:
    text = str(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def _wrap(text: str, width: int = 28) -> str:
    return "\n".join(textwrap.wrap(str(text), width)) or str(text)


def _figure(width: float, height: float):
    import matplotlib

    matplotlib.use("Agg", force=False)  # headless batch runs; notebooks keep their inline backend
    import matplotlib.pyplot as plt

    return plt.figure(figsize=(width, height), dpi=100)


def prevalence_heatmap(table: pd.DataFrame, top: int = 25):
    """Group × pain heat map of prevalence (%), for the ``top`` pains by their highest priority."""
    import seaborn as sns

    keep = (table.sort_values("priority", ascending=False, kind="stable")
            .drop_duplicates("pain_id")["pain_id"].head(top).tolist())
    part = table[table["pain_id"].isin(keep)]
    names = {p: f"{p} {_short(l)}" for p, l in zip(part["pain_id"], part["label"])}
    grid = (part.assign(pain=part["pain_id"].map(names)).pivot_table(index="pain", columns="group", values="prevalence",
                                                                      aggfunc="max") * 100)
    grid = grid.reindex([names[p] for p in keep if p in names])
    sizes = table.groupby("group")["n_group"].max()
    grid.columns = [f"{_wrap(g, 22)}\n(n={sizes[g]})" for g in grid.columns]
    fig = _figure(max(6, 1.3 * grid.shape[1] + 4), max(4, 0.35 * len(grid) + 2))
    ax = fig.add_subplot()
    sns.heatmap(grid, annot=True, fmt=".0f", cmap="Reds", cbar_kws={"label": "доля респондентов, %"},
                linewidths=0.5, linecolor="white", ax=ax)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title("Распространённость болей по группам, % респондентов (пусто — боль не выявлена)")
    ax.tick_params(axis="x", labelrotation=0, labelsize=8)
    ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    return fig


def priority_matrix(table: pd.DataFrame, label_top: int = 10):
    """Prevalence against rating impact; bubble size = respondents, colour = priority class."""
    import seaborn as sns

    data = table.assign(prevalence_pct=table["prevalence"] * 100,
                        impact=table["rating_impact"].fillna(0.0))
    fig = _figure(10, 7)
    ax = fig.add_subplot()
    sns.scatterplot(data=data, x="prevalence_pct", y="impact", size="respondents", hue="priority_class",
                    palette=PALETTE, hue_order=[c for c in PALETTE if c in set(data["priority_class"])],
                    sizes=(30, 600), alpha=0.7, edgecolor="black", linewidth=0.3, ax=ax)
    for row in data.sort_values("priority", ascending=False).head(label_top).itertuples():
        ax.annotate(f"{row.pain_id} {_short(row.label, 28)}", (row.prevalence_pct, row.impact), fontsize=7,
                    xytext=(4, 4), textcoords="offset points")
    ax.axhline(0, color="grey", linewidth=0.5)
    ax.set_xlabel("распространённость, % респондентов группы")
    ax.set_ylabel("снижение средней оценки у упомянувших, баллов (0 — нет оценок)")
    ax.set_title(f"Матрица приоритетов: {len(data)} болей, {int(data['respondents'].sum())} упоминаний")
    handles, labels = ax.get_legend_handles_labels()
    names = {"priority_class": "приоритет", "respondents": "респондентов"}
    ax.legend(handles, [names.get(lab, lab) for lab in labels], fontsize=8, loc="best")
    fig.tight_layout()
    return fig


def trend_chart(history: pd.DataFrame, table: pd.DataFrame, top: int = 8):
    """Prevalence of the map's ``top`` pains (by priority) in every period, with n per point."""
    import seaborn as sns

    top_rows = table.sort_values("priority", ascending=False, kind="stable").head(top)
    keys = list(zip(top_rows["group"], top_rows["pain_id"]))
    periods = sorted(history["period"].unique())
    sizes = history.groupby(["period", "group"])["n_group"].max()
    lines = []
    for group, pain in keys:
        label = top_rows.loc[(top_rows["group"] == group) & (top_rows["pain_id"] == pain), "label"].iat[0]
        for period in periods:
            hit = history[(history["period"] == period) & (history["group"] == group) & (history["pain_id"] == pain)]
            n = int(sizes.get((period, group), 0))
            k = int(hit["respondents"].sum())
            lines.append({"period": period, "pain": f"{pain} {_short(label, 26)} ({_short(group, 24)})",
                          "prevalence": 100 * k / n if n else np.nan, "k": k, "n": n})
    data = pd.DataFrame(lines)
    fig = _figure(10, 6)
    ax = fig.add_subplot()
    sns.lineplot(data=data, x="period", y="prevalence", hue="pain", marker="o", ax=ax)
    for row in data.dropna(subset=["prevalence"]).itertuples():
        ax.annotate(f"{row.k}/{row.n}", (periods.index(row.period), row.prevalence), fontsize=6,
                    xytext=(3, -8), textcoords="offset points", color="dimgrey")
    ax.set_xlabel("период (подписи точек: упомянувших / респондентов группы)")
    ax.set_ylabel("доля респондентов, %")
    ax.set_title("Динамика главных болей")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_xticks(range(len(periods)))
    ax.set_xticklabels(periods)
    fig.tight_layout()
    return fig
