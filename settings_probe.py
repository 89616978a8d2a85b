"""caddy-django's settings probe (embedded in the plugin, run with the
project's Python in its root and environment): prints one JSON object with
what django_files needs from the project's settings.

It reads the settings module without django.setup(): no app is loaded, no
database is touched, no model is imported. On any failure it prints
{"error": "<the exception's last line>"} and exits 0.
"""
import json
import os
import sys
import traceback


def storage_backend(settings):
    """The staticfiles storage's dotted path: STORAGES["staticfiles"] on
    Django 4.2+, else STATICFILES_STORAGE."""
    storages = getattr(settings, "STORAGES", None)
    if isinstance(storages, dict) and isinstance(storages.get("staticfiles"), dict):
        backend = storages["staticfiles"].get("BACKEND")
        if backend:
            return backend
    return getattr(settings, "STATICFILES_STORAGE", "") or ""


def manifest_info(backend):
    """(is a manifest storage, its manifest_name, an error)."""
    if not backend:
        return False, "", ""
    try:
        from django.utils.module_loading import import_string
        from django.contrib.staticfiles.storage import ManifestFilesMixin

        cls = import_string(backend)
    except Exception as e:  # the storage cannot be imported without setup
        guess = "Manifest" in backend.rsplit(".", 1)[-1]
        return guess, "staticfiles.json" if guess else "", exc_line(e)
    if isinstance(cls, type) and issubclass(cls, ManifestFilesMixin):
        return True, str(getattr(cls, "manifest_name", "staticfiles.json")), ""
    return False, "", ""


FINDERS = (
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
)


def staticfiles_finders(settings):
    """The directories Django's staticfiles finders look in, in their order
    (what runserver serves STATIC_URL from): each STATICFILES_DIRS entry
    (a (prefix, path) pair serves path under STATIC_URL + prefix/), then
    each installed app's static/ folder, in INSTALLED_APPS order; "missing"
    marks one that does not exist (yet). Finders other than these two are
    listed as unsupported. No app is set up: see app_path."""
    out = {"dirs": [], "unsupported": [], "errors": []}
    for finder in getattr(settings, "STATICFILES_FINDERS", FINDERS):
        if finder == FINDERS[0]:
            for entry in getattr(settings, "STATICFILES_DIRS", []):
                prefix = ""
                if isinstance(entry, (list, tuple)):
                    prefix, entry = entry
                add_finder_dir(out, text(prefix), os.path.abspath(text(entry)), "STATICFILES_DIRS")
        elif finder == FINDERS[1]:
            for app in settings.INSTALLED_APPS:
                try:
                    path = app_path(app)
                except Exception as e:
                    out["errors"].append("%s: %s" % (app, exc_line(e)))
                    continue
                add_finder_dir(out, "", os.path.join(path, "static"), app)
        else:
            out["unsupported"].append(text(finder))
    return out


def finders_or_error(settings):
    try:
        return staticfiles_finders(settings)
    except Exception as e:  # a malformed setting: the rest is still read
        return {"dirs": [], "unsupported": [], "errors": [exc_line(e)]}


def add_finder_dir(out, prefix, path, source):
    d = {"prefix": prefix.strip("/"), "dir": path, "from": source}
    if not os.path.isdir(path):
        d["missing"] = True
    out["dirs"].append(d)


def app_path(entry):
    """The directory of an INSTALLED_APPS entry (its AppConfig's path),
    found without setting the app up: a module entry ("polls",
    "django.contrib.admin") through importlib's find_spec, which runs none
    of the app's code (only its parent packages' __init__); an AppConfig
    entry ("polls.apps.PollsConfig") by importing that module, as Django
    does before any model, for the class's path or name."""
    import importlib
    import importlib.util

    try:
        spec = importlib.util.find_spec(entry)
    except ImportError:  # polls.apps.PollsConfig: polls.apps is no package
        spec = None
    if spec is not None:
        locations = list(dict.fromkeys(spec.submodule_search_locations or []))
        if len(locations) > 1:
            raise ValueError("namespace package in several places %s: set its AppConfig's path" % locations)
        return locations[0] if locations else os.path.dirname(spec.origin)
    module, _, name = entry.rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    path = getattr(cls, "path", None)
    return os.fspath(path) if path else app_path(cls.name)


def exc_line(e):
    return "".join(traceback.format_exception_only(type(e), e)).strip().splitlines()[-1]


def text(v):
    return "" if v is None else os.fspath(v) if hasattr(v, "__fspath__") else str(v)


def main():
    sys.path.insert(0, os.getcwd())  # as manage.py and Gunicorn do
    before = set(sys.modules)
    loaded = set()
    try:
        import django
        from django.conf import settings

        before = set(sys.modules)
        settings.STATIC_ROOT  # imports the settings module
        loaded = set(sys.modules) - before
        backend = storage_backend(settings)
        manifest, manifest_name, storage_error = manifest_info(backend)
        out = {
            "settings_module": os.environ.get("DJANGO_SETTINGS_MODULE", ""),
            "django": django.get_version(),
            "static_url": text(settings.STATIC_URL),
            "static_root": text(settings.STATIC_ROOT),
            "media_url": text(settings.MEDIA_URL),
            "media_root": text(settings.MEDIA_ROOT),
            "static_storage": backend,
            "manifest": manifest,
            "manifest_name": manifest_name,
            "storage_error": storage_error,
            "whitenoise_root": text(getattr(settings, "WHITENOISE_ROOT", None)),
            "finders": finders_or_error(settings),
        }
    except BaseException as e:
        out = {"error": exc_line(e)}
        loaded = set(sys.modules) - before
    # the files the settings module loaded: a config reload reads the
    # settings again only when one of them changed
    files = []
    for name in sorted(loaded):
        f = getattr(sys.modules.get(name), "__file__", None)
        if f:
            files.append(os.path.abspath(f))
    out["files"] = files[:256]
    json.dump(out, sys.stdout)


main()
