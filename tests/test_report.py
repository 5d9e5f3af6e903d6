"""The report batch on the demo data: every notebook runs, pages render for managers."""
import json
import os
import shutil
from pathlib import Path
import subprocess

import nbformat
import numpy as np
import pytest

from cxmining import io, report
from tests.conftest import ROOT

NOTEBOOKS = ROOT / "notebooks"
FIVE = ["наименование процесса", "выявленные проблемы / потенциальные потребности клиентов",
        "распространённость проблемы", "приоритетность решения проблемы / удовлетворения потребности",
        "необходимые мероприятия (мероприятия по реинжинирингу)"]


@pytest.fixture(scope="module")
def batch(demo_processed, config, tmp_path_factory):
    # Relative paths, as `cxmining report` gets them from the command line: the batch must not
    # depend on (or change) the working directory while pages run in parallel.
    here = os.getcwd()
    os.chdir(demo_processed.parent)
    try:
        result = report.run_batch(Path(demo_processed.name), "2026Q3", config, Path("reports/2026Q3"), workers=2,
                                  notebooks=NOTEBOOKS, progress=False, echo=lambda s: None)
        assert os.getcwd() == str(demo_processed.parent)
    finally:
        os.chdir(here)
    return result


def test_notebooks_are_stored_thin_and_without_outputs():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), path.name
        tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, path.name
        assert all(len(c.source.splitlines()) < 40 for c in code), path.name  # thin: calls, not logic
    assert {p.stem for p in NOTEBOOKS.glob("*.ipynb")} == {
        "pain_map", "pain_map_overview", "internal_survey", "explore_feedback", "topic_model_lab"}


def test_batch_renders_every_page_for_managers(batch, demo_truth):
    assert not batch.failed, [(p.title, p.error) for p in batch.failed]
    assert len(batch.pages) == 10  # 8 processes, overview, survey
    out = batch.out
    index = (out / "index.html").read_text(encoding="utf-8")
    for page in batch.pages:
        assert f'href="{page.html}"' in index and (out / page.html).exists()
        assert (out / "notebooks" / f"{page.key}.ipynb").exists()
    assert (out / "pain_map.xlsx").exists() and (out / "survey.xlsx").exists()
    truth, _ = demo_truth
    personal = {item["value"] for pii in truth["pii"] for item in json.loads(pii or "[]")}
    assert len(personal) > 50
    for page in batch.pages:
        text = (out / page.html).read_text(encoding="utf-8")
        assert "<script" not in text and "import " not in text and "def show" not in text, page.title
        assert 'src="http' not in text and "<link" not in text  # self-contained
        assert text.count("data:image/png;base64") >= (1 if page.key != "survey" else 3), page.title
        leaked = [p for p in personal if p in text]
        assert not leaked, (page.title, leaked[:3])
    p01 = (out / "p01.html").read_text(encoding="utf-8")
    assert all(col in p01 for col in FIVE) and "Главные боли по приоритету" in p01
    assert 'lang="ru"' in p01 and 'name="viewport"' in p01


def test_rerun_replaces_the_period_atomically(batch, tmp_path):
    assert not [p for p in batch.out.parent.iterdir() if p.name.startswith(".")]  # no temporary left
    out = tmp_path / "2026Q3"
    out.mkdir()
    (out / "stale.html").write_text("old", encoding="utf-8")
    new = tmp_path / ".2026Q3.tmp"
    new.mkdir()
    (new / "index.html").write_text("new", encoding="utf-8")
    io.swap_dir(new, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026Q3"]
    assert [p.name for p in out.iterdir()] == ["index.html"]


def test_a_failing_notebook_is_reported_not_raised(batch, tmp_path):
    books = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, books)
    broken = nbformat.read(books / "pain_map_overview.ipynb", as_version=4)
    broken.cells.insert(1, nbformat.v4.new_code_cell('raise RuntimeError("обзор сломан")'))
    nbformat.write(broken, books / "pain_map_overview.ipynb")
    (tmp_path / "out" / "notebooks").mkdir(parents=True)
    page = next(p for p in batch.pages if p.key == "overview")
    failed = report.execute(report.Page(page.key, page.notebook, page.title, page.parameters), books, tmp_path / "out", None)
    assert failed.error.startswith("RuntimeError") and "обзор сломан" in failed.error and not failed.html
    index = report.index_html("2026Q3", [batch.pages[0], failed], [])
    assert f'href="{batch.pages[0].html}"' in index and "не сформирован: RuntimeError" in index


@pytest.mark.parametrize("name, params, expect", [
    ("explore_feedback.ipynb", {"search": "автобус"}, None),
    ("topic_model_lab.ipynb", {"embedders": ["navec"], "seeds": [0], "guided": [False, True]}, "guided by the taxonomy"),
])
def test_analyst_notebooks_run(name, params, expect, demo_processed, tmp_path):
    import papermill

    papermill.execute_notebook(str(NOTEBOOKS / name), str(tmp_path / name), kernel_name="python3", cwd=str(NOTEBOOKS),
                               parameters={"processed": str(demo_processed), "period": "2026Q3", **params},
                               progress_bar=False)
    nb = nbformat.read(tmp_path / name, as_version=4)
    assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
    if expect:  # the lab's table compares the settings it was given
        assert expect in json.dumps([c.get("outputs") for c in nb.cells if c.cell_type == "code"], ensure_ascii=False)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _open(page, tmp_path):
    """Screenshot a page in headless Chromium; return (pixels, console lines)."""
    from PIL import Image

    shot = tmp_path / f"{page.stem}.png"
    res = subprocess.run([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                          "--window-size=412,1500", "--enable-logging=stderr", "--log-level=0",
                          f"--screenshot={shot}", page.as_uri()], capture_output=True, text=True, timeout=120)
    console = [line for line in res.stderr.splitlines() if ":CONSOLE" in line]
    return np.asarray(Image.open(shot).convert("L"), dtype=float), console


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_pages_render_in_a_headless_browser(batch, tmp_path):
    # The checks can fail: a page with a script error and a blank page are caught.
    bad = tmp_path / "bad.html"
    bad.write_text('<html><body><script>console.error("x"); missing();</script></body></html>', encoding="utf-8")
    pixels, console = _open(bad, tmp_path)
    assert console and pixels.std() < 1
    for page in (batch.out / "index.html", batch.out / "p01.html"):
        pixels, console = _open(page, tmp_path)
        assert console == [], (page.name, console)
        assert pixels.std() > 10 and (pixels < 128).mean() > 0.01, page.name  # text and pictures, not blank
