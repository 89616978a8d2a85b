"""caddy-django's import check (embedded in the plugin), run before an app
server is restarted because files changed, with the app server's Python,
directory, environment and user: it imports the application's module as
the server will (which sets Django up), then the project's URLconf and the
views it imports, which Django itself imports only at the first request.
A syntax or import error anywhere there prints its traceback and exits 1:
the running generation keeps serving the previous code.

Argument: the application, as the app server is given it
(`config.wsgi:application`).
"""
import importlib
import os
import sys


def main():
    sys.path.insert(0, os.getcwd())  # as Gunicorn and manage.py do
    module = (sys.argv[1] if len(sys.argv) > 1 else "").split(":", 1)[0]
    if module:
        importlib.import_module(module)
    try:
        import django
        from django.apps import apps
    except ImportError:
        return  # not a Django project: the module imported
    if not apps.ready:
        if not os.environ.get("DJANGO_SETTINGS_MODULE"):
            return
        django.setup()
    from django.urls import get_resolver

    get_resolver().url_patterns  # imports ROOT_URLCONF, its includes and views


main()
