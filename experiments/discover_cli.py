"""``geogame discover`` and ``geogame robustness``: scenario discovery and robustness on a sweep's folder."""
from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path


def add_parser(sub) -> None:
    """Register ``geogame discover`` and ``geogame robustness``."""
    from .spec import add_spec_option

    p = sub.add_parser(
        "discover", help="under which settings does a condition hold? PRIM or CART and feature scoring "
                         "(EMA Workbench) on a sweep's results",
        description="Scenario discovery on a finished sweep: the inputs are the swept settings (one row per "
                    "run), the output is a condition on a metric at one quarter (default: the last). PRIM "
                    "writes its peeling trajectory (coverage, density, mass, restricted settings of every "
                    "box), the chosen box's limits and a plot; --method cart writes a classification tree's "
                    "leaves instead; --features scores each setting (extra trees). --levers marks settings a "
                    "government chooses; the others are uncertainties. Writes into DIR/discovery (or --out).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent("""\
            Examples:
              geogame discover results/lhs --where "crude_share_ind_from_rus < 0.10" --quarter 2027Q4
              geogame discover results/lhs --where "crude_share_ind_from_rus < 0.10" --method cart --features
              geogame discover results/lhs --where "russia_crude_revenue_usd_bn >= 150" --box 12"""))
    p.add_argument("dir", metavar="DIR", nargs="?", help="a sweep's folder (from geogame sweep --out)")
    p.add_argument("--where", metavar="CONDITION",
                   help='METRIC OP NUMBER, OP one of < <= > >= == !=, e.g. "crude_share_ind_from_rus < 0.10"')
    p.add_argument("--quarter", help="quarter at which the metric is read, e.g. 2027Q4 (default: the last)")
    p.add_argument("--method", default="prim", choices=["prim", "cart"], help="default: prim")
    p.add_argument("--features", action="store_true", help="also score each setting (extra trees)")
    p.add_argument("--levers", help="comma-separated swept settings a government chooses (labels in the output)")
    p.add_argument("--box", type=int, help="PRIM: which box of the peeling trajectory to report (default: the last)")
    p.add_argument("--peel-alpha", type=float, default=0.05, help="PRIM: share peeled at each step (default: 0.05)")
    p.add_argument("--mass-min", type=float, default=0.05, help="smallest box or leaf, share of runs (default: 0.05)")
    p.add_argument("--out", help="folder for the tables and plots (default: DIR/discovery)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    add_spec_option(p, {"dir": "DIR", "where": "--where"})
    p.set_defaults(func=cmd_discover)

    p = sub.add_parser(
        "robustness", help="rank the levers' policies by regret and satisficing across the uncertainties",
        description="Robustness on a finished sweep that ran every combination of the levers (--levers: "
                    "settings a government chooses) under the same values of the other swept settings (the "
                    "uncertainties). The outcome is a metric at one quarter (default: the last), averaged over "
                    "replicates. Policies are ranked by maximum regret (how much worse than the best policy "
                    "in each scenario, at most), with the mean regret and the share of scenarios that meet "
                    "--threshold (satisficing) beside it. Writes robustness.csv, regret.csv and "
                    "robustness.png into DIR/robustness (or --out).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent("""\
            Examples:
              geogame sweep --quarters 8 --grid usa.oil_penalty_tariff_on_ind=0,0.25,0.5 --grid eu.price_cap_usd=40,50,60 \\
                  --grid world.crude_discount_sensitivity=0.3,0.6,0.9 --replicates 5 --out results/rob
              geogame robustness results/rob --outcome russia_crude_revenue_usd_bn --minimise \\
                  --levers usa.oil_penalty_tariff_on_ind,eu.price_cap_usd --threshold 150"""))
    p.add_argument("dir", metavar="DIR", nargs="?", help="a sweep's folder (from geogame sweep --out)")
    p.add_argument("--outcome", help="metric, e.g. russia_crude_revenue_usd_bn")
    goal = p.add_mutually_exclusive_group()
    goal.add_argument("--minimise", dest="minimise", action="store_true", default=True,
                      help="lower is better (default)")
    goal.add_argument("--maximise", dest="minimise", action="store_false", help="higher is better")
    p.add_argument("--levers", help="comma-separated swept settings a government chooses (the rest are uncertainties)")
    p.add_argument("--quarter", help="quarter at which the outcome is read (default: the last)")
    p.add_argument("--threshold", type=float,
                   help="satisficing threshold in the metric's unit (default: the median over all runs)")
    p.add_argument("--out", help="folder for the tables and plot (default: DIR/robustness)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    add_spec_option(p, {"dir": "DIR", "outcome": "--outcome"})
    p.set_defaults(func=cmd_robustness)


def _out(args, default: str) -> Path:
    from geogame.model import InputError, show_value

    out = Path(args.out) if args.out else Path(args.dir) / default
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"--out {show_value(str(out))}: folder {show_value(str(parent))} does not exist")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {show_value(str(out))} is a file; allowed: a folder")
    return out


def cmd_discover(args) -> int:
    """Run PRIM or CART (and feature scoring), print the chosen box and write tables and plots."""
    from .discover import discover, write
    from .spec import apply_spec

    apply_spec(args)
    out = _out(args, "discovery")
    result = discover(args.dir, args.where, quarter=args.quarter, method=args.method, features=args.features,
                      levers=args.levers, box=args.box, peel_alpha=args.peel_alpha, mass_min=args.mass_min)
    files = write(result, out)
    if not args.quiet:
        print(result.summary())
        if result.features is not None:
            top = result.features.head(5)
            print("feature scores (condition): " + ", ".join(f"{s} {v:.2f}" for s, v in
                                                          zip(top["setting"], top["score_condition"])))
        print(f"wrote {', '.join(str(f) for f in files)}", file=sys.stderr)
    return 0


def cmd_robustness(args) -> int:
    """Rank the policies, print the ranking and write tables and the plot."""
    from .robustness import robustness, write
    from .spec import apply_spec

    apply_spec(args)
    out = _out(args, "robustness")
    result = robustness(args.dir, args.outcome, args.levers, quarter=args.quarter, minimise=args.minimise,
                        threshold=args.threshold)
    files = write(result, out)
    if not args.quiet:
        print(result.summary())
        print(f"wrote {', '.join(str(f) for f in files)}", file=sys.stderr)
    return 0
