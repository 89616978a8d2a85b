"""Test variant (django_files' `static { finders }`): development settings
without STATIC_ROOT (no collectstatic). STATICFILES_DIRS has a (prefix,
path) pair, DJANGO_VENDOR_DIR served under /static/vendor/, then assets/;
the files app, listed by its AppConfig before django.contrib.admin, may
have a static/ folder of its own (the tests write it) that overrides some
of the admin's files, as Django's finders order them.
"""
import os

from .settings import *  # noqa: F401,F403
from .settings import BASE_DIR, INSTALLED_APPS, static_storage

DEBUG = True
STATIC_ROOT = None
STATICFILES_DIRS = [("vendor", os.environ["DJANGO_VENDOR_DIR"]), BASE_DIR / "assets"]
INSTALLED_APPS = ["files.apps.FilesConfig", "django.contrib.admin"] + [a for a in INSTALLED_APPS if a != "files"]

globals().update(static_storage("django.contrib.staticfiles.storage.StaticFilesStorage"))
