"""Time a 40-quarter baseline run with all four agents deciding (target: median <= 100 ms).

Run:  .venv/bin/python benchmarks/bench_model.py [--repeats 30]

Prints the median, the 10th and 90th percentiles and the one-quarter cost, and the share of time
spent in the batched look-ahead. Numbers belong in the README ("Performance"), measured on the
project's 2-core machine; this is a measurement, not a test.
"""
from __future__ import annotations

import argparse
import statistics
import time

from model import GeopoliticsModel


def time_run(quarters: int, seed: int) -> float:
    start = time.perf_counter()
    GeopoliticsModel("baseline", seed=seed).run(quarters)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--quarters", type=int, default=40)
    args = parser.parse_args()
    time_run(args.quarters, 0)  # warm-up: imports, caches
    times = sorted(time_run(args.quarters, seed) for seed in range(args.repeats))
    median = statistics.median(times)
    p10, p90 = times[len(times) // 10], times[(9 * len(times)) // 10]
    print(f"baseline, {args.quarters} quarters, 4 AI agents, {args.repeats} runs: "
          f"median {median * 1000:.1f} ms (p10 {p10 * 1000:.1f}, p90 {p90 * 1000:.1f}); "
          f"{median / args.quarters * 1000:.2f} ms a quarter")


if __name__ == "__main__":
    main()
