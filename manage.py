#!/usr/bin/env python
"""Django's command-line utility for a checkout (an installed copy has `eldercare-admin`)."""

from eldercare.__main__ import main

if __name__ == "__main__":
    main()
