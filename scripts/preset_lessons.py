"""What each preset teaches, in numbers: 20 seeds of the AI path beside the best-response path.

For every preset this prints, at the end of the run, the median and the 10-90% band over seeds of
the outcomes a class discusses, the moves each country took (how many seeds, first quarter), and
the same outcomes on the best-response path (every AI country plays rule ``best``: no noise).
``docs/model.md`` ("What a class can learn") quotes its output.

Usage: ``.venv/bin/python scripts/preset_lessons.py [--seeds 20] [--preset NAME ...]``
"""
from __future__ import annotations

import argparse
from collections import Counter

import numpy as np

from geogame import COUNTRIES, GeopoliticsModel, load_scenario, preset_names

OUTCOMES = (
    ("crude_share_ind_from_rus", "India's Russian crude share", "{:.0%}"),
    ("tariff_usa_on_ind", "US tariff on India", "{:.0%}"),
    ("exports_ind_to_usa_usd_bn", "India's exports to the US, $bn/yr", "{:.0f}"),
    ("trade_ind_rus_usd_bn", "India-Russia trade, $bn/yr", "{:.0f}"),
    ("russia_crude_revenue_usd_bn", "Russia's crude revenue, $bn/yr", "{:.0f}"),
    ("urals_discount_fob_usd", "Urals FOB discount, $/bbl", "{:.1f}"),
    ("alignment_usa_ind", "US-India affinity", "{:+.2f}"),
    ("alignment_rus_ind", "Russia-India affinity", "{:+.2f}"),
    ("alignment_ind_eu", "India-EU affinity", "{:+.2f}"),
)


def run(preset: str, seed: int, best: bool):
    """One run of ``preset`` (AI countries by best response if ``best``); returns (metrics, decisions)."""
    scenario = load_scenario(preset)
    rules = {c: "best" for c in COUNTRIES if scenario.rules.get(c, "ai") == "ai"} if best else None
    model = GeopoliticsModel(scenario=preset, seed=seed, rules=rules).run()
    return model.metrics_frame(), model.decisions_frame()


def summarise(preset: str, seeds: int) -> dict:
    """Outcomes at the end (median, p10, p90), moves by country, and the best-response path."""
    ends, moves = {name: [] for name, _, _ in OUTCOMES}, Counter()
    first = {}
    for seed in range(seeds):
        metrics, decisions = run(preset, seed, best=False)
        for name, _, _ in OUTCOMES:
            ends[name].append(float(metrics[name].iloc[-1]))
        for (country, move), group in decisions[decisions.move != "hold"].groupby(["country", "move"]):
            moves[(country, move)] += 1
            first.setdefault((country, move), []).append(group.quarter.iloc[0])
    best_metrics, best_decisions = run(preset, 0, best=True)
    return {
        "quarter": best_metrics.quarter.iloc[-1],
        "ends": {k: (np.median(v), np.percentile(v, 10), np.percentile(v, 90)) for k, v in ends.items()},
        "moves": moves, "first": {k: min(v) for k, v in first.items()},
        "best": {name: float(best_metrics[name].iloc[-1]) for name, _, _ in OUTCOMES},
        "best_moves": [(r.quarter, r.country, r.move) for r in best_decisions.itertuples() if r.move != "hold"],
    }


def main() -> None:
    """Print, for each preset, what its countries chose over ``--seeds`` seeds (for the model card)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--preset", action="append")
    args = parser.parse_args()
    for preset in args.preset or [p for p in preset_names() if p != "hindcast"]:
        s = summarise(preset, args.seeds)
        print(f"\n### {preset} (end of {s['quarter']}; median [10-90%] over {args.seeds} seeds | best response)")
        for name, label, fmt in OUTCOMES:
            med, lo, hi = s["ends"][name]
            print(f"- {label}: {fmt.format(med)} [{fmt.format(lo)} to {fmt.format(hi)}] | {fmt.format(s['best'][name])}")
        common = [f"{c} {m} ({n}/{args.seeds}, from {s['first'][(c, m)]})"
                  for (c, m), n in s["moves"].most_common() if n >= max(2, args.seeds // 4)]
        print("- moves taken in at least a quarter of the seeds: " + "; ".join(common))
        print("- best-response path: " + "; ".join(f"{q} {c} {m}" for q, c, m in s["best_moves"][:12]))


if __name__ == "__main__":
    main()
