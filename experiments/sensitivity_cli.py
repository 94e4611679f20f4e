"""``geogame sensitivity``: replicated, convergence-checked global sensitivity analysis (SALib).
"""
from __future__ import annotations

import argparse
import sys
import textwrap

from .sensitivity import GIVEN_DATA_METHODS, METHODS, SAMPLING_METHODS


def _methods(text: str) -> list[str]:
    return [m.strip() for m in text.split(",") if m.strip()]


def add_parser(sub) -> None:
    """Register ``geogame sensitivity``."""
    from .spec import add_spec_option
    from .sweep_cli import _common_run_options

    p = sub.add_parser(
        "sensitivity", help="global sensitivity of metrics to settings (SALib: Sobol, Morris, FAST, "
                            "RBD-FAST, delta, PAWN), replicated and convergence-checked",
        description="Global sensitivity analysis with SALib. Each design point runs --replicates seeds and "
                    "the indices are computed on the mean over them; the seed spread of every index and the "
                    "share of each metric's variance that is seed noise are reported beside them. The indices "
                    "are computed again at N/4 and N/2: a warning names every index that has not settled and "
                    "every S1 above ST beyond their 95% intervals. Methods: sobol (S1, ST, S2; N*(2D+2) "
                    "points), morris (mu, mu*, sigma; N*(D+1)), fast (S1, ST; N*D, N >= 65), and rbd_fast, "
                    "delta, pawn, which read any sample (a Latin hypercube of N points when no other method is "
                    "given). The metric is a column of the quarterly table at a quarter (metric@2027Q4) or its "
                    "mean over a window (metric@2026Q1:2027Q4). Writes OUT/sensitivity.csv, convergence.csv, "
                    "noise.csv, warnings.txt, sensitivity.png, convergence.png and the runs in OUT/runs.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent("""\
            Examples:
              geogame sensitivity --method sobol,pawn --samples 256 --replicates 5 \\
                  --range usa.oil_penalty_tariff_on_ind=0:0.5 --range eu.price_cap_usd=30:70 \\
                  --range ind.rationality=0.5:5 --metric crude_share_ind_from_rus@2027Q4 --out results/sobol
              geogame sensitivity --method delta,pawn,rbd_fast --samples 200 --replicates 3 --range ... \\
                  --metric trade_ind_rus_usd_bn@2026Q1:2027Q4 --out results/given
            From Python: geogame.experiments.sensitivity(methods=["sobol"], ranges={...}, metrics=[...], out=...)"""))
    p.add_argument("--method", type=_methods, default=["sobol"], metavar="METHOD[,METHOD...]",
                   help=f"one or more of {', '.join(METHODS)}; at most one of {', '.join(SAMPLING_METHODS)} "
                        f"(they draw their own sample), with any of {', '.join(GIVEN_DATA_METHODS)} "
                        "(default: sobol)")
    p.add_argument("--samples", type=int, default=64,
                   help="base sample size N (Sobol: a power of 2 is best; Morris: trajectories) (default: 64)")
    p.add_argument("--replicates", type=int, default=1,
                   help="seeds per design point; the indices use their mean (default: 1, no seed spread)")
    p.add_argument("--range", dest="ranges", action="append", default=[], metavar="KEY=LOW:HIGH",
                   help="a setting to vary and its range; at least two; repeatable")
    p.add_argument("--metric", action="append", default=[], metavar="METRIC@QUARTER[:QUARTER]",
                   help="output to analyse, e.g. crude_share_ind_from_rus@2027Q4; repeatable")
    p.add_argument("--no-second-order", action="store_true", help="Sobol: skip second-order indices (fewer runs)")
    _common_run_options(p)
    p.add_argument("--out", help="folder for the tables, charts and runs (required)")
    p.add_argument("--resume", action="store_true", help="finish the runs of an interrupted analysis in OUT")
    add_spec_option(p, {"metric": "--metric", "out": "--out"})
    p.set_defaults(func=cmd_sensitivity)


def cmd_sensitivity(args) -> int:
    """Run the analysis; print the warnings, the seed noise and a summary line."""
    from .sensitivity import IncompleteRuns, check_methods, sensitivity
    from .sweep_cli import _assignments, _rules
    from .commands import parse_overrides
    from .design import parse_range
    from .spec import apply_spec
    from .sweeps import check_connect_timeout, check_scheduler_address

    apply_spec(args)
    methods = check_methods(args.method)
    ranges = _assignments(args.ranges, parse_range, "--range")
    if args.scheduler is not None:
        check_scheduler_address(args.scheduler)
    check_connect_timeout(args.connect_timeout)
    parse_overrides(args.overrides)
    try:
        table = sensitivity(
            methods=methods, ranges=ranges, metrics=args.metric, samples=args.samples,
            replicates=args.replicates, second_order=not args.no_second_order, scenario=args.scenario,
            quarters=args.quarters, overrides=args.overrides, rules=_rules(args.rules), seed=args.seed,
            backend=args.backend, workers=args.workers, scheduler=args.scheduler, out=args.out,
            resume=args.resume, progress=not args.quiet, connect_timeout=args.connect_timeout)
    except IncompleteRuns as exc:
        print(f"geogame sensitivity: {exc}", file=sys.stderr)
        return 1
    for note in table.attrs["warnings"]:
        print(f"geogame sensitivity: warning: {note}", file=sys.stderr)
    if not args.quiet:
        print(table.attrs["summary"].line(), file=sys.stderr)
        for row in table.attrs["noise"].itertuples():
            if row.replicates > 1:
                print(f"seed noise of {row.metric}: sd {row.seed_sd:.4g} over seeds vs {row.design_sd:.4g} over the "
                      f"design ({row.seed_share:.0%} of the variance is seed noise)", file=sys.stderr)
        print(f"wrote {args.out}/sensitivity.csv ({len(table)} rows), convergence.csv, noise.csv and "
              f"sensitivity.png", file=sys.stderr)
    return 0
