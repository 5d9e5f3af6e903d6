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
