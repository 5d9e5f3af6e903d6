"""File I/O of the edges: reading exports, column mapping, atomic writes, Excel exports, curation
and register files, saved models. The processed directory's datasets live in :mod:`cxmining.store`.
"""
from __future__ import annotations

import csv
import hashlib
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from .config import ColumnSpec, Config, normalize_label

ENCODINGS = ("utf-8-sig", "cp1251")  # utf-8-sig also reads plain UTF-8
REQUIRED = {"external": ("text", "received_at"), "internal": ("department",)}


class InputError(ValueError):
    """An input file that cannot be used; the message is one line naming file, problem and fix."""


# --------------------------------------------------------------------------------- reading
def read_table(path: str | Path, encoding: str | None = None) -> pd.DataFrame:
    """Read a CSV (UTF-8, UTF-8 with BOM or cp1251; ``,`` or ``;``), XLSX or Parquet export.

    All CSV cells are read as text so that ids like ``007`` survive; XLSX keeps Excel's types.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            return pd.read_excel(path, dtype=object, engine="openpyxl")
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix in (".csv", ".txt", ".tsv"):
            return _read_csv(path, encoding)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - every reader error becomes one clear line
        raise InputError(f"{path}: cannot be read as {suffix[1:].upper()} ({type(exc).__name__}: {exc})") from None
    raise InputError(f"{path}: unsupported file type {suffix!r}; use .csv, .xlsx or .parquet")


def _read_csv(path: Path, encoding: str | None) -> pd.DataFrame:
    encoding, sep = _csv_dialect(path, encoding)
    try:
        return pd.read_csv(path, encoding=encoding, sep=sep, dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, csv.Error) as exc:
        raise InputError(f"{path}: malformed CSV ({exc})") from None


def _csv_dialect(path: Path, encoding: str | None) -> tuple[str, str]:
    """The encoding the whole file decodes with (checked block by block, never held in memory)
    and the separator its header uses most."""
    import codecs

    chosen = None
    for enc in ((encoding,) if encoding else ENCODINGS):
        try:
            decoder = codecs.getincrementaldecoder(enc)()
            head, blank = "", True
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    text = decoder.decode(block)
                    if len(head) < 65536:
                        head += text[:65536]
                    blank = blank and not text.strip()
                decoder.decode(b"", final=True)
            chosen = enc
            break
        except (UnicodeDecodeError, LookupError):
            continue
    if chosen is None:
        raise InputError(f"{path}: not readable as {' or '.join(ENCODINGS)}; pass --encoding")
    if blank:
        raise InputError(f"{path}: the file is empty")
    header = head.split("\n", 1)[0]
    counts = {d: header.count(d) for d in (";", ",", "\t")}
    return chosen, (max(counts, key=counts.get) if max(counts.values()) else ",")


def iter_table(path: str | Path, rows: int, encoding: str | None = None):
    """:func:`read_table` in chunks of ``rows`` rows, labelled by their row in the whole file.

    CSV and Parquet are streamed (one chunk in memory at a time); XLSX cannot be and is read whole
    first (a sheet holds at most 1,048,576 rows).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".txt", ".tsv", ".parquet"):
        table = read_table(path, encoding)
        for i in range(0, max(len(table), 1), rows):
            yield table.iloc[i:i + rows]
        return
    try:
        if suffix == ".parquet":
            chunks = (b.to_pandas() for b in pq.ParquetFile(path).iter_batches(batch_size=rows))
        else:
            enc, sep = _csv_dialect(path, encoding)
            chunks = pd.read_csv(path, encoding=enc, sep=sep, dtype=str, keep_default_na=False, na_values=[""],
                                 chunksize=rows)
        start = 0
        for chunk in chunks:
            chunk.index = pd.RangeIndex(start, start + len(chunk))
            start += len(chunk)
            yield chunk
    except InputError:
        raise
    except (pd.errors.ParserError, csv.Error) as exc:
        raise InputError(f"{path}: malformed CSV ({exc})") from None
    except Exception as exc:  # noqa: BLE001 - every reader error becomes one clear line
        raise InputError(f"{path}: cannot be read as {suffix[1:].upper()} ({type(exc).__name__}: {exc})") from None


