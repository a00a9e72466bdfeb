"""Squash every app's migrations into one initial migration: `python -m devtools.squash_migrations`.

Deletes the numbered migrations of the project's apps, lets `makemigrations` write one
0001_initial per app from the models as they are (indexes and constraints from Meta, the
history triggers as pghistory/pgtrigger operations), then runs devtools.schema_compare against
`--base` (main) and exits with its status. Run it on a branch of main with every other branch
landed; docs/migrations.md is the whole procedure, including what to do with a difference.
"""

import argparse
import os
import subprocess
import sys

from devtools import schema_compare

APPS = ["eldercare", "registry", "visits", "relief", "services", "oversight"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="main", help="git ref whose chain the squash must reproduce (main)")
    args = parser.parse_args(argv)
    repo = schema_compare.REPO
    dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--", *[f"{app}/migrations" for app in APPS]],
                           capture_output=True, text=True, check=True).stdout
    if dirty:
        print(f"Uncommitted changes in migrations; commit or stash them first:\n{dirty}", file=sys.stderr)
        return 2
    for app in APPS:
        for path in (repo / app / "migrations").glob("[0-9]*.py"):
            path.unlink()
    env = {**os.environ, "DEBUG": "1"}
    subprocess.run([sys.executable, "manage.py", "makemigrations", *APPS, "-v1"], cwd=repo, env=env, check=True)
    written = sorted(str(p.relative_to(repo)) for app in APPS for p in (repo / app / "migrations").glob("[0-9]*.py"))
    print("Written:", ", ".join(written))
    return schema_compare.main(["--base", args.base, "--candidate", str(repo)])


if __name__ == "__main__":
    sys.exit(main())
