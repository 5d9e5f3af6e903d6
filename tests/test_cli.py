import pytest

from tests.test_ingestjob import GOOD_BAD

SUBCOMMANDS = ["ingest", "preprocess", "pains", "topics", "painmap", "survey", "demo-data", "demo", "config"]


def test_top_level_help_lists_every_subcommand(run_cli):
    res = run_cli("--help")
    assert res.returncode == 0
    for name in SUBCOMMANDS:
        assert name in res.stdout


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_subcommand_has_help(run_cli, name):
    res = run_cli(name, "--help")
    assert res.returncode == 0 and "Usage:" in res.stdout and "--" in res.stdout


ENGINES = {"local": (), "dask": ("--engine", "dask", "--workers", "1", "--partition-rows", "1")}


@pytest.mark.parametrize("engine", ENGINES)
def test_ingest_acceptance(tmp_path, run_cli, engine):
    (tmp_path / "export.csv").write_bytes(GOOD_BAD.encode("cp1251"))
    first = run_cli("ingest", "export.csv", "--kind", "external", "--processed", "out", *ENGINES[engine])
    assert first.returncode == 0, first.stderr
    assert "accepted 2, already present 0, quarantined 2" in first.stdout
    assert "quarantine: out/external/quarantine/export-" in first.stdout
    second = run_cli("ingest", "export.csv", "--kind", "external", "--processed", "out", *ENGINES[engine])
    assert "accepted 0, already present 2, quarantined 2" in second.stdout


@pytest.mark.parametrize("engine", ENGINES)
def test_missing_text_column_fails_with_one_line(tmp_path, run_cli, engine):
    (tmp_path / "export.csv").write_text("Дата обращения;Оценка\n01.07.2026;5\n", encoding="utf-8")
    res = run_cli("ingest", "export.csv", "--kind", "external", "--processed", "out", *ENGINES[engine])
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


def test_painmap_register_row_shows_and_survives_the_next_quarter(tmp_path, run_cli, demo_processed):
    import pandas as pd

    for period in ("2026Q3", "2026Q2"):  # the later quarter first: the earlier one's ids must not depend on it
        first = run_cli("painmap", "--period", period, "--processed", demo_processed, "--out", period[-2:].lower())
        assert first.returncode == 0, first.stderr
    q2 = pd.read_csv(tmp_path / "q2/pain_map.csv")
    later = set(pd.read_parquet(demo_processed / "painmap/period=2026Q3/pains.parquet")["pain_id"])
    top = q2.groupby("pain_id")["respondents"].sum().sort_values(ascending=False, kind="stable")
    pain = next(p for p in top.index if p in later)  # a big pain that carries on into the next quarter
    register = tmp_path / "register.csv"
    register.write_text("pain_id,measure,owner,deadline,status\n"
                        f"{pain},Запись на приём через портал,Иванова И.И.,2026-12-31,в работе\n", encoding="utf-8")
    original = register.read_bytes()
    entry = "Запись на приём через портал (Иванова И.И., до 2026-12-31, в работе)"

    again = run_cli("painmap", "--period", "2026Q2", "--processed", demo_processed, "--out", "q2", "--register", register)
    assert again.returncode == 0, again.stderr
    q2 = pd.read_csv(tmp_path / "q2/pain_map.csv")
    assert q2.loc[q2["pain_id"] == pain, "measures"].str.startswith(entry).all()
    assert (q2.loc[q2["pain_id"] != pain, "in_register"] == 0).all()

    nxt = run_cli("painmap", "--period", "2026Q3", "--processed", demo_processed, "--out", "q3", "--register", register)
    assert nxt.returncode == 0, nxt.stderr
    q3 = pd.read_csv(tmp_path / "q3/pain_map.csv")
    assert (q3["pain_id"] == pain).any() and q3.loc[q3["pain_id"] == pain, "measures"].str.startswith(entry).all()
    sheets = pd.read_excel(tmp_path / "q3/pain_map.xlsx", sheet_name=None)
    assert any(entry in " ".join(map(str, s.to_numpy().ravel())) for s in sheets.values())
    assert register.read_bytes() == original  # the analysts' file is never rewritten
    draft = pd.read_csv(tmp_path / "q3/measures_register_draft.csv", dtype=str)
    assert draft.iloc[0]["measure"] == "Запись на приём через портал"
    for chart in ("heatmap.png", "priority_matrix.png", "trend.png"):
        assert (tmp_path / "q3" / chart).stat().st_size > 10_000


def test_survey_cli_threshold_and_errors(tmp_path, run_cli, demo_processed):
    import pandas as pd

    res = run_cli("survey", "--period", "2026Q3", "--processed", demo_processed, "--out", "sv", "--min-group", "20")
    assert res.returncode == 0, res.stderr
    summary = pd.read_csv(tmp_path / "sv/survey_summary.csv")
    assert list(summary.columns) == ["breakdown", "group", "dimension", "n", "mean", "index", "top2", "bottom2",
                                     "ci_low", "ci_high", "suppressed"]
    shown = summary[~summary["suppressed"] & (summary["breakdown"] != "all")]
    assert (shown["n"] >= 20).all() and summary["suppressed"].sum() > 20
    for name in ("survey.xlsx", "internal_pain_map.csv", "likert.png", "departments_heatmap.png", "drivers_quadrant.png"):
        assert (tmp_path / "sv" / name).exists(), name
    bad = run_cli("survey", "--period", "2030Q1", "--processed", demo_processed, "--out", "x")
    assert bad.returncode == 2 and "no internal survey records for period '2030Q1'" in bad.stderr


def test_preprocess_rejects_unknown_engine(run_cli):
    res = run_cli("preprocess", "--engine", "spark", "--processed", "nowhere")
    assert res.returncode == 2 and "--engine 'spark': use local or dask" in res.stderr
