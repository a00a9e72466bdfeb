"""`eldercare-admin` (the installed copy's manage.py) and `python -m eldercare`."""

import os
import sys


def main() -> None:
    """Run a Django management command with the project's settings, from any directory."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eldercare.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
