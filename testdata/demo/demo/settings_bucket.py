"""Test variant (media in an S3 bucket, docs/scaling.md's setup): public
uploads are written by django-storages' S3 backend to the bucket
DJANGO_BUCKET at DJANGO_BUCKET_ENDPOINT, under the key prefix "media", and
Django builds their URLs on the site itself, under MEDIA_URL:
<DJANGO_SITE_URL>/media/<name> (the custom domain is the site's host and the
location the media prefix). django_files serves them from the bucket with
no media line in the Caddyfile. Credentials come from AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY in the environment, as in production.

Django 4.2+ reads the storage from STORAGES with OPTIONS; 3.2 from
DEFAULT_FILE_STORAGE and the AWS_* settings: both shapes are read by
caddy-django's settings probe.
"""
import os
from urllib.parse import urlsplit

import django

from .settings import *  # noqa: F401,F403

_site = urlsplit(os.environ.get("DJANGO_SITE_URL", "http://localhost"))
_bucket = {
    "bucket_name": os.environ["DJANGO_BUCKET"],
    "endpoint_url": os.environ["DJANGO_BUCKET_ENDPOINT"],
    "region_name": "us-east-1",
    "addressing_style": "path",
    "location": "media",
    "custom_domain": _site.netloc,
    "url_protocol": _site.scheme + ":",
    "file_overwrite": False,
    "signature_version": "s3v4",  # presigned URLs (demo/remote.py): boto3 1.26 would sign them with v2
}

MEDIA_URL = "/media/"
MEDIA_ROOT = ""  # nothing is stored on this machine

if django.VERSION >= (4, 2):
    STORAGES = {
        "default": {"BACKEND": "storages.backends.s3boto3.S3Boto3Storage", "OPTIONS": _bucket},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
else:
    DEFAULT_FILE_STORAGE = "storages.backends.s3boto3.S3Boto3Storage"
    AWS_STORAGE_BUCKET_NAME = _bucket["bucket_name"]
    AWS_S3_ENDPOINT_URL = _bucket["endpoint_url"]
    AWS_S3_REGION_NAME = _bucket["region_name"]
    AWS_S3_ADDRESSING_STYLE = _bucket["addressing_style"]
    AWS_LOCATION = _bucket["location"]
    AWS_S3_CUSTOM_DOMAIN = _bucket["custom_domain"]
    AWS_S3_URL_PROTOCOL = _bucket["url_protocol"]
    AWS_S3_FILE_OVERWRITE = _bucket["file_overwrite"]
    AWS_S3_SIGNATURE_VERSION = _bucket["signature_version"]
