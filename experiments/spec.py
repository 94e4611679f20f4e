"""Experiments as files: a sweep written as a TOML spec (``geogame sweep --spec study.toml``).

The keys are the long options of ``geogame sweep`` (``connect-timeout`` or ``connect_timeout``);
options given on the command line win over the file. Example::

    # study.toml: how does India's Russian-crude share depend on the US oil penalty and the EU cap?
    scenario = "baseline"
    quarters = 20
    replicates = 50
    seed = 1
    out = "results/penalty_x_cap"
    levers = ["usa.oil_penalty_tariff_on_ind"]

    [grid]                               # a list, or "start:stop:step" (stop included)
    "usa.oil_penalty_tariff_on_ind" = [0, 0.25, 0.5]
    "eu.price_cap_usd" = "40:60:5"

    [set]                                # settings fixed for every run
    "usa.base_tariff_on_ind" = 0.1

    [rule]
    usa = "scripted"

Setting names hold dots: quote them, or write them as nested tables (``[grid.eu]`` then
``price_cap_usd = [40, 60]``); both are read as ``eu.price_cap_usd``. ``[range]`` takes
``KEY = [LOW, HIGH]`` or ``"LOW:HIGH"`` with ``sample = "lhs:N"``. Relative paths (``out``, a
scenario file) are relative to the current folder, as on the command line.

Anything wrong in the file is one line naming the file, the key, the value and what is allowed
(exit 2), before anything runs.
"""
from __future__ import annotations

import difflib
import math
import tomllib
from pathlib import Path

from geogame.model import InputError, show_value

#: Keys of a sweep spec -> (argparse destination, what is allowed).
SWEEP_KEYS = {
    "scenario": ("scenario", "a preset name or a scenario file path (text)"),
    "quarters": ("quarters", "a whole number of quarters >= 1"),
    "grid": ("grid", "a table of SETTING = [values] or \"start:stop:step\""),
    "range": ("ranges", "a table of SETTING = [low, high] or \"low:high\""),
    "sample": ("sample", "\"lhs:N\" or \"random:N\""),
    "replicates": ("replicates", "a whole number >= 1"),
    "seed": ("seed", "a whole number >= 0"),
    "set": ("overrides", "a table of SETTING = number"),
    "rule": ("rules", "a table of COUNTRY = \"ai\", \"best\" or \"scripted\""),
    "backend": ("backend", "\"processes\", \"serial\" or \"dask\""),
    "workers": ("workers", "a whole number >= 1"),
    "scheduler": ("scheduler", "a Dask scheduler address such as \"tcp://host:8786\""),
    "connect-timeout": ("connect_timeout", "seconds, a number > 0"),
    "out": ("out", "a folder path (text)"),
    "decisions": ("decisions", "true or false"),
    "levers": ("levers", "a list of swept settings, or \"KEY,KEY\""),
    "chunk-size": ("chunk_size", "a whole number from 1 to 100000"),
    "compact-every": ("compact_every", "a whole number >= 0"),
    "quiet": ("quiet", "true or false"),
}


def _fail(path, key: str, value, allowed: str, why: str = "is not allowed") -> InputError:
    return InputError(f"--spec {show_value(str(path))}: {key} = {show_value(_short(value))} {why}; allowed: {allowed}")


def _short(value):
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _flatten(table: dict, prefix: str = "") -> dict:
    """``{"eu": {"price_cap_usd": v}} -> {"eu.price_cap_usd": v}`` (TOML reads dotted keys as tables)."""
    out = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _number_text(value) -> str:
    return repr(float(value)) if not isinstance(value, bool) else str(value)


