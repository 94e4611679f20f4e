"""``geogame report``: fan charts and heat maps from a finished sweep (see :mod:`experiments.report`).
"""
from __future__ import annotations

import argparse
import sys
import textwrap


def add_parser(sub) -> None:
    """Register ``geogame report``."""
    p = sub.add_parser(
        "report", help="fan charts and heat maps (PNG and one HTML page) from a finished sweep",
        description="For each metric: fan charts by quarter, one panel per design point, the same fan as the "
                    "app's (the median of the seeds and the band of 10-90% of seeds: the seed spread); designs "
                    "with more than --max-points points get one panel that shows the design spread (5-95% of the "
                    "points' medians) apart from the seed spread (the typical band of 10-90% of seeds at one "
                    "point). Heat maps of the last quarter's median over two grid settings. Axes carry the "
                    "metrics' and settings' units. "
                    "Writes PNG files and a self-contained report.html (images embedded) into DIR/report (or --out).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent("""\
            Examples:
              geogame report results/penalty_x_cap
              geogame report results/penalty_x_cap --metric crude_share_ind_from_rus --metric tariff_usa_on_ind"""))
    p.add_argument("dir", metavar="DIR", help="a sweep's folder (from geogame sweep --out)")
    p.add_argument("--metric", action="append", default=[], help="only these metrics (repeatable; default: all)")
    p.add_argument("--out", help="folder for the report (default: DIR/report)")
    p.add_argument("--max-points", type=int, default=12,
                   help="fan-chart panels per metric; larger designs get one panel with the design and seed "
                        "spreads apart (default: 12)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    """Write the report; print where."""
    from .report import make_report

    page = make_report(args.dir, metrics=args.metric or None, out=args.out, max_points=args.max_points)
    if not args.quiet:
        print(f"wrote {page}", file=sys.stderr)
    return 0
