"""Fuzzing ``geogame run`` and ``geogame sweep`` (issue 14): generated arguments and output paths.

Bad input must give exactly one line on stderr naming the field, the value and what is allowed,
exit code 2, and leave the working folder as it was (no output, no ``.tmp``). Valid settings at
the edges of their ranges must never give NaN, inf, a share outside [0, 1] or an alignment
outside (-1, 1), whether run by the CLI, a sweep or the Python API.

Most checks call ``geogame.experiments.cli.main([...])`` in this process (what the console
script runs) with ``capsys``; a few run the real command in a subprocess, which is what a full
disk or a file-size limit needs. The default run is derandomised (the same examples on every
run, so CI is reproducible); ``pytest -m fuzz`` runs the long, randomised version. The number
of examples each test tried is printed at the end of the session (``EXAMPLES_TRIED``).
"""
from __future__ import annotations

import collections
import contextlib
import math
import os
import re
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geogame.experiments.cli import main
from geogame.model import SETTINGS, GeopoliticsModel, InputError

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable

#: Examples per test in the default (CI) run and in the long run (``-m fuzz``).
DEFAULT_EXAMPLES = {"bad_run_args": 150, "valid_edges_api": 30, "valid_edges_cli": 6, "bad_sweep_args": 60}
LONG_EXAMPLES = {"bad_run_args": 3000, "valid_edges_api": 1500, "valid_edges_cli": 100, "bad_sweep_args": 1000}
#: Examples each test actually tried in this session: test name -> count (printed at the end).
EXAMPLES_TRIED: collections.Counter = collections.Counter()

FUZZ_SETTINGS = dict(deadline=None, derandomize=True, database=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                            HealthCheck.data_too_large, HealthCheck.filter_too_much])
LONG_SETTINGS = {**FUZZ_SETTINGS, "derandomize": False}


def print_counts(config, module: str, counts: dict) -> None:
    """Print ``counts`` on the terminal past pytest's output capture (one line each)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or not counts:
        return
    with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
        reporter.write_line("")
        for name, count in sorted(counts.items()):
            reporter.write_line(f"fuzz examples tried: {module}:{name} = {count}")


@pytest.fixture(scope="module", autouse=True)
def report_counts(request):
    """Print how many examples each test of this module tried (the lead quotes these counts)."""
    yield
    print_counts(request.config, __name__, EXAMPLES_TRIED)


def long_run(request) -> None:
    """Skip a long fuzz test unless ``-m fuzz`` selected it explicitly."""
    expr = request.config.getoption("markexpr") or ""
    if "fuzz" not in expr or "not fuzz" in expr:
        pytest.skip("long fuzz run: select it with pytest -m fuzz")


# ------------------------------------------------------------------------------- helpers
def run_cli(argv, capsys) -> tuple[int, str, str]:
    """Run ``geogame ARGV`` in this process; return (exit code, stdout, stderr)."""
    capsys.readouterr()
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def listing(folder: Path) -> list[str]:
    """Every file and folder under ``folder``, relative, sorted (``.tmp`` files included)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@contextmanager
def inside(folder: Path):
    """Run with ``folder`` as the working directory (the CLI's default outputs go there)."""
    previous = os.getcwd()
    os.chdir(folder)
    try:
        yield folder
    finally:
        os.chdir(previous)


def assert_refused(code, err, folder: Path, before: list[str], must_name=()):
    """Exit 2, exactly one line on stderr naming ``must_name``, and ``folder`` unchanged."""
    lines = err.strip().splitlines()
    assert code == 2, (code, err)
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for text in must_name:
        assert text.lower() in lines[0].lower(), (text, lines[0])
    assert listing(folder) == before, "nothing may be written"
    assert not [p for p in listing(folder) if p.endswith(".tmp")]


SHARE_COLUMNS_EXTRA = ("india_autonomy",)


def assert_sound_metrics(table: pd.DataFrame, where: str) -> None:
    """Every number finite, shares in [0, 1], alignments in the open interval (-1, 1)."""
    numbers = table.select_dtypes(include=[np.number])
    bad = ~np.isfinite(numbers.to_numpy(dtype=float))
    assert not bad.any(), f"{where}: NaN/inf in {sorted(numbers.columns[bad.any(axis=0)])}"
    for column in table.columns:
        values = table[column]
        if "share" in column or column in SHARE_COLUMNS_EXTRA:
            assert ((values >= 0) & (values <= 1)).all(), f"{where}: {column} outside [0, 1]: {values.min()}..{values.max()}"
        if column.startswith("alignment_"):
            assert ((values > -1) & (values < 1)).all(), f"{where}: {column} outside (-1, 1): {values.min()}..{values.max()}"


