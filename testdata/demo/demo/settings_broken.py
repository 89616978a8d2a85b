"""Test variant: settings that cannot be imported (a package the project
needs is missing), as after a deploy that forgot a dependency."""
from .settings import *  # noqa: F401,F403

import caddy_django_missing_package  # noqa: F401,E402
