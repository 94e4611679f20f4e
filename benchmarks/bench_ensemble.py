"""Ensemble benchmark: many runs in one batch against one run at a time and ``mesa.batch_run``.

Usage::

    .venv/bin/python benchmarks/bench_ensemble.py                       # everything (~2-3 minutes)
    .venv/bin/python benchmarks/bench_ensemble.py --runs 1000 --quarters 40 --workers 2
    .venv/bin/python benchmarks/bench_ensemble.py --only memory

Side by side in this one run, on the same model (``baseline``, every country deciding, the
decision horizon as it stands), each on the same seeds:

* ``one at a time``: ``GeopoliticsModel(...).run()`` run after run in this process;
* ``mesa.batch_run``: Mesa's batch runner on the model with a DataCollector recording every
  metric each quarter, ``number_processes=1`` (per-core throughput);
* ``ensemble, 1 process``: :func:`geogame.model.iter_ensemble` (chunks of ``--chunk`` runs), the
  per-run quarterly tables built;
* ``ensemble, N processes``: ``--runs`` runs split over ``--workers`` processes, each stepping
  its share in chunks (the target: 1,000 runs x 40 quarters in 5 s on the project's 2-core VM);
* the same ``--runs`` as a design of 100 price-cap points x 10 seeds (a policy setting: the
  points share a batch);
* ``economy``: ``--runs`` runs each with its own settings of the economy (six elasticities and
  adjustment speeds drawn within +-20% of their defaults, as in a sensitivity study), against
  the same number of seeds of one setting: one process (runs per CPU-second) and ``--workers``
  processes (wall time);
* ``fan``: :func:`geogame.model.fan` for the app (the headline metrics over 50, 64 and 100
  seeds of ``baseline``, its own 20 quarters; target 1 s after Reset);
* ``memory``: a worker's peak resident memory for growing run counts at a fixed chunk size,
  and for growing chunk sizes (flat in the runs, growing with the chunk; about 250 MB of it is
  the interpreter with NumPy, pandas, numba and the model loaded), for seeds of one setting and
  for runs each with its own economy.

Per-core throughput is runs per CPU-second of the process doing the work (CPU time is less
disturbed than wall time by other processes on a shared VM); the load average is printed.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from geogame.model import EnsembleRun, GeopoliticsModel, iter_ensemble


def _seeds(n: int, offset: int = 0) -> list[int]:
    return list(range(offset, offset + n))


def one_at_a_time(runs: int, quarters: int) -> dict:
    """``GeopoliticsModel.run`` for each seed in turn; per-core throughput."""
    GeopoliticsModel("baseline", seed=10_000).run(2)  # warm-up (imports, compiled kernel)
    wall, cpu = time.perf_counter(), time.process_time()
    for seed in _seeds(runs):
        GeopoliticsModel("baseline", seed=seed).run(quarters).metrics_columns()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"runner": "one at a time (GeopoliticsModel.run)", "runs": runs, "cpu_s": round(cpu, 2),
            "wall_s": round(wall, 2), "runs_per_cpu_s": round(runs / cpu, 2)}


def batch_run(runs: int, quarters: int) -> dict:
    """``mesa.batch_run`` with one process on the model with a DataCollector; per-core throughput."""
    import mesa

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bench_sweep import BatchModel

    class FullLengthModel(BatchModel):
        """Keeps running to ``max_steps`` (the scenario's own end would stop batch_run at 20 quarters)."""

        def step(self):
            super().step()
            self.running = True

    wall, cpu = time.perf_counter(), time.process_time()
    rows = mesa.batch_run(FullLengthModel, {"scenario": "baseline"}, number_processes=1, rng=_seeds(runs),
                          data_collection_period=1, max_steps=quarters, display_progress=False)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    assert len({r["RunId"] for r in rows}) == runs and max(r["Step"] for r in rows) == quarters
    return {"runner": "mesa.batch_run (1 process)", "runs": runs, "cpu_s": round(cpu, 2),
            "wall_s": round(wall, 2), "runs_per_cpu_s": round(runs / cpu, 2)}


def _ensemble_work(args) -> dict:
    """(In a worker) run a share of the design as an ensemble and build every run's quarterly table."""
    specs, quarters, chunk = args
    cpu, wall = time.process_time(), time.perf_counter()
    checksum = 0.0
    # Streamed (iter_ensemble, as a sweep's chunks are): each chunk's runs are read and dropped, so
    # memory is bounded by the chunk (run_ensemble would keep every run's tables until the end).
    for _position, view in iter_ensemble([EnsembleRun(**s) for s in specs], quarters, chunk_size=chunk):
        checksum += view.metrics_columns()["brent_usd"][-1]
    return {"cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall, "runs": len(specs),
            "checksum": checksum, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _seed_design(runs: int) -> list[dict]:
    return [{"scenario": "baseline", "seed": s} for s in _seeds(runs)]


def _cap_design(runs: int, replicates: int = 10) -> list[dict]:
    points = max(1, runs // replicates)
    caps = [round(30 + 40 * i / max(1, points - 1), 6) for i in range(points)]
    return [{"scenario": "baseline", "seed": s, "overrides": {"eu.price_cap_usd": c}}
            for c in caps for s in _seeds(replicates)]


#: The settings of the economy the ``economy`` design varies (each run its own values).
ECONOMY_SETTINGS = ("world.trade_elasticity", "rus.crude_supply_elasticity", "world.crude_discount_sensitivity",
                    "world.relationship_build", "world.alignment_trade", "world.sanction_cost")


def _economy_design(runs: int, seed: int = 0) -> list[dict]:
    """``runs`` runs, each with the six :data:`ECONOMY_SETTINGS` drawn within +-20% of their defaults."""
    import numpy as np

    from geogame.model import setting

    rng = np.random.default_rng(seed)
    out = []
    for s in _seeds(runs):
        overrides = {}
        for key in ECONOMY_SETTINGS:
            spec = setting(key)
            overrides[key] = float(np.clip(spec.default * rng.uniform(0.8, 1.2), spec.low, spec.high))
        out.append({"scenario": "baseline", "seed": s, "overrides": overrides})
    return out


def ensemble_one_process(runs: int, quarters: int, chunk: int, design=None, label: str = "") -> dict:
    """The ensemble in this process; per-core throughput."""
    _ensemble_work((_seed_design(4), 2, chunk))  # warm-up
    r = _ensemble_work((design or _seed_design(runs), quarters, chunk))
    return {"runner": f"ensemble, 1 process (chunks of {chunk}){label}", "runs": runs, "cpu_s": round(r["cpu_s"], 2),
            "wall_s": round(r["wall_s"], 2), "runs_per_cpu_s": round(runs / r["cpu_s"], 2)}


def ensemble_processes(design: list[dict], quarters: int, chunk: int, workers: int, label: str) -> dict:
    """``design`` split over ``workers`` processes (start-up included in the wall time)."""
    t = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=get_context("forkserver")) as pool:
        # Interleaved shares, so that each worker gets as many runs of every design point.
        shares = [(design[w::workers], quarters, chunk) for w in range(workers)]
        results = list(pool.map(_ensemble_work, shares))
    wall = time.perf_counter() - t
    cpu = sum(r["cpu_s"] for r in results)
    return {"runner": f"ensemble, {workers} processes (chunks of {chunk}): {label}", "runs": len(design),
            "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "runs_per_s": round(len(design) / wall, 1),
            "runs_per_cpu_s": round(len(design) / cpu, 2),
            "worker_peak_rss_mb": round(max(r["peak_rss_mb"] for r in results), 1)}


def fan_timing(seeds_list=(50, 64, 100), repeats: int = 3) -> list[dict]:
    """Seconds (wall and CPU, best of ``repeats``) to compute the app's fan over each number of seeds."""
    from geogame.model import fan

    fan("baseline", seeds=2, quarters=2)  # warm-up
    out = []
    for seeds in seeds_list:
        walls, cpus = [], []
        for _ in range(repeats):
            wall, cpu = time.perf_counter(), time.process_time()
            fan("baseline", seeds=seeds)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        out.append({"runner": f"fan, baseline over {seeds} seeds (20 quarters)", "wall_s": round(min(walls), 3),
                    "cpu_s": round(min(cpus), 3)})
    return out


def memory(quarters: int) -> list[dict]:
    """A worker's peak RSS (fresh subprocess each) for growing runs at chunk 64, and growing chunks;
    then the same for runs each with its own economy (:func:`_economy_design`)."""
    out = []
    for design, runs, chunk in (("seeds", 256, 64), ("seeds", 1024, 64), ("seeds", 1024, 256), ("seeds", 1024, 1024),
                                ("economy", 256, 64), ("economy", 1024, 64), ("economy", 1024, 256)):
        res = subprocess.run([sys.executable, __file__, "--memory-child", str(runs), "--chunk", str(chunk),
                              "--quarters", str(quarters), "--memory-design", design],
                             capture_output=True, text=True, check=True)
        out.append(json.loads(res.stdout.strip().splitlines()[-1]))
        print(f"memory: {out[-1]}", flush=True)
    return out


def main() -> None:
    """Run the measurements chosen on the command line and print a table and the JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["compare", "big", "economy", "fan", "memory"])
    parser.add_argument("--runs", type=int, default=1000, help="runs of the big ensemble (default 1000)")
    parser.add_argument("--quarters", type=int, default=40)
    parser.add_argument("--baseline-runs", type=int, default=30,
                        help="runs timed one at a time and with mesa.batch_run (default 30)")
    parser.add_argument("--per-core-runs", type=int, default=500, help="runs of the one-process ensemble")
    parser.add_argument("--chunk", type=int, default=256)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--memory-design", choices=["seeds", "economy"], default="seeds", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        design = (_seed_design if args.memory_design == "seeds" else _economy_design)(args.memory_child)
        r = _ensemble_work((design, args.quarters, args.chunk))
        print(json.dumps({"design": args.memory_design, "runs": args.memory_child, "chunk": args.chunk,
                          "peak_rss_mb": round(r["peak_rss_mb"], 1)}))
        return
    print(f"machine: {os.cpu_count()} cores (nproc), load average {os.getloadavg()[0]:.2f} at start", flush=True)
    rows = []
    if args.only in (None, "compare"):
        for fn in (lambda: one_at_a_time(args.baseline_runs, args.quarters),
                   lambda: batch_run(args.baseline_runs, args.quarters),
                   lambda: ensemble_one_process(args.per_core_runs, args.quarters, args.chunk)):
            rows.append(fn())
            print(rows[-1], flush=True)
    if args.only in (None, "big"):
        rows.append(ensemble_processes(_seed_design(args.runs), args.quarters, args.chunk, args.workers,
                                       f"{args.runs} seeds of one setting"))
        print(rows[-1], flush=True)
        rows.append(ensemble_processes(_cap_design(args.runs), args.quarters, args.chunk, args.workers,
                                       f"{args.runs // 10} price caps x 10 seeds"))
        print(rows[-1], flush=True)
    if args.only in (None, "economy"):
        runs = args.per_core_runs
        for design, label in ((_seed_design(runs), ": seeds of one setting"),
                              (_economy_design(runs), ": each run its own economy (6 settings)")):
            rows.append(ensemble_one_process(runs, args.quarters, args.chunk, design, label))
            print(rows[-1], flush=True)
        rows.append(ensemble_processes(_economy_design(args.runs), args.quarters, args.chunk, args.workers,
                                       f"{args.runs} runs each with its own economy (6 settings)"))
        print(rows[-1], flush=True)
    if args.only in (None, "fan"):
        for row in fan_timing():
            rows.append(row)
            print(row, flush=True)
    results = {"rows": rows, "load_average_end": round(os.getloadavg()[0], 2), "cores": os.cpu_count()}
    per_core = {r["runner"]: r["runs_per_cpu_s"] for r in rows if "runs_per_cpu_s" in r}
    ensemble = [v for k, v in per_core.items() if k.startswith("ensemble, 1 process")]
    if ensemble:
        for k, v in per_core.items():
            if not k.startswith("ensemble"):
                print(f"per-core throughput, ensemble / {k}: {ensemble[0] / v:.1f}x")
    if args.only in (None, "memory"):
        results["memory"] = memory(args.quarters)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
