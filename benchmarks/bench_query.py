"""Read time and peak memory of a sweep's results at 10^3, 10^4 and 10^5 runs.

    .venv/bin/python benchmarks/bench_query.py                 # 1,000 and 10,000 runs, compacted
    .venv/bin/python benchmarks/bench_query.py --sizes 1000 10000 100000
    .venv/bin/python benchmarks/bench_query.py --layout per-run --sizes 1000 10000   # one file per run
    .venv/bin/python benchmarks/bench_query.py --real          # a real 1,000-run sweep

Folders. With ``--real`` the 1,000-run folder is a real sweep (40 quarters, 2 workers, the US
oil penalty 0 or 0.5 x the EU price cap 40 or 60, 250 replicates each), compacted as the sweep
leaves it. Every other folder is **synthetic, with the real layout**: one real run's metrics (40
quarters, the same swept settings) repeated N times with its ids, seed and settings changed and
its metrics jittered, and written with the sweep's own writers: ``--layout compacted`` (default)
as a finished sweep leaves it, parts of 1,000 runs written by ``experiments.store.write_part``
(the compaction's writer, run ids in the footer); ``--layout per-run`` one file per run
(``experiments.store.write_parquet``), as before compaction existed (and as ``--compact-every 0``
leaves it). Folders are kept under ``--work`` (default ``/tmp/geogame-bench-query``) and reused.

Measurements, each in a fresh Python process (peak memory = that process's maximum resident set
size, ``VmHWM``; ``base`` is the same process after its imports, before reading). The page
cache is warm (the files were just written or read):

* ``duckdb aggregate``: ``geogame.experiments.query.query`` with the mean of India's Russian-crude
  share at the last quarter by price cap (one row per cap);
* ``duckdb column``: one metric of every run and quarter into pandas (``run_id, quarter_index``
  and the metric): the issue's "read a column of 100,000 runs";
* ``pyarrow column``: the same column through ``experiments.store.read_results(columns=...)``
  (a ``pyarrow.dataset`` over the parts);
* ``pandas read_results``: the whole table with ``experiments.store.read_results`` (what the
  report reads), at 10^3 and 10^4 runs only (10^5 holds 4.1 million rows of about 100 columns).
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

GRID = {"usa.oil_penalty_tariff_on_ind": [0.0, 0.25, 0.5], "eu.price_cap_usd": [40.0, 50.0, 60.0]}
QUARTERS = 40


def template(work: Path) -> Path:
    """One real run's metrics file (40 quarters, the grid's settings as columns)."""
    folder = work / "template"
    files = sorted((folder / "metrics").glob("*.parquet")) if folder.exists() else []
    if not files:
        shutil.rmtree(folder, ignore_errors=True)
        from geogame.experiments import sweep
        sweep(quarters=QUARTERS, points=[{k: v[0] for k, v in GRID.items()}], seed=1, out=folder, backend="serial")
        files = sorted((folder / "metrics").glob("*.parquet"))
    return files[0]


def synthetic(work: Path, n: int, layout: str = "compacted") -> Path:
    """A folder of ``n`` runs with the real layout (see the module's docstring); reused if complete."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from geogame.experiments.store import COMPACT_EVERY, ResultStore, run_file, write_parquet, write_part

    folder = work / (f"synthetic-{n}" if layout == "per-run" else f"compacted-{n}")
    store = ResultStore(folder)
    if len(store.done_ids()) == n:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    store.create()
    source = template(work)
    shutil.copy(source.parents[1] / "manifest.json", folder / "manifest.json")
    base = pq.read_table(source)
    rows = base.num_rows
    rng = np.random.default_rng(0)
    floats = [f.name for f in base.schema if pa.types.is_floating(f.type) and f.name not in GRID]
    caps = np.array(GRID["eu.price_cap_usd"])
    penalties = np.array(GRID["usa.oil_penalty_tariff_on_ind"])
    clock = time.perf_counter()
    batch = 1 if layout == "per-run" else COMPACT_EVERY
    for first in range(0, n, batch):
        ids = np.arange(first, min(n, first + batch))
        run_ids = np.repeat(ids, rows)
        columns = {name: pa.concat_arrays(base.column(name).chunks * len(ids)) for name in base.schema.names}
        columns["run_id"] = pa.array(run_ids)
        columns["point_id"] = pa.array(run_ids // 10)
        columns["replicate"] = pa.array(run_ids % 10)
        columns["seed"] = pa.array(np.repeat(rng.integers(2**32, size=len(ids)), rows).astype(np.int64))
        columns["eu.price_cap_usd"] = pa.array(caps[(run_ids // 10) % 3])
        columns["usa.oil_penalty_tariff_on_ind"] = pa.array(penalties[(run_ids // 30) % 3])
        noise = 1 + 0.01 * rng.standard_normal(len(run_ids))
        for name in floats:
            columns[name] = pa.array(np.tile(base.column(name).to_numpy(zero_copy_only=False), len(ids)) * noise)
        table = pa.table(columns, schema=base.schema)
        if layout == "per-run":
            write_parquet(table, store.metrics / run_file(int(ids[0]), ".parquet"))
        else:
            write_part(table, store.metrics / f"part-{first // batch:06d}.parquet", ids.tolist())
        if first and first % 10_000 == 0:
            print(f"  wrote {first:,} runs ({time.perf_counter() - clock:.0f} s)", file=sys.stderr)
    return folder


def real(work: Path, n: int = 1000) -> Path:
    """A real sweep of ``n`` runs (40 quarters, 2 workers): 4 design points x n/4 replicates; reused if complete."""
    from geogame.experiments.store import ResultStore

    folder = work / f"real-{n}"
    if len(ResultStore(folder).done_ids()) == n and ResultStore(folder).part_files():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    from geogame.experiments import sweep
    points = [{"usa.oil_penalty_tariff_on_ind": p, "eu.price_cap_usd": c} for p in (0.0, 0.5) for c in (40.0, 60.0)]
    if n % len(points):
        raise SystemExit(f"--real needs a size divisible by {len(points)} (design points); got {n}")
    sweep(quarters=QUARTERS, points=points, replicates=n // len(points), seed=1, backend="processes", workers=2,
          out=folder)
    return folder


#: Code run in a fresh process for each measurement: prints JSON with seconds and memory (MB).
PROBE = r"""
import json, resource, sys, time
kind, folder = sys.argv[1], sys.argv[2]
# A cap on this process's address space, so a measurement that blows up fails alone (exit 1)
# instead of calling the machine's OOM killer on a shared machine.
resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))
import pandas, pyarrow, duckdb
from geogame.experiments.query import query
from geogame.experiments.store import read_results
import pyarrow.parquet as pq
from geogame.experiments.store import result_dataset_files
first = pq.read_table(result_dataset_files(folder)[0], columns=["quarter_index", "quarter"]).to_pandas()
last = first.loc[first["quarter_index"].idxmax(), "quarter"]
def high_water():
    # VmHWM (this process's peak resident memory, MB): exec starts it afresh, whereas ru_maxrss
    # can carry the parent's peak across fork and exec.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
base = high_water()
start = time.perf_counter()  # (the last quarter's label above is read from one file, outside the timing)
if kind == "duckdb aggregate":
    out = query(folder, 'SELECT "eu.price_cap_usd" AS cap, avg(crude_share_ind_from_rus) AS share, count(*) AS runs '
                        f"FROM runs WHERE quarter = '{last}' GROUP BY 1 ORDER BY 1")
    rows = int(out["runs"].sum())
elif kind == "duckdb column":
    out = query(folder, "SELECT run_id, quarter_index, crude_share_ind_from_rus FROM runs")
    rows = len(out)
elif kind == "pyarrow column":
    out = read_results(folder, columns=["run_id", "quarter_index", "crude_share_ind_from_rus"])
    rows = len(out)
else:
    out = read_results(folder)
    rows = len(out)
seconds = time.perf_counter() - start
peak = high_water()
print(json.dumps({"seconds": seconds, "peak_mb": peak, "base_mb": base, "rows": rows}))
"""


def measure(kind: str, folder: Path) -> dict:
    """Run one measurement in a fresh process; return its seconds, peak and base memory (MB) and rows."""
    done = subprocess.run([sys.executable, "-c", PROBE, kind, str(folder)], capture_output=True, text=True,
                          timeout=3600)
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    """Build (or reuse) the folders and print one line per size and measurement, and a JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--real", action="store_true", help="the 1,000-run folder from real runs")
    parser.add_argument("--work", type=Path, default=Path("/tmp/geogame-bench-query"))
    parser.add_argument("--repeat", type=int, default=2, help="measurements per size and kind (best kept)")
    parser.add_argument("--layout", choices=["compacted", "per-run"], default="compacted",
                        help="synthetic folders as a finished sweep leaves them (compacted) or one file per run")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    results = []
    for n in args.sizes:
        clock = time.perf_counter()
        folder = real(args.work, n) if args.real and n == 1000 else synthetic(args.work, n, args.layout)
        made = time.perf_counter() - clock
        files = list((folder / "metrics").glob("*.parquet"))
        size_mb = sum(p.stat().st_size for p in files) / 1e6
        kind_of = "real" if args.real and n == 1000 else f"synthetic, {args.layout}"
        print(f"{n:>7,} runs ({kind_of}, {len(files):,} files, {size_mb:,.0f} MB on disk, ready in {made:.0f} s)")
        kinds = ["duckdb aggregate", "duckdb column", "pyarrow column"] + \
            (["pandas read_results"] if n <= 10_000 else [])
        for kind in kinds:
            runs = [measure(kind, folder) for _ in range(args.repeat)]
            good = [r for r in runs if "error" not in r]
            if not good:
                print(f"    {kind:20s} failed: {runs[0]['error']}")
                results.append({"runs": n, "kind": kind, "error": runs[0]["error"]})
                continue
            best = min(good, key=lambda r: r["seconds"])
            print(f"    {kind:20s} {best['seconds']:7.2f} s   peak {best['peak_mb']:7.0f} MB "
                  f"(after imports {best['base_mb']:.0f} MB)   {best['rows']:,} rows")
            results.append({"runs": n, "kind": kind, "layout": kind_of, "files": len(files),
                            "mb_on_disk": round(size_mb), **best})
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
