"""Compiled-step benchmark: CPU time of the quarter's economics as the ensemble calls it.

Usage::

    .venv/bin/python benchmarks/bench_kernel.py                 # 64 runs x 40 quarters recorded, 5 replays
    .venv/bin/python benchmarks/bench_kernel.py --runs 256 --repeats 3 --ensemble
    .venv/bin/python benchmarks/bench_kernel.py --groups 8 --vary trade_elasticity

Runs an ensemble of ``--runs`` runs of ``baseline`` (every country deciding) for ``--quarters``
quarters, recording every call of the compiled step (:func:`geogame.model.step_kernel.step_rows`)
with its inputs, then replays the recorded calls ``--repeats`` times: CPU seconds per replay
(the least of the repeats: the VM is shared, and the least is the least disturbed) and per
world-step, and how many world-steps a run takes. ``--ensemble`` also times the whole ensemble
(CPU seconds, least of ``--repeats``), the number issue 11's target depends on
(``benchmarks/bench_ensemble.py --only big`` times it in worker processes, wall clock).

``--groups G`` also replays each recorded call with its worlds spread over ``G`` groups of
structures (world ``b`` in group ``b % G``) whose kernel numbers differ in ``--vary`` (a field of
:data:`geogame.model.step_kernel.GROUP_DTYPE`, scaled by 1 + 1% per group): the compiled step's
cost for a batch of worlds with structures of their own, where clearings and trade pulls are
shared only between groups that agree in the numbers they read (these replays are checked for
being the same from one repeat to the next; there is nothing recorded to compare them with).

CPU time of this one process is measured (``time.process_time``), not wall time; the load
average is printed. The replay checks that each replayed call gives the recorded outputs bit for
bit (the step is deterministic; a difference is reported, not timed).
"""
from __future__ import annotations

import argparse
import inspect
import json
import os
import time

import numpy as np

from geogame.model import EnsembleRun, run_ensemble, step_kernel


def record(runs: int, quarters: int) -> list[tuple]:
    """Every call of the compiled step in an ensemble of ``runs`` x ``quarters``: (args, outputs)."""
    compiled = step_kernel.step_rows
    calls = []
    n_out = len(step_kernel.OUTPUTS)

    def recording(*args):
        compiled(*args)
        inputs = args[:-n_out]
        calls.append((tuple(a.copy() if isinstance(a, np.ndarray) else a for a in inputs),
                      tuple(a.copy() for a in args[-n_out:])))

    step_kernel.step_rows = recording
    try:
        run_ensemble([EnsembleRun("baseline", seed=s) for s in range(runs)], quarters)
    finally:
        step_kernel.step_rows = compiled
    return calls


def replay(calls: list[tuple]) -> float:
    """CPU seconds to replay ``calls``; raises if an output differs from the recorded one."""
    outputs = [tuple(np.empty_like(a) for a in recorded) for _, recorded in calls]
    start = time.process_time()
    for (inputs, _), out in zip(calls, outputs):
        step_kernel.step_rows(*inputs, *out)
    cpu = time.process_time() - start
    for (_, recorded), out in zip(calls, outputs):
        for a, b in zip(recorded, out):
            if not np.array_equal(a.view(np.uint64), b.view(np.uint64)):
                raise SystemExit("bench_kernel: a replayed step differs from the recorded one")
    return cpu


