import pytest

from tests.test_io import GOOD_BAD

SUBCOMMANDS = ["ingest", "preprocess", "pains", "topics", "painmap", "demo-data", "demo", "config"]


def test_top_level_help_lists_every_subcommand(run_cli):
    res = run_cli("--help")
    assert res.returncode == 0
    for name in SUBCOMMANDS:
        assert name in res.stdout


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_subcommand_has_help(run_cli, name):
    res = run_cli(name, "--help")
    assert res.returncode == 0 and "Usage:" in res.stdout and "--" in res.stdout


def test_ingest_acceptance(tmp_path, run_cli):
    (tmp_path / "export.csv").write_bytes(GOOD_BAD.encode("cp1251"))
    first = run_cli("ingest", "export.csv", "--kind", "external", "--processed", "out")
    assert first.returncode == 0, first.stderr
    assert "accepted 2, already present 0, quarantined 2" in first.stdout
    assert "quarantine: out/external/quarantine/export-" in first.stdout
    second = run_cli("ingest", "export.csv", "--kind", "external", "--processed", "out")
    assert "accepted 0, already present 2, quarantined 2" in second.stdout


def test_missing_text_column_fails_with_one_line(tmp_path, run_cli):
    (tmp_path / "export.csv").write_text("Дата обращения;Оценка\n01.07.2026;5\n", encoding="utf-8")
    res = run_cli("ingest", "export.csv", "--kind", "external", "--processed", "out")
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "export.csv" in lines[0] and "missing required column 'text'" in lines[0]
    assert not (tmp_path / "out").exists()


def test_bad_kind_and_bad_config_are_one_line_errors(tmp_path, run_cli):
    (tmp_path / "x.csv").write_text("text,date\nа,01.07.2026\n", encoding="utf-8")
    res = run_cli("ingest", "x.csv", "--kind", "citizens")
    assert res.returncode == 2 and res.stderr.strip() == "error: unknown kind 'citizens'; use external or internal"
    (tmp_path / "c.yaml").write_text("[1, 2]", encoding="utf-8")
    res = run_cli("config", "--config", "c.yaml")
    assert res.returncode == 2 and "c.yaml: expected a mapping" in res.stderr


def test_config_dump_is_a_loadable_copy(tmp_path, run_cli):
    res = run_cli("config", "--out", "my.yaml")
    assert res.returncode == 0
    text = (tmp_path / "my.yaml").read_text(encoding="utf-8")
    assert "min_group: 5" in text and "Текст обращения".lower() in text


def test_preprocess_writes_masked_units_and_skips_up_to_date_periods(tmp_path, run_cli):
    import json

    import pandas as pd

    from tests.conftest import ROOT

    demo = ROOT / "data" / "raw" / "demo"
    feedback = pd.read_csv(demo / "external_feedback.csv", sep=";", dtype=str)
    truth = pd.read_csv(demo / "external_truth.csv", dtype=str).set_index("response_id")
    sample = feedback[feedback["Номер обращения"].isin(truth.index[truth["pii"] != "[]"])].head(25)
    sample.to_csv(tmp_path / "small.csv", sep=";", index=False)
    assert run_cli("ingest", "small.csv", "--kind", "external", "--processed", "out").returncode == 0

    first = run_cli("preprocess", "--processed", "out", "--kind", "external", "--workers", "1")
    assert first.returncode == 0, first.stderr
    assert "units written" in first.stdout
    units = pd.concat(pd.read_parquet(p) for p in (tmp_path / "out/external/units").glob("period=*/part-0.parquet"))
    assert set(units["response_id"]) == set(sample["Номер обращения"])
    joined = "\n".join(units["text_masked"])
    for rid in sample["Номер обращения"]:
        for item in json.loads(truth.loc[rid, "pii"]):
            assert item["value"] not in joined

    second = run_cli("preprocess", "--processed", "out", "--kind", "external", "--workers", "1")
    assert second.returncode == 0 and "up to date" in second.stdout and "written" not in second.stdout
    (tmp_path / "c.yaml").write_text("text:\n  stopwords: [дорога]\n", encoding="utf-8")
    changed = run_cli("preprocess", "--processed", "out", "--kind", "external", "--workers", "1", "--config", "c.yaml")
    assert "units written" in changed.stdout  # another configuration: recomputed
    forced = run_cli("preprocess", "--processed", "out", "--kind", "external", "--workers", "1", "--force")
    assert "units written" in forced.stdout


def test_preprocess_rejects_unknown_kind(run_cli):
    res = run_cli("preprocess", "--kind", "citizens", "--processed", "nowhere")
    assert res.returncode == 2 and "unknown kind 'citizens'" in res.stderr
