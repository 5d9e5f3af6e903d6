"""cxmining: pain maps from Russian open-ended feedback."""
from .config import Config, load_config
from .io import ingest, read_records, read_table

__all__ = ["Config", "load_config", "ingest", "read_records", "read_table"]
