"""Write the validation summaries from a `geogame validate` output folder.

Usage:
    geogame validate --out reports/validation --seeds 20 --seed 1
    .venv/bin/python scripts/make_validation_summary.py reports/validation
    .venv/bin/python scripts/make_validation_summary.py reports/validation --no-card --quarterly-doc docs/validation.md

Replaces the text between <!-- BEGIN VALIDATION SUMMARY --> and <!-- END VALIDATION SUMMARY -->
in the model card (docs/model.md) with the score line and the full table, and, with
--quarterly-doc, the text between <!-- BEGIN QUARTERLY FIT --> and <!-- END QUARTERLY FIT --> in
that file with the per-series quarterly fit and the per-quarter table; both stamped with the
current commit.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- BEGIN VALIDATION SUMMARY -->", "<!-- END VALIDATION SUMMARY -->"
QBEGIN, QEND = "<!-- BEGIN QUARTERLY FIT -->", "<!-- END QUARTERLY FIT -->"


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def summary(table: pd.DataFrame, commit: str, seeds: str) -> str:
    """The model card's validation summary: a sentence of totals and one table row per target.

    Parameters
    ----------
    table : pandas.DataFrame
        ``validation.csv`` written by ``geogame validate``.
    commit : str
        The commit the results were computed at (shown in the text).
    seeds : str
        The seed range, as shown in the text (``1..20``).

    Returns
    -------
    str
        Markdown.
    """
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


def _pct(x) -> str:
    return "-" if pd.isna(x) else f"{x:.0%}"


def _num(x) -> str:
    return "-" if pd.isna(x) else _fmt(x)


def quarterly_summary(fit: pd.DataFrame, quarters: pd.DataFrame, commit: str, seeds: str) -> str:
    """Markdown: per-series fit of the hindcast's quarterly path, then every observed quarter."""
    lines = [f"Results at commit `{commit}` with seeds {seeds} (hindcast median and 10-90% band over seeds).", "",
             "| series (unit) | compared by | quarters: held out / partly fitted | RMSE (held out only) | bias | "
             "RMSE / tolerance | inside tolerance (held out only) | correlation of q-on-q changes (pairs) | same direction |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in fit.itertuples():
        lines.append(f"| `{r.series}` ({r.unit}) | {r.comparison} | {r.quarters}: {r.held_out} / {r.partly_fitted} | "
                     f"{_num(r.rmse)} ({_num(r.rmse_held_out)}) | {_num(r.bias)} | {r.normalised_rmse:.2f} | "
                     f"{_pct(r.share_inside)} ({_pct(r.share_inside_held_out)}) | {_num(r.change_corr)} ({r.changes}) | "
                     f"{_pct(r.direction_agree)} |")
    lines += ["", "| quarter | series | observed (range) | model median | model 10-90% | error | result | fit status |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in quarters.itertuples():
        result = ("changes only" if r.comparison == "shape" else ("inside" if str(r.inside) == "True" else "**outside**"))
        rng = "" if r.low == r.high else f" ({_fmt(r.low)}..{_fmt(r.high)})"
        lines.append(f"| {r.period} | `{r.series}` | {_fmt(r.observed)}{rng} | {_fmt(r.model_median)} | "
                     f"{_fmt(r.model_p10)} to {_fmt(r.model_p90)} | {_fmt(r.error)} | {result} | "
                     f"{r.fit_status.replace('_', ' ')} |")
    return "\n".join(lines)


def _replace(path: Path, begin: str, end: str, text: str) -> bool:
    doc = path.read_text(encoding="utf-8")
    if begin not in doc or end not in doc:
        print(f"{path}: markers {begin} ... {end} not found", file=sys.stderr)
        return False
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{begin}\n{text}\n{end}{tail}", encoding="utf-8")
    return True


def main(argv=None) -> int:
    """Write the validation summary from a ``geogame validate`` folder into the model card.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="output folder of geogame validate")
    parser.add_argument("--seeds", default="1..20", help="seed range shown in the text (default 1..20)")
    parser.add_argument("--card", default=str(ROOT / "docs" / "model.md"))
    parser.add_argument("--no-card", action="store_true", help="do not touch the model card")
    parser.add_argument("--quarterly-doc", help="also write the quarterly fit into this file (e.g. docs/validation.md)")
    args = parser.parse_args(argv)
    folder = Path(args.folder)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=ROOT).stdout.strip() or "unknown"
    if not args.no_card:
        table = pd.read_csv(folder / "validation.csv")
        if not _replace(Path(args.card), BEGIN, END, summary(table, commit, args.seeds)):
            return 2
    if args.quarterly_doc:
        fit = pd.read_csv(folder / "quarterly_fit.csv")
        quarters = pd.read_csv(folder / "quarterly.csv")
        if not _replace(Path(args.quarterly_doc), QBEGIN, QEND, quarterly_summary(fit, quarters, commit, args.seeds)):
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
