"""Stable pain ids on hand-made centroids, keywords and shared units."""
import numpy as np
import pandas as pd
import pytest

from cxmining.sections import IdentityConfig
from cxmining.identity import STATUS_GONE, STATUS_NEW, match_pains, overlap, reference, vanished

CFG = IdentityConfig(min_cosine=0.8, min_keywords=0.15, strong_cosine=0.93, min_overlap=0.3)


def unit(*xs):
    v = np.array(xs, dtype=float)
    return v / np.linalg.norm(v)


@pytest.fixture()
def ref():
    return pd.DataFrame({"pain_id": ["P0001", "P0002"], "keywords": [["очередь", "запись"], ["сайт", "ошибка"]],
                         "centroid": [unit(1, 0, 0), unit(0, 1, 0)]})


def test_topics_continue_known_pains_and_new_ones_get_the_next_id(ref):
    current = pd.DataFrame({"topic": [0, 1, 2], "keywords": [["сайт", "ошибка", "вход"], ["очередь", "талон"], ["яма"]],
                            "centroid": [unit(0.1, 1, 0), unit(1, 0.3, 0), unit(0, 0, 1)]})
    out = match_pains(current, ref, CFG).set_index("topic")
    assert out.loc[0, "pain_id"] == "P0002"          # close and sharing keywords
    assert out.loc[1, "pain_id"] == "P0001"          # cos 0.958 >= strong_cosine, whatever the keywords
    assert out.loc[2, "pain_id"] == "P0003" and out.loc[2, "status"] == STATUS_NEW
    assert out.loc[0, "status"] == ""


def test_one_topic_per_id_and_thresholds_hold(ref):
    # Both topics resemble P0001; the closer one keeps it, the other becomes new.
    current = pd.DataFrame({"topic": [0, 1], "keywords": [["очередь", "запись"], ["очередь", "запись"]],
                            "centroid": [unit(1, 0.05, 0), unit(1, 0.4, 0)]})
    out = match_pains(current, ref, CFG).set_index("topic")
    assert out.loc[0, "pain_id"] == "P0001" and out.loc[1, "pain_id"] == "P0003"
    # cos 0.85 without shared keywords is not enough ...
    far = pd.DataFrame({"topic": [0], "keywords": [["двор"]], "centroid": [unit(1, 0.62, 0)]})
    assert match_pains(far, ref, CFG)["pain_id"].iat[0] == "P0003"
    # ... but sharing most of the previous period's units is.
    shared = pd.DataFrame({"P0001": [0.6]}, index=pd.Index([0], name="topic"))
    assert match_pains(far, ref, CFG, shared)["pain_id"].iat[0] == "P0001"


def test_first_period_has_no_new_flag():
    current = pd.DataFrame({"topic": [1, 0], "keywords": [["a"], ["b"]], "centroid": [unit(1, 0), unit(0, 1)]})
    out = match_pains(current, reference(None, "2026Q1"), CFG).set_index("topic")
    assert (out.loc[0, "pain_id"], out.loc[1, "pain_id"]) == ("P0001", "P0002")  # numbered in topic order
    assert (out["status"] == "").all()


def test_overlap_is_jaccard_over_previous_units():
    # previous pains: A has 4 units, B 2; today's model puts 3 of A and 1 of B in topic 0, 1 of A in topic 1
    previous = ["A", "A", "A", "A", "B", "B", None]
    topics = [0, 0, 0, 1, 0, -1, 0]
    table = overlap(previous, topics)
    assert table.loc[0, "A"] == pytest.approx(3 / (4 + 4 - 3))
    assert table.loc[0, "B"] == pytest.approx(1 / (4 + 2 - 1))
    assert table.loc[1, "A"] == pytest.approx(1 / 4)


def test_reference_keeps_the_latest_description_and_vanished_lists_gone_pains():
    history = pd.DataFrame({"period": ["2026Q1", "2026Q2", "2026Q2", "2026Q3"], "pain_id": ["P0001", "P0001", "P0002", "P0001"],
                            "label": ["старое", "новое", "другое", "ещё"], "keywords": [[]] * 4,
                            "centroid": [unit(1, 0)] * 4})
    ref = reference(history, "2026Q3").set_index("pain_id")
    assert ref.loc["P0001", "label"] == "новое" and ref.loc["P0001", "period"] == "2026Q2"
    gone = vanished(history, "2026Q3")
    assert gone["pain_id"].tolist() == ["P0002"] and (gone["status"] == STATUS_GONE).all()
