"""Test variant (settings discovery): static files under /assets/ (or
DJANGO_ASSETS_URL) in DJANGO_ASSETS_ROOT, a directory outside the project,
with a manifest named assets.json; uploads under /uploads/ in
DJANGO_UPLOADS_ROOT; robots.txt and the like in DJANGO_ROOT_FILES
(WHITENOISE_ROOT). When DJANGO_IMPORT_LOG is set, each import of this
module appends the importing program (sys.argv[0]: "-c" for caddy-django's
settings probe) to that file, so tests can count who read the settings.
"""
import os
import sys

from .settings import *  # noqa: F401,F403
from .settings import static_storage

if os.environ.get("DJANGO_IMPORT_LOG"):
    with open(os.environ["DJANGO_IMPORT_LOG"], "a") as log:
        log.write(sys.argv[0] + "\n")

STATIC_URL = os.environ.get("DJANGO_ASSETS_URL", "/assets/")
STATIC_ROOT = os.environ["DJANGO_ASSETS_ROOT"]
MEDIA_URL = "/uploads/"
MEDIA_ROOT = os.environ["DJANGO_UPLOADS_ROOT"]
WHITENOISE_ROOT = os.environ.get("DJANGO_ROOT_FILES")

globals().update(static_storage("demo.storage.AssetsStorage"))
