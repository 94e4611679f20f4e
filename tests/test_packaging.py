"""The wheel installs one import package, ``geogame``, with its data, and works without the source tree.

The source is copied to a temporary folder and built there (``pip wheel --no-build-isolation``:
setuptools comes from the test extra, so no network is needed), so the repository gets no
``build/`` folder. The wheel is then installed with ``pip install --target`` and imported by an
interpreter that runs without ``site`` (so neither the editable install's path hook nor the
source tree is visible) and sees only the target folder and the venv's third-party packages.
"""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PACKAGE_DIRS = CONFIG["tool"]["setuptools"]["package-dir"]   # import package -> folder
VERSION = CONFIG["project"]["version"]
DIST_INFO = f"geogame-{VERSION}.dist-info"

pytestmark = pytest.mark.slow  # about 10 s: a build, an install and a model run in a fresh interpreter


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of the source (pyproject, README and the mapped folders)."""
    if importlib.util.find_spec("setuptools") is None:
        pytest.fail("setuptools is missing from the venv: it is in the test extra (./dev setup installs it)")
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for folder in set(PACKAGE_DIRS.values()):
        shutil.copytree(ROOT / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "--no-index", "-q", "-w", str(out), str(src)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    [built] = out.glob("geogame-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The wheel installed into an empty folder with ``pip install --target``."""
    target = tmp_path_factory.mktemp("target")
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                           "--target", str(target), str(wheel)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return target


def test_the_wheel_installs_only_geogame_at_the_top_level(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"geogame", DIST_INFO}
    # every subpackage of the mapping is there, under geogame/
    for package in PACKAGE_DIRS:
        assert f"{package.replace('.', '/')}/__init__.py" in names, package


def test_the_wheel_holds_every_module_scenario_and_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = set()
    for package, folder in PACKAGE_DIRS.items():
        expected |= {f"{package.replace('.', '/')}/{p.name}" for p in (ROOT / folder).glob("*.py")}
    expected |= {f"geogame/model/scenarios/{p.name}" for p in (ROOT / "model" / "scenarios").glob("*.toml")}
    expected |= {f"geogame/model/data/{p.name}" for p in (ROOT / "model" / "data").glob("*.csv")}
    assert any(n.endswith(".toml") for n in expected) and any(n.endswith(".csv") for n in expected)
    assert not expected - names, f"missing from the wheel: {sorted(expected - names)}"
    entry_points = zipfile.ZipFile(wheel).read(f"{DIST_INFO}/entry_points.txt").decode()
    assert "geogame = geogame.experiments.cli:main" in entry_points


#: Runs in an interpreter without site: the installed copy first, then the venv's third-party packages.
_CHECK = r"""
import sys
target, site_packages = sys.argv[1], sys.argv[2]
sys.path[:0] = [target, site_packages]
import importlib.util
for name in ("model", "agents", "viz", "experiments"):
    assert importlib.util.find_spec(name) is None, f"a top-level {name!r} is importable"
import geogame
from geogame import GeopoliticsModel, list_scenarios, load_scenario
from geogame.experiments import sweep
scenarios = list_scenarios()
assert {"baseline", "hindcast"} <= {s.name for s in scenarios}, scenarios
load_scenario("hindcast")                      # reads the calibration CSV from the package data
m = GeopoliticsModel("baseline", seed=1).run(2)
assert list(m.metrics_frame().columns) == geogame.outcome_names()
outside = sorted(mod.__file__ for name, mod in sys.modules.items()
                 if name.split(".")[0] == "geogame" and getattr(mod, "__file__", None)
                 and not mod.__file__.startswith(target))
assert not outside, outside
print("ok", geogame.__file__)
"""


def test_the_installed_copy_works_without_the_source_tree(installed, tmp_path):
    assert sorted(p.name for p in installed.iterdir() if p.name != "bin") == ["geogame", DIST_INFO]
    site_packages = sysconfig.get_paths()["purelib"]
    done = subprocess.run([sys.executable, "-S", "-c", _CHECK, str(installed), site_packages],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert done.stdout.split() == ["ok", str(installed / "geogame" / "__init__.py")]
