"""``geogame scenarios``, ``geogame params`` and ``geogame run``."""
from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from geogame.model import COUNTRIES

from .output import check_output_paths, write_tables


def add_parser(sub) -> None:
    """Add the ``scenarios``, ``params`` and ``run`` commands to the ``geogame`` sub-parsers ``sub``."""
    p = sub.add_parser("scenarios", help="list the preset scenarios with one line of story each",
                       description="List the preset scenarios. Use --show NAME for the whole story.")
    p.add_argument("--show", metavar="NAME", help="print one scenario's title, story and events")
    p.set_defaults(func=cmd_scenarios)

    p = sub.add_parser("params", help="list every setting: value, range, unit, kind and source",
                       description="List the settings a scenario, --set, a slider or a sweep can change.")
    p.add_argument("--owner", choices=[*COUNTRIES, "world"], help="only this owner's settings")
    p.add_argument("--out", help="write the table to a .csv or .parquet file instead of printing it")
    p.set_defaults(func=cmd_params)

    p = sub.add_parser(
        "run", help="run one scenario and write the quarterly table (and the decisions)",
        description="Run a scenario and write its quarterly metrics. The decisions table (every move "
                    "with its reason) goes next to it as <name>_decisions.<ext> unless --decisions names a file.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent("""\
            Examples:
              geogame run --scenario baseline --quarters 20 --seed 1 --out run.csv
              geogame run --scenario my_class.toml --decisions decisions.csv
              geogame run --set usa.oil_penalty_tariff_on_ind=0 --set eu.price_cap_usd=40 --out x.parquet"""))
    p.add_argument("--scenario", default="baseline",
                   help="a preset name, or a file given by a path with '/' or ending in .toml "
                        "(./baseline is the file, baseline the preset) (default: baseline)")
    p.add_argument("--quarters", type=int, default=None, help="quarters to run (default: the scenario's)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting, e.g. usa.oil_penalty_tariff_on_ind=0 (repeatable; see geogame params)")
    p.add_argument("--rule", dest="rules", action="append", default=[], metavar="COUNTRY=RULE",
                   help="how a country decides: ai (quantal response), best (best response) or scripted (repeatable)")
    p.add_argument("--out", default="run.csv", help="quarterly table, .csv or .parquet (default: run.csv)")
    p.add_argument("--decisions", help="decisions table, .csv or .parquet (default: next to --out)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(func=cmd_run)


def cmd_scenarios(args) -> int:
    """``geogame scenarios``: list the presets (or ``--show`` one's story and events); exit code 0."""
    from geogame.model import list_scenarios, load_scenario
    from geogame.model import quarter_label

    if args.show:
        s = load_scenario(args.show)
        print(f"{s.name}: {s.title}\n\n{s.story}\n\nStarts {s.start_label}, {s.quarters} quarters by default.")
        for e in s.events:
            print(f"  {quarter_label(e.quarter)}  {e.note}")
        return 0
    for s in list_scenarios():
        print(f"{s.name:16s} {s.title}")
    return 0


def cmd_params(args) -> int:
    """``geogame params``: the settings (value, range, unit, kind, source), printed or written to
    ``--out``; exit code."""
    import pandas as pd
    from geogame.model import SETTINGS

    rows = [{"key": s.key, "default": s.default, "low": s.low, "high": s.high, "unit": s.unit,
             "kind": s.kind, "source": s.source, "description": s.description}
            for s in SETTINGS.values() if args.owner is None or s.owner == args.owner]
    table = pd.DataFrame(rows)
    if args.out:
        check_output_paths({"--out": args.out})
        write_tables([(table, args.out)])
        return 0
    for r in rows:
        print(f"{r['key']:38s} {r['default']:>8g}  [{r['low']:g}, {r['high']:g}] {r['unit']}  ({r['kind']})")
    return 0


def _parse_rules(items: list[str]) -> dict[str, str]:
    from geogame.model import InputError

    from geogame.model import show_value

    rules = {}
    for item in items:
        country, sep, rule = item.partition("=")
        if not sep:
            raise InputError(f"--rule {show_value(item)} is not of the form COUNTRY=RULE (for example usa=scripted)")
        if rule not in ("ai", "best", "scripted"):
            raise InputError(f"--rule {show_value(item)}: rule {show_value(rule)} is not allowed; "
                             "allowed: ai, best, scripted")
        if country in rules:
            raise InputError(f"--rule {show_value(country)} is given twice ({rules[country]} and {rule}); "
                             "allowed: each country once")
        rules[country] = rule
    return rules


def parse_overrides(items: list[str], option: str = "--set") -> dict[str, float]:
    """Validate ``--set KEY=VALUE`` items; a key given twice is refused, not silently replaced.

    Raises
    ------
    InputError
        One line naming the key and both values, or the bad item.
    """
    from geogame.model import InputError, parse_assignment
    from geogame.model import show_value

    out: dict[str, float] = {}
    raw: dict[str, str] = {}
    for item in items:
        key, value = parse_assignment(item)
        if key in out:
            raise InputError(f"{option} {show_value(key, quote=False)} is given twice ({raw[key]} and "
                             f"{item.partition('=')[2].strip()}); allowed: each setting once")
        out[key], raw[key] = value, show_value(item.partition("=")[2].strip(), quote=False, limit=30)
    return out


def scenario_source(name: str) -> str:
    """How ``--scenario NAME`` was read, for the summary line: ``preset`` or ``file PATH``."""
    from geogame.model import is_file_name

    if is_file_name(name):
        return f"file {name}"
    try:
        shadow = Path(name).exists()
    except (OSError, ValueError):
        shadow = False
    return f"preset; the file ./{name} in this folder is not read" if shadow else "preset"


def decisions_path_for(out: str) -> str:
    """The default decisions file next to ``out``: ``run.csv`` -> ``run_decisions.csv``."""
    path = Path(out)
    if not path.name:
        return str(out)
    return str(path.with_name(f"{path.stem}_decisions{path.suffix}"))


def cmd_run(args) -> int:
    """``geogame run``: validate the scenario, settings, rules and output paths, run, and write the
    quarterly and decisions tables; exit code."""
    from geogame.model import GeopoliticsModel, InputError, load_scenario

    # Validate everything before any work starts.
    scenario = load_scenario(args.scenario)
    overrides = parse_overrides(args.overrides)
    rules = _parse_rules(args.rules)
    quarters = scenario.quarters if args.quarters is None else args.quarters
    scenario.check_run_length(quarters)
    if args.seed < 0:
        raise InputError(f"--seed = {args.seed} is not allowed; allowed whole numbers >= 0")
    decisions_out = args.decisions or decisions_path_for(args.out)
    check_output_paths({"--out": args.out, "--decisions" if args.decisions else
                        "the decisions file (default next to --out)": decisions_out})

    model = GeopoliticsModel(scenario=scenario, seed=args.seed, overrides=overrides, rules=rules)
    model.run(quarters)
    metrics = model.metrics_frame()
    write_tables([(metrics, args.out), (model.decisions_frame(), decisions_out)])
    if not args.quiet:
        last = metrics.iloc[-1]
        print(f"{scenario.name} ({scenario_source(args.scenario)}): {metrics.quarter.iloc[0]}..{last.quarter}, "
              f"seed {args.seed}: "
              f"India's Russian crude share {metrics.crude_share_ind_from_rus.iloc[0]:.0%} -> "
              f"{last.crude_share_ind_from_rus:.0%}; US tariff on India {last.tariff_usa_on_ind:.0%}; "
              f"India-Russia trade ${last.trade_ind_rus_usd_bn:.0f}bn", file=sys.stderr)
        print(f"wrote {args.out} ({len(metrics)} quarters) and {decisions_out}", file=sys.stderr)
    return 0
