"""WSGI entry point (gunicorn eldercare.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eldercare.settings")
application = get_wsgi_application()
