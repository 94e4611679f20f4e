"""Time a 40-quarter baseline run with all four agents deciding (target: median <= 100 ms).

Run:  .venv/bin/python benchmarks/bench_model.py [--repeats 30]

Prints the median, the 10th and 90th percentiles and the one-quarter cost, and the share of time
spent in the batched look-ahead. Numbers belong in the README ("Performance"), measured on the
project's 2-core machine; this is a measurement, not a test.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

from geogame.model import GeopoliticsModel


def time_run(quarters: int, seed: int) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one run (CPU time is less disturbed by other processes)."""
    wall, cpu = time.perf_counter(), time.process_time()
    GeopoliticsModel("baseline", seed=seed).run(quarters)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    """Time ``--repeats`` runs of ``--quarters`` quarters and print wall and CPU percentiles."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--quarters", type=int, default=40)
    args = parser.parse_args()
    time_run(args.quarters, 0)  # warm-up: imports, caches
    results = [time_run(args.quarters, seed) for seed in range(args.repeats)]
    for label, times in (("wall", sorted(r[0] for r in results)), ("cpu", sorted(r[1] for r in results))):
        median = statistics.median(times)
        p10, p90 = times[len(times) // 10], times[(9 * len(times)) // 10]
        print(f"baseline, {args.quarters} quarters, 4 AI agents, {args.repeats} runs, {label} time: "
              f"median {median * 1000:.1f} ms (p10 {p10 * 1000:.1f}, p90 {p90 * 1000:.1f}); "
              f"{median / args.quarters * 1000:.2f} ms a quarter")
    print(f"load average while measuring: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
