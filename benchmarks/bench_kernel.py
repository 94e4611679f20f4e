"""Compiled-step benchmark: CPU time of the quarter's economics as the ensemble calls it.

Usage::

    .venv/bin/python benchmarks/bench_kernel.py                 # 64 runs x 40 quarters recorded, 5 replays
    .venv/bin/python benchmarks/bench_kernel.py --runs 256 --repeats 3 --ensemble

Runs an ensemble of ``--runs`` runs of ``baseline`` (every country deciding) for ``--quarters``
quarters, recording every call of the compiled step (:func:`geogame.model.step_kernel.step_rows`)
with its inputs, then replays the recorded calls ``--repeats`` times: CPU seconds per replay
(the least of the repeats: the VM is shared, and the least is the least disturbed) and per
world-step, and how many world-steps a run takes. ``--ensemble`` also times the whole ensemble
(CPU seconds, least of ``--repeats``), the number issue 11's target depends on
(``benchmarks/bench_ensemble.py --only big`` times it in worker processes, wall clock).

CPU time of this one process is measured (``time.process_time``), not wall time; the load
average is printed. The replay checks that each replayed call gives the recorded outputs bit for
bit (the step is deterministic; a difference is reported, not timed).
"""
from __future__ import annotations

import argparse
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


def main() -> None:
    """Parse the flags, record and replay the compiled step, print one JSON row."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=64, help="runs recorded (default 64)")
    parser.add_argument("--quarters", type=int, default=40, help="quarters per run (default 40)")
    parser.add_argument("--repeats", type=int, default=5, help="replays timed; the least is reported (default 5)")
    parser.add_argument("--ensemble", action="store_true", help="also time the whole ensemble (CPU s)")
    args = parser.parse_args()
    for name in ("runs", "quarters", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} {getattr(args, name)} is not allowed; allowed: a whole number >= 1")

    run_ensemble([EnsembleRun("baseline", seed=0)], 2)          # warm-up: imports, compiled kernel
    calls = record(args.runs, args.quarters)
    worlds = sum(recorded[0].shape[0] for _, recorded in calls)   # each output has a row per world
    replays = [replay(calls) for _ in range(args.repeats)]
    row = {"runs": args.runs, "quarters": args.quarters, "step_calls": len(calls), "world_steps": worlds,
           "world_steps_per_run": round(worlds / args.runs), "replay_cpu_s": round(min(replays), 3),
           "us_per_world_step": round(min(replays) / worlds * 1e6, 3)}
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
