"""The analysts' pain dictionary and measures register."""
import pandas as pd
import pytest

from cxmining import io
from cxmining.curation import Curation, CurationError, apply_curation, check_register, merge_measures, register_draft


@pytest.mark.parametrize("raw, message", [
    ({"renames": {}}, "unknown section"),
    ({"merge": {"P0001": "P0002", "P0002": "P0001"}}, "cycle"),
    ({"move": [{"response_id": "E1"}]}, "needs `to`"),
])
def test_bad_dictionary_says_what_to_fix(raw, message):
    with pytest.raises(CurationError, match=message):
        Curation.from_dict(raw, "pains.yaml")


def test_rename_merge_noise_and_move_by_stable_id():
    units = pd.DataFrame({"unit_id": ["a/1", "a/2", "b/1", "c/1", "d/1", "e/1"],
                          "response_id": ["a", "a", "b", "c", "d", "e"],
                          "pain_id": ["P1", "P2", "P2", "P3", "P4", None]})
    curation = Curation.from_dict({"rename": {"P1": "Очереди в МФЦ"}, "merge": {"P3": "P2", "P2": "P1"},
                                   "noise": ["P4"], "move": [{"unit_id": "a/2", "to": "P4"}]})
    out, labels, notes = apply_curation(units, {"P1": "очередь", "P2": "запись", "P4": "шум"}, curation)
    # a/2 moved to P4, which is noise; P3 -> P2 -> P1 (chain); P4 dropped; None stays None
    assert [p if isinstance(p, str) else None for p in out["pain_id"]] == ["P1", None, "P1", "P1", None, None]
    assert labels["P1"] == "Очереди в МФЦ"
    assert "переименована" in notes["P1"] and "объединена с P2" in notes["P1"] and "объединена с P3" in notes["P1"]
    assert units["pain_id"].tolist()[1] == "P2"  # the input is not modified


def test_register_comes_first_and_suggestions_fill_the_rest(tmp_path):
    table = pd.DataFrame({"pain_id": ["P1", "P2"], "group": ["МФЦ", "МФЦ"], "label": ["очередь", "справки"],
                          "measures": ["электронная запись; электронная очередь", "сокращение перечня документов"]})
    table["suggested_measures"] = table["measures"]
    register = check_register(pd.DataFrame({
        "pain_id": ["P1", "P1"], "measure": ["Электронная запись", "Второе окно"], "owner": ["Петрова", ""],
        "deadline": ["2026-12-31", None], "status": ["в работе", "выполнено"], "group": ["", "Другой процесс"]}))
    out = merge_measures(table, register).set_index("pain_id")
    assert out.loc["P1", "measures"] == ("Электронная запись (Петрова, до 2026-12-31, в работе); "
                                         "электронная очередь (предложено)")  # the other row is for another group
    assert out.loc["P1", "in_register"] == 1 and out.loc["P2", "in_register"] == 0
    assert out.loc["P2", "measures"] == "сокращение перечня документов (предложено)"
    draft = register_draft(table, register)
    assert draft.iloc[:2][["pain_id", "measure", "owner", "status"]].values.tolist() == [
        ["P1", "Электронная запись", "Петрова", "в работе"], ["P1", "Второе окно", "", "выполнено"]]
    assert draft.iloc[2:][["pain_id", "measure", "status"]].values.tolist() == [
        ["P2", "сокращение перечня документов", "предложено"]]


def test_register_and_dictionary_files_fail_with_the_file_named(tmp_path):
    bad = tmp_path / "register.csv"
    bad.write_text("код;мероприятие\nP1;x\n", encoding="utf-8")
    with pytest.raises(CurationError, match=r"register.csv: the measures register lacks column\(s\) \['pain_id', 'measure'\]"):
        io.read_register(bad)
    empty = tmp_path / "r2.csv"
    empty.write_text("pain_id,measure\nP1,\n", encoding="utf-8")
    with pytest.raises(CurationError, match=r"rows \[2\] have no pain_id or measure"):
        io.read_register(empty)
    broken = tmp_path / "pains.yaml"
    broken.write_text("rename: {P1: [\n", encoding="utf-8")
    with pytest.raises(io.InputError, match="pains.yaml: not valid YAML"):
        io.read_curation(broken)
    assert io.read_curation(None) == Curation() and io.read_register(None) is None
    with pytest.raises(io.InputError, match="not found"):
        io.read_curation(tmp_path / "missing.yaml")
