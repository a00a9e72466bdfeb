"""The import runs with the cyclic GC off and a short GIL switch interval; both are process-wide,
so overlapping imports in one process leave them set until the last one ends, then as found."""

import gc
import sys

from registry.census.writer import _interpreter_tuned


def test_overlapping_imports_restore_the_settings_when_the_last_one_ends():
    found = (gc.isenabled(), sys.getswitchinterval())
    first, second = _interpreter_tuned(), _interpreter_tuned()
    first.__enter__()
    assert not gc.isenabled() and sys.getswitchinterval() == 0.0005
    second.__enter__()
    first.__exit__(None, None, None)  # the first import ends while the second still runs
    assert not gc.isenabled() and sys.getswitchinterval() == 0.0005
    second.__exit__(None, None, None)
    assert (gc.isenabled(), sys.getswitchinterval()) == found


def test_a_failed_import_restores_them_too():
    found = (gc.isenabled(), sys.getswitchinterval())
    try:
        with _interpreter_tuned():
            raise RuntimeError("disk full")
    except RuntimeError:
        pass
    assert (gc.isenabled(), sys.getswitchinterval()) == found
