"""Fuzzing scenario files (issue 14): every case of the issue, then generated TOML documents.

A scenario file that fails to load is one line (an ``InputError``) naming the field, the value
and what is allowed, through ``load_scenario``, ``GeopoliticsModel(scenario=path)`` and
``geogame run --scenario path`` alike; never a TypeError, OverflowError or RecursionError. A file
that loads is written back by ``GeopoliticsModel.scenario_toml()`` as TOML that loads to the
same scenario, whatever characters its strings hold. A preset is named by its bare name, a file
by a path with ``/`` or ending in ``.toml``; a file in the working folder never stands in for
a preset.
"""
from __future__ import annotations

import collections
import string
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geogame.model import SETTINGS, GeopoliticsModel, InputError, load_scenario
from geogame.model.instruments import INSTRUMENTS
from geogame.model.scenarios import RULES, parse_scenario
from test_fuzz_cli import (FUZZ_SETTINGS, LONG_SETTINGS, assert_refused, assert_sound_metrics, inside, listing,
                           long_run, names_a_setting, print_counts, run_cli)

#: Examples per test in the default (CI) run and in the long run (``-m fuzz``).
DEFAULT_EXAMPLES = {"generated_files": 120, "story_round_trip": 60, "mutated_presets": 80}
LONG_EXAMPLES = {"generated_files": 3000, "story_round_trip": 2000, "mutated_presets": 2000}
#: Examples each test actually tried in this session (printed at the end).
EXAMPLES_TRIED: collections.Counter = collections.Counter()


@pytest.fixture(scope="module", autouse=True)
def report_counts(request):
    """Print how many examples each test of this module tried (the lead quotes these counts)."""
    yield
    print_counts(request.config, __name__, EXAMPLES_TRIED)


