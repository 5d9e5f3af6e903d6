"""The conda environment and the pip install must ask for the same pinned packages."""
import re
import tomllib

import yaml

from tests.conftest import ROOT


def _key(req: str) -> str:
    name, _, version = re.split(r"(==)", req.strip(), maxsplit=1)
    return f"{name.lower().replace('_', '-')}=={version}"


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {_key(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {_key(r) for r in pip if not r.startswith("-e")}
    assert listed == wanted
    assert "-e ." in pip


def test_every_direct_dependency_is_pinned_and_locked():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8").lower()
    for req in project["dependencies"]:
        assert "==" in req, req
        name, version = _key(req).split("==")
        assert re.search(rf"^{re.escape(name)}=={re.escape(version)}(\+\w+)?$", lock, re.M), req
    assert "torch==2.13.0" in project["dependencies"]


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci/run").read_text()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme


def test_make_setup_is_up_to_date_after_install():
    """`make test` re-run does not reinstall: the install stamp is newer than what it depends on."""
    import shutil
    import subprocess

    import pytest

    if not (ROOT / ".venv" / ".cxmining-installed").exists() or shutil.which("make") is None:
        pytest.skip("not set up by make")
    res = subprocess.run(["make", "-q", "venv"], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, "make would reinstall the virtual environment"
