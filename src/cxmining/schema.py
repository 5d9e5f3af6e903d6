"""The record schemas: the tables that cross module borders are named here once.

``EXTERNAL`` and ``INTERNAL`` describe the two record kinds field by field; the
internal survey's Likert and open-answer columns come from the configuration.
:func:`data_contract_markdown` renders the documentation page ``docs/data_contract.md``
(a test keeps the page in sync with this module).
"""
from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from .config import Config


@dataclass(frozen=True)
class Field:
    name: str
    dtype: str  # pandas dtype of the stored column
    required: bool  # must the export have a column for it?
    meaning: str


EXTERNAL = (
    Field("response_id", "string", False,
          "Identifier of the answer in the source system. Missing: a content hash `h<16 hex>` of the row."),
    Field("received_at", "datetime64[ns]", True,
          "Date (and time, if the export has it) the answer was received. ISO, `ДД.ММ.ГГГГ[ ЧЧ:ММ]` "
          "or Excel dates; not in the future."),
    Field("period", "string", False,
          "Quarter derived from `received_at`, e.g. `2026Q3`; the storage partition."),
    Field("channel", "string", False,
          "How the answer reached the administration (портал, МФЦ, личный приём, телефон, электронная "
          "почта, опрос, письменное обращение); known aliases normalised, others kept; missing: «не указан»."),
    Field("process", "string", False,
          "Наименование процесса the answer is about; configured aliases normalised; missing: «не указан»."),
    Field("service", "string", False, "Муниципальная услуга, when the answer concerns one."),
    Field("touchpoint", "string", False, "Точка обращения: where the client met the process (МФЦ, портал, кабинет, ...)."),
    Field("client_type", "string", False,
          "One of the programme's client types (configuration `values.client_type`); an unknown "
          "wording is quarantined; missing: «не указан»."),
    Field("is_electronic", "boolean", False, "Is the service provided electronically (да/нет, true/false, 1/0)."),
    Field("rating", "Int8", False, "The client's rating, an integer 1–5."),
    Field("text", "string", True, "The answer's text as received (raw; masked only downstream)."),
    Field("source", "string", False, "Lineage: the file name the row was ingested from."),
    Field("row_hash", "string", False, "Lineage: hash of the row's normalised content (idempotent re-ingest)."),
)

INTERNAL_BASE = (
    Field("respondent_id", "string", False,
          "Identifier of the questionnaire. Missing: a content hash `h<16 hex>` of the row."),
    Field("period", "string", True,
          "Survey wave as a quarter (`2026Q3`; «3 квартал 2026», `2026-Q3` accepted). May come instead "
          "from `submitted_at` or from `cxmining ingest --period`."),
    Field("department", "string", True, "The respondent's department (подразделение)."),
    Field("position_group", "string", False, "Position group (руководители, специалисты, ...); missing: «не указано»."),
    Field("tenure_group", "string", False, "Tenure group (стаж); missing: «не указано»."),
)
INTERNAL_TAIL = (
    Field("source", "string", False, "Lineage: the file name the row was ingested from."),
    Field("row_hash", "string", False, "Lineage: hash of the row's normalised content (idempotent re-ingest)."),
)
# The units table (cxmining.preprocess): one row per sentence or clause of an answer.
UNITS = (
    Field("response_id", "string", False, "The answer (`respondent_id` for the internal survey)."),
    Field("field", "string", False, "The text column the unit comes from: `text`, or an open-answer question."),
    Field("unit_id", "string", False, "`<response_id>/<field>/<sentence>.<clause>`: unique, traceable to the answer."),
    Field("sent_idx", "int32", False, "Sentence position in the answer (0-based, after boilerplate removal)."),
    Field("clause_idx", "int32", False, "Clause position in the sentence (0-based)."),
    Field("text_masked", "string", False, "The unit's text: cleaned, personal data replaced by `[ФИО]`, `[ТЕЛЕФОН]`, …"),
    Field("tokens", "list<string>", False, "razdel tokens of `text_masked` (placeholders are one token)."),
    Field("spaces", "list<bool>", False, "Whether each token is followed by a space."),
    Field("pos", "list<string>", False, "Universal POS per token (slovnet, corrected by pymorphy3 where it knows better)."),
    Field("morph", "list<string>", False, "Morphological features per token (`Case=Nom|Number=Sing`)."),
    Field("lemmas", "list<string>", False, "pymorphy3 lemma per token, chosen with the slovnet POS."),
    Field("analysis_text", "string", False,
          "Lemmas (ё→е) without stopwords, numbers, punctuation and placeholders; «не» joined: `не_работать`."),
    Field("pii", "string", False, "Personal-data types masked in the answer's field, comma-separated (`name,phone`)."),
)
UNIT_GROUPING = {
    "external": ("period", "received_at", "process", "service", "touchpoint", "channel", "client_type",
                 "is_electronic", "rating"),
    "internal": ("period", "department", "position_group", "tenure_group"),
}
NOT_STATED = "не указано"
ID_COLUMN = {"external": "response_id", "internal": "respondent_id"}
KINDS = ("external", "internal")


