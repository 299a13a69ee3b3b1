"""Administration: staff accounts and roles."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from survey.access import staff
from survey.extensions import db
from survey.forms import EditUserForm, NewUserForm
from survey.models import User
from survey.services import accounts
from survey.uploads import accepts_files

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/")
@staff("admin")
def index():
    """The administration pages are listed on the staff home page."""
    return redirect(url_for("staff.home"))


@bp.route("/users", methods=["GET", "POST"])
@staff("admin")
def users():
    form = NewUserForm()
    status = 200
    if form.validate_on_submit():
        try:
            accounts.create_user(
                form.username.data,
                form.password.data,
                form.roles.data,
                display_name=form.display_name.data or "",
                actor=current_user._get_current_object(),
            )
        except accounts.AccountError as error:
            form.username.errors.append(str(error))
            status = 400
        else:
            flash(_("Account %(name)s created.", name=accounts.normalise_username(form.username.data)), "info")
            return redirect(url_for("admin.users"))
    elif form.is_submitted():
        status = 400
    return render_template("admin/users.html", form=form, users=accounts.list_users()), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@staff("admin")
def edit_user(user_id: int):
    user = db.get_or_404(User, user_id)
    form = EditUserForm(obj=_UserFormData(user))  # the posted form, when there is one, wins
    status = 200
    if form.validate_on_submit():
        try:
            accounts.update_user(
                user,
                roles=form.roles.data,
                active=form.active.data,
                password=form.password.data or None,
                actor=current_user._get_current_object(),
            )
        except accounts.AccountError as error:
            form.roles.errors.append(str(error))
            status = 400
        else:
            flash(_("Account %(name)s updated.", name=user.username), "info")
            return redirect(url_for("admin.users"))
    elif form.is_submitted():
        status = 400
    return render_template("admin/edit_user.html", form=form, user=user, waiting=accounts.is_waiting(user)), status


@bp.route("/users/<int:user_id>/sign-out-everywhere", methods=["POST"])
@staff("admin")
def sign_out_user_everywhere(user_id: int):
    user = db.get_or_404(User, user_id)
    accounts.sign_out_everywhere(user, actor=current_user._get_current_object())
    flash(_("%(name)s is signed out on every device.", name=user.username), "info")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@staff("admin")
def unlock_user(user_id: int):
    user = db.get_or_404(User, user_id)
    accounts.unlock(user, actor=current_user._get_current_object())
    flash(_("%(name)s can sign in again at once.", name=user.username), "info")
    return redirect(url_for("admin.edit_user", user_id=user.id))


class _UserFormData:
    def __init__(self, user: User) -> None:
        self.roles = sorted(user.role_set)
        self.active = user.active
        self.password = ""


@bp.route("/texts")
@staff("admin")
def texts():
    """Consent and assent texts: read each version, then approve it for real consultations."""
    return redirect(url_for("translations.index"))


@bp.route("/texts/<path:text_id>", methods=["GET", "POST"])
@staff("admin")
def text(text_id: str):
    """One text beside its source, as a child reads it; its review steps with who and when."""
    from survey.views.translations import review_text

    return review_text(text_id)


@bp.route("/audit")
@staff("admin")
def audit_log():
    """Staff actions, newest first (never anything children answered)."""
    from survey.services.audit import recent

    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and 0 < int(page) < 10_000 else 1
    events, more = recent(page=page, per_page=50, action=request.args.get("action", "")[:60])
    return render_template(
        "admin/audit.html", events=events, page=page, more=more, action=request.args.get("action", "")[:60]
    )


@bp.route("/instruments", methods=["GET", "POST"])
@staff("admin")
@accepts_files("file")
def instruments():
    """Upload an XLSForm or a Sauti YAML file, read its validation report, approve a version."""
    from survey.forms import InstrumentUploadForm
    from survey.services import instrument_store

    form = InstrumentUploadForm()
    report = None
    status = 200
    if form.validate_on_submit():
        try:
            record, report = instrument_store.upload(form.file.data, actor=current_user._get_current_object())
        except instrument_store.UploadRefused as refused:
            report = refused.issues
            flash(str(refused), "error")
            status = 400
        else:
            flash(
                _(
                    "Stored %(id)s version %(version)s. Read the report, then approve it.",
                    id=record.instrument_id,
                    version=record.version,
                ),
                "info",
            )
    elif form.is_submitted():
        status = 400
    from survey.services import attachments

    records = instrument_store.stored_versions()
    waiting = {}  # version -> the number of files it still waits for (versions that take files)
    for record in records:
        files = attachments.status(record)
        if files:
            waiting[record.id] = sum(1 for _name, stored in files if stored is None)
    return render_template("admin/instruments.html", form=form, report=report, records=records, waiting=waiting), status


@bp.route("/instruments/<int:record_id>/files", methods=["GET", "POST"])
@staff("admin")
@accepts_files("file")
def instrument_attachments(record_id: int):
    """The files a questionnaire version takes its choices from: which are missing, upload one."""
    from instruments.attachments import MAX_ATTACHMENT_ROWS, MAX_NAME_LENGTH
    from survey.models import InstrumentVersion
    from survey.services import attachments

    record = db.get_or_404(InstrumentVersion, record_id)
    status = 200
    if request.method == "POST":
        upload = request.files.get("file")
        file_name = request.form.get("file_name", "")[: MAX_NAME_LENGTH + 1]  # a longer one is no form's
        if upload is None or not upload.filename:
            flash(_("Choose the file to upload."), "error")
            status = 400
        else:
            try:
                data = upload.stream.read(attachments.MAX_ATTACHMENT_BYTES + 1)
            finally:
                upload.close()  # a large upload is spooled to a temporary file
            try:
                uploaded = attachments.upload(record_id, file_name, data, actor=current_user._get_current_object())
            except attachments.AttachmentRefused as refused:
                flash(str(refused), "error")
                status = 400
            else:
                flash(_("Stored %(file)s.", file=file_name), "info")
                if uploaded.approvals_lost:
                    flash(
                        _(
                            "The file changed the questionnaire's choices, so the approvals of its languages "
                            "given before no longer count. Review each language and approve it again."
                        ),
                        "warning",
                    )
                return redirect(url_for("admin.instrument_attachments", record_id=record_id), code=303)
    return render_template(
        "admin/instrument_files.html",
        record=record,
        files=attachments.status(record),
        limit=attachments.MAX_ATTACHMENT_BYTES,
        max_rows=MAX_ATTACHMENT_ROWS,
    ), status


@bp.route("/instruments/<int:record_id>/approve", methods=["POST"])
@staff("admin")
def approve_instrument(record_id: int):
    from survey.services import instrument_store

    try:
        instrument_store.approve(record_id, actor=current_user._get_current_object())
    except instrument_store.UploadRefused as refused:
        flash(str(refused), "error")
    else:
        flash(_("Approved: consultations can now use this version."), "info")
    return redirect(url_for("admin.instruments"), code=303)
