"""Settings for eldercare. Every knob comes from the environment (django-environ) with a safe default.

Production (DEBUG off) must set SECRET_KEY and ALLOWED_HOSTS, or start-up fails with
ImproperlyConfigured. See README.md, "Configuration", for every variable.
"""

from datetime import timedelta
from pathlib import Path

import environ
import pghistory
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
# A checkout (manage.py beside the apps) keeps its .env and its runtime files under var/ at its
# top. An installed copy (pip install, eldercare-admin) has no such place: it reads
# /etc/eldercare/eldercare.env and must be told where the database and files are.
CHECKOUT = (BASE_DIR / "manage.py").is_file()
# The templates/, static/ and locale/ folders ship inside this package (symlinks in a checkout,
# copies in a wheel): Django finds them as the eldercare app's own, first in INSTALLED_APPS.

env = environ.Env()
ENV_FILE = Path(env.str("ELDERCARE_ENV_FILE", default="") or (BASE_DIR / ".env" if CHECKOUT else "/etc/eldercare/eldercare.env"))
if ENV_FILE.is_file():
    environ.Env.read_env(ENV_FILE, overwrite=False)


def _var_path(name: str, folder: str) -> Path:
    """A runtime directory from the environment; a checkout defaults to var/<folder>."""
    if name in env or CHECKOUT:
        return env.path(name, default=BASE_DIR / "var" / folder)
    raise ImproperlyConfigured(f"{name} must be set for an installed copy (see .env.example).")


DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
if DEBUG:
    SECRET_KEY = SECRET_KEY or "insecure-development-key-do-not-use-in-production"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "testserver"]
else:
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be set (50+ random characters) when DEBUG is off.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "eldercare.views.csrf_failure"  # Chinese, in the site's layout (templates/403_csrf.html)

INSTALLED_APPS = [
    "eldercare",
    "registry",
    # before registry.census, whose admin module unregisters the task queue's unscoped admin
    "django_tasks",
    "django_tasks_db",
    "registry.census",
    "visits",
    "relief",
    "services",
    "oversight",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "pgtrigger",
    "pghistory",
    "axes",
    "import_export",
]

# History rows are read by the object they track (history_of, the retention jobs), never by the
# foreign keys they copy nor by their context (which each row points to; nothing lists a
# context's rows): indexes on those only slowed every write (a county census writes 800,000;
# the context's, one key for all of them, 0.8 s of a 100,000-row import's).
PGHISTORY_FOREIGN_KEY_FIELD = pghistory.ForeignKey(db_index=False)
PGHISTORY_OBJ_FIELD = pghistory.ObjForeignKey(db_index=True)
PGHISTORY_CONTEXT_FIELD = pghistory.ContextForeignKey(db_index=False)

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outside everything that writes the body; static files come out of whitenoise compressed.
    "eldercare.compression.CompressionMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Cache-Control: no-store on personal data, and the Content-Security-Policy (docs/access.md)
    "eldercare.headers.SecurityHeadersMiddleware",
    "eldercare.middleware.SessionLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "eldercare.middleware.HistoryMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "eldercare.urls"
WSGI_APPLICATION = "eldercare.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "eldercare.context_processors.navigation",
            ],
        },
    },
]

# Django's, with <input> widgets and radio/checkbox options written without templates (same HTML).
FORM_RENDERER = "eldercare.renderers.FormRenderer"

# --- Database: PostgreSQL only -------------------------------------------------------------
if "DATABASE_URL" not in env:
    if not CHECKOUT:
        raise ImproperlyConfigured("DATABASE_URL must be set for an installed copy (see .env.example).")
    from eldercare.embedded_db import database_url

    env_database_url = database_url()
else:
    env_database_url = env.str("DATABASE_URL")
DATABASES = {"default": env.db_url_config(env_database_url)}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://…).")
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A streaming replica for dashboards, reports and big exports: only views marked with
# eldercare.replica.reads_from_replica read from it (docs/operations.md, "Read replica").
if "DATABASE_REPLICA_URL" in env:
    DATABASES["replica"] = {
        **env.db_url_config(env.str("DATABASE_REPLICA_URL")),
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": True,
        "TEST": {"MIRROR": "default"},  # a test run has no replica of its own
    }
DATABASE_ROUTERS = ["eldercare.replica.ReplicaRouter"]
# No JIT compilation: it costs 100–300 ms per query above its cost threshold, which the
# dashboards' grouped queries over the whole county cross, and saves nothing on queries that run
# in milliseconds (docs/performance.md, "Oversight").
for _database in DATABASES.values():
    _options = _database.setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts, sessions, login throttling ------------------------------------------------