# ------------------------------------------------------------------ generated bad arguments
KEYS = sorted(SETTINGS)
PRESETS = ("baseline", "hindcast", "no_oil_penalty", "us_deal", "eu_secondary", "oil_shock", "push_100bn")
names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=30)


@st.composite
def out_of_range(draw):
    """``--set KEY=VALUE`` with VALUE outside the setting's range, not a number, or a boolean."""
    key = draw(st.sampled_from(KEYS))
    spec = SETTINGS[key]
    kind = draw(st.sampled_from(["below", "above", "huge", "text", "special"]))
    if kind == "below":
        value = repr(draw(st.floats(max_value=spec.low, exclude_max=True, allow_nan=False, allow_infinity=False)))
        if float(value) >= spec.low:  # repr rounding at the edge
            value = repr(spec.low - 1)
    elif kind == "above":
        value = repr(draw(st.floats(min_value=spec.high, exclude_min=True, allow_nan=False, allow_infinity=False)))
        if float(value) <= spec.high:
            value = repr(spec.high + 1)
    elif kind == "huge":
        value = str(draw(st.sampled_from([1, -1])) * 10 ** draw(st.integers(20, 400)))
        return ["--set", f"{key}={value}"], [key, value[:10], "allowed"]
    elif kind == "text":
        value = draw(st.sampled_from(["true", "false", "yes", "1,5", "0x", "", "forty", "1e", "--"]))
    else:
        value = draw(st.sampled_from(["nan", "inf", "-inf", "NaN", "1e400", "-1e400"]))
    return ["--set", f"{key}={value}"], [key, value, "allowed"]


