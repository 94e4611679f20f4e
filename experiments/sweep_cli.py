"""``geogame sweep`` (``geogame sensitivity`` and ``geogame report`` are in ``sensitivity_cli`` and ``report_cli``).

Options may also come from a TOML spec (``--spec study.toml``, see :mod:`experiments.spec`) or from
a finished sweep's manifest (``--rerun DIR/manifest.json``); options given on the command line win.
"""
from __future__ import annotations

import argparse
import sys
import textwrap
import time

#: Defaults of the options a spec file may also give (the parser's own defaults are None, so that
#: an option given on the command line can be told from one left out).
DEFAULTS = {"scenario": "baseline", "quarters": None, "seed": 0, "backend": "processes", "workers": None,
            "scheduler": None, "connect_timeout": 10.0, "replicates": 1, "sample": None, "out": None,
            "chunk_size": None, "compact_every": None, "levers": None}
#: Designs of more runs than this need --yes (check them with --dry-run first).
CONFIRM_RUNS = 100_000


def _common_run_options(p, with_defaults: bool = True) -> None:
    """The options of every command that runs sweeps. ``with_defaults=False`` (geogame sweep) leaves
    them None, so that options given on the command line can be told from a --spec file's."""
    d = DEFAULTS if with_defaults else dict.fromkeys(DEFAULTS)
    p.add_argument("--scenario", default=d["scenario"],
                   help="a preset name, or a file given by a path with '/' or ending in .toml (default: baseline)")
    p.add_argument("--quarters", type=int, default=None, help="quarters per run (default: the scenario's)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="fix a setting for every run (repeatable; see geogame params)")
    p.add_argument("--rule", dest="rules", action="append", default=[], metavar="COUNTRY=RULE",
                   help="how a country decides in every run: ai, best or scripted (repeatable)")
    p.add_argument("--seed", type=int, default=d["seed"], help="master seed; run seeds derive from it (default: 0)")
    p.add_argument("--backend", default=d["backend"], choices=["serial", "processes", "dask"],
                   help="where runs execute (default: processes, as the Python sweep())")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="dask scheduler, e.g. tcp://host:8786 (default with --backend dask: a local cluster)")
    p.add_argument("--connect-timeout", type=float, default=d["connect_timeout"], metavar="SECONDS",
                   help="how long to try reaching --scheduler, and to wait for a Dask worker, before giving up "
                        "(default: 10)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary line")


