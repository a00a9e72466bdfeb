"""`python -m bench [NAME …]` — run the benchmarks (bench/bench_*.py), each a module with main().

Benchmarks are not tests: they measure, print figures and compare them with the targets
written in docs/performance.md. They run against the project's database (the embedded one when
DATABASE_URL is unset) and create their own data.
"""

import importlib
import os
import pkgutil
import sys
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eldercare.settings")
os.environ.setdefault("DEBUG", "1")
if "DATABASE_URL" not in os.environ:
    os.environ.setdefault("EMBEDDED_DB_NAME", "eldercare_bench")  # never touch the demo database
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(names):
    import django

    django.setup()
    modules = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_"))
    chosen = [m for m in modules if not names or m.removeprefix("bench_") in names or m in names]
    for name in chosen:
        print(f"== {name}", flush=True)
        importlib.import_module(f"bench.{name}").main()


if __name__ == "__main__":
    main(sys.argv[1:])