@st.composite
def bad_run_element(draw, folder: Path):
    """One bad part of a ``geogame run`` command line and the texts its error must name."""
    kind = draw(st.sampled_from(["set", "unknown_key", "no_equals", "repeated_set", "quarters", "quarters_text",
                                 "seed", "suffix", "long_name", "system", "folder_out", "folder_decisions",
                                 "same_file", "missing_folder", "file_as_folder", "rule", "repeated_rule",
                                 "scenario_name", "scenario_missing", "scenario_special"]))
    if kind == "set":
        return draw(out_of_range())
    if kind == "unknown_key":
        key = f"{draw(st.sampled_from(['usa', 'rus', 'ind', 'eu', 'world', 'xyz']))}.{draw(names)}"
        if key in SETTINGS:
            key += "_x"
        return ["--set", f"{key}=1"], ["unknown setting", key]
    if kind == "no_equals":
        text = draw(names)
        return ["--set", text], [text, "owner.name=value"]
    if kind == "repeated_set":
        key = draw(st.sampled_from(KEYS))
        spec = SETTINGS[key]
        return ["--set", f"{key}={spec.low:g}", "--set", f"{key}={spec.high:g}"], [key, "twice", "allowed"]
    if kind == "quarters":
        q = draw(st.one_of(st.integers(max_value=0), st.integers(min_value=201)))
        return ["--quarters", str(q)], ["quarters", str(q)[:10], "allowed"]
    if kind == "quarters_text":
        q = draw(st.sampled_from(["two", "1.5", "", "4q", "1e3"]))
        return ["--quarters", q], ["--quarters", "invalid int value"]
    if kind == "seed":
        seed = draw(st.integers(max_value=-1))
        return ["--seed", str(seed)], ["seed", str(seed)[:10], "allowed"]
    if kind == "suffix":
        name = draw(names) + draw(st.sampled_from([".xlsx", ".txt", "", ".csv.bak", ".json", ".CSVX"]))
        return ["--out", name], [name[:20], ".csv or .parquet"]
    if kind == "long_name":
        n = draw(st.integers(252, 5000))
        return ["--out", "a" * n + ".csv"], ["--out", "bytes long", "allowed"]
    if kind == "system":
        base = draw(st.sampled_from(["/proc", "/sys", "/dev", "/proc/self", "/sys/kernel"]))
        return ["--out", f"{base}/{draw(names)}.csv"], [base.split("/")[1], "system folder", "allowed"]
    if kind == "folder_out":
        name = draw(names) + ".csv"
        (folder / name).mkdir(exist_ok=True)
        return ["--out", name], [name, "a folder", "allowed"]
    if kind == "folder_decisions":
        name = draw(names)
        (folder / f"{name}_decisions.csv").mkdir(exist_ok=True)
        return ["--out", f"{name}.csv"], [f"{name}_decisions.csv", "a folder", "allowed"]
    if kind == "same_file":
        name = draw(names) + draw(st.sampled_from([".csv", ".parquet"]))
        other = draw(st.sampled_from([name, f"./{name}", f"{folder}/{name}"]))
        return ["--out", name, "--decisions", other], ["same file", "--out", "--decisions", "allowed"]
    if kind == "missing_folder":
        return ["--out", f"no_such_folder_{draw(names)}/x.csv"], ["no_such_folder", "does not exist"]
    if kind == "file_as_folder":
        (folder / "plain.txt").write_text("x")
        before_file = "plain.txt"
        return ["--out", f"{before_file}/x.csv"], ["plain.txt", "not a folder"]
    if kind == "rule":
        country = draw(st.sampled_from(["usa", "rus", "ind", "eu", "xyz", "USA"]))
        rule = draw(st.sampled_from(["genius", "human", "AI", "", "random"]))
        if country in ("usa", "rus", "ind", "eu"):
            return ["--rule", f"{country}={rule}"], [repr(rule), "allowed"]
        return ["--rule", f"{country}=ai"], [country, "allowed"]
    if kind == "repeated_rule":
        country = draw(st.sampled_from(["usa", "rus", "ind", "eu"]))
        return ["--rule", f"{country}=ai", "--rule", f"{country}=scripted"], [country, "twice", "allowed"]
    if kind == "scenario_name":
        name = draw(names)
        if name in PRESETS:
            name += "_x"
        return ["--scenario", name], [name[:20], "unknown scenario", "presets"]
    if kind == "scenario_missing":
        name = f"{draw(names)}.toml"
        return ["--scenario", name], [name, "does not exist", "allowed"]
    special = draw(st.sampled_from(["/dev/null", "folder", "fifo"]))
    if special == "folder":
        (folder / "scen_dir.toml").mkdir(exist_ok=True)
        return ["--scenario", "scen_dir.toml"], ["scen_dir.toml", "is a folder", "allowed"]
    if special == "fifo":
        if not (folder / "scen_fifo.toml").exists():
            os.mkfifo(folder / "scen_fifo.toml")
        return ["--scenario", "scen_fifo.toml"], ["scen_fifo.toml", "named pipe", "allowed"]
    return ["--scenario", "/dev/null"], ["/dev/null", "character device", "allowed"]


def _bad_run_args(data, capsys, tmp_path: Path, test_name: str) -> None:
    EXAMPLES_TRIED[test_name] += 1
    folder = Path(tempfile.mkdtemp(dir=tmp_path))  # a fresh working folder for every example
    with inside(folder):
        element, must_name = data.draw(bad_run_element(folder))
        before = listing(folder)
        extras = data.draw(st.lists(st.sampled_from([["--quiet"], ["--seed", "3"], ["--quarters", "2"]]),
                                    max_size=2, unique_by=lambda x: x[0]))
        if any(e[0] in element for e in extras):
            extras = []
        argv = ["run", *[a for e in extras for a in e], *element]
        if "--quarters" not in argv:
            argv += ["--quarters", "1"]  # if a check were missing, the run it lets through is short
        code, _, err = run_cli(argv, capsys)
        assert_refused(code, err, folder, before, must_name)


@settings(max_examples=DEFAULT_EXAMPLES["bad_run_args"], **FUZZ_SETTINGS)
@given(data=st.data())
def test_generated_bad_run_arguments_are_refused_in_one_line(data, capsys, tmp_path):
    _bad_run_args(data, capsys, tmp_path, "bad_run_args")


@pytest.mark.fuzz
@settings(max_examples=LONG_EXAMPLES["bad_run_args"], **LONG_SETTINGS)
@given(data=st.data())
def test_long_generated_bad_run_arguments(request, data, capsys, tmp_path):
    long_run(request)
    _bad_run_args(data, capsys, tmp_path, "bad_run_args_long")