# ------------------------------------------------------------------------------ TOML writer
def toml_string(text: str) -> str:
    """A TOML basic string, written independently of the model's writer (escape all non-printables)."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif char.isprintable() and char not in "\x7f":
            out.append(char)
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        text = repr(value)
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(text, text)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def toml_document(doc: dict) -> str:
    """A whole scenario document: top-level values inline, events as an array of inline tables."""
    return "".join(f"{toml_string(k)} = {toml_value(v)}\n" for k, v in doc.items())


# ------------------------------------------------------------------- the cases of the issue
BIG = "9" * 400
ISSUE_CASES = [
    ("base = []", ["base", "[]", "allowed"]),
    ("base = {a = 1}", ["base", "{'a': 1}", "allowed"]),
    ("base = 7", ["base", "7", "allowed"]),
    (f"[settings]\neu.price_cap_usd = {BIG}", ["eu.price_cap_usd", "(400 digits)", "allowed"]),
    (f"[settings]\neu.price_cap_usd = -{BIG}", ["eu.price_cap_usd", "(400 digits)", "allowed"]),
    (f"[[events]]\nquarter = '2026Q2'\nset = {{ 'eu.product_ban' = {BIG} }}", ["eu.product_ban", "(400 digits)", "allowed"]),
    (f"quarters = {BIG}", ["quarters", "(400 digits)", "allowed"]),
    ("x = " + "[" * 5000 + "]" * 5000, ["nested too deeply", "allowed"]),
    ("settings = " + "{a = " * 5000 + "1" + "}" * 5000, ["nested too deeply", "allowed"]),
    ("[[events]]\nquarter = '2026Q2'\nset = " + "{a = " * 5000 + "1" + "}" * 5000, ["nested too deeply", "allowed"]),
    ("[settings]\nusa = " + "{a = " * 50 + "1" + "}" * 50, ["[settings]", "nested", "allowed"]),
    ("[settings]\neu.price_cap_usd = true", ["eu.price_cap_usd", "true", "not a number", "allowed"]),
    ("[settings]\nusa.lookahead_quarters = false", ["usa.lookahead_quarters", "false", "allowed"]),
    ("[[events]]\nquarter = '2026Q2'\nset = { 'eu.product_ban' = true }", ["eu.product_ban", "true", "allowed"]),
    ("quarters = true", ["quarters", "true", "allowed"]),
    ("quarters = 4.0", ["quarters", "4.0", "allowed"]),
    ("title = 3", ["title", "3", "allowed"]),
    ("story = ['a']", ["story", "['a']", "allowed"]),
    ("[settings]\neu.price_cap_usd = 1979-05-27", ["eu.price_cap_usd", "1979", "allowed"]),
    ("[settings]\neu.price_cap_usd = nan", ["eu.price_cap_usd", "nan", "allowed"]),
    ("[settings]\neu.price_cap_usd = -inf", ["eu.price_cap_usd", "-inf", "allowed"]),
    ("[settings]\neu.price_cap_usd = [1]", ["eu.price_cap_usd", "[1]", "allowed"]),
    ("settings = 3", ["settings = 3", "allowed: a [settings] table"]),
    ("[rules]\nusa = 1", ["usa", "1", "allowed"]),
    ("[rules]\nusa = ['ai']", ["usa", "['ai']", "allowed"]),
    ("events = 5", ["events = 5", "allowed", "[[events]]"]),
    ("events = [1]", ["event 1", "allowed: a table"]),
    ("[[events]]\nquarter = 2026\nset = { 'eu.product_ban' = 1 }", ["quarter", "2026", "allowed"]),
    ("[[events]]\nquarter = '2026Q2'\nset = 1", ["event 1", "'set' = 1", "allowed"]),
    ("[[events]]\nquarter = '2026Q2'\nset = {}", ["event 1", "'set' = {}", "allowed"]),
    ("[[events]]\nquarter = '2026Q2'\nset = { '_' = {} }", ["event 1", "'_'", "allowed"]),
    ("[settings]\nusa = {}", ["usa", "allowed"]),
    ("[[events]]\nquarter = '2026Q2'\nnote = 5\nset = { 'eu.product_ban' = 1 }", ["note", "5", "allowed"]),
    ("[[events]]\nquarter = '2026Q2'\nsource = {a = 1}\nset = { 'eu.product_ban' = 1 }", ["source", "allowed"]),
    ("brent_path = 1", ["brent_path", "1", "allowed"]),
    ("brent_path = {a = []}", ["brent_path", "allowed"]),
    ("title = 'x'\nquarters = [", ["not valid TOML"]),
    ("story = \"a\u007fb\"", ["not valid TOML"]),  # a raw DEL is not allowed in a TOML string
]


@pytest.mark.parametrize("text, must_name", ISSUE_CASES, ids=[f"case{i}" for i in range(len(ISSUE_CASES))])
def test_each_case_of_the_issue_is_one_line_everywhere(tmp_path, capsys, text, must_name):
    path = tmp_path / "class.toml"
    path.write_text(text, encoding="utf-8")
    for load in (load_scenario, lambda p: GeopoliticsModel(scenario=p, seed=1), lambda p: parse_scenario(text)):
        with pytest.raises(InputError) as caught:
            load(str(path))
        message = str(caught.value)
        assert len(message.splitlines()) == 1 and len(message) < 1000, message
        for part in must_name:
            assert part.lower() in message.lower(), (part, message)
    with inside(tmp_path):
        before = listing(tmp_path)
        code, _, err = run_cli(["run", "--scenario", "class.toml", "--quarters", "1"], capsys)
        assert_refused(code, err, tmp_path, before, must_name)


def test_not_utf8_and_too_large_files_are_refused(tmp_path):
    (tmp_path / "latin.toml").write_bytes(b"title = '\xe9t\xe9'\n")
    with pytest.raises(InputError, match="is not UTF-8 text"):
        load_scenario(tmp_path / "latin.toml")
    (tmp_path / "huge.toml").write_text("# " + "x" * 1_100_000 + "\n")
    with pytest.raises(InputError, match=r"1,100,003 bytes; allowed: up to 1,000,000 bytes"):
        load_scenario(str(tmp_path / "huge.toml"))


# ------------------------------------------------------------ presets and files: one rule
def test_a_file_named_like_a_preset_never_shadows_it(tmp_path, capsys):
    """``baseline`` is the preset even with a file ``baseline`` here; ``./baseline`` is the file."""
    (tmp_path / "baseline").write_text('title = "Not the preset"\nquarters = 3\n[settings]\neu.price_cap_usd = 10\n')
    with inside(tmp_path):
        assert load_scenario("baseline").title != "Not the preset"
        assert load_scenario("./baseline").title == "Not the preset"
        assert GeopoliticsModel("baseline", seed=1).scenario_def.path is None
        code, _, err = run_cli(["run", "--scenario", "baseline", "--quarters", "2", "--out", "p.csv"], capsys)
        assert code == 0, err
        assert "baseline (preset; the file ./baseline in this folder is not read)" in err
        preset = pd.read_csv("p.csv")
        assert preset.price_cap_usd.iloc[0] == SETTINGS["eu.price_cap_usd"].default
        code, _, err = run_cli(["run", "--scenario", "./baseline", "--out", "f.csv"], capsys)
        assert code == 0, err
        assert "(file ./baseline)" in err
        from_file = pd.read_csv("f.csv")
        assert len(from_file) == 4 and from_file.price_cap_usd.iloc[0] == 10
        # a bare name that is no preset, but a file here: refused, with the way to use the file
        Path("myclass").write_text('title = "mine"\n')
        code, _, err = run_cli(["run", "--scenario", "myclass", "--quarters", "1"], capsys)
        assert code == 2 and "unknown scenario 'myclass'" in err and "give it as ./myclass" in err


# ------------------------------------------------------------------ generated documents
text_values = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
numbers = st.one_of(st.integers(), st.integers(min_value=10**18, max_value=10**500), st.floats(),
                    st.booleans())
scalars = st.one_of(numbers, text_values, st.just("2026Q2"), st.just("history"))
nested = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(string.ascii_lowercase, min_size=1,
                                                                               max_size=5), inner, max_size=3)),
                      max_leaves=8)
setting_keys = st.one_of(st.sampled_from(sorted(SETTINGS)), st.text(string.ascii_lowercase + "._", min_size=1,
                                                                    max_size=20))
instrument_keys = st.one_of(st.sampled_from(sorted(INSTRUMENTS)), setting_keys)


@st.composite
def setting_value(draw, key, valid: bool):
    spec = SETTINGS.get(key)
    if spec is not None and (valid or draw(st.booleans())):
        value = draw(st.floats(spec.low, spec.high))
        return float(round(value)) if spec.integer else value
    return draw(nested)


@st.composite
def scenario_documents(draw):
    """A scenario document: half of them valid in every field (they load and must round-trip),
    the others with any field's value valid or not, and sometimes an unknown field."""
    valid = draw(st.booleans())

    def pick(good, bad=nested):
        return draw(good if valid else st.one_of(good, bad))

    doc = {}
    if draw(st.booleans()):
        doc["title"] = pick(text_values)
    if draw(st.booleans()):
        doc["story"] = pick(text_values)
    if draw(st.booleans()):
        doc["base"] = pick(st.sampled_from(["dec2025", "prewar2021"]))
    doc["quarters"] = pick(st.integers(12, 200))  # covers the events below
    if draw(st.booleans()):
        keys = draw(st.lists(st.sampled_from(sorted(SETTINGS)) if valid else setting_keys, max_size=4, unique=True))
        doc["settings"] = {k: draw(setting_value(k, valid)) for k in keys}
    if draw(st.booleans()):
        doc["rules"] = draw(st.dictionaries(st.sampled_from(["usa", "rus", "ind", "eu"] + ([] if valid else ["xx"])),
                                            st.sampled_from(RULES) if valid
                                            else st.one_of(st.sampled_from(RULES), nested), max_size=3))
    if draw(st.booleans()):
        events = []
        for _ in range(draw(st.integers(0, 3))):
            event = {"quarter": pick(st.sampled_from(["2026Q1", "2026Q3", "2027Q4"]),
                                     st.one_of(st.just("2021Q1"), nested))}
            keys = draw(st.lists(st.sampled_from(sorted(INSTRUMENTS)) if valid else instrument_keys,
                                 min_size=1 if valid else 0, max_size=3, unique=True))
            event["set"] = {k: draw(setting_value(k, valid)) for k in keys}
            if draw(st.booleans()):
                event["note"] = pick(text_values)
            events.append(event)
        doc["events"] = events
    if draw(st.booleans()) and not valid:
        doc["brent_path"] = draw(st.one_of(st.just("history"), nested))
    if not valid and draw(st.integers(0, 9)) == 0:
        doc[draw(st.text(string.ascii_lowercase, min_size=1, max_size=8))] = draw(nested)
    return doc


