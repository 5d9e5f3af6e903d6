"""The ``cxmining`` command: thin wrappers around the modules.

Errors a user can fix (unreadable file, missing column, bad configuration) print one line
to stderr and exit with code 2; nothing half-written is left behind.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from . import ingestjob, io, store
from .climodels import ConfigOpt, ProcessedOpt, pains_app, topics_app
from .config import ConfigError, load_config

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Pain maps from Russian open-ended feedback (cxmining).")

app.add_typer(pains_app, name="pains")
app.add_typer(topics_app, name="topics")


@app.command()
def ingest(
    file: Path = typer.Argument(..., help="Export to ingest: .csv (UTF-8/cp1251, `,` or `;`), .xlsx or .parquet."),
    kind: str = typer.Option(..., "--kind", help="external (clients' feedback) or internal (employees' survey)."),
    mapping: Optional[Path] = typer.Option(None, "--mapping", help="Column-mapping YAML for this export."),
    processed: Path = ProcessedOpt,
    period: Optional[str] = typer.Option(None, "--period", help="Survey wave (e.g. 2026Q3) for rows without one."),
    encoding: Optional[str] = typer.Option(None, "--encoding", help="Force the CSV encoding."),
    engine: str = typer.Option("local", "--engine", help="local (this process) or dask (a Dask cluster)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="dask: scheduler address; default a LocalCluster."),
    workers: Optional[int] = typer.Option(None, "--workers", help="dask: LocalCluster workers (default: one per core)."),
    partition_rows: int = typer.Option(50_000, "--partition-rows", help="dask: export rows per task."),
    config: Optional[Path] = ConfigOpt,
) -> None:
    """Validate an export and add its rows to the processed Parquet dataset (partitioned by period)."""
    cfg = load_config(config, mapping)
    if _engine(engine) == "local":
        result = ingestjob.ingest(file, kind, cfg, processed=processed, period=period, encoding=encoding)
    else:
        from . import daskengine

        ingestjob.check_kind(kind)
        daskengine.check_header(file, kind, cfg, encoding)
        with daskengine.session(scheduler, workers) as client:
            result = daskengine.ingest(file, kind, cfg, processed, dask_client=client, period=period,
                                       encoding=encoding, partition_rows=partition_rows, echo=typer.echo)
    _print_ingest(result, processed)


def _engine(name: str) -> str:
    if name not in ("local", "dask"):
        raise ValueError(f"--engine {name!r}: use local or dask")
    return name


def _print_ingest(result: ingestjob.IngestResult, processed: Path) -> None:
    typer.echo(f"{result.source}: accepted {result.accepted}, already present {result.already_present}, "
               f"quarantined {result.quarantined}"
               + (f", identical duplicates in file {result.duplicates_in_file}" if result.duplicates_in_file else ""))
    typer.echo(f"  records: {store.records_dir(processed, result.kind)}"
               + (f" (periods {', '.join(result.periods)})" if result.periods else ""))
    if result.quarantine_path:
        typer.echo(f"  quarantine: {result.quarantine_path}")
    if result.ignored_columns:
        typer.echo(f"  ignored columns: {', '.join(result.ignored_columns)}")


@app.command()
def preprocess(
    processed: Path = ProcessedOpt,
    kind: str = typer.Option("all", "--kind", help="external, internal or all."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Worker processes, each loading the models once "
                                          "(default: 2 locally, one per core for a dask LocalCluster)."),
    force: bool = typer.Option(False, "--force", help="Recompute periods whose units are up to date."),
    engine: str = typer.Option("local", "--engine", help="local (process pool) or dask (a Dask cluster)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="dask: scheduler address; default a LocalCluster."),
    partition_rows: int = typer.Option(2000, "--partition-rows", help="dask: records per task."),
    config: Optional[Path] = ConfigOpt,
) -> None:
    """Clean, mask and analyse ingested records into the units table (Parquet parts per period)."""
    cfg = load_config(config)
    kinds = ("external", "internal") if kind == "all" else (kind,)
    for k in kinds:
        if k not in ("external", "internal"):
            raise ValueError(f"unknown kind {k!r}; use external, internal or all")
    if _engine(engine) == "local":
        run_preprocess(processed, kinds, cfg, workers=workers or 2, force=force)
        return
    from . import daskengine

    with daskengine.session(scheduler, workers) as client:
        daskengine.update_units(processed, kinds, cfg, dask_client=client, force=force,
                                partition_rows=partition_rows, echo=typer.echo)


def run_preprocess(processed: Path, kinds, cfg, workers: int = 2, force: bool = False) -> None:
    """``prepjob.update_units`` reporting on the terminal."""
    from .prepjob import update_units

    update_units(processed, kinds, cfg, workers=workers, force=force, echo=typer.echo)


@app.command()
def painmap(
    period: str = typer.Option(..., "--period", help="The quarter, e.g. 2026Q3."),
    by: str = typer.Option("process", "--by", help="process | touchpoint | service | is_electronic | client_type"),
    processed: Path = ProcessedOpt,
    out: Path = typer.Option(..., "--out", help="Output directory: pain_map.xlsx, pain_map.csv/.parquet, charts."),
    curation: Path = typer.Option(io.DEFAULT_CURATION, "--curation", help="Analysts' pain dictionary (YAML)."),
    register: Path = typer.Option(io.DEFAULT_REGISTER, "--register", help="Measures register (CSV/XLSX)."),
    seed: int = typer.Option(0, "--seed"),
    workers: Optional[int] = typer.Option(None, "--workers", help="Local worker processes (2) or LocalCluster workers."),
    engine: str = typer.Option("local", "--engine", help="local or dask: preprocessing, unit kinds and embeddings "
                               "on a Dask cluster (the same map)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="dask: scheduler address; default a LocalCluster."),
    config: Optional[Path] = ConfigOpt,
) -> None:
    """Build the pain map of one quarter from ingested data (preprocessing, pains and topics as needed)."""
    from . import mapjob

    cfg = load_config(config)
    if by not in mapjob.GROUPINGS:
        raise ValueError(f"--by {by!r}: use one of {', '.join(mapjob.GROUPINGS)}")
    cur, reg = io.read_curation(curation), io.read_register(register)  # fail before the long part
    store.require_period(processed, "external", period)
    if _engine(engine) == "local":
        run_preprocess(processed, ("external",), cfg, workers=workers or 2)
        result = mapjob.build_pain_map(processed, period, cfg, by=by, seed=seed, curation=cur, register=reg, echo=typer.echo)
    else:
        from . import daskengine

        with daskengine.session(scheduler, workers) as client:
            daskengine.update_units(processed, ("external",), cfg, dask_client=client, echo=typer.echo)
            result = mapjob.build_pain_map(processed, period, cfg, by=by, seed=seed, curation=cur, register=reg,
                                           echo=typer.echo, dask_client=client)
    mapjob.write_pain_map(result, out, reg)
    t = result.table
    typer.echo(f"{out / 'pain_map.xlsx'}: {len(t)} pains in {t['group'].nunique()} groups; coverage of problem and "
               f"need units {result.coverage:.0%}; rises {int(t['rise'].sum())}; new {int(t['status'].str.contains('новая').sum())}; "
               f"not met again {len(result.vanished)}; curated rows {int((t['curated'] != '').sum())}; "
               f"register rows shown {int(t['in_register'].sum())}")


@app.command()
def survey(
    period: str = typer.Option(..., "--period", help="The survey wave, e.g. 2026Q3."),
    processed: Path = ProcessedOpt,
    min_group: Optional[int] = typer.Option(None, "--min-group", help="Anonymity threshold (default: config, 5)."),
    out: Path = typer.Option(..., "--out", help="Output directory: survey_summary.csv, survey.xlsx, charts."),
    seed: int = typer.Option(0, "--seed"),
    workers: int = typer.Option(2, "--workers"),
    config: Optional[Path] = ConfigOpt,
) -> None:
    """Internal survey: satisfaction by dimension and group with anonymity, change, drivers, internal pain map."""
    from . import surveyjob

    cfg = load_config(config)
    store.require_period(processed, "internal", period)
    run_preprocess(processed, ("internal",), cfg, workers=workers)
    result = surveyjob.build_survey(processed, period, cfg, min_group=min_group, seed=seed, echo=typer.echo)
    surveyjob.write_survey(result, out)
    s = result.summary
    allr = s[s["breakdown"] == "all"].set_index("dimension")
    typer.echo(f"{out / 'survey.xlsx'}: {int(allr['n'].max())} respondents; overall index "
               f"{allr.at['overall', 'index']:.0f}; hidden cells {int(s['suppressed'].sum())} "
               f"(threshold {result.min_group}); significant changes "
               f"{int(result.changes['significant'].sum()) if len(result.changes) else 0}; "
               f"internal pains {len(result.pain_map)}")


@app.command()
def report(
    period: str = typer.Option(..., "--period", help="The quarter, e.g. 2026Q3."),
    processed: Path = ProcessedOpt,
    out: Optional[Path] = typer.Option(None, "--out", help="Report directory (default reports/PERIOD)."),
    workers: int = typer.Option(2, "--workers", help="Notebooks executed in parallel."),
    notebooks: Path = typer.Option(Path("notebooks"), "--notebooks", help="Directory of the report notebooks."),
    curation: Path = typer.Option(io.DEFAULT_CURATION, "--curation"),
    register: Path = typer.Option(io.DEFAULT_REGISTER, "--register"),
    seed: int = typer.Option(0, "--seed"),
    config: Optional[Path] = ConfigOpt,
) -> None:
    """The quarterly batch: pain map pages per process, overview and survey, rendered to HTML with an index."""
    from . import report as rp

    cfg = load_config(config)
    run_preprocess(processed, ("external", "internal"), cfg, workers=workers)
    result = rp.run_batch(processed, period, cfg, out or Path("reports") / period, workers=workers, seed=seed,
                          config=config, notebooks=notebooks, curation=curation, register=register, echo=typer.echo)
    for page in result.pages:
        typer.echo(f"  {'FAILED ' + page.error if page.error else 'ok'}  {page.title} ({page.seconds:.0f} s)")
    typer.echo(f"{(result.out / 'index.html').resolve()}: {len(result.pages) - len(result.failed)} of "
               f"{len(result.pages)} pages in {result.seconds:.0f} s")
    if result.failed:
        raise typer.Exit(1)


@app.command("demo-data")
def demo_data(
    out: Path = typer.Option(..., "--out", help="Directory to write the demo files into."),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed gives byte-identical files."),
    external: int = typer.Option(3000, "--external", help="Number of external answers."),
    internal: int = typer.Option(400, "--internal", help="Number of internal respondents."),
) -> None:
    """Write realistic synthetic feedback and survey data with its ground truth."""
    from . import demo

    paths = demo.write_demo(out, seed=seed, n_external=external, n_internal=internal)
    for path in paths:
        typer.echo(str(path))


@app.command("demo")
def demo_job(
    raw: Path = typer.Option(Path("data/raw/demo"), "--raw", help="Demo data directory (generated when missing)."),
    processed: Path = ProcessedOpt,
    workers: int = typer.Option(2, "--workers", help="Worker processes for the text pipeline."),
    reports: Path = typer.Option(Path("reports"), "--reports", help="Where the reports go (REPORTS/PERIOD/index.html)."),
    config: Optional[Path] = ConfigOpt,
) -> None:
    """The main job on the bundled demo data: generate if missing, ingest, preprocess, the report batch."""
    from . import demo

    cfg = load_config(config)
    if not (raw / demo.EXTERNAL_FILE).exists() or not (raw / demo.INTERNAL_FILE).exists():
        typer.echo(f"demo data missing in {raw}: generating (seed 0)")
        demo.write_demo(raw)
    for kind, name in (("external", demo.EXTERNAL_FILE), ("internal", demo.INTERNAL_FILE)):
        _print_ingest(ingestjob.ingest(raw / name, kind, cfg, processed=processed), processed)
    records = store.read_records(processed, "external", columns=["period", "process"])
    typer.echo(f"external records by period: {records.groupby('period').size().to_dict()}")
    run_preprocess(processed, ("external", "internal"), cfg, workers=workers)
    from . import report as rp

    period = store.list_periods(processed, "external")[-1]
    result = rp.run_batch(processed, period, cfg, reports / period, workers=workers, config=config, echo=typer.echo)
    _demo_summary(processed, cfg, period)
    for page in result.failed:
        typer.echo(f"  FAILED {page.title}: {page.error}")
    typer.echo(f"processed data: {Path(processed).resolve()}")
    typer.echo(f"reports ({len(result.pages) - len(result.failed)} of {len(result.pages)} pages, {result.seconds:.0f} s): "
               f"{(result.out / 'index.html').resolve()}")
    if result.failed:
        raise typer.Exit(1)


def _demo_summary(processed: Path, cfg, period: str, top: int = 8) -> None:
    """Print the top of the period's pain map and the survey's significant changes (cached results)."""
    from . import mapjob, surveyjob

    result = mapjob.load_or_build_pain_map(processed, period, cfg, curation=io.read_curation(io.DEFAULT_CURATION),
                                           register=io.read_register(io.DEFAULT_REGISTER), echo=lambda s: None)
    t = result.table
    typer.echo(f"{period}: {len(t)} pains in {t['group'].nunique()} processes; coverage {result.coverage:.0%}; "
               f"rises {int(t['rise'].sum())}; top by priority:")
    for row in t.head(top).itertuples():
        typer.echo(f"  {row.priority_class:<8} {row.pain_id} {row.prevalence_text:<24} {row.group}: {row.label}")
    if period in store.list_periods(processed, "internal"):
        s = surveyjob.load_or_build_survey(processed, period, cfg, echo=lambda s: None)
        ch = s.changes
        moved = ch[ch["significant"] & (ch["breakdown"] == "all")] if len(ch) else ch
        typer.echo(f"survey {period}: hidden cells {int(s.summary['suppressed'].sum())} (groups under {s.min_group}); "
                   "significant changes overall: "
                   + (", ".join(f"{s.labels[d]} {x:+.2f}" for d, x in zip(moved["dimension"], moved["diff"])) or "none"))


@app.command("config")
def show_config(
    out: Optional[Path] = typer.Option(None, "--out", help="Write the effective configuration here."),
    config: Optional[Path] = ConfigOpt,
) -> None:
    """Print (or write) the effective configuration, to copy and edit."""
    text = load_config(config).to_yaml()
    if out is None:
        typer.echo(text, nl=False)
        return
    with io.atomic_path(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    typer.echo(str(out))


def main() -> None:
    """Entry point: run the app, turning user-fixable errors into one line and exit code 2."""
    try:
        app(standalone_mode=False)
    except (io.InputError, ConfigError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except typer.Abort:
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click usage errors in standalone_mode=False
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
