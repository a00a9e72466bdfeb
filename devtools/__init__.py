"""Tools for maintainers of the code base (not part of the installed release)."""
