"""Scratch databases on the test server, free ports and waiting for servers, for the deployment tests."""

import os
import socket
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import psycopg
from django.db import connection

from eldercare.pgtools import libpq_env

REPO = Path(__file__).resolve().parents[2]
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)  # the interpreter the checkout's venv came from


def _admin_connection():
    env = libpq_env("default", "postgres")
    return psycopg.connect(
        host=env.get("PGHOST"), port=env.get("PGPORT"), user=env.get("PGUSER"), password=env.get("PGPASSWORD"),
        dbname="postgres", autocommit=True)


@contextmanager
def scratch_database(suffix: str):
    """A database named after the test database plus `suffix`, dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_{suffix}"
    with _admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with _admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def plain_env(**values) -> dict[str, str]:
    """A process environment without the test run's settings (DEBUG=1, DATABASE_URL …)."""
    keep = {key: os.environ[key] for key in ("PATH", "LANG", "LC_ALL", "TMPDIR") if key in os.environ}
    return {**keep, **{key: str(value) for key, value in values.items()}}


def wait_for_http(url: str, headers: dict, timeout: float = 60, process=None):
    """GET url until the server answers (any status); returns (status, headers, body)."""
    deadline = time.monotonic() + timeout
    while True:
        request = urllib.request.Request(url, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()
        except OSError:
            if time.monotonic() > deadline or (process is not None and process.poll() is not None):
                raise
            time.sleep(0.3)
