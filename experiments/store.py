"""A sweep's folder on disk: results written as runs finish, compacted into large files, a manifest.

Layout::

    OUT/manifest.json                     design, scenario text, version, sessions, status, failures
    OUT/metrics/run-000123.parquet        a finished run not yet compacted (tidy quarterly rows)
    OUT/metrics/part-000004.parquet       many finished runs compacted into one file
    OUT/decisions/...                     the same for the decisions, with --decisions
    OUT/failures/run-000007.json          a run that raised: parameters, seed, error

**As runs finish** each is written to its own ``run-NNNNNN.parquet`` (temporary name, then
rename: a killed sweep never leaves a half file). **Compaction**: every ``compact_every`` finished
runs, and when the sweep ends (complete or interrupted), the sweep process gathers the run files
into one ``part-NNNNNN.parquet`` (rows sorted by run and quarter; row groups of about 64,000 rows;
the run ids it holds listed in its footer's key-value metadata ``geogame.run_ids``), renames it
into place, and only then removes the run files. The dataset is thus *partitioned* into part
files by batch of finished runs, each of a few to tens of MB, whose footers carry min/max
statistics of the id columns and swept settings (readers skip parts by run or setting).

**Which runs are done** is read from the files, never from the manifest (which is written
after them): a run is done when its id is in a part's footer or its run file exists. A crash
between a part's rename and the removal of its run files leaves runs in both: readers use the
part and ignore those run files, and ``--resume`` removes them. On ``--resume`` each run file and
part is opened (its Parquet footer read and its row count checked): an unreadable file (zero
bytes, truncated) is removed and its runs made again; temporary files left by dead workers are
removed; other names in the folders are ignored.

``read_results(OUT)`` reads the table (optionally only some columns and rows, through a
``pyarrow.dataset``); ``result_dataset_files(OUT)`` lists the files to hand to DuckDB or pyarrow.
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

from .design import ID_COLUMNS

MANIFEST = "manifest.json"
#: A run's result file name; anything else in the result folders is not a result.
RUN_FILE = re.compile(r"^run-(\d{6,})\.parquet$")
#: A compacted file of many runs.
PART_FILE = re.compile(r"^part-(\d{6,})\.parquet$")
#: Footer key listing the run ids a part holds (JSON list of [first, last] ranges, both included).
RUN_IDS_KEY = b"geogame.run_ids"
#: Finished runs gathered into one part (a 40-quarter run is about 27 KB: parts of about 27 MB).
COMPACT_EVERY = 1000
#: Rows per row group in a part.
PART_ROW_GROUP = 65_536
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
        for above in Path(real).parents:
            if (above / MANIFEST).is_file():
                raise InputError(f"--out {shown} is inside the sweep folder {show_value(str(above))}; allowed: "
                                 "a folder outside any sweep (results there would mix with that sweep's)")
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
        """Make the sweep folder and its ``metrics``, ``decisions`` and ``failures`` folders (kept if there)."""
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

    def part_files(self, table: str = "metrics") -> list[Path]:
        """The compacted parts of ``metrics`` (or ``decisions``), in order."""
        folder = self.root / table
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir() if PART_FILE.match(p.name) and p.is_file())

    def part_ids(self, table: str = "metrics") -> dict[Path, list[int]]:
        """Part file -> the run ids it holds (read from its footer; a part that cannot be read is left out)."""
        out = {}
        for path in self.part_files(table):
            try:
                out[path] = part_run_ids(path)
            except Exception:  # noqa: BLE001 - a damaged part: verify() removes it
                continue
        return out

    def done_ids(self) -> set[int]:
        """Run ids whose results are on disk: in a part or in a run file (see :meth:`verify` for their content)."""
        done = set(self.result_files())
        for ids in self.part_ids().values():
            done.update(ids)
        return done

    def dataset_files(self, table: str = "metrics") -> list[Path]:
        """Every file of ``table`` to read, each run once: the parts, then the run files no part holds."""
        parts = self.part_ids(table)
        covered = set().union(*parts.values()) if parts else set()
        runs = [path for run_id, path in sorted(self.result_files(table).items()) if run_id not in covered]
        return [*parts, *runs]

    def verify(self, rows: int | None = None) -> tuple[set[int], list[str]]:
        """Check every part and run file can be read; remove those that cannot, so their runs are made again.

        Run files whose runs a part already holds (left by a crash during compaction) are removed too.

        Parameters
        ----------
        rows : int, optional
            Rows a complete run holds in ``metrics`` (quarters + 1); a file with another count is damaged.

        Returns
        -------
        (set of int, list of str)
            The run ids whose results are sound, and the names of the damaged files removed.
        """
        import pyarrow.parquet as pq

        done, removed = set(), []
        decision_parts, damaged = {}, set()   # a part's two tables share its name: removed together
        for path in self.part_files("decisions"):
            try:
                pq.read_metadata(path)
                decision_parts[path.name] = part_run_ids(path)
            except Exception:  # noqa: BLE001 - unreadable: removed below with its metrics twin
                damaged.add(path.name)
        for path in self.part_files():
            try:
                ids = part_run_ids(path)
                meta = pq.read_metadata(path)
                sound = meta.num_rows > 0 and (rows is None or meta.num_rows == rows * len(ids))
            except Exception:  # noqa: BLE001 - any unreadable file (pyarrow raises several kinds)
                sound, ids = False, []
            if sound and path.name not in damaged:
                done.update(ids)
            else:
                path.unlink(missing_ok=True)
                removed.append(path.name)
                damaged.add(path.name)
        for name in sorted(damaged):  # its runs are made again: neither table may keep them
            twin = self.root / "decisions" / name
            if twin.exists():
                twin.unlink(missing_ok=True)
                removed.append(f"decisions/{name}")
            decision_parts.pop(name, None)
        decisions_covered = set().union(*decision_parts.values())
        decisions = self.result_files("decisions")
        for run_id, path in list(decisions.items()):
            if run_id in decisions_covered:
                path.unlink(missing_ok=True)  # already in a part (a crash during compaction)
                del decisions[run_id]
        for run_id, path in sorted(self.result_files().items()):
            if run_id in done:
                path.unlink(missing_ok=True)  # already in a part (a crash during compaction)
                continue
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

    def compact(self, min_runs: int = 1) -> int:
        """Gather the run files into one new part per table, if there are at least ``min_runs``.

        The decisions part is written first, then the metrics part (each to a temporary name,
        then renamed), and only then are the run files removed: a crash at any point loses
        nothing (see the module's docstring). Returns the number of runs compacted.

        Raises
        ------
        OSError
            Writing a part failed (a full disk): the part's temporary file is removed and every
            run file is kept, so nothing is lost; the error names the part.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        files = self.result_files()
        decisions = self.result_files("decisions")
        # A run a part already holds was written again (a task Dask re-ran after its worker died,
        # the runs being deterministic): drop the second copy instead of gathering it twice.
        for run_id in sorted(set().union(*self.part_ids().values()) & set(files)):
            files.pop(run_id).unlink(missing_ok=True)
            if run_id in decisions:
                decisions.pop(run_id).unlink(missing_ok=True)
        if not files or len(files) < min_runs:
            return 0
        ids = sorted(files)
        number = 1 + max((int(PART_FILE.match(p.name).group(1))
                          for table in ("metrics", "decisions") for p in self.part_files(table)), default=-1)
        name = f"part-{number:06d}.parquet"
        with_decisions = [i for i in ids if i in decisions]
        if with_decisions:
            tables = [pq.read_table(decisions[i]) for i in with_decisions]
            write_part(pa.concat_tables(tables, promote_options="default"), self.decisions / name, with_decisions)
        write_part(pa.concat_tables([pq.read_table(files[i]) for i in ids], promote_options="default"),
                   self.metrics / name, ids)
        for run_id in ids:
            files[run_id].unlink(missing_ok=True)
            if run_id in decisions:
                decisions[run_id].unlink(missing_ok=True)
        return len(ids)

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

    def read_manifest(self, option: str = "--resume") -> dict:
        """The sweep's manifest; a damaged one is one line, naming ``option`` (the flag that needed
        it), that says how to recover.

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
            raise InputError(f"{option}: {show_value(str(self.manifest_path))} cannot be read ({reason}); "
                             f"{recover}") from None
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise InputError(f"{option}: {show_value(str(self.manifest_path))} is damaged (not JSON: "
                             f"{str(exc).splitlines()[0][:80]}); {recover}") from None
        if not isinstance(data, dict):
            raise InputError(f"{option}: {show_value(str(self.manifest_path))} is damaged (a JSON "
                             f"{type(data).__name__}, not an object); {recover}")
        return data

    def write_manifest(self, manifest: dict) -> None:
        """Write ``manifest.json`` atomically (a temporary file renamed into place)."""
        write_json(self.manifest_path, manifest)

    def save(self, result) -> None:
        """Write one finished run (a :class:`~experiments.runner.RunResult`): decisions first, then
        metrics (the run's 'done' mark); a failed run's record goes to ``failures/``."""
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


def part_run_ids(path) -> list[int]:
    """The run ids a compacted part holds, from its footer (``geogame.run_ids``)."""
    import pyarrow.parquet as pq

    ranges = json.loads(pq.read_schema(path).metadata[RUN_IDS_KEY])
    return [i for first, last in ranges for i in range(first, last + 1)]


def _id_ranges(ids: list[int]) -> list[list[int]]:
    """Sorted ids as ``[first, last]`` ranges: ``[0, 1, 2, 5] -> [[0, 2], [5, 5]]``."""
    out: list[list[int]] = []
    for i in ids:
        if out and i == out[-1][1] + 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    return out


def write_part(table, path: Path, ids: list[int]) -> None:
    """Write a compacted part atomically: rows sorted by run (and quarter), the run ids in the footer."""
    import pyarrow.parquet as pq

    order = [("run_id", "ascending")] + ([("quarter_index", "ascending")] if "quarter_index" in table.column_names
                                         else [])
    table = table.sort_by(order)
    metadata = {**(table.schema.metadata or {}), RUN_IDS_KEY: json.dumps(_id_ranges(sorted(ids))).encode()}
    table = table.replace_schema_metadata(metadata)
    filters = [f.name for f in table.schema if f.name in STATISTICS_COLUMNS or "." in f.name]
    _atomic_write(path, lambda p: pq.write_table(table, p, row_group_size=PART_ROW_GROUP,
                                                 write_statistics=filters or False))


def result_dataset_files(out: str | os.PathLike, table: str = "metrics") -> list[str]:
    """The files holding a sweep's ``metrics`` (or ``decisions``), each run once (for DuckDB or pyarrow).

    Raises
    ------
    InputError
        If ``out`` is not a folder or holds no results.
    """
    root = Path(out)
    if root.exists() and not root.is_dir():
        raise InputError(f"{show_value(str(out))} is not a folder; allowed: a sweep's folder (geogame sweep --out)")
    files = ResultStore(out).dataset_files(table)
    if not files:
        raise InputError(f"{show_value(str(out))} holds no {table} results (no {root / table}/part-NNNNNN.parquet "
                         "or run-NNNNNN.parquet)")
    return [str(f) for f in files]


def read_results(out: str | os.PathLike, table: str = "metrics", columns: list[str] | None = None,
                 filter=None) -> pd.DataFrame:
    """Read a sweep's ``metrics`` (or ``decisions``) table, sorted by run and quarter.

    Parameters
    ----------
    out : path
        The sweep's folder.
    table : {"metrics", "decisions"}
    columns : list of str, optional
        Only these columns (default all): memory is then bounded by what is read.
    filter : pyarrow.compute.Expression, optional
        Only the rows it selects, e.g. ``pyarrow.dataset.field("quarter") == "2027Q4"``.

    Raises
    ------
    InputError
        If ``out`` holds no sweep results, or a file cannot be read.
    """
    import pyarrow.dataset as ds

    files = result_dataset_files(out, table)
    try:
        data = ds.dataset(files, format="parquet")
        if columns is not None:
            unknown = [c for c in columns if c not in data.schema.names]
            if unknown:
                raise InputError(f"column {show_value(unknown[0])} is not in the {table} of {show_value(str(out))}; "
                                 f"allowed: {', '.join(data.schema.names)}")
        frame = data.to_table(columns=columns, filter=filter).to_pandas()
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged file: say which way to repair
        raise InputError(f"{show_value(str(out))}: a {table} file cannot be read ({str(exc).splitlines()[0][:100]}); "
                         "run the same sweep with --resume to re-make damaged runs") from None
    order = [c for c in ("run_id", "quarter_index") if c in frame]
    return frame.sort_values(order, kind="stable").reset_index(drop=True) if order else frame