def spread(calls: list[tuple], groups: int, vary: str) -> list[tuple]:
    """The recorded calls (one group each) with each call's worlds spread over ``groups`` groups
    whose numbers differ in ``vary`` (group ``g`` has it times ``1 + 0.01 g``), world ``b`` in
    group ``b % groups``: (args, outputs to fill)."""
    names = list(inspect.signature(step_kernel.step_rows.py_func).parameters)
    at = {name: names.index(name) for name in ("k", "group", "curve_class", "pull_class", "brent_ref", "spending")}
    first = names.index("freight")
    structure = range(first, first + len(step_kernel.STRUCTURE_INPUTS))
    imports = first + step_kernel.STRUCTURE_INPUTS.index("crude_imports_mbd")
    spread_calls = []
    for inputs, recorded in calls:
        args = list(inputs)
        k = np.repeat(inputs[at["k"]], groups)
        k[vary] = k[vary] * (1.0 + 0.01 * np.arange(groups))
        args[at["k"]] = k
        args[at["group"]] = np.arange(len(inputs[at["group"]])) % groups
        for i in structure:
            args[i] = np.ascontiguousarray(np.repeat(inputs[i], groups, axis=0))
        args[at["brent_ref"]] = np.repeat(inputs[at["brent_ref"]], groups)
        args[at["spending"]] = np.ascontiguousarray(np.repeat(inputs[at["spending"]], groups, axis=0))
        args[at["curve_class"]] = step_kernel.classes(*(k[name] for name in step_kernel.CURVE_CONSTANTS), args[imports])
        args[at["pull_class"]] = step_kernel.classes(
            *(k[name] for name in step_kernel.PULL_CONSTANTS),
            *(args[first + step_kernel.STRUCTURE_INPUTS.index(name)] for name in step_kernel.PULL_STRUCTURE_INPUTS),
            args[at["spending"]])
        spread_calls.append((tuple(args), tuple(np.empty_like(a) for a in recorded)))
    return spread_calls


def replay_spread(calls: list[tuple]) -> tuple[float, list]:
    """CPU seconds to replay spread calls, and their outputs (copied)."""
    start = time.process_time()
    for inputs, out in calls:
        step_kernel.step_rows(*inputs, *out)
    cpu = time.process_time() - start
    return cpu, [tuple(a.copy() for a in out) for _, out in calls]


def main() -> None:
    """Parse the flags, record and replay the compiled step, print one JSON row."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=64, help="runs recorded (default 64)")
    parser.add_argument("--quarters", type=int, default=40, help="quarters per run (default 40)")
    parser.add_argument("--repeats", type=int, default=5, help="replays timed; the least is reported (default 5)")
    parser.add_argument("--ensemble", action="store_true", help="also time the whole ensemble (CPU s)")
    parser.add_argument("--groups", type=int, default=1,
                        help="also replay with the worlds spread over this many groups of structures (default 1: not)")
    parser.add_argument("--vary", default="trade_elasticity",
                        help="the kernel number the groups differ in (default trade_elasticity)")
    args = parser.parse_args()
    if args.vary not in step_kernel.GROUP_FIELDS:
        parser.error(f"--vary {args.vary} is not allowed; allowed: one of {', '.join(step_kernel.GROUP_FIELDS)}")
    for name in ("runs", "quarters", "repeats", "groups"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} {getattr(args, name)} is not allowed; allowed: a whole number >= 1")

    run_ensemble([EnsembleRun("baseline", seed=0)], 2)          # warm-up: imports, compiled kernel
    calls = record(args.runs, args.quarters)
    worlds = sum(recorded[0].shape[0] for _, recorded in calls)   # each output has a row per world
    replays = [replay(calls) for _ in range(args.repeats)]
    row = {"runs": args.runs, "quarters": args.quarters, "step_calls": len(calls), "world_steps": worlds,
           "world_steps_per_run": round(worlds / args.runs), "replay_cpu_s": round(min(replays), 3),
           "us_per_world_step": round(min(replays) / worlds * 1e6, 3)}
    if args.groups > 1:
        mixed_calls = spread(calls, args.groups, args.vary)
        timed = [replay_spread(mixed_calls) for _ in range(args.repeats)]
        for _, outputs in timed[1:]:
            for a, b in zip((x for out in timed[0][1] for x in out), (x for out in outputs for x in out)):
                if not np.array_equal(a.view(np.uint64), b.view(np.uint64)):
                    raise SystemExit("bench_kernel: a spread replay differs from the one before")
        cpu = min(t for t, _ in timed)
        row.update({"groups": args.groups, "vary": args.vary, "spread_replay_cpu_s": round(cpu, 3),
                    "spread_us_per_world_step": round(cpu / worlds * 1e6, 3)})
    if args.ensemble:
        specs = [EnsembleRun("baseline", seed=s) for s in range(args.runs)]
        times = []
        for _ in range(args.repeats):
            start = time.process_time()
            run_ensemble(specs, args.quarters)
            times.append(time.process_time() - start)
        row["ensemble_cpu_s"] = round(min(times), 3)
    row["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(row))


if __name__ == "__main__":
    main()
