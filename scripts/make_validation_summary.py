"""Write the validation summary in docs/model.md from a `geogame validate` output folder.

Usage:
    geogame validate --out reports/validation --seeds 20 --seed 1
    .venv/bin/python scripts/make_validation_summary.py reports/validation

Replaces the text between <!-- BEGIN VALIDATION SUMMARY --> and <!-- END VALIDATION SUMMARY -->
with the score line and the full table, stamped with the current commit.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- BEGIN VALIDATION SUMMARY -->", "<!-- END VALIDATION SUMMARY -->"


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def summary(table: pd.DataFrame, commit: str, seeds: str) -> str:
    passed, required = table.passed.astype(bool), table.required.astype(bool)
    failed_required = table[required & ~passed].target_id.tolist()
    lines = [f"Results at commit `{commit}` with seeds {seeds}: **{passed.sum()} of {len(table)} targets pass "
             f"({passed.mean():.0%})**, required **{(passed & required).sum()} of {required.sum()}**, mean "
             f"normalised error {table.normalised_error.mean():.2f} (1 = at the tolerance). Required failures: "
             f"{', '.join(failed_required) or 'none'}.", "",
             "| target | period | observed | model median | model 5-95% | tolerance | result | required |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in table.itertuples():
        lines.append(f"| {r.target_id} (`{r.series}`, {r.scenario}) | {r.period} | {_fmt(r.observed)} | "
                     f"{_fmt(r.model_median)} | {_fmt(r.model_p05)} to {_fmt(r.model_p95)} | {_fmt(r.tolerance)} | "
                     f"{'pass' if r.passed else '**fail**'} | {'yes' if r.required else 'no'} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="output folder of geogame validate")
    parser.add_argument("--seeds", default="1..20", help="seed range shown in the text (default 1..20)")
    parser.add_argument("--card", default=str(ROOT / "docs" / "model.md"))
    args = parser.parse_args(argv)
    table = pd.read_csv(Path(args.folder) / "validation.csv")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=ROOT).stdout.strip() or "unknown"
    card = Path(args.card).read_text(encoding="utf-8")
    if BEGIN not in card or END not in card:
        print(f"{args.card}: markers {BEGIN} ... {END} not found", file=sys.stderr)
        return 2
    head, rest = card.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    Path(args.card).write_text(f"{head}{BEGIN}\n{summary(table, commit, args.seeds)}\n{END}{tail}", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
