"""The central server's endpoints for field laptops (``sauti sync pull`` and ``push``).

Machine-facing, no cookies and no CSRF token: every request is either signed by a registered
device's key, or carries the package's enrolment code, or names an upload by its random id.
Thin: :mod:`survey.services.sync` decides everything.  Errors are JSON ``{"error": message}``
with a 4xx status, in plain words.  In production these URLs are served over HTTPS (the laptop's
client refuses plain HTTP to any host but this computer).
"""

from __future__ import annotations

import base64

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from survey.access import public, staff
from survey.extensions import csrf
from survey.services import sync
from survey.uploads import accepts_files

bp = Blueprint("sync", __name__, url_prefix="/sync/api")
csrf.exempt(bp)
#: The administrators' page: laptops, imports, and a bundle brought on a USB stick.
console = Blueprint("sync_console", __name__, url_prefix="/admin/field-laptops")

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
        return _signed(sync.package_document(package_id[:36], request.headers.get("X-Sauti-Enrol", ""), _central_url()))
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
    return jsonify(
        receipt=base64.b64encode(imported.receipt).decode(), counts=imported.counts, already=imported.already
    )


# ----------------------------------------------------------------------------- the console
@console.route("/", methods=["GET", "POST"])
@staff("admin")
@accepts_files("file")
def laptops() -> ResponseReturnValue:
    """Registered field laptops, their imports, and an upload for a bundle carried by hand."""
    from survey.forms import BundleUploadForm

    form = BundleUploadForm()
    status = 200
    if form.validate_on_submit():
        try:
            imported = sync.import_bundle(form.file.data.read(), actor=current_user._get_current_object())
        except sync.SyncRefused as error:
            flash(str(error), "error")
            status = 400
        else:
            counts = ", ".join(f"{k} {v}" for k, v in imported.counts.items()) or _("nothing new")
            flash(
                (
                    _("Already imported: %(counts)s.", counts=counts)
                    if imported.already
                    else _("Imported: %(counts)s.", counts=counts)
                )
                + " "
                + _("Download the receipt below and take it back to the laptop."),
                "info",
            )
            return redirect(url_for("sync_console.laptops"), code=303)
    elif form.is_submitted():
        status = 400
    return render_template(
        "admin/field_laptops.html", form=form, laptops=sync.devices(), imports=sync.recent_imports()
    ), status


@console.route("/imports/<int:import_id>/receipt")
@staff("admin")
def receipt(import_id: int) -> ResponseReturnValue:
    try:
        data, sequence = sync.receipt_for_import(import_id)
    except sync.SyncRefused:
        return jsonify(error=_("No such import.")), 404
    return Response(
        data,
        mimetype="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="bundle-{sequence}.receipt"',
            "Cache-Control": "no-store",
        },
    )


@console.route("/<device_id>/revoke", methods=["POST"])
@staff("admin")
def revoke(device_id: str) -> ResponseReturnValue:
    try:
        sync.revoke_device(device_id[:32], actor=current_user._get_current_object())
    except sync.SyncRefused:
        flash(_("No such laptop."), "error")
    else:
        flash(_("The laptop's key is revoked: its bundles are refused from now on."), "info")
    return redirect(url_for("sync_console.laptops"), code=303)
