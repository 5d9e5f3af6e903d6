"""Pain-map statistics on small hand-computed data."""
import pandas as pd
import pytest

from cxmining.painmap import add_priority, pain_table, russian_columns, suggest_measures

FIVE = ["наименование процесса", "выявленные проблемы / потенциальные потребности клиентов",
        "распространённость проблемы", "приоритетность решения проблемы / удовлетворения потребности",
        "необходимые мероприятия (мероприятия по реинжинирингу)"]


@pytest.fixture()
def data():
    records = pd.DataFrame({
        "response_id": [f"a{i}" for i in range(1, 11)] + [f"b{i}" for i in range(1, 5)],
        "process": ["A"] * 10 + ["B"] * 4,
        "rating": [1, 2, 1, 4, 5, 4, 5, 4, 5, 4] + [3, 3, 3, 3],
    })
    units = pd.DataFrame([
        ("a1", "problem", 0.6, 0), ("a1", "problem", 0.6, 0), ("a2", "problem", 0.6, 0), ("a3", "need", 0.6, 0),
        ("a4", "problem", 0.9, 1),                      # one respondent: under min_respondents
        ("a5", "praise", -0.8, 0),                      # praise never counts as a pain
        ("a6", "problem", 0.7, -1),                     # no topic
        ("b1", "need", 0.2, 0), ("b2", "need", 0.2, 0),
    ], columns=["response_id", "kind", "negativity", "topic"])
    units["text_masked"] = [f"цитата {i}" for i in range(len(units))]
    units = units.merge(records[["response_id", "process"]], on="response_id")
    return units, records


def test_prevalence_wilson_interval_and_rating_impact(data, config):
    units, records = data
    table = pain_table(units, records, config.painmap, topic_labels={0: "очередь, запись"}).set_index(["group", "topic"])
    assert list(table.index) == [("A", 0), ("B", 0)]
    a = table.loc[("A", 0)]
    assert (a["respondents"], a["n_group"], a["prevalence"]) == (3, 10, 0.3)
    # Wilson 95%: (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n) with p = 0.3, n = 10
    assert a["ci_low"] == pytest.approx(0.1078, abs=5e-4) and a["ci_high"] == pytest.approx(0.6032, abs=5e-4)
    assert a["kind"] == "problem" and a["response_ids"] == ["a1", "a2", "a3"]
    assert a["rating_impact"] == pytest.approx(31 / 7 - 4 / 3)  # others 4.43 vs mentioning 1.33
    assert a["rating_impact_p"] < 0.01
    assert a["prevalence_text"] == "30% (3 из 10; 11%–60%)"
    b = table.loc[("B", 0)]
    assert (b["prevalence"], b["kind"]) == (0.5, "need")
    assert b["rating_impact"] == 0.0 and pd.isna(b["rating_impact_p"])  # all ratings equal: no test
    assert len(a["quotes"]) == 3


def test_priority_is_formed_from_configured_weights(data, config):
    units, records = data
    table = add_priority(pain_table(units, records, config.painmap), config.painmap).set_index("group")
    # A: prevalence 0.3/0.25 → 1, negativity (0.6+1)/2 = 0.8, rating impact 3.1/2 → 1, no trend
    assert table.loc["A", "priority"] == pytest.approx(0.45 * 1 + 0.2 * 0.8 + 0.2 * 1)
    assert table.loc["A", "priority_class"] == "высокий" and table.loc["A", "priority_rank"] == 1
    assert table.loc["A", "priority_explained"].endswith("= 0.81")
    # B: prevalence 0.5 → 1, negativity 0.6, no rating impact → 0.45 + 0.12 = 0.57
    assert table.loc["B", "priority"] == pytest.approx(0.57) and table.loc["B", "priority_class"] == "средний"