def add_parser(sub) -> None:
    """Register ``geogame sweep`` and its options on the subcommand parsers ``sub``."""
    p = sub.add_parser(
        "sweep", help="run the model over a grid or sample of settings, with replicates, to Parquet",
        description="Run many simulations over a design: full grids (--grid), Latin hypercube or random "
                    "samples over ranges (--sample with --range), crossed with --replicates seeds derived "
                    "from --seed. Results stream to OUT/metrics/ as runs finish (a file per run, gathered every "
                    "--compact-every runs into large part files); OUT/manifest.json records the design, the "
                    "scenario file, version, sessions and failures. A run that raises is recorded and the sweep "
                    "goes on (exit 1 at the end); SIGTERM stops it like Ctrl-C; --resume finishes an interrupted "
                    "sweep. Options may come from a TOML file (--spec) or a manifest (--rerun).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent("""\
            Examples:
              geogame sweep --scenario baseline --quarters 20 \\
                  --grid usa.oil_penalty_tariff_on_ind=0,0.25,0.5 --grid eu.price_cap_usd=40:60:5 \\
                  --replicates 50 --workers 2 --out results/penalty_x_cap
              geogame sweep --quarters 20 --sample lhs:500 --range usa.base_tariff_on_ind=0:0.5 --out results/lhs
              geogame sweep ... --resume                       # after an interruption: only the missing runs
              geogame sweep ... --backend dask --scheduler tcp://host:8786
              geogame sweep --spec study.toml --dry-run        # runs, estimated time and disk; nothing run
              geogame sweep --rerun results/penalty_x_cap/manifest.json --out results/again
            Read the results: geogame query results/penalty_x_cap "SELECT ..." or
            geogame.experiments.store.read_results("results/penalty_x_cap")"""))
    p.add_argument("--grid", action="append", default=[], metavar="KEY=VALUES",
                   help="values of a setting: a list 0,0.25,0.5 or start:stop:step (stop included); repeatable")
    p.add_argument("--range", dest="ranges", action="append", default=[], metavar="KEY=LOW:HIGH",
                   help="range of a setting for --sample; repeatable")
    p.add_argument("--sample", metavar="METHOD:N", help="lhs:N (Latin hypercube) or random:N points over the ranges")
    p.add_argument("--replicates", type=int, default=None, help="seeds per design point (default: 1)")
    _common_run_options(p, with_defaults=False)
    p.add_argument("--out", default=None, help="folder for the results (its parent must exist); required")
    p.add_argument("--decisions", action="store_true", help="also keep every run's decisions (OUT/decisions)")
    p.add_argument("--resume", action="store_true", help="finish the sweep in OUT: run only missing runs")
    p.add_argument("--levers", metavar="KEY,KEY",
                   help="swept settings a government chooses (the others are uncertainties); recorded in the "
                        "manifest for geogame discover and robustness")
    p.add_argument("--spec", metavar="FILE.toml",
                   help="read the sweep from a TOML file whose keys are these options' names (grid, range, "
                        "set and rule as tables); options given here win")
    p.add_argument("--rerun", metavar="DIR/manifest.json",
                   help="run again the sweep a manifest records (same scenario text, design, seeds and settings) "
                        "into a new --out")
    p.add_argument("--dry-run", action="store_true",
                   help="check everything, time two probe runs, print the number of runs, the estimated time "
                        "and disk, and stop")
    p.add_argument("--yes", action="store_true",
                   help=f"start a design of more than {CONFIRM_RUNS:,} runs (see its cost with --dry-run first)")
    p.add_argument("--chunk-size", type=int, default=None, metavar="N",
                   help="runs per worker task, stepped together as one ensemble (default: about four tasks per "
                        "worker, at most 64); the results do not depend on it")
    p.add_argument("--compact-every", type=int, default=None, metavar="N",
                   help="gather every N finished runs into one large Parquet file (default: 1000; "
                        "0 keeps one file per run)")
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
    """Run ``geogame sweep``: check every input, then run (or describe, with ``--dry-run``) the
    sweep; 0 when every run finished, 1 when some failed."""
    from geogame.model import InputError, show_value

    from .backends import NoWorkers
    from .sweeps import SweepTerminated

    try:
        return _sweep(args)
    except InputError:
        raise
    except SweepTerminated:
        print(f"geogame sweep: stopped by SIGTERM; every finished run is saved in {args.out} (manifest: "
              "interrupted); run the same command with --resume to finish", file=sys.stderr)
        return 143
    except NoWorkers as exc:
        print(f"geogame sweep: error: {exc}; every finished run is saved in {args.out}", file=sys.stderr)
        return 1
    except OSError as exc:  # a full disk, a file-size limit or a folder gone while writing results
        path = show_value(exc.filename) if getattr(exc, "filename", None) else show_value(args.out)
        print(f"geogame sweep: error: cannot write {path} ({exc.strerror or exc}); every finished run "
              f"is saved in {args.out} (partial files removed, manifest: stopped by an error); free space "
              "or fix the folder and run the same command with --resume to finish", file=sys.stderr)
        return 1
    except Exception as exc:
        if not _lost_worker(exc):
            raise
        print(f"geogame sweep: a worker process died ({type(exc).__name__}); every finished run is saved "
              f"in {args.out}; run the same command with --resume to finish", file=sys.stderr)
        return 1


def _merge_spec(args) -> None:
    """Fill the options left out on the command line from ``--spec`` or ``--rerun``, then the defaults."""
    from geogame.model import InputError

    from .spec import load_sweep_spec

    if args.spec and args.rerun:
        raise InputError("--spec and --rerun: give one; --rerun takes everything from the manifest")
    if args.spec:
        spec = load_sweep_spec(args.spec)
        for dest, value in spec.items():
            current = getattr(args, dest, None)
            if dest in ("grid", "ranges", "overrides", "rules"):
                given = {item.partition("=")[0].strip() for item in current}
                setattr(args, dest, [item for item in value if item.partition("=")[0].strip() not in given] + current)
            elif dest in ("decisions", "quiet"):
                setattr(args, dest, current or value)
            elif current is None:
                setattr(args, dest, value)
    for dest, value in DEFAULTS.items():
        if getattr(args, dest, None) is None:
            setattr(args, dest, value)
    if args.compact_every is None:
        from .store import COMPACT_EVERY
        args.compact_every = COMPACT_EVERY
    if not args.out:
        raise InputError("--out is required (on the command line or as out = \"...\" in --spec)")


def rerun_options(path) -> dict:
    """The options of the sweep a manifest records, as :func:`experiments.sweeps.sweep_to_folder` takes them.

    Raises
    ------
    InputError
        The manifest is missing, damaged, or does not describe a sweep.
    """
    from pathlib import Path

    from geogame.model import InputError, parse_scenario, show_value

    from .store import ResultStore

    p = Path(path)
    if p.is_dir():
        p = p / "manifest.json"
    store = ResultStore(p.parent)
    if not p.is_file():
        raise InputError(f"--rerun {show_value(str(path))} is not a sweep's manifest (no such file); allowed: "
                         "DIR/manifest.json of a sweep")
    manifest = store.read_manifest("--rerun")
    design = manifest.get("design")
    needed = ("scenario", "scenario_text", "quarters", "overrides", "rules", "decisions")
    missing = [k for k in needed if k not in manifest] + ([] if isinstance(design, dict) else ["design"])
    if missing:
        raise InputError(f"--rerun {show_value(str(p))}: the manifest has no {missing[0]!r}; allowed: the "
                         "manifest of a sweep made by geogame sweep")
    try:
        scenario = parse_scenario(manifest["scenario_text"], name=manifest["scenario"])
    except Exception as exc:  # noqa: BLE001 - the scenario text no longer loads: one line
        raise InputError(f"--rerun {show_value(str(p))}: its scenario text no longer loads "
                         f"({str(exc).splitlines()[0][:120]})") from None
    options = {"scenario": scenario, "quarters": manifest["quarters"], "overrides": manifest["overrides"],
               "rules": manifest["rules"], "decisions": manifest["decisions"],
               "replicates": design.get("replicates", 1), "seed": design.get("master_seed", 0)}
    sample = design.get("sample")
    if design.get("explicit_points") or not (design.get("grid") or design.get("ranges")):
        options["points"] = design.get("points") or []
    else:
        options["grid"] = design.get("grid") or None
        options["ranges"] = {k: tuple(v) for k, v in (design.get("ranges") or {}).items()} or None
        options["sample"] = (sample["method"], sample["n"]) if sample else None
    return {"options": options, "fingerprint": manifest.get("fingerprint"), "levers": manifest.get("levers"),
            "points": design.get("points") or []}


def _sweep(args) -> int:
    from geogame.model import InputError

    from .design import parse_grid, parse_range
    from .discover import check_levers
    from .store import ResultStore
    from .sweeps import plan_sweep, sweep_to_folder

    _merge_spec(args)
    run = {"backend": args.backend, "workers": args.workers, "scheduler": args.scheduler, "out": args.out,
           "resume": args.resume, "connect_timeout": args.connect_timeout, "chunk_size": args.chunk_size,
           "compact_every": args.compact_every}
    if args.rerun:
        design_flags = [flag for flag, given in (("--grid", args.grid), ("--range", args.ranges),
                                                 ("--sample", args.sample), ("--set", args.overrides),
                                                 ("--rule", args.rules)) if given]
        if design_flags:
            raise InputError(f"--rerun with {design_flags[0]}: the design comes from the manifest; allowed with "
                             "--rerun: --out, --backend, --workers, --scheduler, --chunk-size, --dry-run")
        again = rerun_options(args.rerun)
        options = {**again["options"], **run}
        levers = again["levers"] or []
        plan = plan_sweep(**options)
        if again["fingerprint"] and plan.design.fingerprint() != again["fingerprint"]:
            # The design no longer rebuilds the same (say a sampler changed): run its recorded points.
            for key in ("grid", "ranges", "sample"):
                options.pop(key, None)
            options["points"] = again["points"]
            plan = plan_sweep(**options)
    else:
        grid = _assignments(args.grid, parse_grid, "--grid")
        ranges = _assignments(args.ranges, parse_range, "--range")
        levers = check_levers(args.levers or [], [*grid, *ranges])  # before any run: each must be swept
        options = {"scenario": args.scenario, "quarters": args.quarters, "grid": grid, "ranges": ranges,
                   "sample": args.sample, "replicates": args.replicates, "seed": args.seed,
                   "overrides": args.overrides, "rules": _rules(args.rules), "decisions": args.decisions, **run}
        plan = plan_sweep(**options)
    if args.dry_run:
        print(dry_run_text(plan, args))
        return 0
    if plan.design.n_runs > CONFIRM_RUNS and not args.yes and not args.resume:
        raise InputError(f"the design has {plan.design.n_runs:,} runs, more than {CONFIRM_RUNS:,}; see its time and "
                         "disk with --dry-run, then add --yes to start it")
    summary = sweep_to_folder(**options, progress=not args.quiet)
    if levers:  # not part of the design's fingerprint: a label for the analyses
        store = ResultStore(args.out)
        store.write_manifest({**store.read_manifest(), "levers": levers})
    if not args.quiet:
        print(summary.line(), file=sys.stderr)
    failure = summary.failure_line()
    if failure:
        print(f"geogame {failure}", file=sys.stderr)
        return 1
    return 0


def dry_run_text(plan, args) -> str:
    """What ``--dry-run`` prints: runs, estimated time (from two timed probe runs here) and disk."""
    import io
    from dataclasses import replace

    from .backends import check_workers
    from .runner import execute_run
    from .store import write_parquet

    design, job = plan.design, replace(plan.job, out=None)
    first = next(design.runs())
    seconds, result = [], None
    for _ in range(2):  # the first also loads the model's compiled kernels; the second is the cost
        start = time.perf_counter()
        result = execute_run(first, job)
        seconds.append(time.perf_counter() - start)
    per_run = seconds[-1]
    if args.backend == "serial":
        workers, where = 1, "1 process (serial)"
    elif args.backend == "processes":
        workers = check_workers(args.workers)
        where = f"{workers} worker processes"
    else:
        workers = check_workers(args.workers) if not args.scheduler else None
        where = f"{workers} local Dask workers" if workers else f"the Dask cluster at {args.scheduler} (per thread)"
    lines = [f"dry run: {design.n_runs:,} runs ({len(design.points):,} design points x {design.replicates:,} "
             f"replicates), {job.quarters} quarters each, into {args.out}"]
    if workers:
        total = design.n_runs * per_run / workers
        lines.append(f"  time: about {_duration(total)} on {where} ({per_run:.3f} s a run, timed on a probe run "
                     "here; parallel workers on a busy machine run slower)")
    else:
        lines.append(f"  time: about {_duration(design.n_runs * per_run)} divided by the cluster's threads "
                     f"({per_run:.3f} s a run, timed here)")
    if result is not None and result.ok:
        # In a part a run takes about its Arrow size (floats barely compress; the footer is shared).
        single = io.BytesIO()
        write_parquet(result.metrics, single)
        per_part, per_file = result.metrics.nbytes, single.tell()
        if job.decisions and result.decisions is not None:
            per_part += result.decisions.nbytes
        pending = min(design.n_runs, args.compact_every or design.n_runs) * per_file
        lines.append(f"  disk: about {_size(design.n_runs * per_part)} once compacted ({_size(per_part)} a run), "
                     f"plus up to {_size(pending)} of per-run files between compactions")
    else:
        lines.append(f"  disk: unknown (the probe run failed: {result.error if result else 'no result'})")
    big = design.n_runs > CONFIRM_RUNS
    lines.append("nothing was run or written; " + ("add --yes to start it (more than "
                                                    f"{CONFIRM_RUNS:,} runs)" if big else "drop --dry-run to start it"))
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"
