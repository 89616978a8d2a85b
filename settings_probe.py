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
        }
        out.update(media_bucket_keys(settings))
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
