"""Dependencies point one way, and this test keeps them so (docs/architecture.md).

The layers, bottom up: the economics (the world's state and its quarter, with no players and no
Mesa), the players (``geogame.agents``: one declaration file per player, and Mesa agents deciding
on top of the economics), the Mesa wiring (``geogame.model.model``, and the ensemble engine
``geogame.model.ensemble``: the only bridges between the two), and the users of the public API:
the experiments and the app (``geogame.experiments``, ``geogame.viz``). The package root
``geogame`` installs the declared players (their settings, instruments and roles) before anything
else, so it may import the player registry ``geogame.agents.players``.

Every import statement of the package is read from the source (``ast``), including imports hidden
inside functions, so an import moved into a function to dodge a cycle still counts. Where today's
code breaks a rule, the break is listed in :data:`ALLOWED` with the reason and the way out; the
list can only shrink (an entry that no longer matches a break fails the test too). A second set
of tests imports every module on its own in a fresh interpreter.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: The economics: the world, its quarter, its settings and calibration (no players, no Mesa).
ECONOMICS = tuple(f"geogame.model.{m}" for m in (
    "economics", "step_kernel", "crude_kernel", "world", "nodes", "parameters", "calibration",
    "instruments", "alignment", "calendar", "outcomes", "layout"))
#: The Mesa wiring: the only module that joins the players to the economics.
WIRING = "geogame.model.model"
#: Modules that may wire the players to the economics: the Mesa model and the ensemble engine.
WIRINGS = (WIRING, "geogame.model.ensemble")
#: The player registry: the package root imports it to install the declared players.
REGISTRY = "geogame.agents.players"
#: What importing the economics may load of the players: the registry and the declarations it
#: installs (the package root imports them first), never the Mesa agents, menus or utilities.
DECLARATIONS = (REGISTRY, "geogame.agents.menu")
#: The public API that viz/ and experiments/ may import (package-level names only).
PUBLIC = ("geogame", "geogame.model", "geogame.experiments")
#: Only the players (Mesa agents) and the wiring (the Mesa model) may import Mesa.
MESA_USERS_PREFIX = ("geogame.agents", *WIRINGS)

#: Known breaks of the rules, (rule, importer, imported) -> why it is there and how it goes away.
#: Shrink this list; never grow it without saying why in the reason.
ALLOWED: dict[tuple[str, str, str], str] = {}


@dataclass(frozen=True)
class Import:
    """One imported module, as written in the source of ``importer``."""

    importer: str
    imported: str
    line: int
    in_function: bool


def package_dirs() -> dict[str, Path]:
    """Import package -> folder, from pyproject.toml's ``package-dir`` (the source of truth)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {name: ROOT / folder for name, folder in config["tool"]["setuptools"]["package-dir"].items()}


