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
# What makemigrations cannot write, carried into the app's 0001_initial: app → (module, forward
# SQL, reverse SQL, the apps whose tables the SQL names). The visit rollup's statement-level
# triggers (with transition tables) on visits_visit and registry_elder are SQL only.
RUN_SQL = {"oversight": ("oversight.rollup", "TRIGGERS_SQL", "DROP_TRIGGERS_SQL", ("registry", "visits"))}


def carry_run_sql(repo) -> None:
    """Append each app's RUN_SQL operation to its fresh 0001_initial."""
    for app, (module, forward, reverse, needs) in RUN_SQL.items():
        path = repo / app / "migrations" / "0001_initial.py"
        text = path.read_text()
        for other in needs:
            if f"('{other}', '0001_initial')" not in text:
                text = text.replace("    dependencies = [\n", f"    dependencies = [\n        ('{other}', '0001_initial'),\n", 1)
        head, separator, tail = text.rpartition("\n    ]\n")
        if not separator or tail.strip():
            raise SystemExit(f"{path}: the operations list's end was not found")
        text = (head + f"\n        migrations.RunSQL({forward}, {reverse}),\n    ]\n")
        names = ", ".join(sorted((forward, reverse)))
        text = text.replace("from django.db import migrations, models\n",
                            f"from django.db import migrations, models\n\nfrom {module} import {names}\n", 1)
        path.write_text(text)


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
    carry_run_sql(repo)
    written = sorted(str(p.relative_to(repo)) for app in APPS for p in (repo / app / "migrations").glob("[0-9]*.py"))
    print("Written:", ", ".join(written))
    return schema_compare.main(["--base", args.base, "--candidate", str(repo)])


if __name__ == "__main__":
    sys.exit(main())
