"""``geogame query``: aggregate SQL over a sweep's Parquet files with DuckDB (see :mod:`experiments.query`)."""
from __future__ import annotations

import argparse
import sys
import textwrap


def add_parser(sub) -> None:
    """Register ``geogame query``."""
    p = sub.add_parser(
        "query", help="SQL over a sweep's results (DuckDB, without loading them: view runs)",
        description="Answer one read-only SQL statement over a sweep's Parquet files with DuckDB. The view "
                    "runs has one row per run and quarter (run_id, point_id, replicate, seed, the swept "
                    "settings, quarter_index, quarter and every metric); decisions has the decisions when the "
                    "sweep kept them. DuckDB reads only the columns a query needs, so aggregates over a large "
                    "sweep take little memory. Quote swept settings, whose names hold dots: \"eu.price_cap_usd\".",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent("""\
            Examples:
              geogame query results/penalty_x_cap "SELECT count(DISTINCT run_id) AS runs FROM runs"
              geogame query results/penalty_x_cap "SELECT \\"eu.price_cap_usd\\" AS cap, avg(crude_share_ind_from_rus) AS share,
                  quantile_cont(crude_share_ind_from_rus, [0.05, 0.95]) AS band FROM runs WHERE quarter = '2027Q4' GROUP BY 1 ORDER BY 1"
              geogame query results/penalty_x_cap "DESCRIBE runs"
              geogame query results/penalty_x_cap "SELECT ..." --out answer.csv"""))
    p.add_argument("dir", metavar="DIR", help="a sweep's folder (from geogame sweep --out)")
    p.add_argument("sql", metavar="SQL", help="one SELECT statement over the view runs (or decisions)")
    p.add_argument("--out", help="write the answer to a .csv or .parquet file instead of printing it")
    p.add_argument("--max-rows", type=int, default=50, help="rows printed (default: 50; --out writes all)")
    p.add_argument("--memory-limit", default="1GB", help="DuckDB's memory limit (default: 1GB)")
    p.add_argument("--threads", type=int, help="DuckDB's threads (default: all cores)")
    p.set_defaults(func=cmd_query)


def cmd_query(args) -> int:
    """Run the statement; print the answer (or write it with --out)."""
    import pandas as pd

    from geogame.model import InputError

    from .output import check_output_paths, write_tables
    from .query import query

    if args.max_rows < 1:
        raise InputError(f"--max-rows = {args.max_rows} is not allowed; allowed whole numbers >= 1")
    if args.out:
        check_output_paths({"--out": args.out})
    answer = query(args.dir, args.sql, memory_limit=args.memory_limit, threads=args.threads)
    if args.out:
        write_tables([(answer, args.out)])
        print(f"wrote {args.out} ({len(answer)} rows)", file=sys.stderr)
        return 0
    with pd.option_context("display.max_columns", 50, "display.width", 200):
        print(answer.head(args.max_rows).to_string(index=False))
    if len(answer) > args.max_rows:
        print(f"({len(answer)} rows; {args.max_rows} shown: --max-rows or --out for more)", file=sys.stderr)
    return 0
