"""Tiny single-module Django backend for sluice's integration tests, demo and bench.

Run:  BACKEND_NAME=app1 gunicorn --chdir tests/app --bind 127.0.0.1:8001 backend:application
No database, no migrations, no apps: settings are configured here, in code.
See README.md beside this file for the endpoints.
"""
import hashlib
import json
import os
import time

from django.conf import settings

BACKEND_NAME = os.environ.get("BACKEND_NAME", "backend")
HEALTH_FILE = os.environ.get("HEALTH_FILE", "")

if not settings.configured:
    settings.configure(
        DEBUG=False,
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        SECRET_KEY="sluice-test-backend-not-secret",
        INSTALLED_APPS=[],
        MIDDLEWARE=[],
        DATABASES={},
        TEMPLATES=[],
        USE_TZ=True,
        # Bodies are read straight from the WSGI stream; no in-memory cap.
        DATA_UPLOAD_MAX_MEMORY_SIZE=None,
        LOGGING_CONFIG=None,
    )

import django  # noqa: E402

django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse, StreamingHttpResponse  # noqa: E402
from django.urls import re_path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402

CHUNK = 64 * 1024
# /bytes/<n>: the byte at offset i is i % 256. CHUNK is a multiple of 256, so every full chunk
# is this same block.
_BLOCK = bytes(range(256)) * (CHUNK // 256)


def _tag(resp):
    resp["X-Backend"] = BACKEND_NAME
    # Django sets no Content-Length by itself (CommonMiddleware would); without it gunicorn
    # answers chunked. Buffered responses carry Content-Length, so tests see both framings:
    # everything here is length-delimited except /bytes/<n>?chunked=1.
    if not resp.streaming and "Content-Length" not in resp and resp.status_code not in (204, 304):
        resp["Content-Length"] = str(len(resp.content))
    return resp


def _json(obj, status=200):
    return _tag(HttpResponse(json.dumps(obj) + "\n", status=status,
                             content_type="application/json"))


def _identity(request):
    return {
        "backend": BACKEND_NAME,
        "path": request.path,
        "method": request.method,
        "query": request.META.get("QUERY_STRING", ""),
    }


@csrf_exempt
def index(request):
    """`/` and every path not matched below: who answered, and what was asked."""
    return _json(_identity(request))


@csrf_exempt
def slow(request):
    try:
        ms = int(request.GET.get("ms", "1000"))
    except ValueError:
        return _json({"backend": BACKEND_NAME, "error": "ms must be an integer"}, status=400)
    started = time.time()
    time.sleep(max(0, ms) / 1000.0)
    body = _identity(request)
    body["slept_ms"] = ms
    # Wall-clock interval the request occupied this backend (tests check for overlap).
    body["started"] = started
    body["finished"] = time.time()
    return _json(body)


def _read_body(request):
    """Read the whole request body in chunks, hashing as we go.

    Reads the server's wsgi.input directly (gunicorn bounds it by Content-Length or by the chunked
    encoding), because Django's own stream treats a missing Content-Length as an empty body.
    """
    stream = request.environ["wsgi.input"]
    h = hashlib.sha256()
    length = 0
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        h.update(chunk)
        length += len(chunk)
    return length, h.hexdigest()


@csrf_exempt
def echo(request):
    length, digest = _read_body(request)
    body = _identity(request)
    body.update({
        "length": length,
        "sha256": digest,
        "headers": dict(request.headers.items()),
    })
    return _json(body)


@csrf_exempt
def healthz(request):
    if HEALTH_FILE and os.path.exists(HEALTH_FILE):
        return _tag(HttpResponse("down\n", status=503, content_type="text/plain"))
    return _tag(HttpResponse("ok\n", content_type="text/plain"))


@csrf_exempt
def status(request, code):
    code = int(code)
    if not 200 <= code <= 599:
        return _json({"backend": BACKEND_NAME, "error": "status must be 200..599"}, status=400)
    if code in (204, 304):
        return _tag(HttpResponse(status=code))
    return _tag(HttpResponse("status %d from %s\n" % (code, BACKEND_NAME), status=code,
                             content_type="text/plain"))


def _byte_stream(n):
    full, rest = divmod(n, CHUNK)
    for _ in range(full):
        yield _BLOCK
    if rest:
        yield _BLOCK[:rest]


@csrf_exempt
def nbytes(request, n):
    """n bytes, byte i = i % 256. Large bodies are streamed in 64 KiB chunks.

    Content-Length is sent unless ?chunked=1 (then gunicorn uses chunked transfer encoding).
    """
    n = int(n)
    chunked = request.GET.get("chunked") in ("1", "true", "yes")
    if n <= CHUNK and not chunked:
        return _tag(HttpResponse(_BLOCK[:n], content_type="application/octet-stream"))
    resp = StreamingHttpResponse(_byte_stream(n), content_type="application/octet-stream")
    if not chunked:
        resp["Content-Length"] = str(n)
    return _tag(resp)


urlpatterns = [
    re_path(r"^slow/?$", slow),
    re_path(r"^echo/?$", echo),
    re_path(r"^healthz/?$", healthz),
    re_path(r"^status/(?P<code>[0-9]{3})/?$", status),
    re_path(r"^bytes/(?P<n>[0-9]{1,12})/?$", nbytes),
    re_path(r"", index),  # catch-all: `/` and any other path (useful for routing tests)
]

application = get_wsgi_application()
