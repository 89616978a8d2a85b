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


# django-storages' S3 backends: 1.14 renamed S3Boto3Storage to S3Storage
# (keeping the old name as an alias).
S3_BACKENDS = ("storages.backends.s3.S3Storage", "storages.backends.s3boto3.S3Boto3Storage")


def default_storage(settings):
    """The default storage's dotted path and options: STORAGES["default"]
    on Django 4.2+, else DEFAULT_FILE_STORAGE (with no options)."""
    import django

    storages = getattr(settings, "STORAGES", None) if django.VERSION >= (4, 2) else None
    if isinstance(storages, dict) and isinstance(storages.get("default"), dict):
        entry = storages["default"]
        return entry.get("BACKEND") or "", entry.get("OPTIONS") or {}
    return getattr(settings, "DEFAULT_FILE_STORAGE", "") or "", {}


def media_bucket_keys(settings):
    """When the default storage is django-storages' S3 backend (or a
    subclass), the bucket it writes to, as the storage itself resolves it
    from its OPTIONS, AWS_* settings and environment: "media_bucket" (what
    may be shown), "media_bucket_credentials" (never shown) or
    "media_storage_error". The storage is built, never connected."""
    backend, options = default_storage(settings)
    if not backend or backend == "django.core.files.storage.FileSystemStorage":
        return {}
    try:
        from django.utils.module_loading import import_string

        cls = import_string(backend)
        s3 = []
        for name in S3_BACKENDS:
            try:
                s3.append(import_string(name))
            except Exception:
                pass
        if not (isinstance(cls, type) and s3 and issubclass(cls, tuple(s3))):
            return {}
        storage = cls(**options)
    except Exception as e:
        if backend in S3_BACKENDS:
            return {"media_storage_error": "%s: %s" % (backend, exc_line(e))}
        return {}  # a storage of the project's that cannot be built here
    return {
        "media_bucket": {
            "backend": backend,
            "bucket": text(getattr(storage, "bucket_name", "")),
            "endpoint": text(getattr(storage, "endpoint_url", "")),
            "region": text(getattr(storage, "region_name", "")),
            "addressing_style": text(getattr(storage, "addressing_style", "")),
            "location": text(getattr(storage, "location", "")),
            "custom_domain": text(getattr(storage, "custom_domain", "")),
            "querystring_auth": bool(getattr(storage, "querystring_auth", False)),
        },
        "media_bucket_credentials": {
            "access_key": text(getattr(storage, "access_key", "")),
            "secret_key": text(getattr(storage, "secret_key", "")),
            "session_token": text(getattr(storage, "security_token", "")),
        },
    }
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


def settings_module_from_entry_points(entry_module, manage_py):
    """Sets DJANGO_SETTINGS_MODULE, when the environment does not, the way
    the project's own entry points do: the os.environ.setdefault(
    "DJANGO_SETTINGS_MODULE", "...") call (or os.environ[...] = "...") of
    the app server's WSGI/ASGI module (entry_module, "config.wsgi"), else
    of manage_py, read with ast: nothing of them is executed.

    Returns (where the name came from: "environment", or the file relative
    to the working directory; "" when nowhere, the files read, and the
    error hint when nowhere)."""
    import ast

    if os.environ.get("DJANGO_SETTINGS_MODULE"):
        return "environment", [], ""

    def module_file(name):
        parts = name.split(":", 1)[0].strip().split(".")
        if not all(parts):
            return None
        for base in sys.path:
            base = base or os.getcwd()
            for rel in (os.path.join(*parts) + ".py", os.path.join(*parts, "__init__.py")):
                path = os.path.join(base, rel)
                if os.path.isfile(path):
                    return os.path.abspath(path)
        return None

    def is_environ(node):  # os.environ, or environ (from os import environ)
        return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
            isinstance(node, ast.Name) and node.id == "environ")

    def text(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        return None

    def set_in(path):
        try:
            with open(path, "rb") as f:
                tree = ast.parse(f.read(), path)
        except (OSError, SyntaxError, ValueError):
            return ""
        found = []
        for node in ast.walk(tree):
            value = None
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "setdefault" and is_environ(node.func.value)
                    and len(node.args) == 2 and text(node.args[0]) == "DJANGO_SETTINGS_MODULE"):
                value = text(node.args[1])
            elif (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Subscript) and is_environ(node.targets[0].value)):
                key = node.targets[0].slice
                if isinstance(key, getattr(ast, "Index", ())):  # before Python 3.9
                    key = key.value
                if text(key) == "DJANGO_SETTINGS_MODULE":
                    value = text(node.value)
            if value:
                found.append((node.lineno, value))
        return min(found)[1] if found else ""

    def shown(path):  # relative to the working directory when under it
        rel = os.path.relpath(path)
        return path if rel.startswith("..") else rel

    candidates = [p for p in (entry_module and module_file(entry_module), manage_py) if p and os.path.isfile(p)]
    for path in candidates:
        module = set_in(path)
        if module:
            os.environ["DJANGO_SETTINGS_MODULE"] = module
            return shown(path), candidates, ""
    if not candidates:
        return "", [], "DJANGO_SETTINGS_MODULE is not set, and there is no WSGI/ASGI module or manage.py to read it from"
    names = [shown(p) for p in candidates]
    which = "neither %s nor %s sets it" % tuple(names) if len(names) == 2 else "%s does not set it" % names[0]
    return "", candidates, "DJANGO_SETTINGS_MODULE is not set, and %s (os.environ.setdefault)" % which


def main():
    sys.path.insert(0, os.getcwd())  # as manage.py and Gunicorn do
    args = sys.argv[1:] + ["", ""]  # the app server's WSGI/ASGI module, manage.py
    source, entry_files, hint = settings_module_from_entry_points(args[0], args[1])
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
            "settings_module_from": source,
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
        out.update(media_bucket_keys(settings))
    except BaseException as e:
        out = {"error": hint if hint and type(e).__name__ == "ImproperlyConfigured" else exc_line(e)}
        loaded = set(sys.modules) - before
    # the files the settings module loaded: a config reload reads the
    # settings again only when one of them changed
    files = []
    for name in sorted(loaded):
        f = getattr(sys.modules.get(name), "__file__", None)
        if f:
            files.append(os.path.abspath(f))
    out["files"] = (entry_files + files)[:256]
    json.dump(out, sys.stdout)


main()
