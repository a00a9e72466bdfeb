"""Loaded first by pytest (`-p tests.debug_env`): test runs are development runs.

pytest-django imports the settings before any conftest.py, so the environment is set here.
"""

import os

os.environ.setdefault("DEBUG", "1")