def modules() -> dict[str, Path]:
    """Every module of the package, subpackages included: dotted name -> file."""
    found = {}
    for package, folder in package_dirs().items():
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder).with_suffix("").parts
            if any(not (folder.joinpath(*parts[:k]) / "__init__.py").is_file() for k in range(1, len(parts))):
                continue  # a folder that is not a subpackage
            dotted = ".".join((package, *parts))
            found[dotted.removesuffix(".__init__")] = path
    return found


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module a ``from ... import`` reads from."""
    if not node.level:
        return node.module or ""
    base = importer if is_package else importer.rsplit(".", 1)[0]
    for _ in range(node.level - 1):
        base = base.rsplit(".", 1)[0]
    return f"{base}.{node.module}" if node.module else base


def imports_of(name: str, path: Path, known: set[str]) -> list[Import]:
    """Every module ``name`` imports, anywhere in its source (module level or inside functions).

    ``from pkg import sub`` counts as importing the module ``pkg.sub`` when that is a module of
    the package, else as importing ``pkg``.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend(Import(name, alias.name, child.lineno, in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                source = _resolve(name, path.stem == "__init__", child)
                for alias in child.names:
                    target = f"{source}.{alias.name}"
                    found.append(Import(name, target if target in known else source, child.lineno, in_function))
            visit(child, inner)

    visit(tree, False)
    return found


def all_imports() -> list[Import]:
    """Every import of every module of the package."""
    mods = modules()
    return [imp for name, path in mods.items() for imp in imports_of(name, path, set(mods))]


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def violations(imports: list[Import]) -> dict[tuple[str, str, str], Import]:
    """Every break of the dependency rules: (rule, importer, imported) -> the import."""
    broken: dict[tuple[str, str, str], Import] = {}

    def flag(rule: str, imp: Import) -> None:
        broken.setdefault((rule, imp.importer, imp.imported), imp)

    for imp in imports:
        src, dst = imp.importer, imp.imported
        if src == "geogame" and dst == REGISTRY:
            continue  # the package root installs the declared players (module docstring)
        # 1. The economics imports neither the players, nor the Mesa wiring, nor Mesa, nor Solara.
        if src in ECONOMICS and any(_within(dst, p) for p in ("geogame.agents", WIRING, "mesa", "solara",
                                                               "geogame.viz", "geogame.experiments")):
            flag("economics", imp)
        # 2. The players import no app, no experiments, no Solara and not the wiring that drives them.
        if _within(src, "geogame.agents") and any(_within(dst, p) for p in ("geogame.viz", "geogame.experiments",
                                                                            "solara", *WIRINGS)):
            flag("agents", imp)
        # 3. Outside the players themselves, only the Mesa wiring (or the ensemble engine) imports them.
        if _within(dst, "geogame.agents") and not _within(src, "geogame.agents") and src not in WIRINGS:
            flag("wiring", imp)
        # 4. Only the players and the wiring use Mesa; nothing in model/ or agents/ uses Solara.
        if _within(dst, "mesa") and not any(_within(src, p) for p in MESA_USERS_PREFIX) \
                and not _within(src, "geogame.viz"):
            flag("mesa", imp)
        if _within(dst, "solara") and (_within(src, "geogame.model") or _within(src, "geogame.agents")):
            flag("solara", imp)
        # 5. The app and the experiments use the public API, and their own modules.
        for layer in ("geogame.viz", "geogame.experiments"):
            if _within(src, layer) and _within(dst, "geogame") and not _within(dst, layer) and dst not in PUBLIC:
                flag("public-api", imp)
    return broken


def test_the_source_is_read_whole():
    """The reader finds what matters: relative imports, imports inside functions, every layer."""
    mods = modules()
    assert {"geogame", "geogame.model", WIRING, "geogame.agents.moves", "geogame.viz.app",
            "geogame.experiments.runner"} <= set(mods)
    assert set(ECONOMICS) <= set(mods), f"economics modules missing: {set(ECONOMICS) - set(mods)}"
    found = {(i.importer, i.imported): i for i in all_imports()}
    assert (WIRING, "geogame.agents.country") in found
    assert (WIRING, "mesa") in found
    assert ("geogame", REGISTRY) in found
    assert "geogame.agents.players.ind" in mods, "the player files (a subpackage) are read too"
    # levers.measure imports the Mesa model inside the function: still counted.
    hidden = found[("geogame.model.levers", WIRING)]
    assert hidden.in_function


def test_dependencies_point_one_way():
    """Every break of the rules is a listed, explained exception; and every exception still exists."""
    broken = violations(all_imports())
    new = {key: imp for key, imp in broken.items() if key not in ALLOWED}
    gone = [key for key in ALLOWED if key not in broken]
    lines = [f"  [{rule}] {src} imports {dst} (line {imp.line}{', inside a function' if imp.in_function else ''})"
             for (rule, src, dst), imp in sorted(new.items())]
    assert not new, "imports against the layering (docs/architecture.md):\n" + "\n".join(lines)
    assert not gone, f"these allowed exceptions are fixed: remove them from ALLOWED: {gone}"


@pytest.mark.parametrize("source, rule", [
    ("import mesa\n", "economics"),
    ("from geogame.agents.moves import Move\n", "economics"),
    ("def f():\n    from geogame.agents import utility\n", "economics"),
    ("def f():\n    from .model import GeopoliticsModel\n", "economics"),
])
def test_a_forbidden_import_in_the_economics_is_caught(source, rule, tmp_path):
    path = tmp_path / "world.py"
    path.write_text(source)
    found = imports_of("geogame.model.world", path, set(modules()))
    assert (rule, "geogame.model.world") in {key[:2] for key in violations(found)}


@pytest.mark.parametrize("importer, source, rule", [
    ("geogame.agents.moves", "import solara\n", "agents"),
    ("geogame.agents.moves", "from geogame.experiments import sweep\n", "agents"),
    ("geogame.viz.app", "from geogame.agents.moves import Move\n", "wiring"),
    ("geogame.viz.app", "from geogame.model.economics import metrics\n", "public-api"),
    ("geogame.experiments.report", "from geogame.model import outcomes\n", "public-api"),
    ("geogame.experiments.report", "from geogame.viz import charts\n", "public-api"),
    ("geogame.model.scenarios", "import mesa\n", "mesa"),
])
def test_other_forbidden_imports_are_caught(importer, source, rule, tmp_path):
    path = tmp_path / "m.py"
    path.write_text(source)
    assert rule in {key[0] for key in violations(imports_of(importer, path, set(modules())))}


def test_the_public_api_is_allowed():
    path = ROOT / "experiments" / "sensitivity.py"
    assert not violations(imports_of("geogame.experiments.sensitivity", path, set(modules())))


# ------------------------------------------------------------------ fresh interpreters
#: Run in a fresh interpreter: imports each module given on stdin in a forked child of a parent
#: that has imported nothing of geogame, and prints what each child then holds.
_PROBE = r"""
import json, os, sys
import numpy, scipy.special, pandas  # heavy and innocent: loaded once, before forking
names = json.loads(sys.stdin.read())
for name in names:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            import importlib
            importlib.import_module(name)
            loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("geogame", "mesa", "solara"))
            out = {"name": name, "ok": True, "loaded": loaded}
        except BaseException as exc:
            out = {"name": name, "ok": False, "error": f"{type(exc).__name__}: {exc}"}
        os.write(w, json.dumps(out).encode())
        os.close(w)
        os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    print(data.decode(), flush=True)
"""


@pytest.fixture(scope="module")
def fresh_imports() -> dict[str, dict]:
    """Each module imported on its own in a clean interpreter: name -> {ok, loaded | error}."""
    names = sorted(modules())
    done = subprocess.run([sys.executable, "-c", _PROBE], input=json.dumps(names), capture_output=True,
                          text=True, cwd="/", timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    results = {r["name"]: r for r in map(json.loads, done.stdout.splitlines())}
    assert set(results) == set(names)
    return results


def test_every_module_imports_on_its_own(fresh_imports):
    failed = {n: r["error"] for n, r in fresh_imports.items() if not r["ok"]}
    assert not failed, "modules that fail to import alone in a fresh interpreter:\n" + \
        "\n".join(f"  {n}: {e}" for n, e in failed.items())


def test_the_economics_loads_no_players_and_no_mesa(fresh_imports):
    """Importing an economics module (or the package ``geogame``) loads no Mesa, no Mesa agents,
    no menus gathered for play and no utilities: only the player declarations that the package
    root installs (their settings, instruments and roles)."""
    for name in (*ECONOMICS, "geogame", "geogame.model"):
        loaded = fresh_imports[name]["loaded"]
        bad = [m for m in loaded if (_within(m, "geogame.agents") and m != "geogame.agents"  # the package itself
                                     and not any(_within(m, d) for d in DECLARATIONS))
               or any(_within(m, w) for w in WIRINGS) or m.split(".")[0] in ("mesa", "solara")]
        assert not bad, f"import {name} loads {bad}"


def test_the_players_load_no_app_and_no_experiments(fresh_imports):
    for name in (n for n in fresh_imports if _within(n, "geogame.agents")):
        loaded = fresh_imports[name]["loaded"]
        bad = [m for m in loaded if _within(m, "geogame.viz") or _within(m, "geogame.experiments")
               or _within(m, WIRING) or m.split(".")[0] == "solara"]
        assert not bad, f"import {name} loads {bad}"


def test_the_public_api_still_offers_the_model():
    done = subprocess.run([sys.executable, "-c", "import geogame, sys; assert 'mesa' not in sys.modules; "
                           "m = geogame.GeopoliticsModel; from geogame.model import HumanMoveMissing; "
                           "print(m.__module__, 'mesa' in sys.modules)"],
                          capture_output=True, text=True, cwd="/", timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == [WIRING, "True"]


# ------------------------------------------------------------------ cycles
#: Import cycles of today's code (imports inside functions count: they are how these cycles are
#: dodged at import time). Each is a set of modules that import one another -> why, and the way out.
ALLOWED_CYCLES: dict[frozenset, str] = {}


def import_cycles(imports: list[Import]) -> list[frozenset]:
    """Strongly connected components of more than one module in the package's import graph."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if imp.imported.startswith("geogame") and imp.imported != imp.importer:
            graph.setdefault(imp.importer, set()).add(imp.imported)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset] = []

    def connect(v: str) -> None:  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


def test_no_new_import_cycles():
    cycles = set(import_cycles(all_imports()))
    new = [sorted(c) for c in cycles if c not in ALLOWED_CYCLES]
    gone = [sorted(c) for c in ALLOWED_CYCLES if c not in cycles]
    assert not new, f"new import cycles (imports inside functions count): {new}"
    assert not gone, f"these allowed cycles are gone or changed: update ALLOWED_CYCLES: {gone}"


def test_a_cycle_hidden_in_a_function_is_found():
    imports = [Import("geogame.model.a", "geogame.model.b", 1, False),
               Import("geogame.model.b", "geogame.model.c", 1, False),
               Import("geogame.model.c", "geogame.model.a", 9, True)]
    assert import_cycles(imports) == [frozenset({"geogame.model.a", "geogame.model.b", "geogame.model.c"})]


# ------------------------------------------------------------------ the project stands alone
#: Public functions, classes and methods without a docstring, across the package, scripts/ and
#: benchmarks/: none (issue 9). A new public function or class needs its docstring.
MAX_MISSING_DOCSTRINGS = 0


def missing_docstrings() -> list[str]:
    """``path:line name`` of every public module, function, class or method without a docstring.

    Public: a name not starting with ``_``; methods (properties included) count inside public classes.
    """
    files = [path for path in modules().values()]
    files += sorted((ROOT / "scripts").glob("*.py")) + sorted((ROOT / "benchmarks").glob("*.py"))
    missing = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        where = path.relative_to(ROOT)
        if ast.get_docstring(tree) is None:
            missing.append(f"{where}:1 (module)")
        for node in tree.body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or node.name.startswith("_"):
                continue
            if ast.get_docstring(node) is None:
                missing.append(f"{where}:{node.lineno} {node.name}")
            if isinstance(node, ast.ClassDef):
                missing += [f"{where}:{sub.lineno} {node.name}.{sub.name}" for sub in node.body
                            if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef))
                            and not sub.name.startswith("_") and ast.get_docstring(sub) is None]
    return missing


def test_public_code_has_docstrings():
    missing = missing_docstrings()
    assert len(missing) <= MAX_MISSING_DOCSTRINGS, (
        f"{len(missing)} public functions/classes without a docstring (allowed {MAX_MISSING_DOCSTRINGS}; "
        "NumPy style):\n" + "\n".join(f"  {m}" for m in missing))


def test_a_missing_docstring_is_counted(tmp_path, monkeypatch):
    path = tmp_path / "x.py"
    path.write_text('"""Module."""\ndef f():\n    pass\nclass C:\n    """C."""\n    @property\n    def p(self):\n'
                    '        return 1\n    def _private(self):\n        pass\ndef _g():\n    pass\n')
    monkeypatch.setattr(sys.modules[__name__], "modules", lambda: {"geogame.x": path})
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert missing_docstrings() == ["x.py:2 f", "x.py:7 C.p"]


#: Text that points outside the repository: the design notes and data this project started from.
OUTSIDE = ("MODEL_NOTES", "STACK_NOTES", "STYLE_ANCHORS", "../shared", "shared/data")
#: Files that still cite something outside the repository -> what the citation stood for. Shrink it.
ALLOWED_OUTSIDE: dict[str, str] = {}


def project_text_files() -> list[Path]:
    """Tracked and new (not ignored) text files of the repository."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    suffixes = {".py", ".md", ".toml", ".csv", ".txt", ".sh", ".cfg", ".ini", ".yml", ".yaml", ""}
    return [ROOT / name for name in listed
            if Path(name).suffix in suffixes and (ROOT / name).is_file() and name != "tests/test_architecture.py"]


def test_nothing_cites_a_file_outside_the_repository():
    citing = {}
    for path in project_text_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        found = [word for word in OUTSIDE if word in text]
        if found:
            citing[str(path.relative_to(ROOT))] = found
    new = {name: words for name, words in citing.items() if name not in ALLOWED_OUTSIDE}
    gone = [name for name in ALLOWED_OUTSIDE if name not in citing]
    assert not new, f"files citing something outside the repository (cite the real source): {new}"
    assert not gone, f"these files no longer cite outside the repository: remove them from ALLOWED_OUTSIDE: {gone}"
