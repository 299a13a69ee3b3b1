"""Serving over a school's network: the front that reads each request before the app sees it,
the trusted-proxy setting, and what changes when Sauti is served over HTTPS.

Why a front, and why this one
-----------------------------
Granian's WSGI interface hands the app the request body as a stream that a worker thread reads
(``wsgi.input``), and Granian has no time limit on that read (``granian --help``: a timeout for
headers only).  A device on the classroom Wi-Fi that sends a body one byte a second holds one of
the few app threads for as long as it likes: four such connections slowed a 2-core server down,
six stopped it answering anyone for 75 s.  A deadline in a WSGI input wrapper would not help: the
thread is blocked inside Granian's read, and it would still be held until the deadline.

So ``sauti serve`` runs Granian's native asynchronous interface (RSGI) with :class:`BufferedFront`
as the target.  The front reads the whole body on the event loop (waiting costs no thread, only
the few bytes received so far), within a deadline that grows with the declared size, and hands
the request to the Flask app in a small pool of threads only once it is complete, as nginx does
with request buffering.  A client's bodies that are still arriving after ``SLOW_AFTER_S`` count
as slow; beyond ``SLOW_BODIES_PER_CLIENT`` of them a further one is refused at once (429), and
any body not complete by its deadline is refused (408).  Headers are bounded by Granian itself
(``HEADER_READ_TIMEOUT_MS``).  waitress, the fallback, already buffers bodies in its own event
loop before a thread sees them, and drops connections idle for ``channel_timeout``.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from flask import Flask

from survey.headers import with_security_headers

#: Granian's limit on the time to read a request's headers (milliseconds).
HEADER_READ_TIMEOUT_MS = 10_000
#: Every body gets this long, plus the time its declared size takes at ``BODY_MIN_BYTES_PER_S``
#: (a 16 MB questionnaire upload over a poor school connection still arrives).
BODY_TIMEOUT_S = 10.0
BODY_MIN_BYTES_PER_S = 64 * 1024
#: A body still arriving after this long is "slow"; one client may have this many slow at once.
SLOW_AFTER_S = 1.0
SLOW_BODIES_PER_CLIENT = 4


def init_app(app: Flask) -> None:
    """Trust ``TRUSTED_PROXIES`` forwarding proxies, and harden cookies and headers for HTTPS.

    ``TRUSTED_PROXIES`` (default 0) is the number of reverse proxies in front of Sauti that add
    ``X-Forwarded-For`` and ``X-Forwarded-Proto``.  With 0, those headers are ignored and the
    client is the connection's peer; with 1 (nginx or Caddy on the same machine), the address
    and scheme that proxy reports are used.  Never set it higher than the proxies really there:
    a client could then choose its own address and walk past every per-client limit.
    """
    proxies = int(app.config.get("TRUSTED_PROXIES", 0) or 0)
    if proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=0, x_port=0, x_prefix=0)
    if app.config.get("SESSION_COOKIE_SECURE") and not app.config.get("SESSION_COOKIE_DOMAIN"):
        # The __Host- prefix: browsers accept this cookie only if Secure, from this very host,
        # for the whole site, so a neighbouring subdomain can neither set nor overwrite it.
        name = app.config["SESSION_COOKIE_NAME"]
        if not name.startswith("__Host-"):
            app.config["SESSION_COOKIE_NAME"] = "__Host-" + name
        app.config["SESSION_COOKIE_PATH"] = "/"


def body_deadline(declared_length: int | None) -> float:
    """Seconds a body of ``declared_length`` bytes may take to arrive.

    >>> body_deadline(None), body_deadline(0)
    (10.0, 10.0)
    >>> body_deadline(16 * 1024 * 1024)
    266.0
    """
    return BODY_TIMEOUT_S + (declared_length or 0) / BODY_MIN_BYTES_PER_S


class BufferedFront:
    """An RSGI application that reads each request completely, then runs a WSGI app on it.

    :param wsgi_app: the Flask app (any WSGI callable).
    :param threads: threads that run ``wsgi_app``; requests wait for one on the event loop.
    :param max_body: larger bodies are not read (the app refuses them, 413).
    :param trusted_proxies: as ``TRUSTED_PROXIES``: which address counts as the client's for
        the slow-body limit.
    """

    def __init__(
        self,
        wsgi_app: Callable,
        threads: int,
        *,
        max_body: int,
        trusted_proxies: int = 0,
        multiprocess: bool = True,
        slow_after_s: float = SLOW_AFTER_S,
        slow_per_client: int = SLOW_BODIES_PER_CLIENT,
    ) -> None:
        self.wsgi_app = wsgi_app
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sauti-app")
        self.max_body = max_body
        self.trusted_proxies = trusted_proxies
        self.multiprocess = multiprocess
        self.slow_after_s = slow_after_s
        self.slow_per_client = slow_per_client
        self.slow: Counter[str] = Counter()  # touched on the event loop only

    def __rsgi_del__(self, _loop: asyncio.AbstractEventLoop) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    async def __rsgi__(self, scope, proto) -> None:  # Granian's RSGI objects
        if scope.proto != "http":
            return
        headers = scope.headers.items()
        client, port = _split_address(scope.client)
        client = self._client(client, headers)
        declared = _content_length(headers)
        too_large = declared is not None and declared > self.max_body
        try:
            # A body declared too large is not read: the app sees its length and answers with its
            # own "too large" page (413) without touching the body.
            body = b"" if too_large else await self._read_body(proto, client, declared)
        except _Refused as refused:
            proto.response_bytes(refused.status, _refusal_headers(scope.scheme), refused.message)
            return
        except RuntimeError:  # Granian's ProtocolClosed/ProtocolError: the client went away
            return
        environ = self._environ(scope, headers, body, client, port)
        if too_large:
            environ["CONTENT_LENGTH"] = str(declared)
        loop = asyncio.get_running_loop()
        try:
            status, response_headers, content = await loop.run_in_executor(self.pool, self._call, environ)
        except Exception:  # noqa: BLE001 - the app handles its own errors; this is a broken response, never a hang
            _log.exception("the application raised instead of answering")
            status, content = 500, b"Something went wrong on our side.\n"
            response_headers = _refusal_headers(scope.scheme)
        if too_large and not any(name.lower() == "connection" for name, _ in response_headers):
            # The body was never read, so the connection cannot carry another request: say so
            # ourselves rather than leave it to the server's own timing.
            response_headers = [*response_headers, ("connection", "close")]
        proto.response_bytes(status, response_headers, content)

    def _client(self, peer: str, headers: list[tuple[str, str]]) -> str:
        if self.trusted_proxies <= 0:
            return peer
        forwarded = [part.strip() for name, value in headers if name == "x-forwarded-for" for part in value.split(",")]
        return forwarded[-self.trusted_proxies] if len(forwarded) >= self.trusted_proxies else peer

    async def _read_body(self, proto, client: str, declared: int | None) -> bytes:
        if declared == 0:
            return b""
        reading = asyncio.ensure_future(self._collect(proto))
        try:
            return await asyncio.wait_for(asyncio.shield(reading), self.slow_after_s)
        except TimeoutError:
            pass
        if self.slow[client] >= self.slow_per_client:
            reading.cancel()
            raise _Refused(429, b"Too many slow requests from this device.\n")
        self.slow[client] += 1
        try:
            return await asyncio.wait_for(reading, body_deadline(declared) - self.slow_after_s)
        except TimeoutError:
            raise _Refused(408, b"The request took too long to arrive.\n") from None
        finally:
            self.slow[client] -= 1
            if not self.slow[client]:
                del self.slow[client]

    async def _collect(self, proto) -> bytes:
        """The body's chunks as they come, refused (413) as soon as they pass ``max_body``."""
        chunks, size = [], 0
        async for chunk in proto:
            size += len(chunk)
            if size > self.max_body:
                raise _Refused(413, b"Request body too large.\n")
            chunks.append(chunk)
        return b"".join(chunks)

    def _environ(self, scope, headers: list[tuple[str, str]], body: bytes, client: str, port: str) -> dict:
        server_name, server_port = _split_address(scope.server)
        environ = {
            "REQUEST_METHOD": scope.method,
            "SCRIPT_NAME": "",
            # WSGI strings are bytes seen as latin-1; RSGI gives the decoded path.
            "PATH_INFO": scope.path.encode("utf-8", "surrogateescape").decode("latin-1"),
            "QUERY_STRING": scope.query_string,
            "SERVER_NAME": server_name,
            "SERVER_PORT": server_port,
            "SERVER_PROTOCOL": "HTTP/" + scope.http_version,
            "REMOTE_ADDR": _split_address(scope.client)[0],
            "REMOTE_PORT": port,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": scope.scheme,
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": self.multiprocess,
            "wsgi.run_once": False,
        }
        for name, value in headers:
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_LENGTH", "TRANSFER_ENCODING"):
                continue
            if key != "CONTENT_TYPE":
                key = "HTTP_" + key
            if key in environ:
                environ[key] += ("; " if key == "HTTP_COOKIE" else ", ") + value
            else:
                environ[key] = value
        return environ

    def _call(self, environ: dict) -> tuple[int, list[tuple[str, str]], bytes]:
        started: list = []
        chunks: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info=None):
            if exc_info and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [int(status.split(" ", 1)[0]), list(headers)]
            return chunks.append

        result: Iterable[bytes] = self.wsgi_app(environ, start_response)
        try:
            chunks.extend(chunk for chunk in result if chunk)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return started[0], started[1], b"".join(chunks)


