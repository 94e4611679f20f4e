"""SQL over a sweep's results with DuckDB, without loading them: ``geogame query DIR "SELECT ..."``.

DuckDB reads the sweep's Parquet files where they lie, through views:

* ``runs``: the sweep's metrics (its compacted parts ``DIR/metrics/part-*.parquet`` and the run
  files not yet compacted, each run once: :func:`geogame.experiments.store.result_dataset_files`),
  one row per run and quarter, the columns of :func:`geogame.experiments.store.read_results`
  (``run_id, point_id, replicate, seed``, the swept settings, ``quarter_index, quarter`` and every
  metric);
* ``decisions``: every decisions file, when the sweep kept them (``--decisions``).

It reads only the columns and row groups a query needs and streams the aggregation, so the memory
a query takes is bounded by what it reads and what it returns, not by the size of the sweep
(``memory_limit`` caps DuckDB's own buffers; see benchmarks/bench_query.py). Swept settings have
dots in their names: quote them, ``"eu.price_cap_usd"``.

Only one read-only statement is run (``SELECT``, ``WITH ... SELECT``, ``DESCRIBE``, ``SUMMARIZE``,
``EXPLAIN``); anything else (``COPY``, ``CREATE``, ``ATTACH``, ...) is refused.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from geogame.model import InputError, show_value

#: Views defined over a sweep's folder: view name -> subfolder of the Parquet files.
VIEWS = {"runs": "metrics", "decisions": "decisions"}
#: DuckDB statement types a query may be.
READ_ONLY = ("SELECT", "EXPLAIN")


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def connect(folder, memory_limit: str = "1GB", threads: int | None = None):
    """A DuckDB connection (in memory) with the views ``runs`` (and ``decisions``) over ``folder``.

    Parameters
    ----------
    folder : path
        A sweep's folder (``geogame sweep --out``).
    memory_limit : str
        DuckDB's memory limit (``"1GB"``, ``"500MB"``).
    threads : int, optional
        DuckDB's threads (default: DuckDB's choice, the machine's cores).

    Raises
    ------
    InputError
        ``folder`` is not a folder, holds no sweep (no ``manifest.json``) or no finished run.
    """
    import duckdb

    root = Path(folder)
    shown = show_value(str(folder))
    if not root.is_dir():
        raise InputError(f"DIR {shown} is not a folder; allowed: a sweep's folder (geogame sweep --out)")
    if not (root / "manifest.json").is_file():
        raise InputError(f"DIR {shown} holds no sweep (manifest.json missing); allowed: a folder made by "
                         "geogame sweep --out")
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"SET memory_limit = {_sql_string(memory_limit)}")
    except duckdb.Error as exc:
        con.close()
        raise InputError(f"--memory-limit {show_value(memory_limit)} is not allowed ({str(exc).splitlines()[0]}); "
                         "allowed: a size such as 500MB or 2GB") from None
    con.execute("SET preserve_insertion_order = false")  # stream large answers instead of buffering them
    con.execute("SET enable_progress_bar = false")  # it wrote onto stdout, into the answer, after 2 s
    if threads is not None:
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            con.close()
            raise InputError(f"--threads = {threads!r} is not allowed; allowed whole numbers >= 1")
        con.execute(f"SET threads = {threads}")
    from .store import ResultStore

    store = ResultStore(root.resolve())
    made = []
    for view, sub in VIEWS.items():
        files = store.dataset_files(sub)
        if files:
            con.execute(f"CREATE VIEW {view} AS SELECT * FROM read_parquet({_file_list(files)})")
            made.append(view)
    if "runs" not in made:
        con.close()
        raise InputError(f"DIR {shown} holds no finished runs ({root / 'metrics'}/run-NNNNNN.parquet)")
    return con


def _file_list(files) -> str:
    """A DuckDB list of the files to read: each named (the parts, and run files no part holds).

    Not ``union_by_name``: it opens every file's schema up front and held 1.3 GB for 10,000 run
    files (132 MB without it); every file of a sweep has the same columns.
    """
    return "[" + ", ".join(_sql_string(str(f)) for f in files) + "]"


def check_statement(con, sql: str) -> None:
    """Refuse anything but one read-only statement, in one line.

    Raises
    ------
    InputError
        Empty SQL, more than one statement, a statement that is not a query, or SQL DuckDB cannot parse.
    """
    import duckdb

    if not isinstance(sql, str) or not sql.strip():
        raise InputError("SQL: empty; allowed: one SELECT statement over the view runs (or decisions)")
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise InputError(f"SQL: {_first_line(exc)}") from None
    if len(statements) != 1:
        raise InputError(f"SQL: {len(statements)} statements given; allowed: one SELECT statement")
    kind = statements[0].type.name
    if kind not in READ_ONLY:
        raise InputError(f"SQL: a {kind} statement is not allowed; allowed: one read-only SELECT "
                         "(WITH, DESCRIBE, SUMMARIZE and EXPLAIN included) over runs or decisions")


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = " ".join(lines[:2]) if lines and lines[0].endswith(":") else (lines[0] if lines else type(exc).__name__)
    return text[:300]


def query(folder, sql: str, memory_limit: str = "1GB", threads: int | None = None) -> pd.DataFrame:
    """Run one read-only SQL statement over a sweep's results and return its answer.

    Parameters
    ----------
    folder : path
        A sweep's folder.
    sql : str
        One ``SELECT`` over the views ``runs`` and ``decisions``, for example
        ``SELECT "eu.price_cap_usd", avg(crude_share_ind_from_rus) FROM runs WHERE quarter = '2027Q4'
        GROUP BY 1 ORDER BY 1``.
    memory_limit, threads
        As for :func:`connect`.

    Returns
    -------
    pandas.DataFrame
        The answer (only the answer is held in memory).

    Raises
    ------
    InputError
        A folder that is not a sweep, or SQL that is not one read-only statement or that DuckDB
        refuses (an unknown column, a syntax error): one line with DuckDB's reason.
    """
    import duckdb

    con = connect(folder, memory_limit, threads)
    try:
        check_statement(con, sql)
        try:
            return con.execute(sql).df()
        except duckdb.Error as exc:
            raise InputError(f"SQL: {_first_line(exc)}") from None
    finally:
        con.close()
