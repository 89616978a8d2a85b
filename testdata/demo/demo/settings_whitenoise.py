"""Benchmark-only variant: serve static files from Django with WhiteNoise.

Used to compare against Caddy serving STATIC_ROOT directly. Requires the
`whitenoise` package (Debian: python3-whitenoise); the normal settings don't.
"""
from .settings import *  # noqa: F401,F403
from .settings import MIDDLEWARE, static_storage

# WhiteNoise must come right after SecurityMiddleware.
MIDDLEWARE = [MIDDLEWARE[0], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[1:]]
globals().update(static_storage("whitenoise.storage.CompressedManifestStaticFilesStorage"))
