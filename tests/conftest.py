import subprocess
import sys
from pathlib import Path

import pytest

from cxmining.config import load_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def config():
    return load_config()


@pytest.fixture
def run_cli(tmp_path):
    """Run the installed ``cxmining`` command in a subprocess, from ``tmp_path``."""
    def run(*args, cwd=None):
        return subprocess.run([sys.executable, "-m", "cxmining", *map(str, args)], cwd=cwd or tmp_path,
                              capture_output=True, text=True, timeout=600)
    return run


@pytest.fixture(scope="session")
def nlp():
    """The project's spaCy pipeline (razdel + slovnet + pymorphy3), loaded once per test session."""
    from cxmining.nlp import build_nlp

    return build_nlp()


@pytest.fixture(scope="session")
def masker(config):
    from cxmining.nlp import load_ner, load_pymorphy
    from cxmining.privacy import Masker

    return Masker(config.text, ner=load_ner(), morph=load_pymorphy())


@pytest.fixture(scope="session")
def pipeline(config, nlp, masker):
    from cxmining.preprocess import TextPipeline

    return TextPipeline(config, nlp=nlp, masker=masker)


@pytest.fixture(scope="session")
def demo_processed(tmp_path_factory, config):
    """The bundled demo feedback and survey (both quarters) ingested and preprocessed once per session."""
    from cxmining import ingestjob
    from cxmining.cli import run_preprocess

    processed = tmp_path_factory.mktemp("demo") / "processed"
    ingestjob.ingest(ROOT / "data/raw/demo/external_feedback.csv", "external", config, processed=processed)
    ingestjob.ingest(ROOT / "data/raw/demo/internal_survey.csv", "internal", config, processed=processed)
    run_preprocess(processed, ("external", "internal"), config, workers=2)
    return processed


@pytest.fixture(scope="session")
def demo_truth():
    import pandas as pd

    demo = ROOT / "data/raw/demo"
    return (pd.read_csv(demo / "external_truth.csv", dtype=str).fillna(""),
            pd.read_csv(demo / "planted_external.csv"))


@pytest.fixture(scope="session")
def dask_cluster():
    """A 2-worker dask LocalCluster shared by the tests of the dask engine."""
    from cxmining import daskengine

    client = daskengine.client(n_workers=2)
    yield client
    client.close()
    client.cluster.close()
