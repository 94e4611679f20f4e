"""``geogame class``: host a class game, list and export stored games, replay an exported game.

Registered with the ``geogame`` command line as an optional subcommand module (it lives beside
the class game it serves, :mod:`geogame.viz.classroom`, which uses only the model's public API).

::

    geogame class serve [--host 127.0.0.1] [--port 8765] [--db FILE]   # the app; class games at /class
    geogame class list [--db FILE]                                       # stored games
    geogame class export CODE --out game.json [--db FILE]                # one game as a replay file
    geogame class replay game.json [--out run.csv] [--decisions d.csv]   # the same tables again
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import textwrap
from pathlib import Path

VIZ = Path(__file__).resolve().parent


def add_parser(sub) -> None:
    """Register the ``class`` subcommand and its actions."""
    p = sub.add_parser(
        "class", help="host a class game, list or export stored games, replay an exported game",
        description="One game for a whole class: the teacher hosts it in the app (/class), students join "
                    "from their own devices with a code. Games are saved as they happen in an SQLite file.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent("""\
            Examples:
              geogame class serve                          # http://127.0.0.1:8765/class on this machine only
              geogame class serve --host 0.0.0.0           # the class network too (says what it exposes)
              geogame class list
              geogame class export K7QF2M --out game.json
              geogame class replay game.json --out run.csv"""))
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    db_help = "the class games' database (default $GEOGAME_CLASS_DB or .cache/geogame-class.sqlite3)"

    serve = actions.add_parser("serve", help="start the app (solo games at /, class games at /class)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this "
                                                           "machine only; 0.0.0.0: the class network too)")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--db", help=db_help)
    serve.add_argument("--url", help="the address students type, if not this machine's (e.g. behind a proxy)")
    serve.set_defaults(func=cmd_serve)

    lst = actions.add_parser("list", help="the stored class games")
    lst.add_argument("--db", help=db_help)
    lst.set_defaults(func=cmd_list)

    export = actions.add_parser("export", help="write one stored game as a replay file (JSON)")
    export.add_argument("code", help="the game's code")
    export.add_argument("--out", required=True, help="the JSON file to write")
    export.add_argument("--db", help=db_help)
    export.set_defaults(func=cmd_export)

    rep = actions.add_parser("replay", help="replay an exported game (or a solo replay file) exactly")
    rep.add_argument("file", help="a replay file (JSON) from the app or geogame class export")
    rep.add_argument("--out", help="write the quarterly table (.csv or .parquet)")
    rep.add_argument("--decisions", help="write every decision (.csv or .parquet)")
    rep.set_defaults(func=cmd_replay)


def _db(args) -> str:
    from .classroom import DB_ENV, DEFAULT_DB
    return args.db or os.environ.get(DB_ENV) or str(DEFAULT_DB)


def _store(args):
    from geogame.model import InputError

    from .classroom import ClassStore
    path = _db(args)
    if not Path(path).exists():
        raise InputError(f"--db {path}: no such database (a class game creates it)")
    return ClassStore(path)


def cmd_serve(args) -> int:
    """Run ``solara run viz/app.py`` with the class database and the offline settings."""
    from geogame.model import InputError
    if not 1 <= args.port <= 65535:
        raise InputError(f"--port {args.port}: allowed 1 to 65535")
    try:
        import solara  # noqa: F401
    except ImportError:
        raise InputError("the app needs the app extra: pip install -e '.[app]'") from None
    env = dict(os.environ)
    env["GEOGAME_CLASS_DB"] = str(Path(_db(args)).resolve())
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    env["SOLARA_SESSION_HTTP_ONLY"] = "True"
    cache = VIZ.parent / ".cache" / "solara-cdn"
    if "SOLARA_ASSETS_PROXY_CACHE_DIR" not in env and cache.is_dir():
        env["SOLARA_ASSETS_PROXY_CACHE_DIR"] = str(cache)
    if args.url:
        env["GEOGAME_CLASS_URL"] = args.url
    from .class_app import lan_address
    from .security import is_loopback
    if is_loopback(args.host):
        print(f"geogame class: http://{args.host}:{args.port}/class on this machine only "
              f"(--host 0.0.0.0 to let students join from the class network)")
    else:
        shown = lan_address() if args.host in ("0.0.0.0", "::") else args.host
        print(f"geogame class: listening on {args.host}:{args.port}. Every device that can reach this machine "
              f"can open the app (solo games at /, class games at /class): students join at "
              f"http://{shown}:{args.port}/class. Joining a game needs its code; the console needs the "
              f"teacher's key. Games are saved in {env['GEOGAME_CLASS_DB']}.")
    cmd = [sys.executable, "-m", "solara", "run", str(VIZ / "app.py"), "--host", args.host, "--port", str(args.port),
           "--no-open", "--no-check-version", "--production"]
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 130


def cmd_list(args) -> int:
    """Print one line per stored game."""
    import json
    store = _store(args)
    try:
        codes = store.game_codes()
        if not codes:
            print("no class games yet")
        for code in codes:
            row = store.load_game(code)
            rounds = store.rounds(code)
            seats = store.seats(code)
            print(f"{code}  {row['scenario_name']:14} seed {row['seed']:<6} {len(rounds):>2} rounds played  "
                  f"{len(seats):>3} students  {row['status']:8} countries: {', '.join(json.loads(row['countries']))}")
    finally:
        store.close()
    return 0


def cmd_export(args) -> int:
    """Write a stored game as a replay file."""
    from .classroom import ClassRegistry, export_game
    store = _store(args)
    try:
        reg = ClassRegistry(store)
        game = reg.get(args.code)
        path = export_game(game, args.out)
        reg.close()
    finally:
        store.close()
    print(f"wrote {path} ({len(game.rounds)} rounds)")
    return 0


def _check_out(flag: str, path: str | None) -> None:
    """One line naming the flag, the path and what is allowed, before the replay starts."""
    from geogame.model import InputError
    if not path:
        return
    if not path.endswith((".csv", ".parquet")):
        raise InputError(f"{flag} {path!r} is not allowed; allowed: a .csv or .parquet file")
    folder = Path(path).resolve().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise InputError(f"{flag} {path!r}: the folder {str(folder)!r} does not exist or cannot be written; "
                         "allowed: a file in an existing, writable folder")


def _write(frame, flag: str, path: str) -> None:
    """Write ``frame`` to ``path`` atomically (a temporary file beside it, then renamed): a failed
    write leaves nothing behind and is one line naming the flag and the path."""
    from geogame.model import InputError
    target = Path(path)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        if path.endswith(".parquet"):
            frame.to_parquet(temp, index=False)
        else:
            frame.to_csv(temp, index=False)
        os.replace(temp, target)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise InputError(f"{flag} {path!r} cannot be written ({exc.strerror or type(exc).__name__})") from None


def cmd_replay(args) -> int:
    """Replay a game file and print (and optionally write) what it gives."""
    from geogame.model import COUNTRY_NAMES

    from .classroom import replay_file
    _check_out("--out", args.out)
    _check_out("--decisions", args.decisions)
    model = replay_file(args.file)
    dec = model.decisions_frame()
    people = dec[dec["rule"] == "human"]
    print(f"replayed {args.file}: {model.scenario_def.name}, seed {model.seed}, "
          f"{len(model.metrics_frame()) - 1} quarters to {model.quarter_label}; "
          f"moves by people: {len(people)} "
          f"({', '.join(sorted({COUNTRY_NAMES[c] for c in people['country']})) or 'none'})")
    if args.out:
        _write(model.metrics_frame(), "--out", args.out)
    if args.decisions:
        _write(dec, "--decisions", args.decisions)
    return 0
