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
    # A bare Figure, not pyplot's: no global state, no backend switch (batch runs stay headless,
    # notebooks keep their inline backend and show it with display(fig)), nothing left open.
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100)


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


LIKERT_COLOURS = {1: "#b2182b", 2: "#ef8a62", 3: "#d9d9d9", 4: "#67a9cf", 5: "#2166ac"}
LIKERT_RU = {1: "1 — совсем не удовлетворены", 2: "2", 3: "3", 4: "4", 5: "5 — полностью удовлетворены"}


def likert_bars(summary: pd.DataFrame, labels: dict):
    """Diverging stacked bars of the answer distribution per dimension (all respondents):
    1–2 to the left of zero, 4–5 to the right, 3 split across it."""
    rows = summary[(summary["breakdown"] == "all") & ~summary["suppressed"]].copy()
    rows = rows.sort_values("index", kind="stable")
    shares = rows[[f"d{k}" for k in range(1, 6)]].to_numpy(float)
    shares = shares / shares.sum(axis=1, keepdims=True) * 100
    fig = _figure(10, 0.55 * len(rows) + 2)
    ax = fig.add_subplot()
    y = np.arange(len(rows))
    left = -(shares[:, 0] + shares[:, 1] + shares[:, 2] / 2)
    for k in range(5):
        ax.barh(y, shares[:, k], left=left, color=LIKERT_COLOURS[k + 1], label=LIKERT_RU[k + 1], edgecolor="white")
        left = left + shares[:, k]
    ax.axvline(0, color="black", linewidth=0.6)
    ax.set_yticks(y)
    ax.set_yticklabels([f"{_wrap(labels.get(d, d), 40)} (n={int(n)})" for d, n in zip(rows["dimension"], rows["n"])],
                       fontsize=8)
    ax.set_xlabel("доля ответов, %: слева — неудовлетворённые (1–2), справа — удовлетворённые (4–5)")
    ax.set_title("Удовлетворённость сотрудников по параметрам")
    ax.legend(fontsize=7, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    fig.tight_layout()
    return fig


def survey_heatmap(summary: pd.DataFrame, labels: dict, min_group: int):
    """Department × dimension satisfaction index; hidden cells read «< N» (under the threshold)
    or «скрыто» (hidden so that the others cannot be recovered), never a number."""
    import seaborn as sns

    rows = summary[summary["breakdown"] == "department"]
    grid = rows.pivot(index="group", columns="dimension", values="index")
    order = [d for d in labels if d in grid.columns]
    grid = grid[order]
    why = rows.pivot(index="group", columns="dimension", values="suppression")[order]
    sizes = rows.groupby("group")["n"].max()
    text = grid.round(0).astype("Int64").astype(str).where(why == "", other=why.replace(
        {"< порога": f"< {min_group}", "дополнительно скрыто": "скрыто"}))
    fig = _figure(12, 0.5 * len(grid) + 3)
    ax = fig.add_subplot()
    sns.heatmap(grid, annot=text.to_numpy(), fmt="", cmap="RdYlGn", vmin=0, vmax=100, linewidths=0.5,
                linecolor="white", cbar_kws={"label": "индекс удовлетворённости 0–100"}, ax=ax)
    ax.set_facecolor("#eeeeee")
    for i, group in enumerate(grid.index):  # seaborn leaves NaN cells blank: say why they are empty
        for j, dim in enumerate(order):
            if why.at[group, dim]:
                ax.text(j + 0.5, i + 0.5, text.at[group, dim], ha="center", va="center", fontsize=8, color="#555555")
    ax.set_xticklabels([_wrap(labels.get(d, d), 22) for d in order], rotation=35, ha="right", fontsize=7)
    ax.set_yticklabels([f"{_wrap(g, 34)} (n={'скрыто' if pd.isna(sizes[g]) else int(sizes[g])})" for g in grid.index],
                       rotation=0, fontsize=8)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title(f"Индекс удовлетворённости по подразделениям (группы меньше {min_group} человек не показываются)")
    fig.tight_layout()
    return fig


def drivers_quadrant(drivers: pd.DataFrame, labels: dict):
    """Importance (relative weight, with its bootstrap interval) × satisfaction index; the quadrant
    of high importance and low satisfaction is «улучшать в первую очередь»."""
    fig = _figure(10, 7)
    ax = fig.add_subplot()
    x, y = drivers["index"], drivers["raw_weight"] * 100
    colours = ["#c0392b" if q == "улучшать в первую очередь" else "#34495e" for q in drivers["quadrant"]]
    ax.errorbar(x, y, yerr=[y - drivers["ci_low"] * 100, drivers["ci_high"] * 100 - y], fmt="none", ecolor="#bbbbbb")
    ax.scatter(x, y, c=colours, s=70, zorder=3)
    for row in drivers.itertuples():
        ax.annotate(_wrap(labels.get(row.dimension, row.dimension), 24), (row.index, row.raw_weight * 100), fontsize=7,
                    xytext=(5, 3), textcoords="offset points")
    ax.axvline(x.median(), color="grey", linestyle="--", linewidth=0.8)
    ax.axhline(y.median(), color="grey", linestyle="--", linewidth=0.8)
    ax.text(0.01, 0.98, "улучшать в первую очередь", transform=ax.transAxes, va="top", color="#c0392b", fontsize=10)
    ax.text(0.99, 0.98, "поддерживать", transform=ax.transAxes, va="top", ha="right", fontsize=9)
    ax.text(0.01, 0.02, "улучшать во вторую очередь", transform=ax.transAxes, fontsize=9)
    ax.text(0.99, 0.02, "сохранять", transform=ax.transAxes, ha="right", fontsize=9)
    ax.set_xlabel("индекс удовлетворённости 0–100")
    ax.set_ylabel("вклад в объяснение общей удовлетворённости, % R² (95% интервал)")
    ax.set_title(f"Драйверы удовлетворённости: n = {int(drivers['n'].iat[0])} полных анкет, R² = {drivers['r2'].iat[0]:.2f}")
    fig.tight_layout()
    return fig


def png(fig, dpi: int = 100) -> bytes:
    """The figure as PNG bytes (no software/date metadata: same data, same bytes); notebooks show
    it with ``IPython.display.Image`` so that the rendered report embeds the picture."""
    import io as _io

    buffer = _io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None}, bbox_inches="tight")
    return buffer.getvalue()
