"""seed_demo --scale county: time and size of the benchmark dataset."""

import time

from django.apps import apps
from django.core.management import call_command


def main():
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    call_command("seed_demo", scale="county", flush=True)
    elapsed = time.perf_counter() - started
    print(f"seed_demo --scale county: {elapsed:.1f} s")
    for model in apps.get_models():
        if model._meta.app_label in (
            "eldercare",
            "registry",
            "visits",
            "relief",
            "services",
        ) and not model._meta.model_name.endswith("event"):
            print(f"  {model._meta.label:32} {model._default_manager.count():>9,}")
