"""Test runs are development runs: settings need no production secrets."""

import os

os.environ.setdefault("DEBUG", "1")
