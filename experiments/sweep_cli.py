"""``geogame sweep`` (``geogame sensitivity`` and ``geogame report`` are in ``sensitivity_cli`` and ``report_cli``)."""
from __future__ import annotations

import argparse
import sys
import textwrap


def _common_run_options(p) -> None:
    p.add_argument("--scenario", default="baseline",
                   help="a preset name, or a file given by a path with '/' or ending in .toml (default: baseline)")
    p.add_argument("--quarters", type=int, default=None, help="quarters per run (default: the scenario's)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="fix a setting for every run (repeatable; see geogame params)")
    p.add_argument("--rule", dest="rules", action="append", default=[], metavar="COUNTRY=RULE",
                   help="how a country decides in every run: ai, best or scripted (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="master seed; run seeds derive from it (default: 0)")
    p.add_argument("--backend", default="processes", choices=["serial", "processes", "dask"],
                   help="where runs execute (default: processes)")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="dask scheduler, e.g. tcp://host:8786 (default with --backend dask: a local cluster)")
    p.add_argument("--connect-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="how long to try reaching --scheduler before giving up (default: 10)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary line")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "sweep", help="run the model over a grid or sample of settings, with replicates, to Parquet",
        description="Run many simulations over a design: full grids (--grid), Latin hypercube or random "
                    "samples over ranges (--sample with --range), crossed with --replicates seeds derived "
                    "from --seed. Results stream to OUT/metrics/*.parquet as runs finish; OUT/manifest.json "
                    "records the design, the scenario file, version, times and failures. A run that raises "
                    "is recorded and the sweep goes on; --resume finishes an interrupted sweep.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent("""\
            Examples:
              geogame sweep --scenario baseline --quarters 20 \\
                  --grid usa.oil_penalty_tariff_on_ind=0,0.25,0.5 --grid eu.price_cap_usd=40:60:5 \\
                  --replicates 50 --workers 2 --out results/penalty_x_cap
              geogame sweep --quarters 20 --sample lhs:500 --range usa.base_tariff_on_ind=0:0.5 --out results/lhs
              geogame sweep ... --resume                       # after an interruption: only the missing runs
              geogame sweep ... --backend dask --scheduler tcp://host:8786
            Read the results: pandas.read_parquet("results/penalty_x_cap/metrics")"""))
    p.add_argument("--grid", action="append", default=[], metavar="KEY=VALUES",
                   help="values of a setting: a list 0,0.25,0.5 or start:stop:step (stop included); repeatable")
    p.add_argument("--range", dest="ranges", action="append", default=[], metavar="KEY=LOW:HIGH",
                   help="range of a setting for --sample; repeatable")
    p.add_argument("--sample", metavar="METHOD:N", help="lhs:N (Latin hypercube) or random:N points over the ranges")
    p.add_argument("--replicates", type=int, default=1, help="seeds per design point (default: 1)")
    _common_run_options(p)
    p.add_argument("--out", required=True, help="folder for the results (its parent must exist)")
    p.add_argument("--decisions", action="store_true", help="also keep every run's decisions (OUT/decisions)")
    p.add_argument("--resume", action="store_true", help="finish the sweep in OUT: run only missing runs")
    p.add_argument("--levers", metavar="KEY,KEY",
                   help="swept settings a government chooses (the others are uncertainties); recorded in the "
                        "manifest for geogame discover and robustness")
    p.set_defaults(func=cmd_sweep)



def _rules(items):
    from .commands import _parse_rules
    return _parse_rules(items)


def _assignments(items, parse, option):
    out = {}
    for text in items:
        key, value = parse(text)
        if key in out:
            from geogame.model import InputError
            raise InputError(f"{option} {key} is given twice; allowed: each setting once")
        out[key] = value
    return out


def _lost_worker(exc: BaseException) -> bool:
    """True for a worker process that died (killed, out of memory): a resumable interruption."""
    from concurrent.futures.process import BrokenProcessPool
    return isinstance(exc, BrokenProcessPool) or type(exc).__name__ == "KilledWorker"


def cmd_sweep(args) -> int:
    from geogame.model import InputError
    from geogame.model import show_value

    try:
        return _sweep(args)
    except InputError:
        raise
    except OSError as exc:  # a full disk or a file-size limit while writing results
        path = f" {show_value(exc.filename)}" if getattr(exc, "filename", None) else ""
        print(f"geogame sweep: error: cannot write{path} in {show_value(args.out)} ({exc.strerror or exc}); "
              "every finished run is saved (partial files removed); free space and run the same command "
              "with --resume to finish", file=sys.stderr)
        return 1
    except Exception as exc:
        if not _lost_worker(exc):
            raise
        print(f"geogame sweep: a worker process died ({type(exc).__name__}); every finished run is saved "
              f"in {args.out}; run the same command with --resume to finish", file=sys.stderr)
        return 1


def _sweep(args) -> int:
    from .design import parse_grid, parse_range
    from .sweeps import sweep_to_folder

    from .discover import check_levers
    from .store import ResultStore

    grid = _assignments(args.grid, parse_grid, "--grid")
    ranges = _assignments(args.ranges, parse_range, "--range")
    levers = check_levers(args.levers or [], [*grid, *ranges])  # before any run: each must be swept
    summary = sweep_to_folder(
        scenario=args.scenario, quarters=args.quarters, grid=grid,
        ranges=ranges, sample=args.sample, replicates=args.replicates,
        seed=args.seed, overrides=args.overrides, rules=_rules(args.rules), backend=args.backend,
        workers=args.workers, scheduler=args.scheduler, out=args.out, resume=args.resume,
        decisions=args.decisions, progress=not args.quiet, connect_timeout=args.connect_timeout)
    if levers:  # not part of the design's fingerprint: a label for the analyses
        store = ResultStore(args.out)
        store.write_manifest({**store.read_manifest(), "levers": levers})
    if not args.quiet:
        print(summary.line(), file=sys.stderr)
    return 0