def map_columns(df: pd.DataFrame, kind: str, config: Config, source: str = "") -> tuple[pd.DataFrame, list[str]]:
    """Rename an export's headers onto canonical names.

    Returns the renamed frame (unmatched columns dropped, ``open_*`` kept) and the list of
    ignored headers. Raises :class:`InputError` naming a missing required column.
    """
    specs: list[ColumnSpec] = list(config.columns[kind])
    if kind == "internal":
        specs += [q.column for q in config.survey.dimensions] + [q.column for q in config.survey.open_answers]
    headers = {c: normalize_label(c) for c in df.columns}
    taken: dict[str, str] = {}  # original header -> canonical

    def claim(spec: ColumnSpec, match) -> None:
        if spec.name in taken.values():
            return
        for original, norm in headers.items():
            if original not in taken and match(norm):
                taken[original] = spec.name
                return

    # Exact names first for every column, then aliases, then fragments: a long header
    # never steals a column that another field names exactly.
    for spec in specs:
        claim(spec, lambda n, s=spec: n == normalize_label(s.name))
    for spec in specs:
        for alias in spec.aliases:
            claim(spec, lambda n, a=normalize_label(alias): n == a)
    for spec in specs:
        for frag in spec.contains:
            claim(spec, lambda n, f=normalize_label(frag): f in n)
    for original, norm in headers.items():
        if original not in taken and norm.startswith("open_"):
            taken[original] = norm
    mapped = df[[c for c in df.columns if c in taken]].rename(columns=taken)
    found = ", ".join(map(str, df.columns))
    for name in REQUIRED[kind]:
        if name not in mapped:
            raise InputError(f"{source or 'input'}: missing required column {name!r} (no header matches it; "
                             f"columns found: {found}); add the header to --mapping")
    if kind == "internal" and not any(d in mapped for d in config.survey.dimension_keys):
        raise InputError(f"{source or 'input'}: no survey dimension column found (columns found: {found})")
    ignored = [str(c) for c in df.columns if c not in taken]
    return mapped, ignored


# --------------------------------------------------------------------------------- writing
@contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path beside ``path``; it replaces ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; the result should look like any written file
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def swap_dir(new: str | Path, old: str | Path) -> None:
    """Put directory ``new`` in place of ``old`` by two renames; the old copy is removed after."""
    import shutil

    new, old = Path(new), Path(old)
    stale = old.parent / f".{old.name}.old-{os.getpid()}"
    if old.exists():
        os.replace(old, stale)
    os.replace(new, old)
    shutil.rmtree(stale, ignore_errors=True)


def write_csv(df: pd.DataFrame, path: str | Path, sep: str = ",") -> Path:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, sep=sep, index=False, encoding="utf-8", lineterminator="\n")
    return Path(path)


