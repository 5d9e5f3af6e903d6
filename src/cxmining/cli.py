"""The ``cxmining`` command: thin wrappers around the modules.

Errors a user can fix (unreadable file, missing column, bad configuration) print one line
to stderr and exit with code 2; nothing half-written is left behind.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from . import io
from .config import ConfigError, load_config

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Pain maps from Russian open-ended feedback (cxmining).")

ConfigOpt = typer.Option(None, "--config", help="A configuration YAML (a copy of `cxmining config`).")
ProcessedOpt = typer.Option(io.DEFAULT_PROCESSED, "--processed", help="Processed-data directory.")


@app.command()
def ingest(
    file: Path = typer.Argument(..., help="Export to ingest: .csv (UTF-8/cp1251, `,` or `;`), .xlsx or .parquet."),
    kind: str = typer.Option(..., "--kind", help="external (clients' feedback) or internal (employees' survey)."),
    mapping: Optional[Path] = typer.Option(None, "--mapping", help="Column-mapping YAML for this export."),
    processed: Path = ProcessedOpt,
    period: Optional[str] = typer.Option(None, "--period", help="Survey wave (e.g. 2026Q3) for rows without one."),
    encoding: Optional[str] = typer.Option(None, "--encoding", help="Force the CSV encoding."),
    config: Optional[Path] = ConfigOpt,
) -> None:
    """Validate an export and add its rows to the processed Parquet dataset (partitioned by period)."""
    cfg = load_config(config, mapping)
    result = io.ingest(file, kind, cfg, processed=processed, period=period, encoding=encoding)
    _print_ingest(result, processed)


def _print_ingest(result: io.IngestResult, processed: Path) -> None:
    typer.echo(f"{result.source}: accepted {result.accepted}, already present {result.already_present}, "
               f"quarantined {result.quarantined}"
               + (f", identical duplicates in file {result.duplicates_in_file}" if result.duplicates_in_file else ""))
    typer.echo(f"  records: {io.records_dir(processed, result.kind)}"
               + (f" (periods {', '.join(result.periods)})" if result.periods else ""))
    if result.quarantine_path:
        typer.echo(f"  quarantine: {result.quarantine_path}")
    if result.ignored_columns:
        typer.echo(f"  ignored columns: {', '.join(result.ignored_columns)}")


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
    config: Optional[Path] = ConfigOpt,
) -> None:
    """The main job on the bundled demo data: generate if missing, then run the pipeline."""
    from . import demo

    cfg = load_config(config)
    if not (raw / demo.EXTERNAL_FILE).exists() or not (raw / demo.INTERNAL_FILE).exists():
        typer.echo(f"demo data missing in {raw}: generating (seed 0)")
        demo.write_demo(raw)
    for kind, name in (("external", demo.EXTERNAL_FILE), ("internal", demo.INTERNAL_FILE)):
        _print_ingest(io.ingest(raw / name, kind, cfg, processed=processed), processed)
    records = io.read_records(processed, "external", columns=["period", "process"])
    typer.echo(f"external records by period: {records.groupby('period').size().to_dict()}")
    typer.echo(f"output: {Path(processed).resolve()}")


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
