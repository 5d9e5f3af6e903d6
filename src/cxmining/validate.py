"""Validation rules: mapped raw rows in, typed records and quarantined rows out.

Pure functions on DataFrames (no disk). Every input row ends in exactly one of the two
outputs; a quarantined row keeps its original values and gets every reason that applies.
"""
from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime

import numpy as np
import pandas as pd

from .config import Config, normalize_label
from .schema import NOT_STATED, fields

REASON = "quarantine_reason"
_TAGS = re.compile(r"<[^>]*>|&[a-zA-Z]+;|&#\d+;")
_PERIOD_PATTERNS = (
    (re.compile(r"^(\d{4})\s*[-/ ]?\s*[qк]\s*([1-4])$"), (1, 2)),           # 2026Q3, 2026-Q3, 2026 к3
    (re.compile(r"^[qк]\s*([1-4])\s*[-/ ]?\s*(\d{4})$"), (2, 1)),           # Q3 2026
    (re.compile(r"^([1-4])\s*(?:-?й)?\s*(?:кв|квартал)\.?\s*(\d{4})(?:\s*г(?:ода?)?\.?)?$"), (2, 1)),
    (re.compile(r"^(i{1,3}|iv)\s*(?:кв|квартал)\.?\s*(\d{4})(?:\s*г(?:ода?)?\.?)?$"), (2, 1)),
)
_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4"}
_DATE_FORMATS = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y", "%d.%m.%y", "%d/%m/%Y", "%Y/%m/%d")
_FEM_PLURAL = re.compile(r"(удовлетворен|доволен|довольн)(а|ы)\b")
_LEADING_SCORE = re.compile(r"^([1-5])(?:[.,]0+)?(?:\s*[-–—:.)]\s*.*)?$")


def apply(values: pd.Series, fn) -> pd.Series:
    """``values.map(fn)`` that keeps ``None`` and object dtype (pandas 3 would infer ``str`` and NaN)."""
    return pd.Series([fn(v) for v in values], index=values.index, dtype=object)


def _column(raw: pd.DataFrame, name: str) -> pd.Series:
    """A mapped column as objects, or an all-empty column when the export lacks it."""
    return raw[name].astype(object) if name in raw else pd.Series(None, index=raw.index, dtype=object)