def save_figure(fig, path: str | Path, dpi: int = 110) -> Path:
    """Save a matplotlib Figure as PNG atomically (no software/date metadata: same data, same bytes)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, metadata={"Software": None}, bbox_inches="tight")
    return Path(path)


ROW_GROUP = 10_000  # rows per Parquet row group: the unit of work a dask task reads


def write_parquet(df: pd.DataFrame, path: str | Path, schema: pa.Schema | None = None) -> Path:
    table = pa.Table.from_pandas(df, schema=schema, preserve_index=False)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, row_group_size=ROW_GROUP)
    return Path(path)


def require_columns(table: pd.DataFrame, path, *columns) -> None:
    """An :class:`InputError` naming the file, the missing column and the columns it has."""
    for col in filter(None, columns):
        if col not in table.columns:
            raise InputError(f"{path}: no column {col!r}; columns: {', '.join(map(str, table.columns))}")


def file_digest(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# --------------------------------------------------------------------------------- exports
_SHEET_BAD = str.maketrans({c: " " for c in "[]:*?/\\"})


def write_xlsx(sheets: dict, path: str | Path) -> Path:
    """Write DataFrames to one workbook (sheet names made valid and unique), atomically."""
    used: set[str] = set()
    with atomic_path(path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            for name, frame in sheets.items():
                base = str(name).translate(_SHEET_BAD).strip()[:31] or "—"
                sheet, k = base, 2
                while sheet.lower() in used:
                    suffix = f" ({k})"
                    sheet, k = base[:31 - len(suffix)] + suffix, k + 1
                used.add(sheet.lower())
                frame.to_excel(writer, sheet_name=sheet, index=False)
                worksheet = writer.sheets[sheet]
                for column in worksheet.columns:  # readable widths for managers opening the file
                    width = max((len(str(c.value)) for c in column if c.value is not None), default=8)
                    worksheet.column_dimensions[column[0].column_letter].width = min(max(width, 8), 60)
    return Path(path)


# --------------------------------------------------------------------------------- curation
DEFAULT_CURATION = Path("data/curation/pains.yaml")
DEFAULT_REGISTER = Path("data/curation/measures_register.csv")


def read_curation(path: str | Path | None, optional: bool = False):
    """The analysts' pain dictionary (``curation.Curation``); empty when ``path`` is None, or absent
    and either the default location or ``optional``."""
    from .curation import Curation

    if path is None or ((optional or Path(path) == DEFAULT_CURATION) and not Path(path).exists()):
        return Curation()
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: pain dictionary not found; create it (see cxmining.curation) or omit --curation")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({str(exc).splitlines()[0]}); fix the indicated line") from None
    if raw is not None and not isinstance(raw, dict):
        raise InputError(f"{path}: expected sections rename / merge / noise / move at the top level")
    return Curation.from_dict(raw, source=str(path))


def read_register(path: str | Path | None, optional: bool = False) -> pd.DataFrame | None:
    """The measures register (CSV or XLSX), checked; None when absent at the default location or
    when ``optional``."""
    from .curation import check_register

    if path is None or ((optional or Path(path) == DEFAULT_REGISTER) and not Path(path).exists()):
        return None
    return check_register(read_table(path), source=str(path))


# --------------------------------------------------------------------------------- models
def save_model(model, path: str | Path, config: Config) -> Path:
    """Pickle a fitted model with the configuration fingerprint it was trained with (atomically)."""
    import joblib

    with atomic_path(path) as tmp:
        joblib.dump({"model": model, "config": config.fingerprint, "config_yaml": config.to_yaml()}, tmp)
    return Path(path)


def load_model(path: str | Path):
    """Load a model saved by :func:`save_model`; returns ``(model, config_fingerprint)``."""
    import joblib

    path = _model_file(path)
    try:
        blob = joblib.load(path)
        return blob["model"], blob["config"]
    except Exception as exc:  # noqa: BLE001 - one clear line for any unreadable model
        raise InputError(f"{path}: not a cxmining model ({type(exc).__name__}: {exc})") from None


TOPIC_MODEL_META, TOPIC_MODEL_ARRAYS = "topic_model.json", "topic_model.safetensors"


def save_topic_model(model, directory: str | Path, config: Config) -> Path:
    """Write a fitted ``TopicModel`` as a directory without pickles, replacing it atomically.

    ``topic_model.json`` (settings, embedder vocabulary, topics, the configuration fingerprint),
    ``topic_model.safetensors`` (centroids, training assignments, embedder matrices),
    ``config.yaml`` (the configuration it ran with) and, after a BERTopic fit, ``bertopic/`` in
    BERTopic's own safetensors format (``BERTopic.load`` reads it, for BERTopic's own tools).
    """
    import json
    import shutil

    import numpy as np
    from safetensors.numpy import save_file

    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        meta, arrays = model.to_state()
        meta["config"] = config.fingerprint
        (tmp / TOPIC_MODEL_META).write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
        save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, str(tmp / TOPIC_MODEL_ARRAYS))
        (tmp / "config.yaml").write_text(config.to_yaml(), encoding="utf-8")
        if getattr(model, "bertopic_", None) is not None:
            model.bertopic_.save(tmp / "bertopic", serialization="safetensors", save_ctfidf=True,
                                 save_embedding_model=False)
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp creates 0700; the result should look like any directory
        swap_dir(tmp, directory)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return directory


def load_topic_model(directory: str | Path):
    """Load a model saved by :func:`save_topic_model`; returns ``(model, config_fingerprint)``.
    A ``model.joblib`` of an earlier version (a pickle: load only files you trust) still loads."""
    import json

    from safetensors.numpy import load_file

    from .topics import TopicModel

    directory = Path(directory)
    legacy = directory if directory.is_file() else directory / "model.joblib"
    if legacy.is_file() and not (directory / TOPIC_MODEL_META).exists():
        return load_model(legacy)
    missing = [name for name in (TOPIC_MODEL_META, TOPIC_MODEL_ARRAYS) if not (directory / name).is_file()]
    if missing:
        raise InputError(f"{directory}: not a topic model ({', '.join(missing)} missing); "
                         f"fit one with `cxmining topics fit`")
    try:
        meta = json.loads((directory / TOPIC_MODEL_META).read_text(encoding="utf-8"))
        return TopicModel.from_state(meta, load_file(str(directory / TOPIC_MODEL_ARRAYS))), meta.get("config")
    except Exception as exc:  # noqa: BLE001 - one clear line for any damaged model
        raise InputError(f"{directory}: unreadable topic model ({type(exc).__name__}: {exc}); "
                         f"fit it again with `cxmining topics fit`") from None


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _model_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: model file not found; train one with `cxmining pains train`")
    return path


def classifier_key(config: Config) -> str:
    """Names the unit classifier the configuration asks for, without loading it (cache keys, the
    method sheet): ``"rules"`` when ``pains.model`` is unset, else the learned layer's path and the
    SHA-256 of its bytes, so a model retrained at the same path gets another key."""
    if config.pains.model is None:
        return "rules"
    return f"learned layer {config.pains.model} (sha256 {file_digest(_model_file(config.pains.model))[:16]})"


def load_classifier(config: Config):
    """The unit classifier the configuration asks for: the rules, or the learned layer in ``pains.model``."""
    from .pains import RuleClassifier

    if config.pains.model is None:
        return RuleClassifier(rules=config.pains).fit()
    return load_model(config.pains.model)[0]

