"""The quarterly report batch: parameterized notebooks executed by papermill, rendered to
self-contained HTML pages for management, with an index (an edge module).

Reads top to bottom like papermill itself: load → parameterize → run → write.

1. shared work once per period: units (``prepjob``), the pain map and the survey (cached in
   ``data/processed/`` by ``mapjob.load_or_build_pain_map`` / ``surveyjob.load_or_build_survey``;
   the notebooks load the same cache, so nothing is computed twice);
2. ``pain_map.ipynb`` per group with feedback, ``pain_map_overview.ipynb``,
   ``internal_survey.ipynb`` — executed in parallel kernels (``workers``) with a progress bar;
3. each executed notebook is kept (``notebooks/``) and rendered to one HTML page without code,
   images embedded, no external resources (municipal networks are often closed);
4. ``index.html`` links every page with its key figures and lists failed pages with their error;
   ``pain_map.xlsx`` and ``survey.xlsx`` lie beside it. The period's directory is replaced
   atomically: readers see the old reports or the new ones, never a mix.
"""
from __future__ import annotations

import html
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import io, store
from .config import Config

NOTEBOOKS = Path("notebooks")
CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0;color:#222;background:#fafafa;line-height:1.45}
main{max-width:1000px;margin:0 auto;padding:12px 16px 40px;background:#fff}
h1{font-size:1.5em;margin:.6em 0 .4em}h2{font-size:1.2em;margin:1.4em 0 .4em;border-bottom:1px solid #ddd}
img{max-width:100%;height:auto}
table{border-collapse:collapse;display:block;overflow-x:auto;font-size:.85em;margin:.5em 0}
th,td{border:1px solid #ddd;padding:4px 6px;vertical-align:top;text-align:left}th{background:#f1f3f5}
blockquote{margin:.3em 0 .3em 1em;padding-left:.8em;border-left:3px solid #ccc;color:#444}
pre{white-space:pre-wrap;font-size:.8em}
.anchor-link{display:none}.cx-nav{font-size:.85em;margin:.5em 0}.cx-fail{color:#b00020}
footer{max-width:1000px;margin:0 auto;padding:8px 16px;font-size:.75em;color:#777}
@media (max-width:600px){main{padding:8px}table{font-size:.75em}}
"""


@dataclass
class Page:
    """One notebook of the batch: what it is, where it went and how it went."""

    key: str
    notebook: str
    title: str
    parameters: dict
    figures: str = ""
    html: str = ""
    error: str = ""
    seconds: float = 0.0


@dataclass
class BatchResult:
    out: Path
    pages: list[Page] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[Page]:
        return [p for p in self.pages if p.error]


def plan(processed: Path, period: str, cfg: Config, *, seed: int = 0, curation=None, register=None,
         echo: Callable[[str], None] = print) -> list[Page]:
    """The pages of a period (shared work done here, once): a pain map per process with feedback,
    the overview, the survey when the period has one."""
    from . import mapjob, surveyjob

    common = {"period": period, "processed": str(Path(processed).resolve()), "seed": seed}
    cur = {"curation": str(Path(curation).resolve()) if curation else "", "register": str(Path(register).resolve()) if register else ""}
    result = mapjob.load_or_build_pain_map(processed, period, cfg, seed=seed, curation=io.read_curation(curation, optional=True),
                                           register=io.read_register(register, optional=True), echo=echo)
    t = result.table
    pages = []
    for i, (group, part) in enumerate(t.groupby("group", sort=True), 1):
        top = part.sort_values("priority", ascending=False, kind="stable").iloc[0]
        pages.append(Page(f"p{i:02d}", "pain_map.ipynb", f"Карта болей: {group}", {**common, **cur, "process": group},
                          f"болей {len(part)}, высокого приоритета {int((part['priority_class'] == 'высокий').sum())}; "
                          f"главная: {top['label']} — {top['prevalence']:.0%} ({top['respondents']} из {top['n_group']})"))
    pages.append(Page("overview", "pain_map_overview.ipynb", "Карты болей: обзор по всем процессам", {**common, **cur},
                      f"болей {len(t)} в {t['group'].nunique()} процессах; рост {int(t['rise'].sum())}; "
                      f"покрытие {result.coverage:.0%}"))
    if period in store.list_periods(processed, "internal"):
        s = surveyjob.load_or_build_survey(processed, period, cfg, seed=seed, echo=echo)
        allr = s.summary[(s.summary["breakdown"] == "all")].set_index("dimension")
        pages.append(Page("survey", "internal_survey.ipynb", "Внутренний опрос сотрудников", dict(common),
                          f"респондентов {int(allr['n'].max())}; общий индекс {allr.at['overall', 'index']:.0f} из 100"))
    return pages


def execute(page: Page, notebooks: Path, target: Path, config: Path | None) -> Page:
    """Run one notebook with papermill into ``target/notebooks`` and render its HTML page."""
    import papermill

    start = time.perf_counter()
    executed = target / "notebooks" / f"{page.key}.ipynb"
    params = {**page.parameters, **({"config": str(Path(config).resolve())} if config else {})}
    params = {k: v for k, v in params.items() if v != ""}
    try:
        # No cwd=: papermill would chdir the whole process, and pages run in parallel threads.
        # Every path the notebooks need comes in the parameters, absolute.
        papermill.execute_notebook(str(notebooks / page.notebook), str(executed), parameters=params,
                                   kernel_name="python3", progress_bar=False, log_output=False)
        page.html = f"{page.key}.html"
        (target / page.html).write_text(render(executed, page.title), encoding="utf-8")
    except Exception as exc:  # one failing page must not stop the others: the index shows the error
        name = type(exc).__name__
        detail = getattr(exc, "evalue", None) or str(exc)
        page.error = f"{getattr(exc, 'ename', name)}: {str(detail).strip().splitlines()[-1] if str(detail).strip() else name}"
    page.seconds = time.perf_counter() - start
    return page


def render(notebook: Path, title: str) -> str:
    """One self-contained HTML page: outputs only (no code, no prompts, no stderr), images inline."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(notebook), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", []) if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    exporter = HTMLExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb)
    body = body.replace('alt="No description has been provided for this image"', 'alt="график"')
    return page_html(title, body)


def page_html(title: str, body: str, nav: bool = True) -> str:
    back = '<nav class="cx-nav"><a href="index.html">← ко всем отчётам</a></nav>' if nav else ""
    return (f'<!DOCTYPE html>\n<html lang="ru"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head>"
            f"<body><main>{back}{body}</main><footer>cxmining — отчёт сформирован автоматически; тексты обезличены.</footer>"
            f"</body></html>\n")


def index_html(period: str, pages: list[Page], extras: list[tuple[str, str]]) -> str:
    items = []
    for p in pages:
        if p.error:
            items.append(f'<li class="cx-fail"><b>{html.escape(p.title)}</b> — не сформирован: {html.escape(p.error)}</li>')
        else:
            items.append(f'<li><a href="{p.html}">{html.escape(p.title)}</a><br><small>{html.escape(p.figures)}</small></li>')
    files = "".join(f'<li><a href="{href}">{html.escape(name)}</a></li>' for name, href in extras)
    body = (f"<h1>Отчёты за {html.escape(period)}</h1><h2>Страницы</h2><ul>{''.join(items)}</ul>"
            f"<h2>Таблицы</h2><ul>{files}</ul>")
    return page_html(f"Отчёты за {period}", body, nav=False)


def run_batch(processed: Path, period: str, cfg: Config, out: Path, *, workers: int = 2, seed: int = 0,
              config: Path | None = None, notebooks: Path = NOTEBOOKS, curation=io.DEFAULT_CURATION,
              register=io.DEFAULT_REGISTER, echo: Callable[[str], None] = print, progress: bool = True) -> BatchResult:
    """Execute and render every page of ``period`` into ``out`` (replaced atomically)."""
    from tqdm.auto import tqdm

    from . import mapjob, surveyjob

    start = time.perf_counter()
    notebooks, out, processed = Path(notebooks).resolve(), Path(out).resolve(), Path(processed).resolve()
    store.require_period(processed, "external", period)
    missing = [n for n in ("pain_map.ipynb", "pain_map_overview.ipynb", "internal_survey.ipynb") if not (notebooks / n).exists()]
    if missing:
        raise io.InputError(f"{notebooks}: notebooks {missing} not found; run from the project root or pass --notebooks")
    pages = plan(processed, period, cfg, seed=seed, curation=curation, register=register, echo=echo)
    target = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(target, ignore_errors=True)
    (target / "notebooks").mkdir(parents=True)
    try:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            futures = [pool.submit(execute, p, notebooks, target, config) for p in pages]
            for _ in tqdm(as_completed(futures), total=len(futures), desc=f"отчёты {period}", disable=not progress):
                pass
        extras = []
        reg = io.read_register(register, optional=True)
        result = mapjob.load_or_build_pain_map(processed, period, cfg, seed=seed, register=reg,
                                               curation=io.read_curation(curation, optional=True), echo=echo)
        mapjob.write_pain_map(result, target / "pain_map", reg)
        shutil.copy(target / "pain_map" / "pain_map.xlsx", target / "pain_map.xlsx")
        extras.append(("pain_map.xlsx — карта болей (Excel)", "pain_map.xlsx"))
        if period in store.list_periods(processed, "internal"):
            surveyjob.write_survey(surveyjob.load_or_build_survey(processed, period, cfg, seed=seed, echo=echo), target / "survey")
            shutil.copy(target / "survey" / "survey.xlsx", target / "survey.xlsx")
            extras.append(("survey.xlsx — внутренний опрос (Excel)", "survey.xlsx"))
        (target / "index.html").write_text(index_html(period, pages, extras), encoding="utf-8")
        io.swap_dir(target, out)
    finally:
        shutil.rmtree(target, ignore_errors=True)
    return BatchResult(out, pages, time.perf_counter() - start)
