"""Remote X-Accel-Redirect, as Zulip, Label Studio and uMap answer nginx
(the tests of django_files' `protected { remote … }`; the demo's own pages do
not use these views). They need a default storage in an S3 bucket
(settings_bucket.py) and the download token.
"""
import mimetypes
import os
from urllib.parse import quote, urlsplit

from django.core.files.storage import default_storage
from django.http import HttpResponse, HttpResponseForbidden

from .views import DOWNLOAD_TOKEN


def remote(request, name):
    """X-Accel-Redirect to a presigned URL of the upload `name`, in the
    shape ?shape= asks for: url (the URL itself), zulip
    (/internal/s3/<host>/<path>?<query>), labelstudio
    (/file_download/<scheme>/<host>/<path>?<query>) or umap (/proxy/<the
    URL, percent-encoded>). Django names the type, the download name and
    the caching; the web server fetches the bytes."""
    if request.GET.get("token") != DOWNLOAD_TOKEN:
        return HttpResponseForbidden("forbidden")
    client = default_storage.bucket.meta.client  # boto3: signs locally, connects to nothing
    url = client.generate_presigned_url(
        "get_object",
        Params={"Bucket": default_storage.bucket_name, "Key": default_storage._normalize_name(name)},
        ExpiresIn=300,
    )
    u = urlsplit(url)
    shape = request.GET.get("shape", "url")
    query = "?" + u.query if u.query else ""
    target = {
        "url": url,
        "zulip": f"/internal/s3/{u.netloc}{u.path}{query}",
        "labelstudio": f"/file_download/{u.scheme}/{u.netloc}{u.path}{query}",
        "umap": "/proxy/" + quote(url, safe=""),
    }[shape]
    filename = os.path.basename(name)
    response = HttpResponse(content_type=mimetypes.guess_type(filename)[0] or "application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Accel-Redirect"] = target
    return response


def accel(request):
    """X-Accel-Redirect: the value of ?to=, as it is (what the web server
    must refuse)."""
    if request.GET.get("token") != DOWNLOAD_TOKEN:
        return HttpResponseForbidden("forbidden")
    response = HttpResponse(content_type="text/plain")
    response["X-Accel-Redirect"] = request.GET["to"]
    return response
