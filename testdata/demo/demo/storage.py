"""A manifest storage with its own manifest name (settings_assets.py)."""
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage


class AssetsStorage(ManifestStaticFilesStorage):
    manifest_name = "assets.json"
