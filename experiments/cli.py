"""The ``geogame`` command line.

Each subcommand lives in its own module with an ``add_parser(subparsers)`` function that
registers it and sets ``func``; this file only wires them up and turns bad input into a one-line
error with exit code 2 (nothing written). Exit codes: 0 success, 1 a run or check failed or an
output could not be written (one line naming the path; nothing partial left), 2 bad input.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

#: Modules that add subcommands, in the order ``--help`` lists them.
SUBCOMMAND_MODULES = [
    "geogame.experiments.commands",
]
OPTIONAL_SUBCOMMAND_MODULES = [
    "geogame.experiments.sweep_cli",
    "geogame.experiments.sensitivity_cli",  # geogame sensitivity: replicated, convergence-checked
    "geogame.experiments.report_cli",  # geogame report: fan charts with design and seed spread apart
    "geogame.experiments.discover_cli",  # geogame discover (PRIM, CART, feature scoring) and geogame robustness (regret, satisficing)
    "geogame.experiments.query_cli",  # geogame query: SQL over a sweep's Parquet files (DuckDB)
    "geogame.experiments.validate_cli",
    "geogame.experiments.levers_cli",
    "geogame.viz.class_cli",  # geogame class: host, list, export and replay class games (viz/classroom.py)
]


class UsageError(Exception):
    """Bad input detected by a subcommand before any work starts (exit code 2)."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse with errors on one line (exit 2) and no usage dump."""

    def error(self, message):  # one line, exit 2, as argparse does, but without the usage dump
        """Print ``prog: error: message`` and exit 2."""
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``geogame`` command line: every subcommand and its options."""
    parser = ArgumentParser(
        prog="geogame",
        description="An agent-based geopolitical game: the US, Russia, India and the EU trade, "
                    "sanction and buy oil and arms, quarter by quarter.",
        epilog="Examples:\n"
               "  geogame scenarios\n"
               "  geogame run --scenario baseline --quarters 20 --seed 1 --out run.csv\n"
               "  geogame run --scenario baseline --set usa.oil_penalty_tariff_on_ind=0 --out no_penalty.parquet\n"
               "  geogame params --owner usa",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    sub.required = True
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).add_parser(sub)
    for name in OPTIONAL_SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``geogame`` with ``argv`` (default: the command line); returns the exit code: 0 done,
    1 a failure during work, 2 bad input (one line, before work), 130 interrupted, 141 closed pipe."""
    from geogame.model import InputError

    from .output import OutputError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (InputError, UsageError) as exc:
        print(f"geogame {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OutputError as exc:
        print(f"geogame {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"geogame {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`geogame params | head`): stop quietly, as other commands do.
        # Point stdout at /dev/null so that flushing it at exit does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a command killed by a closed pipe


if __name__ == "__main__":
    sys.exit(main())
