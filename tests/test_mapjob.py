"""The pain-map job on the demo data against its planted truth, and across quarters."""
import numpy as np
import pandas as pd
import pytest

from cxmining import curation as cur
from cxmining.mapjob import build_pain_map, period_dir, sheets

Q2, Q3 = "2026Q2", "2026Q3"


@pytest.fixture(scope="module")
def q3(demo_processed, config):
    return build_pain_map(demo_processed, Q3, config, echo=lambda s: None)


def _dominated(table, truth, plan, period):
    """Planted pain -> the map rows (same process) whose respondents mostly mention it."""
    answers = truth[(truth["period"] == period) & (truth["defect"] == "")].set_index("response_id")["pains"]
    planted = plan[plan["period"] == period]
    out = {}
    for row in table.itertuples():
        candidates = planted.loc[planted["process"] == row.group, "pain"]
        if candidates.empty:
            continue
        shares = {p: np.mean([p in answers.get(i, "").split(";") for i in row.response_ids]) for p in candidates}
        best = max(shares, key=shares.get)
        if shares[best] >= 0.5:
            out.setdefault(best, []).append(row)
    return out


def _estimates(table, truth, plan, period):
    dominated = _dominated(table, truth, plan, period)
    rows = []
    for p in plan[(plan["period"] == period) & (plan["realized_prevalence"] >= 0.05)].itertuples():
        hit = dominated.get(p.pain, [])
        ids = set().union(*[set(r.response_ids) for r in hit]) if hit else set()
        n, n0 = (hit[0].n_group, hit[0].prev_n_group) if hit else (np.nan, np.nan)
        prev = sum(r.prev_respondents for r in hit) / n0 if hit and n0 else np.nan
        rows.append({"pain": p.pain, "truth": p.realized_prevalence, "found": bool(hit),
                     "estimate": len(ids) / n if hit else np.nan, "previous_estimate": prev,
                     "flags": {f for r in hit for f in str(r.status).split(", ")}})
    return pd.DataFrame(rows)


def test_topics_are_fitted_on_evidence_weighted_documents(q3, demo_processed, config):
    from cxmining import store

    a = pd.read_parquet(period_dir(demo_processed, Q3) / "assignments.parquet")
    assert set(a["kind"]) == {"problem", "need"}
    units = store.read_units(demo_processed, "external", periods=[Q3], columns=["unit_id", "analysis_text"])
    a = a.merge(units, on="unit_id", how="left", validate="one_to_one")
    # «давка» is problem evidence: it stands in the analysis text once and is repeated evidence_weight times.
    crowded = a[a["analysis_text"].str.split().map(lambda words: "давка" in words)]
    assert len(crowded) >= 5
    assert all(text.split().count("давка") == 1 + config.painmap.evidence_weight for text in crowded["topic_text"])
    assert (a["topic_text"].str.len() >= a["analysis_text"].str.len()).all()
    # The map's topic model spans every process: its cap is painmap.max_topics, above topics.max_topics.
    topics = pd.read_parquet(period_dir(demo_processed, Q3) / "pains.parquet")
    assert config.topics.max_topics < len(topics) <= config.painmap.max_topics


def test_planted_pains_appear_in_their_process_map(q3, demo_truth):
    truth, plan = demo_truth
    est = _estimates(q3.table, truth, plan, Q3)
    assert len(est) >= 30
    assert est["found"].mean() >= 0.90, est.loc[~est["found"], "pain"].tolist()


def test_planted_prevalence_within_five_points(q3, demo_truth):
    truth, plan = demo_truth
    est = _estimates(q3.table, truth, plan, Q3)
    error = est["estimate"] - est["truth"]
    # Seed 0 of the bundled draw gives 0.92 (seeds 1-3: 0.97, 0.95, 0.95; benchmarks/painmap_truth.py).
    assert (error.abs() <= 0.05).mean() >= 0.90, est.loc[error.abs() > 0.05, ["pain", "truth", "estimate"]]
    assert abs(error.mean()) <= 0.02  # no systematic bias either way


def test_planted_change_shows_in_the_trend(q3, demo_truth):
    truth, plan = demo_truth
    est = _estimates(q3.table, truth, plan, Q3).set_index("pain")
    before = plan[plan["period"] == Q2].set_index("pain")["realized_prevalence"]
    change = (est["truth"] - before.reindex(est.index)).dropna()
    big = change[change.abs() >= 0.10].index.intersection(est.index[est["found"]])
    assert len(big) >= 8
    seen = np.sign(est.loc[big, "estimate"] - est.loc[big, "previous_estimate"])
    assert (seen == np.sign(change[big])).mean() >= 0.85
    # The pains planted only in the second quarter are flagged as new or rising.
    for pain in plan.loc[(plan["period"] == Q2) & (plan["planted_prevalence"] == 0), "pain"]:
        if pain in big:
            assert est.loc[pain, "flags"] & {"новая", "рост"}, pain


