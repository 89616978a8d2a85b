from django.urls import path

from . import remote, views

urlpatterns = [
    path("", views.index, name="index"),
    path("hello/", views.hello, name="hello"),
    path("pid/", views.pid, name="pid"),
    path("headers/", views.headers, name="headers"),
    path("slow/", views.slow, name="slow"),
    path("slow-post/", views.slow_post, name="slow-post"),
    path("recorded-slow/", views.recorded_slow, name="recorded-slow"),
    path("upload/", views.upload, name="upload"),
    path("echo-size/", views.echo_size, name="echo-size"),
    path("held/", views.held, name="held"),
    path("leak/", views.leak, name="leak"),
    path("stuck/", views.stuck, name="stuck"),
    # /download/<id>/ resolves a private Upload; must precede the <path:> route.
    path("download/<int:pk>/", views.download_upload, name="download-upload"),
    path("download/<path:name>", views.download, name="download"),
    path("sendfile/<path:name>", views.sendfile, name="sendfile"),
    path("status/<int:code>/", views.status, name="status"),
    path("heartbeat/", views.heartbeat, name="heartbeat"),
    # remote X-Accel-Redirect (tests of `protected { remote … }`): demo/remote.py
    path("remote/<path:name>", remote.remote, name="remote"),
    path("accel/", remote.accel, name="accel"),
]