def internal_fields(config: Config) -> tuple[Field, ...]:
    """All fields of an internal record, with the configured survey questions."""
    likert = tuple(
        Field(d.key, "Int8", False, f"Likert 1–5 (or its wording): {d.label}.") for d in config.survey.dimensions
    )
    opens = tuple(
        Field(q.key, "string", False, f"Open answer: {q.label}.") for q in config.survey.open_answers
    )
    return INTERNAL_BASE + likert + opens + INTERNAL_TAIL


def fields(kind: str, config: Config) -> tuple[Field, ...]:
    if kind == "external":
        return EXTERNAL
    if kind == "internal":
        return internal_fields(config)
    raise ValueError(f"unknown record kind {kind!r}; expected one of {KINDS}")


_ARROW = {
    "string": pa.string(),
    "int32": pa.int32(),
    "list<string>": pa.list_(pa.string()),
    "list<bool>": pa.list_(pa.bool_()),
    "datetime64[ns]": pa.timestamp("ns"),
    "boolean": pa.bool_(),
    "Int8": pa.int8(),
}


def arrow_schema(kind: str, config: Config, extra_open: tuple[str, ...] = ()) -> pa.Schema:
    """The Parquet schema of stored records (fixed types, so partitions always agree)."""
    cols = [pa.field(f.name, _ARROW[f.dtype]) for f in fields(kind, config)]
    cols += [pa.field(name, pa.string()) for name in extra_open]
    return pa.schema(cols)


def units_arrow_schema(kind: str, config: Config) -> pa.Schema:
    """The Parquet schema of the units table: ``UNITS`` then the record's grouping columns."""
    by_name = {f.name: f for f in fields(kind, config)}
    cols = [pa.field(f.name, _ARROW[f.dtype]) for f in UNITS]
    cols += [pa.field(name, _ARROW[by_name[name].dtype]) for name in UNIT_GROUPING[kind]]
    return pa.schema(cols)


def data_contract_markdown(config: Config) -> str:
    """The data-contract documentation page, generated from this module."""
    out = [
        "# Data contract",
        "",
        "Generated from `src/cxmining/schema.py` and the default configuration "
        "(`python -m cxmining.schema > docs/data_contract.md`); a test keeps it in sync.",
        "",
        "*Required* means the export must have a column that maps onto the field (see `columns` in the "
        "configuration for the accepted Russian headers). Rows that break a rule go to the quarantine file "
        "with their reason; see the README.",
        "",
    ]
    for kind, title in (("external", "External feedback (`--kind external`)"),
                        ("internal", "Internal survey (`--kind internal`)")):
        out += [f"## {title}", "", "| name | type | required | meaning |", "|---|---|---|---|"]
        for f in fields(kind, config):
            out.append(f"| `{f.name}` | {f.dtype} | {'yes' if f.required else 'no'} | {f.meaning} |")
        out.append("")
    out += [
        "Internal records need at least one Likert column. Any further column whose header starts "
        "with `open_` is kept as an open answer. Likert wordings accepted (after lower-casing, ё→е, "
        "feminine/plural folded):",
        "",
        "| wording | score |",
        "|---|---|",
    ]
    out += [f"| {w} | {s} |" for w, s in sorted(config.survey.likert_scale.items(), key=lambda x: (-x[1], x[0]))]
    out += ["", "Read as *no answer* (stored empty): " + ", ".join(sorted(config.survey.likert_no_answer)) + ".", ""]
    out += ["## Units (`cxmining preprocess`)", "",
            "One row per sentence or clause of an answer's text, under "
            "`data/processed/<kind>/units/period=<P>/part-0.parquet`; then the record's grouping columns "
            f"(external: {', '.join(UNIT_GROUPING['external'])}; internal: {', '.join(UNIT_GROUPING['internal'])}).",
            "", "| name | type | meaning |", "|---|---|---|"]
    out += [f"| `{f.name}` | {f.dtype} | {f.meaning} |" for f in UNITS]
    out.append("")
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover - documentation generator
    from .config import load_config

    print(data_contract_markdown(load_config()), end="")