def check_file(path: Path, capsys, folder: Path, counter: str) -> None:
    """Load ``path`` every way a user can; refusals are one line, loads round-trip and run."""
    try:
        scenario = load_scenario(str(path))
    except InputError as exc:
        EXAMPLES_TRIED[counter + " (refused)"] += 1
        message = str(exc)
        assert len(message.splitlines()) == 1 and len(message) < 800, message
        assert any(hint in message for hint in ("allowed", "did you mean", "not valid TOML")), message
        with pytest.raises(InputError, match="^" + __import__("re").escape(message) + "$"):
            GeopoliticsModel(scenario=str(path), seed=1)
        return
    try:
        model = GeopoliticsModel(scenario=scenario, seed=1)
    except InputError as exc:  # settings valid one by one that together cannot start a run
        EXAMPLES_TRIED[counter + " (loaded, refused by the model)"] += 1
        assert len(str(exc).splitlines()) == 1 and names_a_setting(str(exc)), str(exc)
        with inside(folder):
            before = listing(folder)
            code, _, err = run_cli(["run", "--scenario", str(path), "--quarters", "1"], capsys)
            assert_refused(code, err, folder, before)
        return
    EXAMPLES_TRIED[counter + " (loaded)"] += 1
    again = parse_scenario(model.scenario_toml(), name=scenario.name)
    assert (again.title, again.story, again.base, again.quarters, again.settings, again.events, again.brent_path) \
        == (scenario.title, scenario.story, scenario.base, scenario.quarters, scenario.settings, scenario.events,
            scenario.brent_path)
    assert again.rules == {c: r for c, r in scenario.rules.items() if r != "ai"}  # "ai" is the default
    with inside(folder):
        before = listing(folder)
        code, _, err = run_cli(["run", "--scenario", str(path), "--quarters", "1", "--quiet", "--out", "r.csv"],
                               capsys)
        if code == 2:
            assert_refused(code, err, folder, before)
            assert any(hint in err for hint in ("allowed", "did you mean", "not valid TOML")), err
        else:
            assert code == 0, err
            assert_sound_metrics(pd.read_csv(folder / "r.csv"), str(path))
            for name in ("r.csv", "r_decisions.csv"):
                (folder / name).unlink()


