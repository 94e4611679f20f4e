"""A player is one file: a toy fifth player needs its file, one registry line and data rows.

The fixture copies the package (``geogame/``, ``model/``, ``agents/``) to a temporary folder laid
out as the installed package, then makes exactly three kinds of change to the copy:

1. it writes ``agents/players/chn.py``, a passive China whose menu is ``hold`` and one lever, its
   tariff on US goods (moves raising and cutting it), acting through the shared tariff channel;
   China also buys Russian crude (the shared crude channel) through its data rows;
2. it adds ``"chn"`` to the one line of the registry, ``PLAYER_CODES``;
3. it appends China's rows to the base data (``model/data/*.csv``).

A fresh interpreter that sees only that copy (``python -S``, no editable install, no source tree)
then runs the model several quarters with China. The test checks that the copy differs from the
source in exactly those files, that China plays (its decisions are recorded, its alignment
columns appear), and that its lever moves the world in the documented direction: a higher
Chinese tariff on US goods lowers US exports to China and US-China affinity.
"""
from __future__ import annotations

import ast
import csv
import difflib
import filecmp
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: The toy player's file, as a person adding China would write it.
CHINA = '''"""China: a passive fifth player (a toy, for tests/test_players.py).

It buys Russian crude (its data rows) and has one lever, its tariff on US goods.
"""
from __future__ import annotations

from geogame.agents.menu import Move, above, adjust, below, hold
from geogame.model.instruments import Instrument
from geogame.model.parameters import behaviour_settings, make_setting

CODE = "chn"
LABEL = "China"
SHORT_LABEL = "China"
COLOUR = "#CC79A7"          # Okabe-Ito reddish purple
ROLES = ("crude_buyer",)
HOLD_LABEL = "keeps its tariffs as they are"

SETTINGS = (
    make_setting("chn.tariff_on_usa", 0.20, 0, 2, "fraction", "judgement",
                 "toy: about China's average retaliatory tariff on US goods in 2025",
                 "Chinese tariff on US goods"),
    *behaviour_settings(CODE, "China", "China"),
    make_setting("chn.audience_cost_usd_bn", 1.5, 0, 20, "USD bn", "judgement",
                 "Fearon 1994: backing down under public pressure is costly", "China's one-off cost of backing down"),
)

INSTRUMENTS = (Instrument("chn.tariff_on_usa", "tariff", ("chn", "usa")),)

MENU = (
    hold(CODE, HOLD_LABEL),
    Move("raise_tariff_on_usa", CODE, "tariff", "raises its tariff on US goods by 10 points",
         adjust("chn.tariff_on_usa", 0.10, 0, 2), below("chn.tariff_on_usa", 2.0), opposite="cut_tariff_on_usa"),
    Move("cut_tariff_on_usa", CODE, "tariff", "cuts its tariff on US goods by 10 points",
         adjust("chn.tariff_on_usa", -0.10, 0, 2), above("chn.tariff_on_usa", 0.0), opposite="raise_tariff_on_usa"),
)

ANTICIPATES = None


def utility_terms(world, m, s):
    """Passive: nothing besides the exports every player values."""
    return {}


def context(m, world, s):
    """What China saw last quarter."""
    return f"Context: Russia's crude revenue runs at ${m['russia_crude_revenue_usd_bn']:.0f}bn a year."
'''