# ------------------------------------------------------------------ output paths, by hand
def test_output_checks_before_the_run(tmp_path, capsys):
    """Each bad output is refused with one line before anything runs (a 200-quarter run would show)."""
    (tmp_path / "x_decisions.csv").mkdir()
    os.mkfifo(tmp_path / "pipe.csv")
    (tmp_path / "real.csv").write_text("kept\n")
    os.symlink(tmp_path / "real.csv", tmp_path / "link.csv")
    cases = [
        (["--out", "x.csv"], ["x_decisions.csv", "is a folder"]),
        (["--out", "same.csv", "--decisions", "same.csv"], ["same file", "same.csv"]),
        (["--out", "real.csv", "--decisions", "link.csv"], ["same file"]),
        (["--out", "pipe.csv"], ["pipe.csv", "named pipe"]),
        (["--out", "/proc/run.csv"], ["/proc", "system folder"]),
        (["--out", "/sys/run.parquet"], ["/sys", "system folder"]),
        (["--out", "b" * 300 + ".csv"], ["304 bytes long", "allowed: up to"]),
        (["--out", "c" * 5000 + ".parquet"], ["bytes long"]),
        (["--out", "ok.csv", "--decisions", "d" * 5000 + ".csv"], ["--decisions", "bytes long"]),
    ]
    with inside(tmp_path):
        for args, must_name in cases:
            before = listing(tmp_path)
            code, _, err = run_cli(["run", "--quarters", "200", *args], capsys)
            assert_refused(code, err, tmp_path, before, must_name)
    assert (tmp_path / "real.csv").read_text() == "kept\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write in a read-only folder")