def test_measures_and_russian_columns(data, config):
    units, records = data
    table = pain_table(units, records, config.painmap, topic_labels={0: "очередь, запись"}, taxonomy={0: "очереди"})
    table = suggest_measures(add_priority(table, config.painmap), config.painmap)
    assert table["measures"].iloc[0].startswith("электронная запись")
    russian = russian_columns(table)
    assert all(col in russian.columns for col in FIVE)
    assert russian[FIVE].notna().all().all()
    assert set(russian["тип"]) == {"проблема", "потребность"}


def test_painmap_cli_writes_the_five_russian_columns_for_every_row(tmp_path, run_cli):
    from tests.conftest import ROOT

    feedback = pd.read_csv(ROOT / "data/raw/demo/external_feedback.csv", sep=";", dtype=str).head(700)
    feedback.to_csv(tmp_path / "q2.csv", sep=";", index=False)
    assert run_cli("ingest", "q2.csv", "--kind", "external", "--processed", "out").returncode == 0
    res = run_cli("painmap", "--period", "2026Q2", "--processed", "out", "--out", "pm", "--workers", "1")
    assert res.returncode == 0, res.stderr
    sheets = pd.read_excel(tmp_path / "pm/pain_map.xlsx", sheet_name=None)
    assert "Сводка" in sheets and "Метод" in sheets and len(sheets) >= 4
    for name, sheet in sheets.items():
        if name == "Метод":
            continue
        assert all(col in sheet.columns for col in FIVE), name
        assert len(sheet) and sheet[FIVE].notna().all().all(), name
    tidy = pd.read_csv(tmp_path / "pm/pain_map.csv")
    assert tidy["response_ids"].str.len().gt(0).all() and (tidy["period"] == "2026Q2").all()
    bad = run_cli("painmap", "--period", "2030Q1", "--processed", "out", "--out", "pm2")
    assert bad.returncode == 2 and "no external records for period '2030Q1'" in bad.stderr


def test_trend_and_rises_by_hand(config):
    from scipy.stats import norm

    from cxmining.painmap import add_trend

    table = pd.DataFrame({"group": ["A"] * 4, "pain_id": ["P1", "P2", "P3", "P4"], "respondents": [30, 12, 5, 9],
                          "n_group": [100] * 4})
    table["prevalence"] = table["respondents"] / table["n_group"]
    previous = pd.DataFrame({"group": ["A"] * 3, "pain_id": ["P1", "P2", "P4"], "respondents": [15, 10, 3],
                             "n_group": [100] * 3})
    out = add_trend(table, previous, config.painmap, "2026Q2").set_index("pain_id")

    def one_sided(k1, k0, n=100):  # pooled two-proportion z-test, H1: p1 > p0
        p = (k1 + k0) / (2 * n)
        return norm.sf((k1 - k0) / n / (p * (1 - p) * 2 / n) ** 0.5)

    raw = {"P1": one_sided(30, 15), "P2": one_sided(12, 10), "P3": one_sided(5, 0), "P4": one_sided(9, 3)}
    holm, running = {}, 0.0
    for rank, (pain, p) in enumerate(sorted(raw.items(), key=lambda kv: kv[1])):  # Holm step-down
        running = max(running, min(1.0, (len(raw) - rank) * p))
        holm[pain] = running
    for pain in raw:
        assert out.loc[pain, "rise_p"] == pytest.approx(holm[pain], rel=1e-6), pain
    assert out.loc["P1", "rise"] and out.loc["P3", "rise"] and not out.loc["P2", "rise"]
    # P4 (3 -> 9 of 100) passes alone (raw p 0.037) but not after the correction for four pains.
    assert raw["P4"] < 0.05 and holm["P4"] > 0.05 and not out.loc["P4", "rise"]
    assert out.loc["P3", "prev_respondents"] == 0 and out.loc["P1", "trend"] == pytest.approx(0.15)
    assert out.loc["P1", "trend_text"] == "+15 п.п. к 2026Q2 (15 из 100 → 30 из 100); рост"
    first = add_trend(table, None, config.painmap)
    assert first["trend_text"].eq("нет данных за прошлый период").all() and not first["rise"].any()
