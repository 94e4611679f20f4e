"""A sweep's folder on disk: results written as runs finish, a manifest, failures.

Layout::

    OUT/manifest.json                     design, scenario text, version, times, failures
    OUT/metrics/run-000123.parquet        one file per finished run (tidy quarterly rows)
    OUT/decisions/run-000123.parquet      with --decisions
    OUT/failures/run-000007.json          a run that raised: parameters, seed, error

Every file is written to a temporary name and renamed, so a killed sweep never leaves a half
file; a run is *done* when its metrics file exists. On ``--resume`` each metrics file is opened
(its Parquet footer read and its row count checked): a file that cannot be read, such as a
zero-byte or truncated one, is removed and its run made again; temporary files left by dead
workers are removed; files in ``metrics/`` not named ``run-NNNNNN.parquet`` are ignored.
``read_results(OUT)`` reads the whole dataset.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from geogame.model import InputError
from geogame.model import show_value

from .runner import ID_COLUMNS, RunResult

MANIFEST = "manifest.json"
#: A run's result file name; anything else in the result folders is not a result.
RUN_FILE = re.compile(r"^run-(\d{6,})\.parquet$")
_TEMP = re.compile(r"^\..*\.tmp$")


def run_file(run_id: int, suffix: str) -> str:
    """File name of one run's result: ``run-000123.parquet``."""
    return f"run-{run_id:06d}{suffix}"


