"""``geogame validate`` and ``geogame calibrate``.

Bad input raises :class:`model.InputError` before any run (the CLI turns it into one line and
exit code 2). ``validate`` exits 1 when a required target fails, so it can gate CI.
"""
from __future__ import annotations

import argparse
import os
import sys
import textwrap
import warnings
from pathlib import Path


def add_parser(sub) -> None:
    """Register ``geogame validate`` and ``geogame calibrate`` on the subcommand parsers ``sub``."""
    p = sub.add_parser(
        "validate", help="run the hindcast and the baseline over seeds and compare with observed data",
        description="Run the hindcast (2021Q4-2025Q4) and the baseline (from December 2025) over N seeds, "
                    "compare each with the project's validation data (model/data/validation_targets.csv) "
                    "and write validation.csv, one PNG per series and a self-contained validation.html. "
                    "The hindcast's quarterly path is also compared with model/data/quarterly_targets.csv "
                    "(quarterly.csv, quarterly_fit.csv, one quarterly_<series>.png per series), and the "
                    "baseline's 2026 with what was observed (model/data/outofsample_2026.csv; "
                    "outofsample_2026.csv; reported, never gating). "
                    "Exit code 1 if a required target fails.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent("""\
            Examples:
              geogame validate --out reports/validation
              geogame validate --out reports/v --seeds 50 --set world.crude_share_adjustment=0.5"""))
    p.add_argument("--out", required=True, help="folder for the report (created if missing)")
    p.add_argument("--seeds", type=int, default=20, help="replicates per scenario (default: 20)")
    p.add_argument("--seed", type=int, default=1, help="first seed; seeds are SEED..SEED+N-1 (default: 1)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting in both scenarios (repeatable; see geogame params)")
    p.add_argument("--targets", help="targets CSV (default: the project's model/data/validation_targets.csv)")
    p.add_argument("--quarterly", metavar="CSV",
                   help="quarterly targets CSV (default: the project's model/data/quarterly_targets.csv)")
    p.add_argument("--no-quarterly", action="store_true", help="skip the quarter-by-quarter comparison")
    p.add_argument("--outofsample", metavar="CSV",
                   help="observed 2026 figures to set beside the baseline "
                        "(default: the project's model/data/outofsample_2026.csv)")
    p.add_argument("--no-outofsample", action="store_true", help="skip the out-of-sample comparison (2026 so far)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser(
        "calibrate", help="fit behavioural settings to the hindcast targets and write a scenario file",
        description="Fit behavioural settings to the hindcast targets (bounded Nelder-Mead, the same seeds at "
                    "every evaluation), report the fit, each parameter's loss slice and rough interval, warn "
                    "when a parameter is not identified, and write the hindcast scenario with the fitted values.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent("""\
            Examples:
              geogame calibrate --params world.crude_discount_sensitivity,world.crude_share_adjustment
              geogame calibrate --params world.relationship_build --seeds 5 --maxiter 40 --out fitted.toml"""))
    p.add_argument("--params", required=True, help="comma-separated behavioural settings to fit")
    p.add_argument("--seeds", type=int, default=3, help="seeds in the objective (default: 3)")
    p.add_argument("--seed", type=int, default=1, help="first seed (default: 1)")
    p.add_argument("--maxiter", type=int, default=60, help="optimiser iterations (default: 60)")
    p.add_argument("--scan", type=int, default=16,
                   help="quasi-random points tried over the bounds before Nelder-Mead (default: 16)")
    p.add_argument("--profile-points", type=int, default=9, help="grid points of each loss slice (default: 9)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="fixed override on top of the hindcast (repeatable)")
    p.add_argument("--series", help="fit only the hindcast targets of these comma-separated metrics "
                                    "(default: every hindcast target)")
    p.add_argument("--out", default="fitted.toml", help="scenario file to write (default: fitted.toml)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_calibrate)


def cmd_validate(args) -> int:
    """Run ``geogame validate``; 1 if a required target fails, else 0."""
    from .validate import validate

    from geogame.model import InputError
    if args.no_quarterly and args.quarterly:
        raise InputError("--quarterly and --no-quarterly exclude each other; allowed: one or the other")
    if args.no_outofsample and args.outofsample:
        raise InputError("--outofsample and --no-outofsample exclude each other; allowed: one or the other")
    result = validate(args.out, seeds=args.seeds, first_seed=args.seed, overrides=args.overrides,
                      targets_path=args.targets, progress=not args.quiet, quarterly_path=args.quarterly,
                      quarterly=not args.no_quarterly, outofsample_path=args.outofsample,
                      outofsample=not args.no_outofsample)
    print(result.summary() + f"; report {Path(args.out) / 'validation.html'}")
    return 0 if result.ok else 1


def _check_int(name: str, value: int, low: int, high: int) -> None:
    from geogame.model import InputError
    if not low <= value <= high:
        raise InputError(f"{name} = {value} is not allowed; allowed whole numbers {low} to {high}")


def cmd_calibrate(args) -> int:
    """Run ``geogame calibrate``: fit the named settings to the hindcast and print the fit."""
    from geogame.model import InputError, normalise_overrides

    from .calibrate import NotIdentifiedWarning, check_params, fit, hindcast_targets, write_fitted_scenario
    from .validate import load_targets

    keys = check_params([k.strip() for k in args.params.split(",") if k.strip()])
    _check_int("--seeds", args.seeds, 1, 200)
    _check_int("--seed", args.seed, 0, 2**31 - 1)
    _check_int("--maxiter", args.maxiter, 1, 10000)
    _check_int("--profile-points", args.profile_points, 0, 200)
    _check_int("--scan", args.scan, 0, 4096)
    overrides = normalise_overrides(args.overrides)
    clash = [k for k in keys if k in overrides]
    if clash:
        raise InputError(f"--set {clash[0]} fixes a parameter that --params fits; allowed: one or the other")
    out = Path(args.out)
    if out.suffix != ".toml":
        raise InputError(f"--out {args.out!r} must end in .toml")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise InputError(f"--out {args.out!r}: folder {str(folder)!r} does not exist or is not writable")

    series = [x.strip() for x in args.series.split(",") if x.strip()] if args.series else None
    targets = hindcast_targets(load_targets(), series)
    seeds = list(range(args.seed, args.seed + args.seeds))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NotIdentifiedWarning)
        result = fit(keys, targets=targets, seeds=seeds, maxiter=args.maxiter, overrides=overrides,
                     profile_points=args.profile_points, scan=args.scan, progress=not args.quiet)
    print(result.report())
    for w in caught:
        if issubclass(w.category, NotIdentifiedWarning):
            print(f"warning: {w.message}", file=sys.stderr)
    write_fitted_scenario(out, result)
    fitted = ", ".join(f"{k} = {v:.4g}" for k, v in result.fitted.items())
    print(f"calibrate: loss {result.loss_before:.3f} -> {result.loss_after:.3f}; {fitted}; wrote {out}")
    return 0
