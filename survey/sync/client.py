"""The laptop's side of the wire: HTTPS requests to the central server, and resumable uploads.

Standard library only (``urllib``), no Flask and no database: :mod:`survey.sync.cli` passes in
what the service made (signed requests, bundles) and hands back what the central server said.
Plain HTTP is refused except to this computer (127.0.0.1, ``localhost``, ``::1``), where the
tests and a local proxy run.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from urllib.parse import urlsplit

#: Bytes per piece of a pushed bundle: small enough that a weak mobile link finishes pieces,
#: large enough that a 2,000-child bundle takes a handful of requests.
CHUNK_BYTES = 512 * 1024
#: Seconds a request may take before it is given up (the next push resumes).
TIMEOUT_S = 60
_LOCAL = ("127.0.0.1", "localhost", "::1")


class SyncClientError(RuntimeError):
    """The central server refused, or could not be reached; the message is for people."""

    def __init__(self, message: str, status: int = 0, received: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.received = received


def check_url(url: str) -> str:
    """``url`` without a trailing slash, if it is HTTPS (or plain HTTP to this computer)."""
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOCAL):
        return url.rstrip("/")
    raise SyncClientError("The central server's address must start with https:// (the data is children's).")


def _request(method: str, url: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked by check_url
        check_url(url),
        data=body,
        method=method,
        headers={"Content-Type": "application/octet-stream", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310 # nosec B310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = {}
        raise SyncClientError(
            answer.get("error") or f"The central server answered {error.code}.", error.code, answer.get("received")
        ) from error
    except (urllib.error.URLError, OSError) as error:
        raise SyncClientError("The central server cannot be reached just now; try again later.") from error


def get_package(package_url: str, enrol_token: str) -> bytes:
    return _request("GET", package_url, headers={"X-Sauti-Enrol": enrol_token})[1]


def post_signed(central_url: str, path: str, body: bytes) -> bytes:
    return _request("POST", f"{check_url(central_url)}/sync/api/{path}", body)[1]


@dataclasses.dataclass(frozen=True)
class Pushed:
    receipt: bytes
    counts: dict
    already: bool
    resumed_at: int


def push_bundle(
    central_url: str,
    data: bytes,
    start_request: bytes,
    *,
    chunk: int = CHUNK_BYTES,
    max_rate: float = 0.0,
    progress: Callable[[int, int], None] | None = None,
) -> Pushed:
    """Send one bundle in pieces; a push stopped half-way resumes where the server stands.

    ``start_request`` is the device-signed ``{"size", "digest"}`` of the bundle: the central
    server answers with the upload's id and how much of it it already holds.  ``max_rate``
    (bytes a second, 0 for no limit) keeps a shared mobile link usable for others.
    """
    base = check_url(central_url)
    started = json.loads(post_signed(base, "uploads", start_request))
    upload, offset = started["upload"], int(started["received"])
    resumed_at = offset
    began = time.monotonic()
    while offset < len(data):
        piece = data[offset : offset + chunk]
        try:
            answer = json.loads(_request("PUT", f"{base}/sync/api/uploads/{upload}?offset={offset}", piece)[1])
            offset = int(answer["received"])
        except SyncClientError as error:
            if error.status == 409 and error.received is not None:
                offset = int(error.received)  # the server holds more (or less) than we thought
                continue
            raise
        if progress is not None:
            progress(offset, len(data))
        if max_rate:
            ahead = (offset - resumed_at) / max_rate - (time.monotonic() - began)
            if ahead > 0:
                time.sleep(ahead)
    answer = json.loads(_request("POST", f"{base}/sync/api/uploads/{upload}/finish", b"")[1])
    return Pushed(
        base64.b64decode(answer["receipt"]), answer.get("counts") or {}, bool(answer.get("already")), resumed_at
    )


def upload_description(data: bytes) -> dict:
    return {"size": len(data), "digest": hashlib.sha256(data).hexdigest()}
