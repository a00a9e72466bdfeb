"""Static files under DEBUG: plain file names, with `?v=<modification time>` in their URLs."""

import os

from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import StaticFilesStorage


class DevelopmentStaticFilesStorage(StaticFilesStorage):
    """Development storage whose URLs change when the file does.

    Production uses hashed file names (CompressedManifestStaticFilesStorage), cached for a year.
    Without them a development browser had to re-validate every stylesheet and script on every
    page; with the modification time in the URL it can keep them (WHITENOISE_MAX_AGE) and an
    edited file still gets a new URL on the next page.
    """

    def url(self, name):
        url = super().url(name)
        path = finders.find(name)
        if path and not isinstance(path, list):
            url += f"?v={int(os.stat(path).st_mtime)}"
        return url