def is_blank(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA or \
        (isinstance(value, str) and not value.strip())


def clean_str(value) -> str | None:
    if is_blank(value):
        return None
    return re.sub(r"\s+", " ", str(value).replace("\u00a0", " ")).strip()


def quarter(ts: pd.Timestamp | date) -> str:
    return f"{ts.year}Q{(ts.month - 1) // 3 + 1}"


def parse_period(value) -> str | None:
    """``2026Q3``, ``2026-Q3``, ``Q3 2026``, «3 квартал 2026», «III кв. 2026» → ``2026Q3``."""
    text = normalize_label(value)
    for pattern, (y, q) in _PERIOD_PATTERNS:
        m = pattern.match(text)
        if m:
            num = _ROMAN.get(m.group(q), m.group(q))
            return f"{m.group(y)}Q{num}"
    return None


def parse_dates(values: pd.Series) -> pd.Series:
    """Parse a column of dates in the formats Russian exports use; NaT where impossible."""
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    todo = values.map(lambda v: not is_blank(v))
    native = values[todo].map(lambda v: isinstance(v, (datetime, date, pd.Timestamp)))
    if native.any():
        idx = native[native].index
        out[idx] = pd.to_datetime(values[idx].astype(object), errors="coerce").astype("datetime64[ns]")
    # Excel serial day numbers (a date column read as numbers).
    numeric = pd.to_numeric(values.where(todo & out.isna()), errors="coerce")
    serial = numeric.between(20000, 80000)
    if serial.any():
        out[serial] = pd.to_datetime(numeric[serial], unit="D", origin="1899-12-30")
    text = apply(values.where(todo & out.isna() & ~serial), clean_str)
    for fmt in ("ISO8601", *_DATE_FORMATS):
        pending = text.notna() & out.isna()
        if not pending.any():
            break
        parsed = pd.to_datetime(text[pending], format=fmt, errors="coerce")
        out[pending] = parsed.astype("datetime64[ns]") if parsed.dt.tz is None else \
            parsed.dt.tz_convert(None).astype("datetime64[ns]")
    return out


def parse_likert(value, config: Config) -> tuple[int | None, str | None]:
    """Return ``(score, error)``: a score 1–5, ``None`` for no answer, or an error text."""
    if is_blank(value):
        return None, None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        if float(value).is_integer() and 1 <= value <= 5:
            return int(value), None
        return None, f"score {value!r} out of 1–5"
    text = _FEM_PLURAL.sub(r"\1", normalize_label(value)).replace("довольн", "доволен")
    if text in config.survey.likert_no_answer:
        return None, None
    m = _LEADING_SCORE.match(text)
    if m:
        return int(m.group(1)), None
    if text in config.survey.likert_scale:
        return config.survey.likert_scale[text], None
    return None, f"unknown answer {str(value)!r}"


def row_hash(values: dict) -> str:
    blob = json.dumps(values, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha1(blob.encode("utf-8")).hexdigest()[:16]


def validate_external(raw: pd.DataFrame, config: Config, source: str = "", today: date | None = None,
                      dedupe: bool = True):
    """Validate mapped external rows.

    Parameters
    ----------
    raw : DataFrame
        One column per canonical name that the export had (see ``io.map_columns``), values as read.
    config : Config
    source : str
        File name recorded as lineage.
    today : date, optional
        Dates after this day are rejected (default: today).

    Returns
    -------
    records : DataFrame
        Accepted rows in the schema's column order and dtypes (identical repeats kept once).
    rejected : DataFrame
        Indexed by the quarantined input rows' labels, with a ``quarantine_reason`` column.
    duplicates : int
        Number of identical repeats (same id and content) dropped from ``records``.

    With ``dedupe=False`` (ingest, which settles repeated ids across the whole file and the stored
    data with :func:`resolve_ids`) no repeat is dropped or quarantined: ``records`` gets a ``_row``
    column (the input row label), ``rejected`` the row's id, and ``duplicates`` is 0.
    """
    today = today or date.today()
    col = lambda name: _column(raw, name)  # noqa: E731
    reasons: dict = {i: [] for i in raw.index}

    text = apply(col("text"), lambda v: None if is_blank(v) else str(v).strip())
    for i, t in text.items():
        if t is None or not _TAGS.sub(" ", t).replace("\u00a0", " ").strip():
            reasons[i].append("empty text")

    received = parse_dates(col("received_at"))
    latest = pd.Timestamp(today) + pd.Timedelta(days=1)
    for i, (orig, ts) in enumerate(zip(col("received_at"), received)):
        label = raw.index[i]
        if is_blank(orig):
            reasons[label].append("missing received_at")
        elif pd.isna(ts):
            reasons[label].append(f"unparseable received_at {str(orig)!r}")
        elif ts >= latest or ts.year < 1990:
            reasons[label].append(f"implausible received_at {ts.date()}")

    rating = pd.Series(pd.NA, index=raw.index, dtype="Int8")
    for i, v in col("rating").items():
        if is_blank(v):
            continue
        num = pd.to_numeric(str(v).replace(",", ".").strip(), errors="coerce")
        if pd.isna(num):
            reasons[i].append(f"rating {str(v)!r} is not a number")
        elif not float(num).is_integer() or not 1 <= num <= 5:
            reasons[i].append(f"rating {v} out of range 1–5")
        else:
            rating[i] = int(num)

    electronic = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    for i, v in col("is_electronic").items():
        if is_blank(v):
            continue
        word = normalize_label(v.item() if hasattr(v, "item") else v)
        if word in config.true_words or v is True:
            electronic[i] = True
        elif word in config.false_words or v is False:
            electronic[i] = False
        else:
            reasons[i].append(f"is_electronic {str(v)!r} is not yes/no")

    client = pd.Series(config.client_type_missing, index=raw.index, dtype=object)
    for i, v in col("client_type").items():
        if is_blank(v):
            continue
        name = config.client_types.canonical(v)
        if name is None:
            reasons[i].append(f"unknown client_type {str(v)!r} (add it to values.client_type in the configuration)")
        else:
            client[i] = name

    channel = apply(col("channel"),
        lambda v: config.channel_missing if is_blank(v) else (config.channels.canonical(v) or clean_str(v)))
    process = apply(col("process"),
        lambda v: config.process_missing if is_blank(v)
        else config.process_lookup.get(normalize_label(v), clean_str(v)))

    records = pd.DataFrame({
        "response_id": apply(col("response_id"), clean_str),
        "received_at": received,
        "period": apply(received, lambda ts: None if pd.isna(ts) else quarter(ts)),
        "channel": channel,
        "process": process,
        "service": apply(col("service"), clean_str),
        "touchpoint": apply(col("touchpoint"), clean_str),
        "client_type": client,
        "is_electronic": electronic,
        "rating": rating,
        "text": text,
        "source": source,
    }, index=raw.index)
    return _finish(records, reasons, "external", config, id_col="response_id", dedupe=dedupe)


def validate_internal(raw: pd.DataFrame, config: Config, source: str = "", period: str | None = None,
                      dedupe: bool = True):
    """Validate mapped internal (survey) rows; see :func:`validate_external` for the outputs.

    ``period`` (e.g. from ``cxmining ingest --period``) fills rows whose export has neither a
    period nor a submission date.
    """
    col = lambda name: _column(raw, name)  # noqa: E731
    reasons: dict = {i: [] for i in raw.index}
    default_period = parse_period(period) if period else None
    if period and default_period is None:
        raise ValueError(f"--period {period!r} is not a quarter like 2026Q3")

    submitted = parse_dates(col("submitted_at"))
    periods = []
    for i, p, ts in zip(raw.index, col("period"), submitted):
        if not is_blank(p):
            value = parse_period(p)
            if value is None:
                reasons[i].append(f"period {str(p)!r} is not a quarter like 2026Q3")
        else:
            value = quarter(ts) if not pd.isna(ts) else default_period
            if value is None:
                reasons[i].append("missing period (give a period column, a date column or --period)")
        periods.append(value)

    department = apply(col("department"), clean_str)
    for i, d in department.items():
        if is_blank(d):
            reasons[i].append("empty department")

    records = pd.DataFrame({
        "respondent_id": apply(col("respondent_id"), clean_str),
        "period": periods,
        "department": department,
        "position_group": apply(col("position_group"), lambda v: clean_str(v) or NOT_STATED),
        "tenure_group": apply(col("tenure_group"), lambda v: clean_str(v) or NOT_STATED),
    }, index=raw.index)

    answered = pd.Series(False, index=raw.index)
    for dim in config.survey.dimension_keys:
        scores = pd.Series(pd.NA, index=raw.index, dtype="Int8")
        for i, v in col(dim).items():
            score, error = parse_likert(v, config)
            if error:
                reasons[i].append(f"{dim}: {error}")
            elif score is not None:
                scores[i] = score
        records[dim] = scores
        answered |= scores.notna()
    for name in open_columns(raw, config):
        records[name] = apply(col(name), clean_str)
        answered |= records[name].notna()
    for i in raw.index[~answered]:
        reasons[i].append("empty response (no score and no open answer)")
    records["source"] = source
    return _finish(records, reasons, "internal", config, id_col="respondent_id", dedupe=dedupe)


def open_columns(raw: pd.DataFrame, config: Config) -> list[str]:
    """Open-answer columns present: the configured ones, then any ``open_*`` column."""
    known = [q.key for q in config.survey.open_answers]
    extra = sorted(c for c in raw.columns if str(c).startswith("open_") and c not in known)
    return [c for c in known if c in raw.columns] + extra


def _finish(records: pd.DataFrame, reasons: dict, kind: str, config: Config, id_col: str, dedupe: bool = True):
    content = [c for c in records.columns if c not in (id_col, "source")]
    hashes = [row_hash(dict(zip(content, vals))) for vals in records[content].itertuples(index=False)]
    records["row_hash"] = hashes
    missing_id = records[id_col].isna()
    records.loc[missing_id, id_col] = ["h" + h for h in records.loc[missing_id, "row_hash"]]

    reason = pd.Series({i: "; ".join(r) for i, r in reasons.items()}, dtype=object).reindex(records.index)
    if not dedupe:
        bad = reason != ""
        rejected = pd.DataFrame({REASON: reason[bad], id_col: records.loc[bad, id_col]})
        good = records[~bad]
        out = _typed(good[_order(good, kind, config)], kind, config)
        out["_row"] = good.index.to_numpy(dtype=np.int64)
        return out, rejected, 0
    keys = records[[id_col, "row_hash"]].assign(_row=np.arange(len(records)), bad=(reason != "").to_numpy())
    status = resolve_ids(keys, id_col)
    conflict = status.index[status["status"] == "conflict"]
    reason[records.index[conflict]] = CONFLICT_IN_FILE.format(id_col=id_col)
    bad = reason != ""
    rejected = pd.DataFrame({REASON: reason[bad]})
    out = records[(status["status"] == "new").to_numpy()]
    return _typed(out[_order(out, kind, config)], kind, config), rejected, int((status["status"] == "duplicate").sum())


CONFLICT_IN_FILE = "{id_col} appears more than once in the file with different content"
CONFLICT_STORED = "{id_col} already ingested with different content"


def resolve_ids(keys: pd.DataFrame, id_col: str) -> pd.DataFrame:
    """Settle repeated ids: the one rule both ingest engines apply.

    Parameters
    ----------
    keys : DataFrame
        One row per input row with ``id_col``, ``row_hash``, ``_row`` (input order), ``bad`` (failed
        a row check) and optionally ``stored_hash`` (the content hash already stored under the id).
        All rows of an id must be present (the dask engine shuffles by id first).

    Returns
    -------
    DataFrame, aligned with ``keys``: ``status`` is ``rejected`` (failed a row check),
    ``duplicate`` (same id and content as an earlier row: the same answer twice, kept once),
    ``conflict`` (the id comes with different contents in the file: neither can be trusted, all are
    quarantined), ``present`` (stored with this content), ``stored`` (stored with other content:
    quarantined, the stored row stays) or ``new``; ``stored_conflict`` marks every input row of an
    id of the ``stored`` kind (each is quarantined with that reason).
    """
    order = keys.sort_values("_row", kind="stable")
    status = pd.Series("rejected", index=order.index, dtype=object)
    good = order[~order["bad"].astype(bool)]
    dup = good.duplicated(subset=[id_col, "row_hash"], keep="first")
    status[dup.index[dup.to_numpy()]] = "duplicate"
    rest = good[~dup.to_numpy()]
    conflict = rest.duplicated(subset=[id_col], keep=False).to_numpy()
    status[rest.index[conflict]] = "conflict"
    single = rest[~conflict]
    stored = single["stored_hash"] if "stored_hash" in single else pd.Series(None, index=single.index, dtype=object)
    known = stored.notna().to_numpy()
    # Compared as plain strings: string columns hold pd.NA, whose == has no truth value.
    same = known & (stored.astype(object).fillna("").astype(str).to_numpy()
                    == single["row_hash"].astype(object).fillna("").astype(str).to_numpy())
    status[single.index] = np.where(same, "present", np.where(known, "stored", "new"))
    clash = set(single.loc[known & ~same, id_col])
    out = pd.DataFrame({"status": status, "stored_conflict": order[id_col].isin(clash).to_numpy()}, index=order.index)
    return out.reindex(keys.index)


def _order(df: pd.DataFrame, kind: str, config: Config) -> list[str]:
    order = [f.name for f in fields(kind, config) if f.name in df.columns]
    return order + [c for c in df.columns if c not in order]


def _typed(df: pd.DataFrame, kind: str, config: Config) -> pd.DataFrame:
    dtypes = {f.name: f.dtype for f in fields(kind, config) if f.name in df.columns}
    dtypes.update({c: "string" for c in df.columns if c not in dtypes})
    return df.astype(dtypes).reset_index(drop=True)