AUTH_USER_MODEL = "eldercare.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "eldercare.backends.UserBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Idle timeout: a session ends 30 minutes after its last renewal. Using it renews it, but at most
# once a minute (eldercare.middleware.SessionLimitMiddleware): rewriting the session row on every
# request cost each page an UPDATE and a commit.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_RENEW_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Absolute limit, enforced by eldercare.middleware.SessionLimitMiddleware.
SESSION_ABSOLUTE_SECONDS = env.int("SESSION_ABSOLUTE_SECONDS", default=12 * 60 * 60)

# A whole township shares one NAT address: lock out username + IP together, never the IP alone.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_META_PRECEDENCE_ORDER = env.list("AXES_IP_HEADERS", default=["REMOTE_ADDR"])

# --- Internationalisation -----------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files and private uploads -----------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = _var_path("STATIC_ROOT", "static")
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # whitenoise warns on every start without it
PRIVATE_MEDIA_ROOT = _var_path("PRIVATE_MEDIA_ROOT", "private")
# `backup` writes its archives here (docs/operations.md); they hold every record: keep it private.
BACKUP_DIR = env.path("BACKUP_DIR", default=BASE_DIR / "var" / "backups" if CHECKOUT else "/var/backups/eldercare")
# Files served at the site's root (/favicon.ico: browsers and webviews ask for it on their own).
WHITENOISE_ROOT = Path(__file__).resolve().parent / "public"
if DEBUG:
    # Development URLs carry the file's modification time (eldercare.storage), so the browser
    # may keep a file for a day instead of asking again on every page, and still sees an edit.
    WHITENOISE_MAX_AGE = 24 * 60 * 60
STORAGES = {
    # Uploads hold personal documents: they live outside any public URL and are served by
    # views that check the access rule.
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "eldercare.storage.DevelopmentStaticFilesStorage"
    },
}
# --- Background jobs and the census import -------------------------------------------------
# A database-backed queue (django-tasks-db): jobs survive a web restart; `manage.py db_worker`
# runs them (`make demo` starts one). TASKS_BACKEND=immediate runs them inline (tests).
TASKS = {
    "default": {
        "BACKEND": {
            "db": "django_tasks_db.DatabaseBackend",
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
        }[env.str("TASKS_BACKEND", default="db")],
    },
}
# Elders who died or moved away this many years ago are de-identified by `deidentify_departed`
# (docs/access.md, "Retention").
RETENTION_YEARS = env.int("RETENTION_YEARS", default=5)
# The access log's weekly "unusual access" list names each account with at least this many reveals
# and exports (together) in the last 7 days (docs/access.md, "The access log").
ACCESS_UNUSUAL_WEEKLY = env.int("ACCESS_UNUSUAL_WEEKLY", default=30)
CENSUS_MAX_UPLOAD_BYTES = env.int("CENSUS_MAX_UPLOAD_BYTES", default=50 * 1024 * 1024)
CENSUS_MAX_ZIP_ENTRIES = env.int("CENSUS_MAX_ZIP_ENTRIES", default=1000)
CENSUS_MAX_INFLATED_BYTES = env.int("CENSUS_MAX_INFLATED_BYTES", default=800 * 1024 * 1024)
CENSUS_RETENTION_DAYS = env.int("CENSUS_RETENTION_DAYS", default=30)
CENSUS_PREVIEW_ROWS = env.int("CENSUS_PREVIEW_ROWS", default=50)  # rejected rows shown on the preview
CENSUS_BATCH_ROWS = env.int("CENSUS_BATCH_ROWS", default=2000)
# Files at least this big are resolved in a thread of their own, ahead of the writes (see
# registry.census.writer); smaller ones in line, where a test's uncommitted data is visible.
CENSUS_PARALLEL_BYTES = env.int("CENSUS_PARALLEL_BYTES", default=1024 * 1024)
# A running job stamps its row every JOB_HEARTBEAT_SECONDS (eldercare.jobs.Heartbeat); an import
# without a stamp for CENSUS_STALE_SECONDS is marked failed (its process died).
JOB_HEARTBEAT_SECONDS = env.float("JOB_HEARTBEAT_SECONDS", default=10)
# A job that lost its database connection waits this long for it to come back, then runs again.
JOB_DATABASE_WAIT_SECONDS = env.int("JOB_DATABASE_WAIT_SECONDS", default=600)
CENSUS_STALE_SECONDS = env.int("CENSUS_STALE_SECONDS", default=60)

DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Security (production) -----------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}

DEMO_PASSWORD = "eldercare-demo"
AXES_ENABLE_ADMIN = False  # lockouts are handled by `axes_reset`, not by unscoped admin pages
