"""Survey statistics on small hand-computed data."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cxmining import survey as sv


@pytest.fixture()
def records():
    # A: 6 respondents, B: 5, C: 2 (under the threshold of 5)
    return pd.DataFrame({
        "respondent_id": [f"r{i}" for i in range(13)],
        "department": ["A"] * 6 + ["B"] * 5 + ["C"] * 2,
        "position_group": ["спец"] * 13, "tenure_group": ["1–3"] * 13,
        "q": [1, 2, 3, 4, 5, 5, 4, 4, 4, 5, 3, 1, 2],
    })


def test_every_figure_by_hand(records):
    s = sv.summary(records, ["q"], min_group=5, breakdowns=("all", "department")).set_index(["breakdown", "group"])
    a = s.loc[("department", "A")]
    x = np.array([1, 2, 3, 4, 5, 5.0])
    half = stats.t.ppf(0.975, 5) * x.std(ddof=1) / np.sqrt(6)
    assert (a["n"], a["mean"]) == (6, 20 / 6)
    assert a["index"] == pytest.approx((20 / 6 - 1) / 4 * 100)
    assert a["top2"] == pytest.approx(3 / 6) and a["bottom2"] == pytest.approx(2 / 6)
    assert a["ci_low"] == pytest.approx(20 / 6 - half) and a["ci_high"] == pytest.approx(20 / 6 + half)
    assert [a[f"d{k}"] for k in range(1, 6)] == [1, 1, 1, 1, 2]
    total = s.loc[("all", sv.ALL)]
    assert (total["n"], total["mean"], total["suppressed"]) == (13, 43 / 13, False)


def test_complementary_suppression_leaves_nothing_to_subtract(records):
    s = sv.summary(records, ["q"], min_group=5, breakdowns=("all", "department")).set_index(["breakdown", "group"])
    assert s.loc[("department", "C"), "suppression"] == sv.PRIMARY
    # With C alone hidden, C = total - A - B. B, the smallest shown group, is hidden too.
    assert s.loc[("department", "B"), "suppression"] == sv.SECONDARY
    assert not s.loc[("department", "A"), "suppressed"]
    hidden = s[s["suppressed"]]
    assert hidden[["n", "mean", "index", "top2", "bottom2", "ci_low", "ci_high", "d1", "d5"]].isna().all().all()


@pytest.mark.parametrize("sizes, hidden", [
    ({"A": 20, "B": 10, "C": 2, "D": 1}, {"C", "D", "B"}),  # C+D = 3 < 5: their sum is still a small group
    ({"A": 20, "B": 10, "C": 4, "D": 3}, {"C", "D"}),       # two hidden, 7 respondents together
    ({"A": 20, "B": 10}, set()),
    ({"A": 3}, {"A"}),
])
def test_suppression_rule(sizes, hidden):
    table = pd.DataFrame({"breakdown": "department", "group": list(sizes), "dimension": "q", "n": list(sizes.values()),
                          "mean": 3.0})
    out = sv.suppress(table, 5)
    assert set(out.loc[out["suppressed"], "group"]) == hidden
    if hidden and len(sizes) > 1:
        assert len(hidden) >= 2 and sum(sizes[g] for g in hidden) >= 5


def test_changes_are_corrected_for_the_number_of_comparisons():
    rng = np.random.default_rng(0)
    now = pd.DataFrame({"department": ["A"] * 40 + ["B"] * 40, "position_group": "x", "tenure_group": "y",
                        "q1": np.r_[rng.integers(3, 6, 40), rng.integers(1, 6, 40)],
                        "q2": rng.integers(1, 6, 80)})
    before = pd.DataFrame({"department": ["A"] * 40 + ["B"] * 40, "position_group": "x", "tenure_group": "y",
                           "q1": np.r_[rng.integers(1, 4, 40), rng.integers(1, 6, 40)],
                           "q2": rng.integers(1, 6, 80)})
    out = sv.changes(now, before, ["q1", "q2"], breakdowns=("all", "department"))
    raw = [stats.ttest_ind(now.loc[m, d], before.loc[m, d], equal_var=False).pvalue
           for m, d in [(slice(None), "q1"), (slice(None), "q2"), (now.department == "A", "q1"),
                        (now.department == "A", "q2"), (now.department == "B", "q1"), (now.department == "B", "q2")]]
    assert out["p"].to_numpy() == pytest.approx(raw)
    order = np.argsort(raw)
    holm = np.empty(6)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (6 - rank) * raw[i]))
        holm[i] = running
    assert out["p_adj"].to_numpy() == pytest.approx(holm)
    assert out["significant"].tolist() == list(holm < 0.05)
    a_q1 = out[(out["group"] == "A") & (out["dimension"] == "q1")].iloc[0]
    assert a_q1["significant"] and a_q1["diff"] == pytest.approx(now.q1[:40].mean() - before.q1[:40].mean())


def test_relative_weights_of_uncorrelated_predictors_are_squared_correlations():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4000, 3))
    x = np.linalg.qr(x - x.mean(0))[0] * 10  # exactly uncorrelated columns
    y = 0.6 * x[:, 0] + 0.3 * x[:, 1] + rng.normal(size=4000) * 0.5
    w = sv.relative_weights(x, y)
    r = np.array([np.corrcoef(x[:, j], y)[0, 1] for j in range(3)])
    assert w == pytest.approx(r ** 2, abs=1e-9)
    fitted = np.c_[np.ones(4000), x] @ np.linalg.lstsq(np.c_[np.ones(4000), x], y, rcond=None)[0]
    assert w.sum() == pytest.approx(1 - ((y - fitted) ** 2).sum() / ((y - y.mean()) ** 2).sum())


def test_drivers_find_the_planted_driver_and_mark_the_quadrant():
    rng = np.random.default_rng(2)
    n = 300
    frame = pd.DataFrame({d: rng.integers(1, 6, n) for d in ("a", "b", "c", "d")})
    frame["a"] = np.clip(frame["a"] - 1, 1, 5)  # the least satisfied
    frame["overall"] = np.clip(np.round(0.8 * frame["a"] + 0.2 * frame["c"] + rng.normal(0, 0.4, n)), 1, 5)
    out = sv.drivers(frame, ["a", "b", "c", "d"], n_boot=100).set_index("dimension")
    assert out["raw_weight"].idxmax() == "a" and out.loc["a", "quadrant"] == "улучшать в первую очередь"
    assert (out["ci_low"] <= out["raw_weight"]).all() and (out["raw_weight"] <= out["ci_high"]).all()
    assert out["share_of_r2"].sum() == pytest.approx(1.0) and out["n"].iat[0] == n


@pytest.mark.parametrize("text, dimension", [
    ("Компьютер постоянно зависает.", "equipment"),
    ("Отчёты сводим вручную в таблицы.", "automation"),
    ("Заявление на отпуск в отделе кадров теряют.", "hr_requests"),
    ("На курсы повышения квалификации не отправляют.", "professional_development"),
    ("Классный чин не присваивают.", "career_growth"),
    ("Надо что-то менять.", "other"),
])
def test_open_answers_go_to_their_dimension(pipeline, config, text, dimension):
    units = pipeline.analyse([text]).assign(response_id="r1", field="open_problems")
    assert sv.assign_dimensions(units, config.survey.lexicons).iat[0] == dimension


def test_a_clause_without_words_of_its_own_continues_the_sentence_before(config):
    units = pd.DataFrame({"response_id": ["r1", "r1", "r2"], "field": "open_problems",
                          "analysis_text": ["картридж заканчиваться", "новый ждать неделя", "ничто не_меняться"]})
    assert sv.assign_dimensions(units, config.survey.lexicons).tolist() == ["equipment", "equipment", "other"]
