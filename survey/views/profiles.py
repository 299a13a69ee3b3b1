"""Administration of country profiles: list, upload (validated by consent.profiles), verify helplines."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DateField
from wtforms.validators import DataRequired

from consent.profiles import DEFAULT_MAX_HELPLINE_AGE_DAYS, helplines_fresh
from survey.access import staff
from survey.services import profile_store
from survey.uploads import accepts_files

bp = Blueprint("profiles", __name__, url_prefix="/admin/profiles")


class ProfileUploadForm(FlaskForm):
    file = FileField(
        _l("Country profile file (YAML)"),
        validators=[
            FileRequired(_l("Choose a profile file to upload.")),
            FileAllowed(["yaml", "yml"], _l("Choose a YAML file (.yaml or .yml).")),
        ],
    )


class VerifyForm(FlaskForm):
    verified_on = DateField(_l("Date the helpline was checked"), validators=[DataRequired()], default=dt.date.today)


def _list_page(form: ProfileUploadForm, *, status: int = 200, problems=(), message: str = ""):
    today = dt.date.today()
    entries = [(e, helplines_fresh(e.profile, today)) for e in profile_store.entries()]
    return render_template(
        "admin/profiles.html",
        form=form,
        entries=entries,
        problems=problems,
        message=message,
        max_age=DEFAULT_MAX_HELPLINE_AGE_DAYS,
    ), status


@bp.route("/", methods=["GET", "POST"])
@staff("admin")
@accepts_files("file")
def index():
    form = ProfileUploadForm()
    if form.validate_on_submit():
        try:
            profile = profile_store.upload(
                form.file.data.read(profile_store.MAX_PROFILE_BYTES + 1), actor=current_user._get_current_object()
            )
        except profile_store.ProfileUploadError as error:
            return _list_page(form, status=400, problems=error.problems, message=str(error))
        flash(_("Profile %(id)s stored. Consultations can now use it.", id=profile.id), "info")
        return redirect(url_for("profiles.detail", profile_id=profile.id))
    return _list_page(form, status=400 if form.is_submitted() else 200)


def _detail_page(
    profile_id: str, form: VerifyForm | None = None, *, status: int = 200, index: int | None = None, message: str = ""
):
    entry = profile_store.entry(profile_id)
    if entry is None:
        abort(404)
    return render_template(
        "admin/profile.html",
        entry=entry,
        form=form or VerifyForm(formdata=None),
        fresh=helplines_fresh(entry.profile, dt.date.today()),
        error_index=index,
        message=message,
        max_age=entry.profile.helpline_check_days,
    ), status


@bp.route("/<profile_id>")
@staff("admin")
def detail(profile_id: str):
    return _detail_page(profile_id)


@bp.route("/<profile_id>/helplines/<int:index>/verified", methods=["POST"])
@staff("admin")
def verified(profile_id: str, index: int):
    form = VerifyForm()
    if not form.validate_on_submit():
        return _detail_page(
            profile_id, form, status=400, index=index, message=_("Give the date the helpline was checked.")
        )
    try:
        profile_store.record_verification(
            profile_id, index, form.verified_on.data, actor=current_user._get_current_object()
        )
    except LookupError:
        abort(404)
    except profile_store.ProfileUploadError as error:
        return _detail_page(profile_id, form, status=400, index=index, message=str(error))
    flash(_("Verification date recorded."), "info")
    return redirect(url_for("profiles.detail", profile_id=profile_id))
