"""caddy-django's application wrapper for an app server with `watch`
(embedded in the plugin; its generation loads this module, from a private
directory on PYTHONPATH, in place of the application named by
CADDY_DJANGO_WATCH_APP): it imports the application, then, once Django is
set up, the project's URLconf and the views it imports, which Django
itself imports only at each worker's first request. So every worker holds
the code it serves from its start: a file saved afterwards, broken or not,
is never picked up by a worker's first request, and new code that does not
import makes the new generation fail to start, while the running one keeps
serving.
"""
import importlib
import os

_module, _, _name = os.environ["CADDY_DJANGO_WATCH_APP"].partition(":")
application = getattr(importlib.import_module(_module), _name or "application")


def _load_urlconf():
    try:
        from django.apps import apps
    except ImportError:  # not Django
        return
    if apps.ready:
        from django.urls import get_resolver

        get_resolver().url_patterns


_load_urlconf()
