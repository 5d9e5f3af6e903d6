"""Internal survey analytics: satisfaction by dimension and group, anonymity, change, drivers.

Core functions take and return DataFrames (no disk):

- :func:`summary` — per breakdown (all, department, position group, tenure group), group and
  dimension: n, mean (1–5), index 0–100, top-2 and bottom-2 box shares, the 95% t-interval of the
  mean (statsmodels) and the answer distribution, with :func:`suppress` applied;
- :func:`suppress` — primary suppression of groups under ``min_group`` and complementary
  suppression, so that no hidden group can be recovered from the total and the shown groups;
- :func:`changes` — change against the previous period (Welch's t-test, scipy), corrected for
  the number of comparisons (statsmodels ``multipletests``);
- :func:`drivers` — relative weights (Johnson, 2000) of the dimensions in explaining overall
  satisfaction, with bootstrap intervals, and the importance × satisfaction quadrant;
- :func:`assign_dimensions` — the dimension each open-answer unit speaks about (lexicons in the
  configuration), so that the internal pain map can use dimensions as its processes.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

BREAKDOWNS = ("all", "department", "position_group", "tenure_group")
ALL = "все респонденты"
LEVELS = (1, 2, 3, 4, 5)
PRIMARY, SECONDARY = "< порога", "дополнительно скрыто"
QUADRANTS = {(True, False): "улучшать в первую очередь", (True, True): "поддерживать",
             (False, False): "улучшать во вторую очередь", (False, True): "сохранять"}


def _cell(scores: pd.Series, confidence: float) -> dict:
    from statsmodels.stats.weightstats import DescrStatsW

    x = scores.dropna().astype(float)
    n = len(x)
    counts = x.value_counts().reindex(LEVELS, fill_value=0)
    mean = float(x.mean()) if n else np.nan
    low, high = (DescrStatsW(x.to_numpy()).tconfint_mean(alpha=1 - confidence) if n > 1 and x.std() > 0
                 else (mean, mean))
    return {"n": n, "mean": mean, "index": (mean - 1) / 4 * 100 if n else np.nan,
            "top2": float((x >= 4).mean()) if n else np.nan, "bottom2": float((x <= 2).mean()) if n else np.nan,
            "ci_low": float(low), "ci_high": float(high), **{f"d{k}": int(counts[k]) for k in LEVELS}}


def summary(records: pd.DataFrame, dimensions, *, min_group: int = 5, confidence: float = 0.95,
            breakdowns=BREAKDOWNS) -> pd.DataFrame:
    """Tidy satisfaction table with anonymity applied.

    Columns: ``breakdown``, ``group``, ``dimension``, ``n``, ``mean``, ``index``, ``top2``,
    ``bottom2``, ``ci_low``, ``ci_high``, ``d1``..``d5`` (answer counts), ``suppressed`` and
    ``suppression`` (why). Suppressed rows carry no figures at all (NaN), not even n.
    """
    rows = []
    for breakdown in breakdowns:
        if breakdown == "all":
            parts = [(ALL, records)]
        else:
            keys = records[breakdown].astype(object).where(records[breakdown].notna(), "не указано")
            parts = list(records.groupby(keys, sort=True))
        for group, part in parts:
            for dim in dimensions:
                rows.append({"breakdown": breakdown, "group": str(group), "dimension": dim,
                             **_cell(part[dim], confidence)})
    return suppress(pd.DataFrame(rows), min_group)


def suppress(table: pd.DataFrame, min_group: int) -> pd.DataFrame:
    """Hide every cell of a group with fewer than ``min_group`` respondents, and enough other cells
    of the same breakdown and dimension that the hidden ones cannot be recovered by subtraction.

    Rule per (breakdown, dimension): if any group is hidden, keep hiding the smallest shown group
    until at least two are hidden and together they hold at least ``min_group`` respondents (so
    that even their combined figures, derivable from the total, describe no small group). If the
    whole breakdown's total is under the threshold, everything is hidden.
    """
    out = table.copy()
    out["suppressed"] = False
    out["suppression"] = ""
    keys = [c for c in ("period", "breakdown", "dimension") if c in out.columns]
    for _, idx in out.groupby(keys, sort=False).groups.items():
        part = out.loc[idx]
        small = part.index[part["n"] < min_group]
        out.loc[small, ["suppressed", "suppression"]] = [True, PRIMARY]
        if part["breakdown"].iat[0] == "all" or not len(small):
            continue
        hidden = list(small)
        shown = part.drop(index=small).sort_values(["n", "group"], kind="stable")
        for i in shown.index:
            if len(hidden) >= 2 and part.loc[hidden, "n"].sum() >= min_group:
                break
            hidden.append(i)
            out.loc[i, ["suppressed", "suppression"]] = [True, SECONDARY]
    figures = [c for c in out.columns if c not in (*keys, "group", "suppressed", "suppression")]
    out[figures] = out[figures].astype(float)
    out.loc[out["suppressed"], figures] = np.nan
    return out


def changes(current: pd.DataFrame, previous: pd.DataFrame, dimensions, *, min_group: int = 5,
            alpha: float = 0.05, correction: str = "holm", breakdowns=BREAKDOWNS) -> pd.DataFrame:
    """Change of each dimension's mean per breakdown group against the previous period.

    Welch's t-test per (breakdown, group, dimension) shown in both periods (complementary
    suppression of either period hides the row); p-values corrected together with ``correction``.
    ``significant`` is what the report may call a change.
    """
    from scipy.stats import ttest_ind
    from statsmodels.stats.multitest import multipletests

    hidden = set()
    for frame in (current, previous):
        s = summary(frame, dimensions, min_group=min_group, breakdowns=breakdowns)
        hidden |= set(map(tuple, s.loc[s["suppressed"], ["breakdown", "group", "dimension"]].to_numpy()))
    rows = []
    for breakdown in breakdowns:
        def parts(frame):
            if breakdown == "all":
                return {ALL: frame}
            keys = frame[breakdown].astype(object).where(frame[breakdown].notna(), "не указано")
            return {str(g): p for g, p in frame.groupby(keys, sort=True)}
        now, before = parts(current), parts(previous)
        for group in sorted(set(now) & set(before)):
            for dim in dimensions:
                a, b = now[group][dim].dropna().astype(float), before[group][dim].dropna().astype(float)
                row = {"breakdown": breakdown, "group": group, "dimension": dim}
                if (breakdown, group, dim) in hidden:
                    rows.append({**row, "suppressed": True})
                    continue
                p = float(ttest_ind(a, b, equal_var=False).pvalue) if len(a) > 1 and len(b) > 1 and (a.std() or b.std()) else np.nan
                rows.append({**row, "n_prev": len(b), "mean_prev": b.mean(), "n": len(a), "mean": a.mean(),
                             "diff": a.mean() - b.mean(), "p": p, "suppressed": False})
    out = pd.DataFrame(rows)
    for c in ("n_prev", "mean_prev", "n", "mean", "diff", "p"):
        if c not in out:
            out[c] = np.nan
    out["p_adj"], out["significant"] = np.nan, False
    tested = out["p"].notna()
    if tested.any():
        reject, adjusted, _, _ = multipletests(out.loc[tested, "p"], alpha=alpha, method=correction)
        out.loc[tested, "p_adj"], out.loc[tested, "significant"] = adjusted, reject
    return out


def relative_weights(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Johnson's relative weights: each predictor's share of R² (the raw weights sum to R²)."""
    X = (x - x.mean(0)) / x.std(0, ddof=1)
    z = (y - y.mean()) / y.std(ddof=1)
    n = len(z)
    R = X.T @ X / (n - 1)
    rxy = X.T @ z / (n - 1)
    vals, vecs = np.linalg.eigh(R)
    half = vecs @ np.diag(np.sqrt(np.clip(vals, 0, None))) @ vecs.T
    beta = np.linalg.solve(half, rxy)
    return (half ** 2) @ (beta ** 2)