def read_toml(path) -> dict:
    """Read a TOML file into a dict; a missing, unreadable or malformed file is one line."""
    shown = show_value(str(path))
    p = Path(path)
    if not p.is_file():
        what = "is a folder" if p.is_dir() else "does not exist"
        raise InputError(f"--spec {shown} {what}; allowed: a TOML file (see geogame sweep --help)")
    try:
        with p.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise InputError(f"--spec {shown} cannot be read ({exc.strerror}); allowed: a readable TOML file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"--spec {shown} is not valid TOML ({str(exc).splitlines()[0][:120]})") from None


def load_sweep_spec(path) -> dict:
    """Read a sweep spec and return argparse-style values: ``{dest: value}``, each checked for its kind.

    ``grid`` and ``range`` come back as lists of ``"KEY=VALUES"`` strings, ``set`` and ``rule`` as
    lists of ``"KEY=VALUE"``, so the command line's own parsers check their content.

    Raises
    ------
    InputError
        One line naming the file, the key, the value and what is allowed.
    """
    data = read_toml(path)
    out = {}
    for raw_key, value in data.items():
        key = raw_key.replace("_", "-")
        if key not in SWEEP_KEYS:
            close = difflib.get_close_matches(key, list(SWEEP_KEYS), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise InputError(f"--spec {show_value(str(path))}: key {show_value(raw_key)} is not known{hint}; "
                             f"allowed: {', '.join(SWEEP_KEYS)}")
        dest, allowed = SWEEP_KEYS[key]
        out[dest] = _check(path, raw_key, key, value, allowed)
    return out


def _check(path, raw_key: str, key: str, value, allowed: str):
    """One key's value, checked for its kind and turned into what argparse would give."""
    if key in ("quarters", "replicates", "seed", "workers", "chunk-size", "compact-every"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(path, raw_key, value, allowed)
        return value
    if key == "connect-timeout":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise _fail(path, raw_key, value, allowed)
        return float(value)
    if key in ("decisions", "quiet"):
        if not isinstance(value, bool):
            raise _fail(path, raw_key, value, allowed)
        return value
    if key in ("scenario", "sample", "backend", "scheduler", "out"):
        if not isinstance(value, str) or not value.strip():
            raise _fail(path, raw_key, value, allowed)
        return value
    if key == "levers":
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _fail(path, raw_key, value, allowed)
        return list(value)
    if not isinstance(value, dict):
        raise _fail(path, raw_key, value, allowed, "is not a table")
    items = _flatten(value)
    if not items:
        raise _fail(path, raw_key, value, allowed, "is empty")
    out = []
    for name, item in items.items():
        where = f"{raw_key}.{name}" if "." not in name else f"{raw_key}.\"{name}\""
        if key == "grid":
            if isinstance(item, str):
                out.append(f"{name}={item}")
            elif isinstance(item, list) and item and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                        for v in item):
                out.append(f"{name}={','.join(_number_text(v) for v in item)}")
            else:
                raise _fail(path, where, item, "a non-empty list of numbers, or \"start:stop:step\"")
        elif key == "range":
            if isinstance(item, str):
                out.append(f"{name}={item}")
            elif isinstance(item, list) and len(item) == 2 and all(isinstance(v, (int, float))
                                                                   and not isinstance(v, bool) for v in item):
                out.append(f"{name}={_number_text(item[0])}:{_number_text(item[1])}")
            else:
                raise _fail(path, where, item, "[low, high] (two numbers), or \"low:high\"")
        elif key == "set":
            if isinstance(item, bool) or not isinstance(item, (int, float, str)):
                raise _fail(path, where, item, "a number")
            out.append(f"{name}={item}")
        else:  # rule
            if not isinstance(item, str):
                raise _fail(path, where, item, "\"ai\", \"best\" or \"scripted\"")
            out.append(f"{name}={item}")
    return out


# ------------------------------------------------------------- any command: sensitivity, discover, robustness
def add_spec_option(parser, required: dict[str, str]) -> None:
    """Give ``parser`` a ``--spec FILE.toml`` option; ``required`` (dest -> option as shown) are then checked
    by :func:`apply_spec` after the file is read, instead of by argparse."""
    parser.add_argument("--spec", metavar="FILE.toml",
                        help="read the options from a TOML file whose keys are these options' names "
                             "(range and set as tables); options given here win")
    parser.set_defaults(_spec_parser=parser, _spec_required=required)


def _spec_actions(parser) -> dict:
    """Spec key -> argparse action: every long option (without the dashes) and every positional."""
    out = {}
    for action in parser._actions:  # argparse keeps no public list of a parser's options
        if action.dest in ("help", "spec", "_spec_parser", "_spec_required"):
            continue
        longs = [o[2:] for o in action.option_strings if o.startswith("--")]
        for name in longs or ([action.dest] if not action.option_strings else []):
            out[name] = action
    return out


def _as_strings(path, key: str, value) -> list[str]:
    """A repeatable option's values: a list of texts or numbers, or a table of ``KEY = value`` read as
    ``KEY=value`` (``[low, high]`` as ``low:high``, another list as ``a,b``)."""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return [str(value)]
    if isinstance(value, list) and value and all(isinstance(v, (str, int, float)) and not isinstance(v, bool)
                                                 for v in value):
        return [str(v) for v in value]
    if isinstance(value, dict) and value:
        out = []
        for name, item in _flatten(value).items():
            if isinstance(item, list) and len(item) == 2 and key == "range":
                out.append(f"{name}={_number_text(item[0])}:{_number_text(item[1])}")
            elif isinstance(item, list) and item and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                         for v in item):
                out.append(f"{name}={','.join(_number_text(v) for v in item)}")
            elif isinstance(item, (str, int, float)) and not isinstance(item, bool):
                out.append(f"{name}={item}")
            else:
                raise _fail(path, f"{key}.\"{name}\"", item, "a number, a text, or a list of numbers")
        return out
    raise _fail(path, key, value, "a text, a list of texts, or a table of KEY = value")


def apply_spec(args) -> None:
    """Fill the options of ``args`` left at their defaults from ``args.spec`` (if given), then check
    the required ones. The spec's keys are the command's long options (``samples``, ``peel-alpha``) and
    positionals (``dir``); options given on the command line win.

    Raises
    ------
    InputError
        One line naming the file, the key, the value and what is allowed; or a required option
        given nowhere.
    """
    import argparse

    parser = getattr(args, "_spec_parser", None)
    if parser is None:
        return
    if getattr(args, "spec", None):
        path = args.spec
        actions = _spec_actions(parser)
        for raw_key, value in read_toml(path).items():
            key = raw_key.replace("_", "-")
            action = actions.get(key) or actions.get(raw_key)
            if action is None:
                close = difflib.get_close_matches(key, list(actions), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                raise InputError(f"--spec {show_value(str(path))}: key {show_value(raw_key)} is not known{hint}; "
                                 f"allowed: {', '.join(actions)}")
            current = getattr(args, action.dest, None)
            if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
                if not isinstance(value, bool):
                    raise _fail(path, raw_key, value, "true or false")
                if value and current == parser.get_default(action.dest):
                    setattr(args, action.dest, action.const)
                continue
            if isinstance(action, argparse._AppendAction):
                if not current:
                    setattr(args, action.dest, _as_strings(path, key, value))
                continue
            if current != parser.get_default(action.dest):
                continue  # given on the command line
            setattr(args, action.dest, _converted(path, raw_key, action, value))
    missing = [shown for dest, shown in args._spec_required.items() if getattr(args, dest, None) in (None, [])]
    if missing:
        raise InputError(f"{missing[0]} is required (on the command line, or as a key in --spec FILE.toml)")


def _converted(path, key: str, action, value):
    """A spec value as argparse would have given it for ``action`` (its type and choices checked)."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value) and value:
        value = ",".join(value)  # a list of names, as the option's comma-separated text
    if isinstance(value, bool) or isinstance(value, (dict, list)):
        raise _fail(path, key, value, _allowed(action))
    if action.type is int and not isinstance(value, int):
        raise _fail(path, key, value, "a whole number")
    if action.type is float and not isinstance(value, (int, float)):
        raise _fail(path, key, value, "a number")
    if action.type is None and not isinstance(value, str):
        raise _fail(path, key, value, "a text")
    if action.type not in (None, int, float):
        value = action.type(str(value))  # the option's own parser (its error names the option)
    elif action.type is float:
        value = float(value)
    if action.choices is not None and value not in action.choices:
        raise _fail(path, key, value, ", ".join(map(str, action.choices)))
    return value


def _allowed(action) -> str:
    if action.choices is not None:
        return ", ".join(map(str, action.choices))
    return {int: "a whole number", float: "a number"}.get(action.type, "a text")
