"""Settings for the caddy-django demo project.

Every path is overridable from the environment so tests can point the
project at temporary directories.
"""
import os
from pathlib import Path

import django

BASE_DIR = Path(__file__).resolve().parent.parent


def _path(env, default):
    value = os.environ.get(env)
    return Path(value) if value else default


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "demo-insecure-key")
DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "*").split(",")

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "files",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "demo.urls"
WSGI_APPLICATION = "demo.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": _path("DJANGO_DB_PATH", BASE_DIR / "db.sqlite3"),
    }
}
# DATABASE_URL (postgres://USER:PASSWORD@HOST:PORT/NAME) puts the project on
# PostgreSQL (psycopg2), as the tests of several containers sharing one
# database do.
if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
    from urllib.parse import urlparse

    _db = urlparse(os.environ["DATABASE_URL"])
    DATABASES["default"] = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _db.path.lstrip("/"),
        "USER": _db.username or "",
        "PASSWORD": _db.password or "",
        "HOST": _db.hostname or "",
        "PORT": str(_db.port or ""),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

USE_TZ = True
TIME_ZONE = "UTC"

# Static files: collectstatic copies assets/ into STATIC_ROOT with hashed
# names (css/app.<hash>.css) and writes staticfiles.json.
STATIC_URL = "/static/"
STATIC_ROOT = _path("DJANGO_STATIC_ROOT", BASE_DIR / "static_root")
STATICFILES_DIRS = [BASE_DIR / "assets"]


def static_storage(backend):
    """The settings that make backend the staticfiles storage: STORAGES on
    Django 4.2+ (where STATICFILES_STORAGE is deprecated, and setting both
    is an error), STATICFILES_STORAGE before (3.2 knows nothing else)."""
    if django.VERSION >= (4, 2):
        return {"STORAGES": {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": backend},
        }}
    return {"STATICFILES_STORAGE": backend}


globals().update(static_storage("django.contrib.staticfiles.storage.ManifestStaticFilesStorage"))

# Public user uploads, served by the web server under /media/.
MEDIA_URL = "/media/"
MEDIA_ROOT = _path("DJANGO_MEDIA_ROOT", BASE_DIR / "media_root")

# Files only reachable through /download/ and /sendfile/ (X-Accel-Redirect /
# X-Sendfile); the web server must never expose this directory directly.
PRIVATE_ROOT = _path("DJANGO_PRIVATE_ROOT", BASE_DIR / "private_files")

# Counter file written by `manage.py worker` and read by /heartbeat/.
HEARTBEAT_FILE = _path("DJANGO_HEARTBEAT_FILE", BASE_DIR / "worker_heartbeat.txt")

# POST /held/ sends half its answer and the rest once this file exists.
HELD_RELEASE_FILE = _path("DJANGO_HELD_RELEASE_FILE", BASE_DIR / "held_release")

# GET /recorded-slow/ appends a line here on each entry.
ENTRIES_FILE = _path("DJANGO_ENTRIES_FILE", BASE_DIR / "entries.txt")

# We run behind Caddy: trust its X-Forwarded-Proto / X-Forwarded-Host.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s pid=%(process)d %(message)s"},
    },
    "handlers": {
        # StreamHandler writes to stderr by default.
        "stderr": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["stderr"], "level": "INFO"},
}
