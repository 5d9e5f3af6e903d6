import pytest

from tests.test_io import GOOD_BAD

SUBCOMMANDS = ["ingest", "demo-data", "demo", "config"]


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
