"""Sweep benchmarks: our runner vs ``mesa.batch_run``, a 1,000-run sweep, memory as sweeps grow.

Usage::

    .venv/bin/python benchmarks/bench_sweep.py                  # everything (several minutes)
    .venv/bin/python benchmarks/bench_sweep.py --only compare --compare-runs 100
    .venv/bin/python benchmarks/bench_sweep.py --only big --runs 1000 --quarters 40
    .venv/bin/python benchmarks/bench_sweep.py --only memory

``compare`` runs the same design (grid over ``eu.price_cap_usd`` x replicates, same seeds,
quarterly metrics of every run collected) with ``mesa.batch_run`` (a thin subclass whose
DataCollector records every metric each quarter, ``number_processes=workers``) and with
``geogame``'s process backend writing Parquet files, in this one script on this machine,
alternating the two ``--compare-repeats`` times (this VM's speed drifts by 20% within minutes)
and reporting the median ratio. Our pool uses an explicit forkserver context, so ``batch_run``
forcing the 'spawn' start method process-wide does not change it.

``memory`` runs sweeps of growing size each in a fresh subprocess and reports the sweep
process's peak resident memory (``ru_maxrss``): flat means results stream to disk.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from geogame.model import DECISION_COLUMNS, GeopoliticsModel


class BatchModel(GeopoliticsModel):
    """The model with a DataCollector recording every metric each quarter (for batch_run)."""

    def __init__(self, scenario="baseline", seed=None, overrides=None):
        import mesa

        super().__init__(scenario=scenario, seed=seed, overrides=overrides)
        names = [k for k in self.latest if k != "quarter"]
        self.datacollector = mesa.DataCollector(
            model_reporters={k: (lambda m, k=k: m.latest[k]) for k in names},
            tables={"decisions": DECISION_COLUMNS})
        self.datacollector.collect(self)

    def step(self):
        """One quarter, then the DataCollector records it."""
        super().step()
        self.datacollector.collect(self)


def design(runs: int, replicates: int):
    """A grid over the price cap with ``runs // replicates`` points, and the replicate seeds."""
    from geogame.experiments.design import replicate_seeds

    points = runs // replicates
    caps = [round(30 + 40 * i / max(1, points - 1), 6) for i in range(points)]
    return caps, replicate_seeds(0, replicates)


def time_geogame(runs: int, quarters: int, workers: int, replicates: int) -> dict:
    """Time a process-backend sweep writing Parquet (the design of :func:`design`); a result row."""
    from geogame.experiments.sweeps import sweep_to_folder

    caps, _ = design(runs, replicates)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        summary = sweep_to_folder(quarters=quarters, grid={"eu.price_cap_usd": caps}, replicates=replicates,
                                  seed=0, backend="processes", workers=workers, out=Path(tmp) / "s")
        seconds = time.perf_counter() - t
    return {"runner": "geogame sweep (processes, a Parquet file per run, compacted every 1,000)", "runs": summary.ran,
            "failed": summary.failed, "seconds": round(seconds, 2), "runs_per_s": round(summary.ran / seconds, 2)}


def time_batch_run(runs: int, quarters: int, workers: int, replicates: int) -> dict:
    """Time ``mesa.batch_run`` on the same design and seeds as :func:`time_geogame`; a result row."""
    import mesa

    caps, seeds = design(runs, replicates)
    t = time.perf_counter()
    rows = mesa.batch_run(BatchModel, {"scenario": "baseline",
                                       "overrides": [{"eu.price_cap_usd": c} for c in caps]},
                          number_processes=workers, rng=seeds, data_collection_period=1,
                          max_steps=quarters, display_progress=False)
    seconds = time.perf_counter() - t
    n = len({r["RunId"] for r in rows})
    return {"runner": "mesa.batch_run", "runs": n, "rows": len(rows), "seconds": round(seconds, 2),
            "runs_per_s": round(n / seconds, 2)}


def memory_child(runs: int, quarters: int, workers: int) -> None:
    """(In a subprocess) run one sweep and print the peak RSS of this process in MB."""
    from geogame.experiments.sweeps import sweep_to_folder

    with tempfile.TemporaryDirectory() as tmp:
        sweep_to_folder(quarters=quarters, sample="random:%d" % runs,
                        ranges={"eu.price_cap_usd": (30, 70)}, seed=0, backend="processes",
                        workers=workers, out=Path(tmp) / "s")
    print(json.dumps({"runs": runs, "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))


def measure_memory(sizes, quarters: int, workers: int) -> list[dict]:
    """Peak memory of sweeps of each size in ``sizes``, each in a fresh subprocess (MB)."""
    out = []
    for n in sizes:
        res = subprocess.run([sys.executable, __file__, "--memory-child", str(n), "--quarters", str(quarters),
                              "--workers", str(workers)], capture_output=True, text=True, check=True)
        out.append(json.loads(res.stdout.strip().splitlines()[-1]))
        print(f"memory: {out[-1]}", flush=True)
    return out


def main() -> None:
    """Run the benchmarks chosen on the command line and print their results."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["compare", "big", "memory"])
    parser.add_argument("--runs", type=int, default=1000, help="runs of the big sweep (default 1000)")
    parser.add_argument("--quarters", type=int, default=40)
    parser.add_argument("--compare-runs", type=int, default=200, help="runs in the batch_run comparison")
    parser.add_argument("--compare-repeats", type=int, default=5,
                        help="alternating pairs of the comparison (default 5; the median ratio is reported)")
    parser.add_argument("--replicates", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-sizes", default="100,400,1600")
    parser.add_argument("--memory-quarters", type=int, default=4)
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args.quarters, args.workers)
        return
    results = {}
    if args.only in (None, "big"):
        results["big"] = time_geogame(args.runs, args.quarters, args.workers, args.replicates)
        print(f"big sweep, {args.runs} runs x {args.quarters} quarters, {args.workers} workers: {results['big']}", flush=True)
    if args.only in (None, "memory"):
        sizes = [int(s) for s in args.memory_sizes.split(",")]
        results["memory"] = measure_memory(sizes, args.memory_quarters, args.workers)
    if args.only in (None, "compare"):
        # Alternate the two runners, so that the VM's slow and fast spells hit both alike, and
        # report the median of the per-pair ratios with their range.
        pairs, ratios = [], []
        for repeat in range(args.compare_repeats):
            ours = time_geogame(args.compare_runs, args.quarters, args.workers, args.replicates)
            theirs = time_batch_run(args.compare_runs, args.quarters, args.workers, args.replicates)
            ratios.append(ours["runs_per_s"] / theirs["runs_per_s"])
            pairs.append([ours, theirs])
            print(f"compare {repeat + 1}/{args.compare_repeats}: geogame {ours['seconds']} s, batch_run "
                  f"{theirs['seconds']} s for {args.compare_runs} runs: {ratios[-1]:.2f}x", flush=True)
        results["compare"] = {"pairs": pairs, "ratios": [round(r, 3) for r in ratios],
                              "median_ratio": round(statistics.median(ratios), 3)}
        print(f"compare: geogame / batch_run throughput, median of {len(ratios)} = "
              f"{statistics.median(ratios):.2f}x (range {min(ratios):.2f}-{max(ratios):.2f})")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