def test_unwritable_folder_is_refused(tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        before = listing(tmp_path)
        code, _, err = run_cli(["run", "--quarters", "1", "--out", str(folder / "x.csv")], capsys)
        assert_refused(code, err, tmp_path, before, ["not writable"])
    finally:
        folder.chmod(0o700)


def test_outputs_are_written_all_or_nothing_when_a_write_fails(tmp_path, monkeypatch, capsys):
    """A write that fails (here the decisions table) leaves neither table, nor a temporary file."""
    from geogame.experiments import output

    real = output._write_one

    def failing(table, path, suffix):
        if "decision" in " ".join(table.columns) or "move" in table.columns:
            raise OSError(28, "No space left on device")
        real(table, path, suffix)

    monkeypatch.setattr(output, "_write_one", failing)
    (tmp_path / "old.csv").write_text("previous run\n")
    with inside(tmp_path):
        code, _, err = run_cli(["run", "--quarters", "1", "--out", "old.csv"], capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1, err
    assert "old_decisions.csv" in err and "no space left" in err.lower() and "nothing was written" in err
    assert listing(tmp_path) == ["old.csv"] and (tmp_path / "old.csv").read_text() == "previous run\n"


#: Runs ``geogame ARGV`` (the console script's ``main``) in a fresh interpreter under a file-size
#: limit. The model runs one quarter first, so that compiling and caching the numba kernels (which
#: writes files) happens before the limit, as it does once on any installed machine.
_UNDER_FSIZE = """
import resource, signal, sys
from geogame.model import GeopoliticsModel
GeopoliticsModel("baseline", seed=0).run(1)
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # write() then fails with EFBIG instead of killing
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from geogame.experiments.cli import main
sys.exit(main(sys.argv[2:]))
"""


def test_file_size_limit_is_one_line_naming_the_path_and_leaves_nothing(tmp_path):
    """Under RLIMIT_FSIZE (SIGXFSZ ignored): exit 1, one line naming the file, nothing partial, no .tmp."""
    out = subprocess.run([PYTHON, "-c", _UNDER_FSIZE, "2000", "run", "--quarters", "4", "--quiet", "--out", "big.csv"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 1, out.stderr
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert "big" in lines[0] and "file-size limit" in lines[0] and "nothing was written" in lines[0]
    assert listing(tmp_path) == []


def test_console_script_refuses_like_the_in_process_calls(tmp_path):
    """A few checks through the installed ``geogame`` script in a subprocess: the in-process calls are faithful."""
    geogame = Path(PYTHON).with_name("geogame")
    for args, must_name in [(["--out", "same.csv", "--decisions", "same.csv"], "same file"),
                            (["--scenario", "s" * 5000], "unknown scenario"),
                            (["--set", "eu.price_cap_usd=" + "9" * 400], "eu.price_cap_usd = 999999999999")]:
        out = subprocess.run([str(geogame), "run", "--quarters", "1", *args], cwd=tmp_path,
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
        assert must_name in out.stderr
        assert listing(tmp_path) == []


def test_input_files_that_are_not_regular_files_are_named_truly(tmp_path, capsys):
    os.mkfifo(tmp_path / "pipe.toml")
    (tmp_path / "folder.toml").mkdir()
    with inside(tmp_path):
        for scenario, kind in [("/dev/null", "a character device"), ("pipe.toml", "a named pipe"),
                               ("folder.toml", "a folder"), ("./folder.toml", "a folder")]:
            before = listing(tmp_path)
            code, _, err = run_cli(["run", "--scenario", scenario, "--quarters", "1"], capsys)
            assert_refused(code, err, tmp_path, before, [scenario, kind])
            assert "does not exist" not in err


# ----------------------------------------------------------- valid settings at range edges
@st.composite
def edge_settings(draw, max_keys: int = 5):
    """1-5 settings, each at its low end, its high end, just inside them, or in the middle."""
    keys = draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=max_keys, unique=True))
    out = {}
    for key in keys:
        spec = SETTINGS[key]
        span = spec.high - spec.low
        where = draw(st.sampled_from(["low", "high", "near_low", "near_high", "middle"]))
        value = {"low": spec.low, "high": spec.high, "near_low": spec.low + span * 1e-6,
                 "near_high": spec.high - span * 1e-6, "middle": spec.low + span / 2}[where]
        if spec.integer:
            value = float(math.floor(value) if where in ("high", "near_high") else math.ceil(value))
        out[key] = value
    return out


def names_a_setting(message: str) -> bool:
    """True if ``message`` names a setting and its value (``key = value``), as every refusal must."""
    return any(f"{key} = " in message for key in re.findall(r"[a-z]+\.[a-z_]+", message) if key in SETTINGS)


def run_or_refuse(settings_: dict, seed: int, quarters: int = 40) -> pd.DataFrame | None:
    """Run 40 quarters with ``settings_``; None if the model refuses the combination (one line)."""
    try:
        model = GeopoliticsModel("baseline", seed=seed, overrides=settings_)
    except InputError as exc:  # refused before any run: one line naming a setting and its value
        assert len(str(exc).splitlines()) == 1 and names_a_setting(str(exc)), str(exc)
        return None
    model.run(quarters)
    return model.metrics_frame()


def _valid_edges_api(settings_: dict, seed: int, test_name: str) -> None:
    EXAMPLES_TRIED[test_name] += 1
    table = run_or_refuse(settings_, seed)
    if table is None:
        EXAMPLES_TRIED[test_name + " (refused as a combination)"] += 1
        return
    assert len(table) == 41
    assert_sound_metrics(table, f"settings {settings_}, seed {seed}")


@settings(max_examples=DEFAULT_EXAMPLES["valid_edges_api"], **FUZZ_SETTINGS)
@given(settings_=edge_settings(), seed=st.integers(0, 2**32 - 1))
def test_valid_settings_at_range_edges_never_give_nan_python_api(settings_, seed):
    _valid_edges_api(settings_, seed, "valid_edges_api")


@pytest.mark.fuzz
@settings(max_examples=LONG_EXAMPLES["valid_edges_api"], **LONG_SETTINGS)
@given(settings_=edge_settings(max_keys=12), seed=st.integers(0, 2**32 - 1))
def test_long_valid_settings_at_range_edges_python_api(request, settings_, seed):
    long_run(request)
    _valid_edges_api(settings_, seed, "valid_edges_api_long")


def _valid_edges_cli(settings_, seed, capsys, folder: Path, test_name: str) -> None:
    EXAMPLES_TRIED[test_name] += 1
    out = folder / f"run{EXAMPLES_TRIED[test_name]}.parquet"
    args = ["run", "--quarters", "40", "--seed", str(seed), "--quiet", "--out", str(out)]
    for key, value in settings_.items():
        args += ["--set", f"{key}={value!r}"]
    code, _, err = run_cli(args, capsys)
    if code == 2:  # a combination the model refuses: one line naming a setting, nothing written
        assert len(err.strip().splitlines()) == 1 and names_a_setting(err), err
        assert not out.exists()
        return
    assert code == 0, err
    table = pd.read_parquet(out)
    assert_sound_metrics(table, f"geogame {' '.join(args)}")


@settings(max_examples=DEFAULT_EXAMPLES["valid_edges_cli"], **FUZZ_SETTINGS)
@given(settings_=edge_settings(), seed=st.integers(0, 2**32 - 1))
def test_valid_settings_at_range_edges_never_give_nan_cli(settings_, seed, capsys, tmp_path):
    _valid_edges_cli(settings_, seed, capsys, tmp_path, "valid_edges_cli")


@pytest.mark.fuzz
@settings(max_examples=LONG_EXAMPLES["valid_edges_cli"], **LONG_SETTINGS)
@given(settings_=edge_settings(max_keys=12), seed=st.integers(0, 2**32 - 1))
def test_long_valid_settings_at_range_edges_cli(request, settings_, seed, capsys, tmp_path):
    long_run(request)
    _valid_edges_cli(settings_, seed, capsys, tmp_path, "valid_edges_cli_long")


def test_valid_edge_settings_in_a_sweep_never_give_nan(tmp_path):
    """A sweep (written to disk, read back) over 24 points with three settings each at an end of
    its range, every other setting at its default; 40 quarters a run."""
    from geogame.experiments import sweep
    from geogame.model import check_settings

    rng = np.random.default_rng(14)
    defaults = {key: SETTINGS[key].default for key in KEYS}
    points = []
    while len(points) < 24:
        point = dict(defaults)
        for key in rng.choice(KEYS, size=3, replace=False):
            point[str(key)] = SETTINGS[str(key)].low if rng.random() < 0.5 else SETTINGS[str(key)].high
        try:
            check_settings("baseline", point)
        except InputError:
            continue  # a combination refused before any run, as the sweep itself would refuse it
        points.append(point)
    EXAMPLES_TRIED["valid_edges_sweep_points"] += len(points)
    table = sweep(quarters=40, points=points, seed=5, backend="serial", out=tmp_path / "edges")
    assert table.attrs["failures"] == []
    assert sorted(table["run_id"].unique()) == list(range(24))
    assert_sound_metrics(table.drop(columns=KEYS), "sweep over settings at their range edges")


KNOWN_NAN_SETTINGS = [
    pytest.param({"world.ind_rus_friction": 0, "world.instc_cost_cut": 0.5, "world.rupee_push_cost_cut": 0.5,
                  "ind.instc": 1, "ind.rupee_settlement_push": 1}, range(1, 2), id="india-russia-trade-cost-zero"),
    pytest.param({"ind.crude_share_from_rus": 0, "rus.crude_exports_mbd": 1.2, "world.alignment_anchor_pull": 0,
                  "world.alignment_coercion": 5, "eu.weight_alignment_ind": 0}, range(10), id="alignment-saturates"),
]


@pytest.mark.parametrize("settings_, seeds", KNOWN_NAN_SETTINGS)
def test_combinations_from_issue_14_are_refused_or_stay_finite(settings_, seeds):
    """The two NaN reports of issue 14: refused with one line, or 40 sound quarters on every seed."""
    for seed in seeds:
        table = run_or_refuse(settings_, seed)
        if table is not None:
            assert_sound_metrics(table, f"settings {settings_}, seed {seed}")


# ---------------------------------------------------------------- sweeps: bad arguments
@st.composite
def bad_sweep_element(draw):
    kind = draw(st.sampled_from(["grid_huge", "replicates_huge", "sample_huge", "product_huge", "timeout",
                                 "scheduler", "grid_and_set", "range_and_set", "repeated_set", "repeated_grid",
                                 "grid_bad", "replicates_low"]))
    if kind == "grid_huge":
        step = draw(st.sampled_from(["1e-7", "1e-4", "0.0001", "5e-5"]))
        return ["--grid", f"eu.price_cap_usd=0:200:{step}"], ["eu.price_cap_usd", "runs", "allowed: at most 1,000,000"]
    if kind == "replicates_huge":
        n = draw(st.integers(1_000_001, 10**12))
        return ["--replicates", str(n)], ["--replicates", f"{n:,}", "at most 1,000,000"]
    if kind == "sample_huge":
        n = draw(st.integers(1_000_001, 10**12))
        return ["--sample", f"lhs:{n}", "--range", "eu.price_cap_usd=30:70"], ["--sample", "at most 1,000,000"]
    if kind == "product_huge":
        return ["--grid", "eu.price_cap_usd=0:200:0.01", "--grid", "usa.base_tariff_on_ind=0:2:0.01"], \
            ["the design", "at most 1,000,000"]
    if kind == "timeout":
        value = draw(st.sampled_from(["nan", "-5", "0", "inf", "-inf", "1e9"]))
        return ["--backend", "dask", "--scheduler", "tcp://127.0.0.1:9", f"--connect-timeout={value}"], \
            ["--connect-timeout", {"1e9": "1000000000.0"}.get(value, value), "allowed"]
    if kind == "scheduler":
        address = draw(st.sampled_from(["tcp://host:port", "tcp://:8786", "http//x", "tcp://a b:1", "tcp://h:0",
                                        "tcp://h:99999", "tcp://h:8786:1", "ftp://h:1", "tcp://h", "://h:1"]))
        return ["--backend", "dask", "--scheduler", address], ["--scheduler", address, "allowed"]
    if kind == "grid_and_set":
        return ["--grid", "eu.price_cap_usd=40,50", "--set", "eu.price_cap_usd=45"], \
            ["eu.price_cap_usd", "both", "allowed"]
    if kind == "range_and_set":
        return ["--sample", "lhs:2", "--range", "eu.price_cap_usd=40:50", "--set", "eu.price_cap_usd=45"], \
            ["eu.price_cap_usd", "both", "allowed"]
    if kind == "repeated_set":
        return ["--set", "eu.price_cap_usd=40", "--set", "eu.price_cap_usd=50"], ["eu.price_cap_usd", "twice"]
    if kind == "repeated_grid":
        return ["--grid", "eu.price_cap_usd=40,50", "--grid", "eu.price_cap_usd=60"], ["eu.price_cap_usd", "twice"]
    if kind == "grid_bad":
        spec = draw(st.sampled_from(["50:40:5", "40:60:0", "40:60:-1", "", "a,b", "40:60", "nan:60:1", "300,400"]))
        return ["--grid", f"eu.price_cap_usd={spec}"], ["eu.price_cap_usd"]
    n = draw(st.integers(max_value=0))
    return ["--replicates", str(n)], ["--replicates", "allowed"]


def _bad_sweep_args(data, capsys, folder: Path, test_name: str) -> None:
    EXAMPLES_TRIED[test_name] += 1
    element, must_name = data.draw(bad_sweep_element())
    with inside(folder):
        before = listing(folder)
        code, _, err = run_cli(["sweep", "--quarters", "1", "--backend", "serial", "--quiet", "--out", "sw", *element],
                               capsys)
        assert_refused(code, err, folder, before, must_name)


@settings(max_examples=DEFAULT_EXAMPLES["bad_sweep_args"], **FUZZ_SETTINGS)
@given(data=st.data())
def test_generated_bad_sweep_arguments_are_refused_before_work(data, capsys, tmp_path):
    _bad_sweep_args(data, capsys, tmp_path, "bad_sweep_args")


@pytest.mark.fuzz
@settings(max_examples=LONG_EXAMPLES["bad_sweep_args"], **LONG_SETTINGS)
@given(data=st.data())
def test_long_generated_bad_sweep_arguments(request, data, capsys, tmp_path):
    long_run(request)
    _bad_sweep_args(data, capsys, tmp_path, "bad_sweep_args_long")


def test_unbounded_designs_are_refused_at_once(tmp_path, capsys):
    """The three designs of issue 14 that grew until MemoryError: refused in well under a second each."""
    import time

    with inside(tmp_path):
        for args in (["--grid", "eu.price_cap_usd=0:200:1e-7"], ["--replicates", "1000000000"],
                     ["--sample", "lhs:1000000000", "--range", "eu.price_cap_usd=30:70"]):
            start = time.perf_counter()
            code, _, err = run_cli(["sweep", "--quarters", "1", "--out", "sw", *args], capsys)
            assert time.perf_counter() - start < 2.0
            assert_refused(code, err, tmp_path, [], ["at most 1,000,000 runs"])


def test_sensitivity_refuses_before_making_its_folder(tmp_path, capsys):
    base = ["sensitivity", "--range", "eu.price_cap_usd=30:70", "--range", "usa.base_tariff_on_ind=0:0.5",
            "--metric", "crude_share_ind_from_rus@2026Q4", "--out", "s"]
    with inside(tmp_path):
        for extra, must_name in [(["--samples", "1000000000"], ["6,000,000,000 runs", "at most 1,000,000"]),
                                 (["--backend", "dask", "--scheduler", "tcp://x"], ["--scheduler", "tcp://x", "allowed"]),
                                 (["--connect-timeout=nan"], ["--connect-timeout", "nan", "allowed"]),
                                 (["--set", "eu.price_cap_usd=40"], ["eu.price_cap_usd", "both", "allowed"])]:
            code, _, err = run_cli([*base, *extra], capsys)
            assert_refused(code, err, tmp_path, [], must_name)


# ------------------------------------------------------------------ sweeps: damaged folders
def _small_sweep(out: Path, capsys, *extra) -> tuple[int, str]:
    code, _, err = run_cli(["sweep", "--quarters", "2", "--grid", "eu.price_cap_usd=40,50,60,70", "--seed", "3",
                            "--backend", "serial", "--out", str(out), *extra], capsys)
    return code, err


def test_resume_remakes_damaged_results_and_removes_dead_workers_temp_files(tmp_path, capsys):
    from geogame.experiments.store import read_results

    out = tmp_path / "sw"
    code, err = _small_sweep(out, capsys, "--quiet", "--compact-every", "0")  # one file per run, to damage
    assert code == 0, err
    reference = read_results(out)
    metrics = out / "metrics"
    (metrics / "run-000001.parquet").write_bytes(b"")                              # zero bytes
    data = (metrics / "run-000002.parquet").read_bytes()
    (metrics / "run-000002.parquet").write_bytes(data[: len(data) // 2])          # truncated
    (metrics / ".run-000003.parquet.4242.tmp").write_bytes(data[:100])           # a dead worker's
    (out / "decisions" / ".run-000003.parquet.4242.tmp").write_bytes(b"x")
    (metrics / "notes.txt").write_text("mine")                                     # stray names
    (metrics / "run-abc.parquet").write_text("not a run")
    code, err = _small_sweep(out, capsys, "--resume", "--compact-every", "0")
    assert code == 0, err
    assert "sweep: 2 runs" in err and "2 already done" in err and "2 damaged result files made again" in err
    assert not list(out.rglob("*.tmp"))
    assert (metrics / "notes.txt").read_text() == "mine"
    pd.testing.assert_frame_equal(read_results(out), reference)


@pytest.mark.parametrize("damage", ["truncated", "array", "empty", "binary"])
def test_a_damaged_manifest_is_one_line_saying_how_to_recover(tmp_path, capsys, damage):
    out = tmp_path / "sw"
    code, err = _small_sweep(out, capsys, "--quiet")
    assert code == 0, err
    manifest = out / "manifest.json"
    text = manifest.read_text()
    manifest.write_bytes({"truncated": text[: len(text) // 3].encode(), "array": b"[1, 2]", "empty": b"",
                          "binary": b"\xff\xfe\x00"}[damage])
    before = listing(tmp_path)
    code, err = _small_sweep(out, capsys, "--resume")
    assert_refused(code, err, tmp_path, before, ["manifest.json", "restore", "new --out folder"])


def test_sweep_write_failure_is_one_line_and_resumable(tmp_path, capsys, monkeypatch):
    from geogame.experiments import store

    real = store.write_parquet
    calls = []

    def full_disk(table, path):
        calls.append(path)
        if len(calls) == 3:
            with open(path, "wb") as fh:  # a partial file first, as a real full disk leaves
                fh.write(b"PAR1")
            raise OSError(28, "No space left on device", str(path))
        real(table, path)

    monkeypatch.setattr(store, "write_parquet", full_disk)
    out = tmp_path / "sw"
    code, err = _small_sweep(out, capsys, "--quiet")
    assert code == 1 and len(err.strip().splitlines()) == 1, err
    assert "no space left" in err.lower() and "--resume" in err
    assert not list(out.rglob("*.tmp"))
    monkeypatch.setattr(store, "write_parquet", real)
    code, err = _small_sweep(out, capsys, "--resume")
    assert code == 0, err
    assert "already done" in err
