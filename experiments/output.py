"""Writing tables: CSV or Parquet by the file's extension, checked before any work starts.

Every output path is checked before a run (:func:`check_output_paths`): the extension, the
length of the name, that its folder exists and takes a new file, that it is not a folder, a
device, a FIFO or a file under ``/proc``, ``/sys`` or ``/dev``, and that no two outputs are the
same file. Tables are then written all or nothing (:func:`write_tables`): each to a temporary
file in the same folder, renamed into place only once all are written, and the temporary
files removed on any error, so a full disk or a file-size limit leaves nothing partial behind.
"""
from __future__ import annotations

import errno
import os
import secrets
import stat
from pathlib import Path

import pandas as pd

from geogame.model import InputError
from geogame.model import show_value

FORMATS = (".csv", ".parquet")
#: Folders of the kernel and devices: never a place for a table.
SYSTEM_FOLDERS = ("/proc", "/sys", "/dev")
#: Longest path accepted (bytes), as Linux's PATH_MAX.
MAX_PATH_BYTES = 4096
_TEMP_PREFIX = ".geogame-"
_TEMP_SUFFIX = ".tmp"


class OutputError(Exception):
    """Writing an output failed after the run (disk full, file-size limit): exit code 1.

    The message names the path and the reason on one line; nothing partial is left.
    """


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _kind(mode: int) -> str | None:
    for test, kind in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return None


def check_output_path(path: str | os.PathLike, option: str = "--out") -> Path:
    """Raise :class:`InputError` (one line) unless a table can be written at ``path``.

    Parameters
    ----------
    path : str or path
        The file to write: ``.csv`` or ``.parquet``.
    option : str
        The option that named it, for the message (``--out``, ``--decisions``).

    Returns
    -------
    pathlib.Path
        ``path`` as a Path.
    """
    text = os.fspath(path)
    shown = show_value(text)
    if "\0" in text:
        raise InputError(f"{option} {shown}: a file name cannot hold a NUL character; allowed: a file name")
    p = Path(text)
    if p.suffix.lower() not in FORMATS:
        raise InputError(f"{option} {shown} must end in .csv or .parquet")
    folder = p.parent if str(p.parent) else Path(".")
    name_bytes, limit = len(os.fsencode(p.name)), _name_max(folder if folder.is_dir() else Path("."))
    if name_bytes > limit:
        raise InputError(f"{option} {shown}: the file name is {name_bytes:,} bytes long; allowed: up to {limit}")
    if len(os.fsencode(os.path.abspath(text))) >= MAX_PATH_BYTES:
        raise InputError(f"{option} {shown}: the path is too long; allowed: up to {MAX_PATH_BYTES - 1} bytes")
    try:
        folder_info = folder.stat()
    except FileNotFoundError:
        raise InputError(f"{option} {shown}: folder {show_value(str(folder))} does not exist") from None
    except OSError as exc:
        raise InputError(f"{option} {shown}: folder {show_value(str(folder))} cannot be used "
                         f"({exc.strerror}); allowed: an existing, writable folder") from None
    if not stat.S_ISDIR(folder_info.st_mode):
        raise InputError(f"{option} {shown}: {show_value(str(folder))} is not a folder")
    real = os.path.realpath(text)
    for system in SYSTEM_FOLDERS:
        if real == system or real.startswith(system + "/"):
            raise InputError(f"{option} {shown} is under {system}, a system folder; "
                             "allowed: a file in an ordinary folder")
    try:
        info = os.stat(text)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise InputError(f"{option} {shown} cannot be used ({exc.strerror}); allowed: a writable file") from None
    if info is not None:
        kind = _kind(info.st_mode)
        if kind:
            raise InputError(f"{option} {shown} is {kind}; allowed: a regular file (new or to be replaced)")
        if not os.access(text, os.W_OK):
            raise InputError(f"{option} {shown} is read-only; allowed: a writable file")
    _probe_folder(folder, option, shown)
    return p


def _probe_folder(folder: Path, option: str, shown: str) -> None:
    """Create and remove a temporary file in ``folder``: the only sure test that it takes one."""
    probe = folder / f"{_TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}{_TEMP_SUFFIX}"
    try:
        with open(probe, "xb"):
            pass
    except OSError as exc:
        raise InputError(f"{option} {shown}: folder {show_value(str(folder))} is not writable "
                         f"({exc.strerror}); allowed: a writable folder") from None
    finally:
        try:
            probe.unlink()
        except OSError:
            pass


def check_output_paths(paths: dict[str, str | os.PathLike]) -> list[Path]:
    """Check several outputs (option -> path) and that no two of them are the same file.

    Raises
    ------
    InputError
        One line naming the first bad path, or the two options that name the same file.
    """
    checked = [check_output_path(path, option) for option, path in paths.items()]
    seen: dict[str, str] = {}
    for option, path in paths.items():
        real = os.path.realpath(path)
        same = seen.get(real)
        if same is None:
            for other_real, other in seen.items():
                if os.path.exists(real) and os.path.exists(other_real) and os.path.samefile(real, other_real):
                    same = other
        if same is not None:
            raise InputError(f"{same} and {option} name the same file {show_value(os.fspath(path))}; "
                             "allowed: a different file for each")
        seen[real] = option
    return checked


def _write_one(table: pd.DataFrame, path: Path, suffix: str) -> None:
    """Write ``table`` to ``path`` in the format of ``suffix`` (.parquet or .csv)."""
    if suffix.lower() == ".parquet":
        table.to_parquet(path, index=False, engine="pyarrow")
    else:
        table.to_csv(path, index=False)


def _is_write_error(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return True
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        return False
    return isinstance(exc, pa.ArrowException)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno == errno.EFBIG:
        return "file too large (the file-size limit was reached)"
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return "no space left on the device"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def write_tables(items: list[tuple[pd.DataFrame, str | os.PathLike]]) -> None:
    """Write several tables, all or nothing, each atomically (temporary file, then rename).

    Each table goes to a temporary file in its own folder; only when every one is written are
    they renamed into place. On any error (or Ctrl-C) the temporary files are removed.

    Raises
    ------
    OutputError
        A write failed (full disk, file-size limit, ...): one line naming the path; no output
        was changed.
    """
    temps: list[tuple[Path, Path]] = []
    current = None
    try:
        for table, path in items:
            current = Path(path)
            tmp = current.with_name(f"{_TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}{_TEMP_SUFFIX}")
            temps.append((tmp, current))
            _write_one(table, tmp, current.suffix)
        for tmp, final in temps:
            current = final
            os.replace(tmp, final)
    except BaseException as exc:
        for tmp, _ in temps:
            try:
                tmp.unlink()
            except OSError:
                pass
        if isinstance(exc, Exception) and _is_write_error(exc):
            raise OutputError(f"cannot write {show_value(str(current))}: {_reason(exc)}; "
                              "nothing was written") from None
        raise


def write_table(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write ``table`` as CSV or Parquet (pyarrow, by the extension), atomically.

    Raises
    ------
    OutputError
        The write failed; nothing was left at ``path`` or beside it.
    """
    write_tables([(table, path)])