def _generated(doc, capsys, tmp_path, counter):
    EXAMPLES_TRIED[counter] += 1
    path = tmp_path / "generated.toml"
    path.write_text(toml_document(doc), encoding="utf-8")
    check_file(path, capsys, tmp_path, counter)


@settings(max_examples=DEFAULT_EXAMPLES["generated_files"], **FUZZ_SETTINGS)
@given(doc=scenario_documents())
def test_generated_scenario_files_load_or_are_refused_in_one_line(doc, capsys, tmp_path):
    _generated(doc, capsys, tmp_path, "generated_files")


@pytest.mark.fuzz
@settings(max_examples=LONG_EXAMPLES["generated_files"], **LONG_SETTINGS)
@given(doc=scenario_documents())
def test_long_generated_scenario_files(request, doc, capsys, tmp_path):
    long_run(request)
    _generated(doc, capsys, tmp_path, "generated_files_long")


PRESET_TEXTS = {p.stem: p.read_text(encoding="utf-8")
                for p in sorted((Path(__file__).resolve().parents[1] / "model" / "scenarios").glob("*.toml"))}


@st.composite
def mutated_presets(draw):
    """A preset's text with a few characters deleted, replaced or inserted (often not TOML any more)."""
    text = draw(st.sampled_from(sorted(PRESET_TEXTS.values())))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["delete", "insert", "replace"]))
        piece = draw(st.one_of(st.sampled_from(list("[]{}=\"'.\n#,0-9") + ["true", "1e999", BIG, "\x7f", "\x00"]),
                               st.text(max_size=3)))
        if kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 20)):]
        elif kind == "insert":
            text = text[:at] + piece + text[at:]
        else:
            text = text[:at] + piece + text[at + len(piece):]
    return text