#: China's data rows, by file (a header-less CSV fragment each; sources: toy figures, rounded).
CHINA_ROWS = {
    "nodes.csv": ["chn,0.05,0.08,0.20,0.3,1.5,toy: growth IMF WEO 2025 rounded; MFN-level tariff; crude as the rest"],
    "base_nodes.csv": [
        "dec2025,chn,18700.0,11.1,0.25,2.1,,,toy: GDP 2024; crude imports 11.1 mb/d; about 2.1 mb/d Russian",
        "prewar2021,chn,17700.0,11.1,0.25,1.6,,,toy: GDP 2021; about 1.6 mb/d Russian",
    ],
    "base_flows.csv": [f"{base},{i},{e},{v},,,toy: 2024 goods trade (rounded)"
                       for base in ("dec2025", "prewar2021")
                       for i, e, v in (("usa", "chn", 439.0), ("chn", "usa", 144.0), ("chn", "rus", 70.0),
                                       ("rus", "chn", 115.0), ("ind", "chn", 113.0), ("chn", "ind", 15.0),
                                       ("eu", "chn", 560.0), ("chn", "eu", 230.0), ("chn", "row", 1000.0),
                                       ("row", "chn", 2000.0))],
    "base_affinity.csv": [f"{base},{a},chn,{v},toy" for base in ("dec2025", "prewar2021")
                          for a, v in (("usa", -0.5), ("rus", 0.6), ("ind", -0.2), ("eu", -0.1))],
}

#: Runs in the copy: a baseline run with every player (China too) deciding, and two scripted
#: runs of the lever, low and high; prints what the test checks.
_RUN = r"""
import json, sys
target, site_packages = sys.argv[1], sys.argv[2]
sys.path[:0] = [target, site_packages]
import geogame
from geogame.model.model import GeopoliticsModel
assert geogame.__file__.startswith(target), geogame.__file__
out = {"countries": list(geogame.COUNTRIES), "colour": geogame.COLOURS["chn"]}
m = GeopoliticsModel("baseline", seed=1).run(6)
frame = m.metrics_frame()
out["columns"] = [c for c in frame.columns if "chn" in c]
out["decisions"] = m.decisions_frame().query("country == 'chn'").move.tolist()
out["finite"] = bool(frame.drop(columns="quarter").notna().all().all())
lay = m.structure.layout
usa, chn = lay.node("usa"), lay.node("chn")
for arm, tariff in (("low", 0.0), ("high", 1.0)):
    rules = {c: "scripted" for c in geogame.COUNTRIES}
    run = GeopoliticsModel("baseline", seed=1, rules=rules, overrides={"chn.tariff_on_usa": tariff}).run(8)
    out[arm] = {"exports_usa_to_chn": float(run.trade_matrix()[chn, usa]),
                "alignment_usa_chn": float(run.latest["alignment_usa_chn"]),
                "crude_share_chn": float(run.world.crude_share[0, lay.buyer("chn")])}
print(json.dumps(out))
"""


def _copy_package(target: Path) -> Path:
    """The package laid out as installed (``geogame/``, ``geogame/model``, ``geogame/agents``)."""
    package = target / "geogame"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "geogame", package, ignore=ignore)
    shutil.copytree(ROOT / "model", package / "model", ignore=ignore)
    shutil.copytree(ROOT / "agents", package / "agents", ignore=ignore)
    return package


def add_player(package: Path) -> None:
    """Add China the way the recipe says: its file, one registry line, its data rows."""
    (package / "agents" / "players" / "chn.py").write_text(CHINA, encoding="utf-8")
    registry = package / "agents" / "players" / "__init__.py"
    text = registry.read_text(encoding="utf-8")
    line = 'PLAYER_CODES = ("usa", "rus", "ind", "eu")'
    assert text.count(line) == 1, "the registry's one line of player codes moved"
    registry.write_text(text.replace(line, 'PLAYER_CODES = ("usa", "rus", "ind", "eu", "chn")'), encoding="utf-8")
    for name, rows in CHINA_ROWS.items():
        path = package / "model" / "data" / name
        with path.open(encoding="utf-8", newline="") as f:
            width = len(next(csv.reader(f)))
        for row in csv.reader(rows):
            assert len(row) == width, (name, row)
        with path.open("a", encoding="utf-8") as f:
            f.write("\n".join(rows) + "\n")


