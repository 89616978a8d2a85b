import hashlib
import mimetypes
import os
import sys
import time
from urllib.parse import quote

from django.conf import settings
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from files.models import Upload, private_storage

# URL prefix the web server maps onto PRIVATE_ROOT for X-Accel-Redirect
# (django-sendfile2's SENDFILE_URL with the nginx backend).
PROTECTED_URL = "/protected"
DOWNLOAD_TOKEN = "letmein"


def read_beats():
    try:
        return int(settings.HEARTBEAT_FILE.read_text().strip() or 0)
    except (FileNotFoundError, ValueError):
        return 0


@require_GET
def index(request):
    return render(request, "files/index.html", {
        "uploads": Upload.objects.all()[:50],
        "beats": read_beats(),
        "pid": os.getpid(),
    })


def hello(request):
    return HttpResponse(f"hello from django pid={os.getpid()}", content_type="text/plain; charset=utf-8")


def pid(request):
    return JsonResponse({"pid": os.getpid(), "ppid": os.getppid()})


def headers(request):
    meta = request.META
    return JsonResponse({
        "host": request.get_host(),
        "scheme": request.scheme,
        "is_secure": request.is_secure(),
        "remote_addr": meta.get("REMOTE_ADDR"),
        "x_forwarded_for": meta.get("HTTP_X_FORWARDED_FOR"),
        "x_forwarded_proto": meta.get("HTTP_X_FORWARDED_PROTO"),
        "x_forwarded_host": meta.get("HTTP_X_FORWARDED_HOST"),
        "x_real_ip": meta.get("HTTP_X_REAL_IP"),
        "x_request_start": meta.get("HTTP_X_REQUEST_START"),
    })


def _sleep(request):
    """Sleep ?seconds=N (0-60, default 1); return N, or None if not a number."""
    try:
        seconds = float(request.GET.get("seconds", "1"))
    except ValueError:
        return None
    seconds = min(max(seconds, 0.0), 60.0)
    time.sleep(seconds)
    return seconds


def slow(request):
    seconds = _sleep(request)
    if seconds is None:
        return HttpResponseBadRequest("seconds must be a number")
    return HttpResponse(f"slept {seconds:g}", content_type="text/plain; charset=utf-8")


@csrf_exempt
@require_POST
def slow_post(request):
    """POST /slow-post/?seconds=N: a request that may not be retried (the
    proxy may retry a failed GET, never a POST) and that stays in the view for
    N seconds; answers "slept N" and the worker's pid."""
    seconds = _sleep(request)
    if seconds is None:
        return HttpResponseBadRequest("seconds must be a number")
    return HttpResponse(f"slept {seconds:g} pid={os.getpid()}", content_type="text/plain; charset=utf-8")


def recorded_slow(request):
    """GET /recorded-slow/?seconds=N: appends a line (the worker's pid) to
    ENTRIES_FILE on each entry, then sleeps like /slow/: tells how many
    times a request ran the view (a proxy that sends a GET again runs its
    side effects again)."""
    with open(settings.ENTRIES_FILE, "a") as f:
        f.write(f"{os.getpid()}\n")
    return slow(request)
# memory a worker keeps for good: POST /leak/ (max_memory's tests)
LEAKED = []


@csrf_exempt
@require_POST
def leak(request):
    """POST /leak/?mb=N&pause=S: keeps N MB (default 5, at most 100) of
    this worker's memory for good, written so that it is resident (a
    leak), after a pause of S seconds (default 0, at most 5); answers the
    worker's pid and how much it keeps."""
    try:
        mb = min(max(int(request.GET.get("mb", "5")), 0), 100)
        pause = min(max(float(request.GET.get("pause", "0")), 0.0), 5.0)
    except ValueError:
        return HttpResponseBadRequest("mb and pause must be numbers")
    time.sleep(pause)
    LEAKED.append(b"\x01" * (mb << 20))
    kept = sum(len(b) for b in LEAKED) >> 20
    return HttpResponse(f"kept {kept} MB pid={os.getpid()}", content_type="text/plain; charset=utf-8")


@csrf_exempt
def stuck(request):
    """GET or POST /stuck/?seconds=N: a view stuck for N seconds (default
    300, at most 600), as on a lock or a remote API that never answers
    (request time-outs' tests). It writes "stuck: pid=PID" to stderr as it
    begins (the app server's log: which worker, and how many times it ran)
    and answers the worker's pid if it ever ends."""
    try:
        seconds = min(max(float(request.GET.get("seconds", "300")), 0.0), 600.0)
    except ValueError:
        return HttpResponseBadRequest("seconds must be a number")
    print(f"stuck: pid={os.getpid()} for {seconds:g}s", file=sys.stderr, flush=True)
    time.sleep(seconds)
    return HttpResponse(f"unstuck after {seconds:g} pid={os.getpid()}", content_type="text/plain; charset=utf-8")


