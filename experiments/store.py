"""A sweep's folder on disk: results written as runs finish, a manifest, failures.

Layout::

    OUT/manifest.json                     design, scenario text, version, times, failures
    OUT/metrics/run-000123.parquet        one file per finished run (tidy quarterly rows)
    OUT/decisions/run-000123.parquet      with --decisions
    OUT/failures/run-000007.json          a run that raised: parameters, seed, error

Every file is written to a temporary name and renamed, so a killed sweep never leaves a half
file; a run is *done* when its metrics file exists. ``pd.read_parquet(OUT / "metrics")`` reads
the whole dataset.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from geogame.model import InputError

from .runner import ID_COLUMNS, RunResult

MANIFEST = "manifest.json"


def run_file(run_id: int, suffix: str) -> str:
    """File name of one run's result: ``run-000123.parquet``."""
    return f"run-{run_id:06d}{suffix}"


def _atomic_write(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write(tmp)
    os.replace(tmp, path)


#: Columns whose min/max go in each file's footer, so that readers can skip files by run or setting
#: (the swept settings, whose names hold a dot, too).
STATISTICS_COLUMNS = (*ID_COLUMNS, "quarter_index")


def write_parquet(table, path) -> None:
    """Write a run's table (a pyarrow Table, see :func:`~experiments.runner.tagged_table`) as Parquet.

    A run's table is small (tens of rows): compression gains nothing on its floats, and
    dictionaries and statistics for every metric column cost more time than the data. So: no
    compression, dictionary encoding for text columns, statistics for the id columns and the
    swept settings (the columns a reader filters on), which together halve the time of a write.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    text = [f.name for f in table.schema if pa.types.is_string(f.type)]
    filters = [f.name for f in table.schema if f.name in STATISTICS_COLUMNS or "." in f.name]
    pq.write_table(table, path, compression="none", use_dictionary=text or False, write_statistics=filters or False)


def write_json(path: Path, data: dict) -> None:
    """Write ``data`` as indented JSON, atomically."""
    _atomic_write(path, lambda p: p.write_text(json.dumps(data, indent=2, default=str) + "\n"))


class ResultStore:
    """The folder a sweep writes into.

    Parameters
    ----------
    out : path
        The sweep's folder (created if missing; its parent must exist).
    """

    def __init__(self, out: str | os.PathLike):
        self.root = Path(out)
        self.metrics = self.root / "metrics"
        self.decisions = self.root / "decisions"
        self.failures = self.root / "failures"
        self.manifest_path = self.root / MANIFEST

    def check(self, resume: bool) -> None:
        """Fail unless the folder can take a new sweep (or, with ``resume``, holds one)."""
        parent = self.root.parent if str(self.root.parent) else Path(".")
        if not parent.is_dir():
            raise InputError(f"--out {str(self.root)!r}: folder {str(parent)!r} does not exist")
        if self.root.exists() and not self.root.is_dir():
            raise InputError(f"--out {str(self.root)!r} is a file; allowed: a folder")
        if resume and not self.manifest_path.exists():
            raise InputError(f"--resume: {str(self.root)!r} holds no sweep ({MANIFEST} missing)")
        if not resume and (self.manifest_path.exists() or self.done_ids()):
            raise InputError(f"--out {str(self.root)!r} already holds a sweep; use --resume to finish it "
                             f"or choose a new folder")
        if self.root.exists() and not os.access(self.root, os.W_OK):
            raise InputError(f"--out {str(self.root)!r} is not writable")

    def create(self) -> None:
        for folder in (self.root, self.metrics, self.decisions, self.failures):
            folder.mkdir(exist_ok=True)

    def done_ids(self) -> set[int]:
        """Run ids whose results are on disk."""
        if not self.metrics.is_dir():
            return set()
        return {int(p.name[4:10]) for p in self.metrics.glob("run-*.parquet")}

    def read_manifest(self) -> dict:
        return json.loads(self.manifest_path.read_text())

    def write_manifest(self, manifest: dict) -> None:
        write_json(self.manifest_path, manifest)

    def save(self, result: RunResult) -> None:
        """Write one finished run: decisions first, then metrics (the run's 'done' mark)."""
        name = run_file(result.spec.run_id, ".parquet")
        failure = self.failures / run_file(result.spec.run_id, ".json")
        if not result.ok:
            write_json(failure, {**asdict(result.spec), "error": result.error, "traceback": result.traceback})
            return
        if result.decisions is not None:
            _atomic_write(self.decisions / name, lambda p: write_parquet(result.decisions, p))
        _atomic_write(self.metrics / name, lambda p: write_parquet(result.metrics, p))
        failure.unlink(missing_ok=True)  # it failed before, and succeeded on --resume

    def failures_list(self) -> list[dict]:
        """Every recorded failure (without tracebacks), in run-id order."""
        out = []
        for path in sorted(self.failures.glob("run-*.json")) if self.failures.is_dir() else []:
            record = json.loads(path.read_text())
            record.pop("traceback", None)
            out.append(record)
        return out


def read_results(out: str | os.PathLike, table: str = "metrics") -> pd.DataFrame:
    """Read a sweep's ``metrics`` (or ``decisions``) table, sorted by run and quarter.

    Raises
    ------
    InputError
        If ``out`` holds no sweep results.
    """
    folder = Path(out) / table
    files = sorted(folder.glob("run-*.parquet")) if folder.is_dir() else []
    if not files:
        raise InputError(f"{str(out)!r} holds no {table} results (no {folder}/run-*.parquet)")
    frame = pd.read_parquet(folder, engine="pyarrow")
    order = ["run_id", "quarter_index"] if "quarter_index" in frame else ["run_id"]
    return frame.sort_values(order, kind="stable").reset_index(drop=True)
