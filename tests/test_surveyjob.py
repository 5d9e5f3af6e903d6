"""The internal survey on the demo data: the department under the threshold shows nowhere."""
import json
import re

import pandas as pd
import pytest

from cxmining import plots, store
from cxmining.surveyjob import build_survey, write_survey

TINY = "Сектор мобилизационной подготовки"  # 3 respondents in each wave of the demo


@pytest.fixture(scope="module")
def built(demo_processed, config, tmp_path_factory):
    result = build_survey(demo_processed, "2026Q3", config, echo=lambda s: None)
    out = tmp_path_factory.mktemp("survey")
    write_survey(result, out)
    return result, out


def test_tiny_department_is_hidden_everywhere(built, demo_processed):
    result, out = built
    records = store.read_records(demo_processed, "internal", periods=["2026Q3"])
    assert 0 < (records["department"] == TINY).sum() < 5
    summary = pd.read_csv(out / "survey_summary.csv")
    tiny = summary[summary["group"] == TINY]
    assert len(tiny) == 10 and tiny["suppressed"].all() and tiny[["n", "mean", "index", "top2"]].isna().all().all()
    # complementary suppression: per dimension, never exactly one hidden department
    dept = summary[summary["breakdown"] == "department"]
    assert (dept.groupby("dimension")["suppressed"].sum() >= 2).all()
    changes = pd.read_csv(out / "survey_changes.csv")
    assert changes.loc[changes["group"] == TINY, "suppressed"].all()
    assert changes.loc[changes["group"] == TINY, ["n", "mean", "diff", "p"]].isna().all().all()
    book = pd.read_excel(out / "survey.xlsx", sheet_name=None)
    cells = book["Сводка"][book["Сводка"]["группа"] == TINY].drop(columns=["разрез", "группа", "параметр"])
    assert (cells == "< 5").all().all()
    assert TINY not in " ".join(map(str, book["Изменения"].to_numpy().ravel()))
    # quotes: nothing written by its respondents
    tiny_ids = set(records.loc[records["department"] == TINY, "respondent_id"])
    units = store.read_units(demo_processed, "internal", periods=["2026Q3"])
    theirs = set(units.loc[units["response_id"].isin(tiny_ids), "text_masked"]) - set(
        units.loc[~units["response_id"].isin(tiny_ids), "text_masked"])
    pain_map = pd.read_csv(out / "internal_pain_map.csv")
    quoted = " | ".join(pain_map["quotes"].fillna(""))
    assert theirs and not any(t in quoted for t in theirs)
    # the heat map says «< 5» in its row and shows no n for it
    ax = plots.survey_heatmap(result.summary, result.labels, result.min_group).axes[0]
    row = [t.get_text() for t in ax.get_yticklabels()]
    assert any(TINY in r and "n=скрыто" in r for r in row)
    assert sum(t.get_text() == "< 5" for t in ax.texts) == 10


def test_planted_changes_drivers_and_internal_pains(built):
    result, out = built
    ch = result.changes
    allr = ch[(ch["breakdown"] == "all") & ch["significant"]].set_index("dimension")
    # demo plan: automation +0.6, hr_requests -0.5 in the second wave; nothing else moves by more than 0.1
    assert set(allr.index) == {"automation", "hr_requests"}
    assert allr.loc["automation", "diff"] > 0 > allr.loc["hr_requests", "diff"]
    top = result.drivers["dimension"].head(3).tolist()
    assert "career_growth" in top and "automation" in top  # the two heaviest planted weights
    pains = result.pain_map
    assert len(pains) and set(pains["process"]) <= set(result.labels.values()) | {"прочее"}
    assert (pains["prevalence"] == pains["respondents"] / pains["n_group"]).all()
    method = json.loads((out / "method.json").read_text(encoding="utf-8"))
    assert "порог анонимности" in method
    assert re.search(r"R² = 0\.\d\d", method["драйверы"])
