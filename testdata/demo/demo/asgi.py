"""ASGI entry point: python3 -m uvicorn demo.asgi:application (or daphne, hypercorn)

Besides Django, three raw ASGI endpoints for the proxy tests: a websocket
echo at /ws/echo/, a server-sent event stream at /events/ (Django 3.2 has
neither websockets nor async streaming responses) and POST /held/, the
answer views.held sends (half of it, the rest once a file exists).
"""
import asyncio
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")

# tests: while the file slow_start exists in the project root (the app
# server's directory), loading this module takes the seconds it holds
if os.path.exists("slow_start"):
    import time

    with open("slow_start") as f:
        time.sleep(float(f.read() or 5))

django_application = get_asgi_application()


async def echo(receive, send):
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send({"type": "websocket.send", "text": message.get("text") or ""})


async def events(send):
    await send({
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")],
    })
    for i in range(3):
        await send({"type": "http.response.body", "body": b"data: %d\n\n" % i, "more_body": True})
        await asyncio.sleep(1)
    await send({"type": "http.response.body", "body": b""})


async def held(receive, send):
    from django.conf import settings

    from .views import HELD_HALF

    while (await receive()).get("more_body"):
        pass
    await send({
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"text/plain")],
    })
    await send({"type": "http.response.body", "body": HELD_HALF, "more_body": True})
    for _ in range(1200):
        if os.path.exists(settings.HELD_RELEASE_FILE):
            break
        await asyncio.sleep(0.05)
    await send({"type": "http.response.body", "body": HELD_HALF})


async def application(scope, receive, send):
    if scope["type"] == "websocket" and scope["path"] == "/ws/echo/":
        return await echo(receive, send)
    if scope["type"] == "http" and scope["path"] == "/events/":
        return await events(send)
    if scope["type"] == "http" and scope["path"] == "/held/" and scope["method"] == "POST":
        return await held(receive, send)
    return await django_application(scope, receive, send)