_log = logging.getLogger("survey.serving")
_CLOSE = [("content-type", "text/plain; charset=utf-8"), ("connection", "close")]


def _refusal_headers(scheme: str) -> list[tuple[str, str]]:
    """The headers of the front's own answers (408, 413, 429, 500): the security headers every
    answer of the app carries, with ``Connection: close``."""
    return with_security_headers(_CLOSE, scheme == "https")


class _Refused(Exception):
    def __init__(self, status: int, message: bytes) -> None:
        super().__init__(status)
        self.status, self.message = status, message


def _split_address(address: str) -> tuple[str, str]:
    """``"203.0.113.7:51234"`` or ``"[2001:db8::1]:443"`` into host and port.

    >>> _split_address("[2001:db8::1]:443")
    ('2001:db8::1', '443')
    """
    host, _, port = address.rpartition(":")
    if not host:
        return address, ""
    return host.strip("[]"), port


def _content_length(headers: list[tuple[str, str]]) -> int | None:
    for name, value in headers:
        if name == "content-length":
            return int(value) if value.strip().isdigit() else None
    return None


def create_served_front() -> BufferedFront:
    """The RSGI target of ``sauti serve`` (and of Granian run by hand, ``--interface rsgi``)."""
    import os

    from survey.wsgi import create_served_app

    app = create_served_app()
    threads = int(os.environ.get("SAUTI_SERVE_THREADS", "2"))
    # Each worker process counts its own slow bodies: together they hold no more than the limit.
    workers = max(1, int(app.config.get("THROTTLE_WORKERS", 1) or 1))
    return BufferedFront(
        app,
        threads,
        max_body=int(app.config["MAX_CONTENT_LENGTH"]),
        trusted_proxies=int(app.config.get("TRUSTED_PROXIES", 0) or 0),
        multiprocess=workers > 1,
        slow_per_client=max(1, SLOW_BODIES_PER_CLIENT // workers),
    )
