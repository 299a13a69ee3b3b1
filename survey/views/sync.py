"""The central server's endpoints for field laptops (``sauti sync pull`` and ``push``).

Machine-facing, no cookies and no CSRF token: every request is either signed by a registered
device's key, or carries the package's enrolment code, or names an upload by its random id.
Thin: :mod:`survey.services.sync` decides everything.  Errors are JSON ``{"error": message}``
with a 4xx status, in plain words.  In production these URLs are served over HTTPS (the laptop's
client refuses plain HTTP to any host but this computer).
"""

from __future__ import annotations

import base64

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from survey.access import public
from survey.extensions import csrf
from survey.services import sync

bp = Blueprint("sync", __name__, url_prefix="/sync/api")
csrf.exempt(bp)

_BYTES = "application/octet-stream"


def _refused(error: sync.SyncRefused, status: int = 400) -> ResponseReturnValue:
    return jsonify(error=str(error)), status


def _signed(data: bytes) -> ResponseReturnValue:
    return data, 200, {"Content-Type": _BYTES}


def _central_url() -> str:
    return request.url_root.rstrip("/")


@bp.route("/packages/<package_id>", methods=["GET"])
@public
def package(package_id: str) -> ResponseReturnValue:
    try:
        return _signed(sync.package_document(package_id[:36], request.headers.get("X-Sauti-Enrol", ""),
                                             _central_url()))
    except sync.SyncRefused as error:
        return _refused(error, 404)


@bp.route("/devices", methods=["POST"])
@public
def register() -> ResponseReturnValue:
    try:
        return _signed(sync.register_request(request.get_data()))
    except sync.SyncRefused as error:
        return _refused(error)


@bp.route("/status", methods=["POST"])
@public
def status() -> ResponseReturnValue:
    try:
        device, _content = sync.signed_device_request(request.get_data())
        return _signed(sync.device_status(device))
    except sync.SyncRefused as error:
        return _refused(error)


@bp.route("/uploads", methods=["POST"])
@public
def start_upload() -> ResponseReturnValue:
    try:
        device, content = sync.signed_device_request(request.get_data())
        upload = sync.start_upload(device, content.get("size"), content.get("digest"))
    except sync.SyncRefused as error:
        return _refused(error)
    return jsonify(upload=upload.id, received=upload.received)


@bp.route("/uploads/<upload_id>", methods=["PUT"])
@public
def put_chunk(upload_id: str) -> ResponseReturnValue:
    offset = request.args.get("offset", type=int)
    if offset is None or offset < 0:
        return jsonify(error="Say where this piece starts (offset)."), 400
    try:
        received = sync.put_chunk(upload_id[:64], offset, request.get_data())
    except sync.UploadOffset as error:
        return jsonify(error=str(error), received=error.received), 409
    except sync.SyncRefused as error:
        return _refused(error)
    return jsonify(received=received)


@bp.route("/uploads/<upload_id>/finish", methods=["POST"])
@public
def finish_upload(upload_id: str) -> ResponseReturnValue:
    try:
        imported = sync.finish_upload(upload_id[:64])
    except sync.UploadOffset as error:
        return jsonify(error=str(error), received=error.received), 409
    except sync.SyncRefused as error:
        return _refused(error, 422)
    return jsonify(receipt=base64.b64encode(imported.receipt).decode(), counts=imported.counts,
                   already=imported.already)
