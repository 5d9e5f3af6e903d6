"""cxmining: pain maps from Russian open-ended feedback."""
from .config import Config, load_config
from .ingestjob import ingest
from .io import read_table
from .preprocess import TextPipeline, preprocess_frame
from .store import read_records, read_units

__all__ = ["Config", "load_config", "ingest", "read_records", "read_table", "read_units", "TextPipeline",
           "preprocess_frame"]
