"""Writing tables: CSV or Parquet by the file's extension, checked before any work starts."""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from geogame.model import InputError

FORMATS = (".csv", ".parquet")


def check_output_path(path: str | os.PathLike) -> Path:
    """Raise :class:`InputError` unless ``path`` ends in .csv/.parquet and its folder is writable."""
    p = Path(path)
    if p.suffix.lower() not in FORMATS:
        raise InputError(f"output {str(path)!r} must end in .csv or .parquet")
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.exists():
        raise InputError(f"output {str(path)!r}: folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK):
        raise InputError(f"output {str(path)!r}: folder {str(folder)!r} is not writable")
    return p


def write_table(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write ``table`` as CSV or Parquet (pyarrow), atomically (a temporary file, then a rename)."""
    p = Path(path)
    tmp = p.with_name(f".{p.name}.tmp")
    if p.suffix.lower() == ".parquet":
        table.to_parquet(tmp, index=False, engine="pyarrow")
    else:
        table.to_csv(tmp, index=False)
    os.replace(tmp, p)