def test_rows_are_traceable_and_coverage_stated(q3):
    t = q3.table
    assert (t["respondents"] == t["response_ids"].map(len)).all()
    assert (t["prevalence"] == t["respondents"] / t["n_group"]).all()
    assert 0.8 <= q3.coverage <= 1.0 and "покрытие проблем и потребностей" in q3.method
    five = sheets(q3)
    assert {"Сводка", "Метод"} <= set(five)


def test_same_seed_same_map_and_ids_persist_across_quarters(q3, demo_processed, config):
    again = build_pain_map(demo_processed, Q3, config, echo=lambda s: None)
    pd.testing.assert_frame_equal(q3.table, again.table)
    p2 = pd.read_parquet(period_dir(demo_processed, Q2) / "pains.parquet")
    p3 = pd.read_parquet(period_dir(demo_processed, Q3) / "pains.parquet")
    assert p3["pain_id"].is_unique and not set(p3["pain_id"]) - set(p2["pain_id"]) == set(p3["pain_id"])
    top = p2.nlargest(15, "size")["pain_id"]
    assert top.isin(p3["pain_id"]).mean() >= 0.5  # most big pains keep their id into the next quarter


def test_curation_is_applied_by_stable_id(q3, demo_processed, config):
    t = q3.table
    big = t.groupby("pain_id")["respondents"].sum().sort_values(ascending=False).index
    keep, merged, noise = big[0], big[1], big[2]
    group = t.loc[t["pain_id"] == merged, "group"].iat[0]
    moved = t.loc[(t["pain_id"] == keep), "response_ids"].iat[0][0]
    curation = cur.Curation.from_dict({"rename": {keep: "Главная боль"}, "merge": {merged: keep}, "noise": [noise],
                                       "move": [{"response_id": moved, "from": keep, "to": merged}]}, "test.yaml")
    c = build_pain_map(demo_processed, Q3, config, curation=curation, echo=lambda s: None).table
    assert noise not in set(c["pain_id"]) and merged not in set(c["pain_id"])
    rows = c[c["pain_id"] == keep]
    assert (rows["label"] == "Главная боль").all() and rows["curated"].str.contains("переименована").all()
    before = t[t["pain_id"].isin([keep, merged]) & (t["group"] == group)]
    after = c[(c["pain_id"] == keep) & (c["group"] == group)]
    assert after["respondents"].iat[0] <= before["respondents"].sum()
    assert after["respondents"].iat[0] >= before["respondents"].max()
    assert f"объединена с {merged}" in after["curated"].iat[0]


def test_a_learned_layer_named_in_the_configuration_classifies_the_map_units(demo_processed, pipeline, config, tmp_path):
    import json
    import shutil

    from cxmining import io, store
    from cxmining.config import load_config
    from cxmining.pains import LearnedClassifier
    from tests.test_pains import labelled_set

    units, y, _ = labelled_set(pipeline, "pain_units.yaml")
    model = LearnedClassifier(rules=config.pains).fit(units, y)
    io.save_model(model, tmp_path / "layer.joblib", config)
    (tmp_path / "cfg.yaml").write_text(f"pains:\n  model: {tmp_path / 'layer.joblib'}\n", encoding="utf-8")
    cfg = load_config(tmp_path / "cfg.yaml")
    processed = tmp_path / "processed"
    shutil.copytree(demo_processed, processed, ignore=shutil.ignore_patterns("painmap", "survey"))

    result = build_pain_map(processed, Q2, cfg, echo=lambda s: None)
    state = json.loads((period_dir(processed, Q2) / "state.json").read_text(encoding="utf-8"))
    assert state["classifier"].startswith(f"learned layer {tmp_path / 'layer.joblib'} (sha256 ")
    assert result.method["классификатор высказываний"] == state["classifier"]
    # The map's problem and need units are exactly those the learned layer says are.
    all_units = store.read_units(processed, "external", periods=[Q2])
    predicted = all_units.loc[model.predict(all_units).isin(["problem", "need"]).to_numpy(), "unit_id"]
    assigned = pd.read_parquet(period_dir(processed, Q2) / "assignments.parquet")["unit_id"]
    assert sorted(assigned) == sorted(predicted)
    rules = build_pain_map(demo_processed, Q2, config, echo=lambda s: None)
    assert rules.method["классификатор высказываний"] == "правила конфигурации"
    assert set(pd.read_parquet(period_dir(demo_processed, Q2) / "assignments.parquet")["unit_id"]) != set(assigned)