def drivers(records: pd.DataFrame, dimensions, overall: str = "overall", *, n_boot: int = 500, seed: int = 0,
            confidence: float = 0.95) -> pd.DataFrame:
    """Relative weight of each dimension in explaining ``overall``, with percentile bootstrap
    intervals, the dimension's satisfaction index and its quadrant (importance and satisfaction
    above / below their medians across dimensions). Respondents with every answer only."""
    complete = records[[*dimensions, overall]].apply(pd.to_numeric, errors="coerce").dropna()
    x, y = complete[list(dimensions)].to_numpy(float), complete[overall].to_numpy(float)
    raw = relative_weights(x, y)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        i = rng.integers(0, len(y), len(y))
        if np.all(x[i].std(0) > 0) and y[i].std() > 0:
            boots.append(relative_weights(x[i], y[i]))
    boots = np.array(boots)
    tail = (1 - confidence) / 2 * 100
    out = pd.DataFrame({"dimension": list(dimensions), "raw_weight": raw, "share_of_r2": raw / raw.sum(),
                        "ci_low": np.percentile(boots, tail, axis=0), "ci_high": np.percentile(boots, 100 - tail, axis=0),
                        "index": (complete[list(dimensions)].mean().to_numpy() - 1) / 4 * 100})
    out["n"], out["r2"] = len(y), raw.sum()
    important = out["raw_weight"] >= out["raw_weight"].median()
    satisfied = out["index"] >= out["index"].median()
    out["quadrant"] = [QUADRANTS[(bool(i), bool(s))] for i, s in zip(important, satisfied)]
    return out.sort_values("raw_weight", ascending=False, kind="stable").reset_index(drop=True)


def assign_dimensions(units: pd.DataFrame, lexicons, other: str = "other") -> pd.Series:
    """The dimension whose lexicon has the most lemmas in the unit's analysis text (first in
    configuration order on a tie). A unit without any such lemma takes the dimension of the
    nearest unit before it (else after it) in the same answer — a clause like «новые ждём
    неделями» continues the sentence about cartridges before it; ``other`` when the whole answer
    has none. ``units`` needs ``response_id``, ``field`` and ``analysis_text``, in text order."""
    keys = list(lexicons)
    own = []
    for text in units["analysis_text"].fillna(""):
        words = set(text.replace("_", " ").split())
        hits = [len(words & set(lexicons[k])) for k in keys]
        best = int(np.argmax(hits)) if hits else 0
        own.append(keys[best] if hits and hits[best] > 0 else None)
    own = pd.Series(own, index=units.index, dtype=object)
    answer = [units["response_id"], units["field"]] if "field" in units else [units["response_id"]]
    filled = own.groupby(answer, sort=False).transform(lambda s: s.ffill().bfill())
    return filled.fillna(other).rename("dimension")