def _mutated(text, capsys, tmp_path, counter):
    EXAMPLES_TRIED[counter] += 1
    path = tmp_path / "mutated.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    check_file(path, capsys, tmp_path, counter)


@settings(max_examples=DEFAULT_EXAMPLES["mutated_presets"], **FUZZ_SETTINGS)
@given(text=mutated_presets())
def test_mutated_presets_load_or_are_refused_in_one_line(text, capsys, tmp_path):
    _mutated(text, capsys, tmp_path, "mutated_presets")


@pytest.mark.fuzz
@settings(max_examples=LONG_EXAMPLES["mutated_presets"], **LONG_SETTINGS)
@given(text=mutated_presets())
def test_long_mutated_presets(request, text, capsys, tmp_path):
    long_run(request)
    _mutated(text, capsys, tmp_path, "mutated_presets_long")


# -------------------------------------------------------------- stories round-trip exactly
def _story_round_trip(title, story, note, tmp_path, counter):
    EXAMPLES_TRIED[counter] += 1
    path = tmp_path / "story.toml"
    path.write_text(f"title = {toml_string(title)}\nstory = {toml_string(story)}\nquarters = 4\n"
                    f"[[events]]\nquarter = \"2026Q2\"\nnote = {toml_string(note)}\nset = {{ \"eu.product_ban\" = 1 }}\n",
                    encoding="utf-8")
    scenario = load_scenario(path)
    assert scenario.title == title and scenario.story == story.strip() and scenario.events[0].note == note
    model = GeopoliticsModel(scenario=str(path), seed=1, overrides={"eu.price_cap_usd": 55.5})
    again = parse_scenario(model.scenario_toml())
    assert (again.title, again.story, again.events) == (scenario.title, scenario.story, scenario.events)
    assert again.settings == {**scenario.settings, "eu.price_cap_usd": 55.5}


any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=60)
control_text = st.text(st.sampled_from(["\x7f", "\x00", "\x1b", "\t", "\n", "\r", "\x08", "\x0c", '"', "\\", "'",
                                        "\u2028", "\ufeff", "a", " ", "é", "\U0001F600"]), max_size=30)


@settings(max_examples=DEFAULT_EXAMPLES["story_round_trip"], **FUZZ_SETTINGS)
@given(title=st.one_of(control_text, any_text), story=st.one_of(control_text, any_text),
       note=st.one_of(control_text, any_text))
def test_every_loadable_story_round_trips_through_scenario_toml(title, story, note, tmp_path):
    _story_round_trip(title, story, note, tmp_path, "story_round_trip")


@pytest.mark.fuzz
@settings(max_examples=LONG_EXAMPLES["story_round_trip"], **LONG_SETTINGS)
@given(title=st.one_of(control_text, any_text), story=st.one_of(control_text, any_text),
       note=st.one_of(control_text, any_text))
def test_long_story_round_trip(request, title, story, note, tmp_path):
    long_run(request)
    _story_round_trip(title, story, note, tmp_path, "story_round_trip_long")


def test_a_story_with_del_and_control_characters_round_trips(tmp_path):
    """The issue's case: DEL in a story loaded, but json.dumps wrote it back as TOML that did not load."""
    path = tmp_path / "del.toml"
    path.write_text('title = "t\\u007f"\nstory = "before\\u007fafter \\u0001 \\u001b[31m red \\\\ \\" end"\n')
    model = GeopoliticsModel(scenario=str(path), seed=1)
    assert "\x7f" in model.scenario_def.story
    written = model.scenario_toml()
    assert "\x7f" not in written and "\\u007F" in written
    again = parse_scenario(written)
    assert again.story == model.scenario_def.story and again.title == "t\x7f"