HELD_HALF = b"x" * 1000


def held_released():
    """Wait (60 s at most) until HELD_RELEASE_FILE exists."""
    for _ in range(1200):
        if os.path.exists(settings.HELD_RELEASE_FILE):
            return
        time.sleep(0.05)


@csrf_exempt
@require_POST
def held(request):
    """POST /held/: an answer of 2000 bytes whose second half is sent once
    HELD_RELEASE_FILE exists: an answer in progress for as long as a test
    needs. No Content-Length, so that a proxy passes the first half on at
    once (the ASGI app has its own, demo/asgi.py)."""
    request.body  # read (uWSGI resets a connection closed with a body unread)

    def body():
        yield HELD_HALF
        held_released()
        yield HELD_HALF
    return StreamingHttpResponse(body(), content_type="text/plain")


@csrf_exempt
@require_POST
def upload(request):
    f = request.FILES.get("file")
    if f is None:
        return JsonResponse({"error": "missing multipart field 'file'"}, status=400)
    if request.POST.get("private") in ("1", "true", "on"):
        # Store outside MEDIA_ROOT so the web server can't serve it directly.
        storage = private_storage()
        name = storage.save(storage.generate_filename(f"uploads/{f.name}"), f)
        obj = Upload.objects.create(file=name, private=True)
    else:
        obj = Upload(private=False)
        obj.file.save(f.name, f, save=True)
    if "text/html" in request.headers.get("Accept", ""):
        return redirect("index")
    return JsonResponse({"id": obj.pk, "name": obj.file.name, "url": obj.url, "size": f.size})


@csrf_exempt
@require_POST
def echo_size(request):
    # Stream the body instead of request.body, which is capped by
    # DATA_UPLOAD_MAX_MEMORY_SIZE. Without Content-Length (chunked request)
    # Django's own stream reads nothing, so read gunicorn's wsgi.input, which
    # decodes chunked bodies until EOF.
    stream = request if request.META.get("CONTENT_LENGTH") else request.META["wsgi.input"]
    digest, size = hashlib.sha256(), 0
    while True:
        chunk = stream.read(64 * 1024)
        if not chunk:
            break
        digest.update(chunk)
        size += len(chunk)
    return JsonResponse({"size": size, "sha256": digest.hexdigest()})


# --- protected downloads -------------------------------------------------

def _allowed(request):
    return request.GET.get("token") == DOWNLOAD_TOKEN or request.user.is_authenticated


def _private_path(request, name):
    """Return (absolute path, path relative to PRIVATE_ROOT) for name.

    With ?raw=1 the name is joined unvalidated (tests check that the web
    server itself refuses traversal); otherwise it must be an existing file
    inside PRIVATE_ROOT.
    """
    root = os.path.abspath(settings.PRIVATE_ROOT)
    if request.GET.get("raw") == "1":
        return os.path.join(root, name), name
    path = os.path.normpath(os.path.join(root, name))
    if os.path.commonpath([root, path]) != root or not os.path.isfile(path):
        raise Http404("no such private file")
    return path, os.path.relpath(path, root).replace(os.sep, "/")


def _file_response(path):
    """Empty response carrying the download headers; the web server fills in
    the body from the X-Accel-Redirect / X-Sendfile header we add."""
    filename = os.path.basename(path)
    content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    response = HttpResponse(content_type=content_type)
    try:
        filename.encode("ascii")
        quoted = filename.replace("\\", "\\\\").replace('"', '\\"')
        disposition = f'attachment; filename="{quoted}"'
    except UnicodeEncodeError:
        disposition = f"attachment; filename*=UTF-8''{quote(filename)}"
    response["Content-Disposition"] = disposition
    response["Cache-Control"] = "private, max-age=0"
    return response


def download(request, name):
    """nginx style: X-Accel-Redirect: /protected/<name> (URL-quoted)."""
    if not _allowed(request):
        return HttpResponseForbidden("forbidden")
    path, rel = _private_path(request, name)
    response = _file_response(path)
    if request.GET.get("notype") == "1":
        # the web server picks the type (tests of django_files' own table)
        del response["Content-Type"]
    response["X-Accel-Redirect"] = f"{PROTECTED_URL}/{quote(rel)}"
    return response


def download_upload(request, pk):
    upload = get_object_or_404(Upload, pk=pk, private=True)
    return download(request, upload.file.name)


def sendfile(request, name):
    """Apache/lighttpd style: X-Sendfile: <absolute path>."""
    if not _allowed(request):
        return HttpResponseForbidden("forbidden")
    path, _ = _private_path(request, name)
    response = _file_response(path)
    response["X-Sendfile"] = path
    return response


def status(request, code):
    if not 200 <= code <= 599:
        return HttpResponseBadRequest("status must be 200-599")
    return HttpResponse(status=code)


def heartbeat(request):
    return JsonResponse({"beats": read_beats()})