def _atomic_write(path: Path, write) -> None:
    """Write through ``write(tmp)`` to a temporary file beside ``path``, then rename; on any
    error (a full disk, Ctrl-C) remove the temporary file and re-raise."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        if isinstance(exc, OSError) and exc.errno is not None:
            raise OSError(exc.errno, exc.strerror, str(path)) from None  # name the file, not its temp
        raise


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
        shown = show_value(str(self.root))
        text = str(self.root)
        if "\0" in text:
            raise InputError(f"--out {shown}: a folder name cannot hold a NUL character")
        if len(os.fsencode(os.path.abspath(text))) > 3900 or any(len(os.fsencode(part)) > 200
                                                                 for part in self.root.parts):
            raise InputError(f"--out {shown}: the name is too long; allowed: up to 200 bytes a name "
                             "and 3,900 bytes in all (result files go inside)")
        real = os.path.realpath(text)
        for system in ("/proc", "/sys", "/dev"):
            if real == system or real.startswith(system + "/"):
                raise InputError(f"--out {shown} is under {system}, a system folder; allowed: an ordinary folder")
        parent = self.root.parent if str(self.root.parent) else Path(".")
        if not parent.is_dir():
            raise InputError(f"--out {shown}: folder {show_value(str(parent))} does not exist")
        if self.root.exists() and not self.root.is_dir():
            raise InputError(f"--out {shown} is a file; allowed: a folder")
        if resume and not self.manifest_path.is_file():
            raise InputError(f"--resume: {shown} holds no sweep ({MANIFEST} missing); run without --resume "
                             "into a new folder")
        if resume:
            self.read_manifest()  # a damaged manifest is refused here, before anything starts
        if not resume and (self.manifest_path.exists() or self.done_ids()):
            raise InputError(f"--out {shown} already holds a sweep; use --resume to finish it "
                             f"or choose a new folder")
        probe = (self.root if self.root.is_dir() else parent) / f".geogame-probe-{os.getpid()}.tmp"
        try:
            probe.touch(exist_ok=False)
        except OSError as exc:
            raise InputError(f"--out {shown} is not writable ({exc.strerror}); allowed: a writable folder") from None
        finally:
            probe.unlink(missing_ok=True)

    def create(self) -> None:
        for folder in (self.root, self.metrics, self.decisions, self.failures):
            folder.mkdir(exist_ok=True)

    def result_files(self, table: str = "metrics") -> dict[int, Path]:
        """Run id -> result file in ``metrics`` (or ``decisions``); other names are ignored."""
        folder = self.root / table
        if not folder.is_dir():
            return {}
        out = {}
        for path in folder.iterdir():
            match = RUN_FILE.match(path.name)
            if match and path.is_file():
                out[int(match.group(1))] = path
        return out

    def done_ids(self) -> set[int]:
        """Run ids whose results are on disk (by name; see :meth:`verify` for their content)."""
        return set(self.result_files())

    def verify(self, rows: int | None = None) -> tuple[set[int], list[str]]:
        """Check every result file can be read; remove those that cannot, so their runs are made again.

        Parameters
        ----------
        rows : int, optional
            Rows a complete metrics file holds (quarters + 1); a file with another count is damaged.

        Returns
        -------
        (set of int, list of str)
            The run ids whose results are sound, and the names of the files removed.
        """
        import pyarrow.parquet as pq

        done, removed = set(), []
        decisions = self.result_files("decisions")
        for run_id, path in sorted(self.result_files().items()):
            try:
                meta = pq.read_metadata(path)
                sound = meta.num_rows > 0 and (rows is None or meta.num_rows == rows)
                if sound and run_id in decisions:
                    pq.read_metadata(decisions[run_id])  # raises if the decisions file is damaged
            except Exception:  # noqa: BLE001 - any unreadable file (pyarrow raises several kinds)
                sound = False
            if sound:
                done.add(run_id)
                continue
            for damaged in (path, decisions.get(run_id)):
                if damaged is not None:
                    damaged.unlink(missing_ok=True)
            removed.append(path.name)
        return done, removed

    def remove_temp_files(self) -> list[str]:
        """Remove temporary files (``.NAME.tmp``) left by killed workers; return their names."""
        removed = []
        for folder in (self.root, self.metrics, self.decisions, self.failures):
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                if _TEMP.match(path.name) and path.is_file():
                    path.unlink(missing_ok=True)
                    removed.append(path.name)
        return removed

    def read_manifest(self) -> dict:
        """The sweep's manifest; a damaged one is one line that says how to recover.

        Raises
        ------
        InputError
            The manifest is missing, not JSON (for example truncated) or not a JSON object.
        """
        recover = (f"the finished runs cannot be checked against the design without it; restore "
                   f"{MANIFEST} from a backup, or run the sweep again with a new --out folder")
        try:
            text = self.manifest_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            raise InputError(f"--resume: {show_value(str(self.manifest_path))} cannot be read ({reason}); "
                             f"{recover}") from None
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise InputError(f"--resume: {show_value(str(self.manifest_path))} is damaged (not JSON: "
                             f"{str(exc).splitlines()[0][:80]}); {recover}") from None
        if not isinstance(data, dict):
            raise InputError(f"--resume: {show_value(str(self.manifest_path))} is damaged (a JSON "
                             f"{type(data).__name__}, not an object); {recover}")
        return data

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
            match = re.match(r"^run-(\d{6,})\.json$", path.name)
            if not match:
                continue
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError, RecursionError):
                record = None
            if not isinstance(record, dict):
                record = {"run_id": int(match.group(1)), "error": f"failure record {path.name} cannot be read"}
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
    import pyarrow.parquet as pq

    root = Path(out)
    if root.exists() and not root.is_dir():
        raise InputError(f"{show_value(str(out))} is not a folder; allowed: a sweep's folder (geogame sweep --out)")
    folder = root / table
    files = [path for _, path in sorted(ResultStore(out).result_files(table).items())]
    if not files:
        raise InputError(f"{show_value(str(out))} holds no {table} results (no {folder}/run-NNNNNN.parquet)")
    try:
        frame = pq.ParquetDataset([str(f) for f in files]).read().to_pandas()
    except Exception as exc:  # noqa: BLE001 - a damaged file: say which way to repair
        raise InputError(f"{show_value(str(out))}: a {table} file cannot be read ({str(exc).splitlines()[0][:100]}); "
                         "run the same sweep with --resume to re-make damaged runs") from None
    order = ["run_id", "quarter_index"] if "quarter_index" in frame else ["run_id"]
    return frame.sort_values(order, kind="stable").reset_index(drop=True)
