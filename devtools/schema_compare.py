"""Compare the schema two migration chains build: `python -m devtools.schema_compare`.

    python -m devtools.schema_compare                   # main's chain vs this checkout's
    python -m devtools.schema_compare --base REF --candidate DIR

Each side is migrated from empty into a scratch database on the server the project uses
(DATABASE_URL, or the embedded one), dumped with `pg_dump --schema-only`, normalised and
compared. Exit status 0 when the schemas are the same, 1 with a unified diff when they are not.
The migration names themselves live in django_migrations rows, which a schema dump leaves out.

Normalising removes only what carries no meaning: comments, SET lines, pg_dump's session keys,
blank lines, and the order of the columns inside CREATE TABLE (a squashed migration creates
them in model order, the old chain appended later ones at the end; columns are always named,
never positional, in this code base) — column order differences are listed separately.
docs/migrations.md describes the squash this tool verifies.
"""

import argparse
import difflib
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOISE = re.compile(r"^(--|SET |SELECT pg_catalog\.set_config|\\restrict|\\unrestrict)")


def normalise(dump: str) -> tuple[list[str], dict[str, list[str]]]:
    """(the dump's meaningful lines with each table's columns sorted, {table: column order})."""
    lines, orders, table, columns = [], {}, None, []
    for line in dump.splitlines():
        if not line.strip() or NOISE.match(line):
            continue
        if table is not None:
            if line.startswith(");") or line.startswith(")"):
                orders[table] = [c.split()[0] for c in columns]
                lines += sorted(c.rstrip(",") for c in columns)
                lines.append(line)
                table, columns = None, []
            else:
                columns.append(line)
            continue
        lines.append(line)
        match = re.match(r"CREATE (?:UNLOGGED )?TABLE (\S+) \($", line)
        if match:
            table = match.group(1)
    return lines, orders


def tree_from_git(ref: str, into: Path) -> Path:
    """The files of `ref` (a branch, tag or commit of this repository) unpacked into a folder."""
    archive = into / "tree.tar"
    subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", "-o", str(archive), ref], check=True)
    tree = into / "tree"
    tree.mkdir()
    with tarfile.open(archive) as tar:
        tar.extractall(tree)  # our own repository's files, symlinks included
    return tree


def build_schema(tree: Path, dbname: str) -> str:
    """Migrate an empty database with the tree's migrations; return pg_dump --schema-only."""
    from django.db import connection

    from eldercare import pgtools

    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{dbname}"')
    try:
        env = {**os.environ, "DEBUG": "1", "DATABASE_URL": pgtools.database_url(dbname=dbname)}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=tree, env=env, check=True)
        return pgtools.run("pg_dump", ["--schema-only", "--no-owner", "--no-privileges"], dbname=dbname).stdout
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def compare(base: Path, candidate: Path, out=sys.stdout) -> bool:
    """Print how the two trees' schemas differ; True when they do not."""
    from django.db import connection

    prefix = f"{connection.settings_dict['NAME']}_schema"[:50]
    base_lines, base_order = normalise(build_schema(base, f"{prefix}_base"))
    cand_lines, cand_order = normalise(build_schema(candidate, f"{prefix}_candidate"))
    moved = sorted(t for t in set(base_order) & set(cand_order) if base_order[t] != cand_order[t])
    if moved:
        print(f"Column order differs (harmless, columns are always named): {', '.join(moved)}", file=out)
    diff = list(difflib.unified_diff(base_lines, cand_lines, "base", "candidate", lineterm="", n=2))
    if diff:
        print("\n".join(diff), file=out)
        print(f"\nSchemas differ: {sum(1 for d in diff if d[:1] in '+-' and d[:3] not in ('+++', '---'))} lines.", file=out)
        return False
    print(f"Schemas are the same ({len(base_lines)} lines of pg_dump --schema-only).", file=out)
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="main", help="git ref whose migration chain is the reference (main)")
    parser.add_argument("--candidate", type=Path, default=REPO, help="folder with the chain to check (this checkout)")
    args = parser.parse_args(argv)
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eldercare.settings")
    import django

    django.setup()
    with tempfile.TemporaryDirectory(prefix="schema-compare-") as work:
        base = tree_from_git(args.base, Path(work))
        return 0 if compare(base, args.candidate.resolve()) else 1


if __name__ == "__main__":
    sys.exit(main())
