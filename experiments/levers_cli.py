"""``geogame levers``: check that every lever moves the world in its documented direction.

Runs the lever-response table (:data:`geogame.model.LEVER_RESPONSES`) under the settings given
with ``--set`` (a modeller's changed assumption), prints one line per lever with the measured
change, and exits 1 if any lever no longer moves its outcome as documented.
"""
from __future__ import annotations

import argparse
import textwrap


def add_parser(sub) -> None:
    """Register the ``levers`` subcommand."""
    p = sub.add_parser(
        "levers", help="check that every lever moves its outcome in the documented direction",
        description="Run the lever-response table: for each policy lever, two runs from December 2025 with "
                    "every country scripted and no events (observed policies, then the lever changed), "
                    "compared after the row's quarters. Exit code 1 if a lever does not move its outcome "
                    "in the documented direction by at least 0.5% of its level.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent("""\
            Examples:
              geogame levers
              geogame levers --set world.crude_discount_sensitivity=0.2
              geogame levers --only eu.price_cap_usd"""))
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="a setting applied to both arms of every row (repeatable; see geogame params)")
    p.add_argument("--only", metavar="SETTING", help="check only the rows of this lever")
    p.set_defaults(func=cmd_levers)


def cmd_levers(args) -> int:
    """Run the table and print it; 0 if every lever acts as documented, else 1."""
    from geogame.model import LEVER_RESPONSES, InputError, check_settings, measure_lever_table, normalise_overrides

    overrides = normalise_overrides(args.overrides)
    rows = [r for r in LEVER_RESPONSES if args.only in (None, r.setting)]
    if not rows:
        names = sorted({r.setting for r in LEVER_RESPONSES})
        raise InputError(f"--only {args.only!r} is not a lever in the table; allowed: {', '.join(names)}")
    for row in rows:  # a lever fixed by --set could not be changed by its own row
        if row.setting in overrides:
            raise InputError(f"--set {row.setting} is a lever of the table; leave it out or use --only for another lever")
    check_settings("baseline", overrides)  # settings that cannot start a run fail here, before any output
    failed = 0
    print(f"{'lever':34} {'to':>7}  {'outcome':34} {'expected':8} {'before':>9} {'after':>9}  result")
    for row, (before, after) in zip(rows, measure_lever_table(rows, overrides=overrides)):  # one ensemble
        ok = row.sign * (after - before) > max(0.005 * abs(before), 0.002)
        failed += not ok
        print(f"{row.setting:34} {row.value:>7g}  {row.outcome:34} {'up' if row.sign > 0 else 'down':8} "
              f"{before:>9.4g} {after:>9.4g}  {'ok' if ok else 'FAILS'}")
    print(f"{len(rows) - failed} of {len(rows)} levers act as documented")
    return 1 if failed else 0