def _changed_files(left: Path, right: Path, prefix: str = "") -> list[str]:
    """Files that differ between two trees or exist on one side only (relative paths)."""
    cmp = filecmp.dircmp(left, right, ignore=["__pycache__"])
    out = [prefix + name for name in cmp.left_only + cmp.right_only + cmp.diff_files]
    for sub in cmp.common_dirs:
        out += _changed_files(left / sub, right / sub, f"{prefix}{sub}/")
    return sorted(out)


@pytest.fixture(scope="module")
def china_run(tmp_path_factory) -> dict:
    """The model run with China added to a copy of the package (see the module docstring)."""
    before = _copy_package(tmp_path_factory.mktemp("before"))
    target = tmp_path_factory.mktemp("with_china")
    package = _copy_package(target)
    add_player(package)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path_factory.mktemp("numba"))}
    done = subprocess.run([sys.executable, "-S", "-c", _RUN, str(target), sysconfig.get_paths()["purelib"]],
                          capture_output=True, text=True, cwd=str(target), timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads(done.stdout.splitlines()[-1])
    result["changed"] = _changed_files(before, package)
    registry = [(before / "agents/players/__init__.py"), (package / "agents/players/__init__.py")]
    result["registry_diff"] = [line for line in difflib.unified_diff(
        *(p.read_text(encoding="utf-8").splitlines() for p in registry), lineterm="", n=0)
        if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    return result


def test_adding_a_player_is_its_file_one_registry_line_and_data_rows(china_run):
    """Nothing but the player file, the registry and the data changed, and the registry by one line."""
    assert china_run["changed"] == sorted(["agents/players/chn.py", "agents/players/__init__.py",
                                           *(f"model/data/{name}" for name in CHINA_ROWS)])
    assert len([line for line in china_run["registry_diff"] if line.startswith("+")]) == 1
    assert len([line for line in china_run["registry_diff"] if line.startswith("-")]) == 1


def test_the_fifth_player_plays(china_run):
    """China is a player of the run: listed, coloured, deciding each quarter, in the alignment columns."""
    assert china_run["countries"] == ["usa", "rus", "ind", "eu", "chn"]
    assert china_run["colour"] == "#CC79A7"
    assert len(china_run["decisions"]) == 6
    assert set(china_run["decisions"]) <= {"hold", "raise_tariff_on_usa", "cut_tariff_on_usa"}
    assert china_run["columns"] == ["alignment_usa_chn", "alignment_rus_chn", "alignment_ind_chn",
                                    "alignment_eu_chn"]
    assert china_run["finite"]
    assert 0 < china_run["low"]["crude_share_chn"] < 1     # it buys Russian crude (the shared crude channel)


def test_the_fifth_player_s_lever_moves_the_world_in_its_documented_direction(china_run):
    """A higher Chinese tariff on US goods lowers US exports to China and sours US-China relations."""
    low, high = china_run["low"], china_run["high"]
    assert high["exports_usa_to_chn"] < 0.8 * low["exports_usa_to_chn"]
    assert high["alignment_usa_chn"] < low["alignment_usa_chn"]


# ------------------------------------------------------------------------- country literals
#: Country codes that may appear as string constants only in the player files and the data.
CODES = ("usa", "rus", "ind", "eu")
#: Index constants of the old layout (node, crude-buyer and arms-supplier indices): a reader
#: cannot tell ``IND`` (a node) from ``B_IND`` (a buyer); roles and the layout replace them.
INDEX_NAMES = ("USA", "RUS", "IND", "EU", "ROW", "B_USA", "B_RUS", "B_IND", "B_EU", "B_ROW",
               "A_RUS", "A_USA", "A_EU", "A_DOM")
#: Files outside the player files that still hold country literals -> why, and who removes them.
#: Shrink it; an entry that no longer has a literal fails the test.
ALLOWED_LITERALS: dict[str, str] = {}


def country_literals(path: Path) -> list[str]:
    """``line: text`` of every country-code string constant and old index name in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in CODES:
            found.append(f"{node.lineno}: {node.value!r}")
        elif isinstance(node, ast.Name) and node.id in INDEX_NAMES:
            found.append(f"{node.lineno}: {node.id}")
        elif isinstance(node, ast.alias) and (node.asname or node.name.rsplit(".", 1)[-1]) in INDEX_NAMES:
            found.append(f"{node.lineno}: import {node.name}")
        elif isinstance(node, (ast.Attribute)) and node.attr in INDEX_NAMES:
            found.append(f"{node.lineno}: .{node.attr}")
    return found


def _source_files() -> dict[str, Path]:
    """Every module of the package, and the scripts and benchmarks, by path relative to the root."""
    from test_architecture import modules

    files = list(modules().values()) + sorted((ROOT / "scripts").glob("*.py")) + sorted((ROOT / "benchmarks").glob("*.py"))
    return {str(p.relative_to(ROOT)): p for p in files}


def test_no_country_literal_outside_the_player_files():
    """Codes like "ind" and index constants like IND or B_IND live only in agents/players/ (and the
    data and scenario files, which are not code); everything else reads the layout or the registry."""
    found = {name: hits for name, path in _source_files().items()
             if not name.startswith("agents/players/") and (hits := country_literals(path))}
    new = {name: hits[:5] for name, hits in found.items() if name not in ALLOWED_LITERALS}
    gone = [name for name in ALLOWED_LITERALS if name not in found]
    assert not new, f"country literals outside the player files (read the layout or the registry): {new}"
    assert not gone, f"these files have no country literal any more: remove them from ALLOWED_LITERALS: {gone}"


@pytest.mark.parametrize("source", ['x = "ind"\n', "from geogame.model.nodes import B_IND\n", "y = w[:, IND]\n",
                                    "z = nodes.USA\n", 'f = {"eu": 1}\n'])
def test_a_country_literal_is_caught(source, tmp_path):
    path = tmp_path / "m.py"
    path.write_text(source)
    assert country_literals(path)


def test_a_setting_key_or_outcome_name_is_not_a_literal(tmp_path):
    path = tmp_path / "m.py"
    path.write_text('k = "usa.base_tariff_on_ind"\nc = "crude_share_ind_from_rus"\n"""Docs about ind."""\n')
    assert not country_literals(path)


# ------------------------------------------------------------------------------- the registry
def test_each_player_declares_everything_its_file_should():
    """Every installed player file declares the attributes the recipe lists, its settings are its
    own, its instruments are settings, and its menu starts with ``hold``."""
    import geogame
    from geogame.model import SETTINGS

    for player in geogame.PLAYERS:
        for name in ("CODE", "LABEL", "SHORT_LABEL", "COLOUR", "ROLES", "HOLD_LABEL", "SETTINGS", "INSTRUMENTS",
                     "MENU", "ANTICIPATES", "utility_terms", "context"):
            assert hasattr(player, name), f"{player.__name__} declares no {name}"
        assert all(s.owner == player.CODE and s.key in SETTINGS for s in player.SETTINGS)
        assert all(i.key in SETTINGS and i.key.startswith(player.CODE + ".") for i in player.INSTRUMENTS)
        assert player.MENU[0].name == "hold" and player.MENU[0].label == player.HOLD_LABEL
        assert all(m.country == player.CODE for m in player.MENU)
        assert player.COLOUR.upper() in {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
                                         "#CC79A7", "#000000"}, "colours from the Okabe-Ito palette"
    assert len({p.COLOUR for p in geogame.PLAYERS}) == len(geogame.PLAYERS)


def test_an_unknown_country_gets_no_other_country_s_sentence_or_utility():
    from geogame.agents.utility import utility_terms
    from geogame.model import GeopoliticsModel

    m = GeopoliticsModel("baseline", seed=1)
    assert m._context("ind").startswith("Context: Russia supplies")
    with pytest.raises(ValueError, match="unknown country 'chn'"):
        m._context("chn")
    with pytest.raises(ValueError, match="unknown country 'chn'"):
        utility_terms("chn", m.world, {}, m.structure)
