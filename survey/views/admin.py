"""Administration: staff accounts and roles."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from survey.access import staff
from survey.extensions import db
from survey.forms import EditUserForm, NewUserForm
from survey.models import User
from survey.services import accounts

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users", methods=["GET", "POST"])
@staff("admin")
def users():
    form = NewUserForm()
    status = 200
    if form.validate_on_submit():
        try:
            accounts.create_user(
                form.username.data, form.password.data, form.roles.data,
                display_name=form.display_name.data or "", actor=current_user._get_current_object(),
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
                user, roles=form.roles.data, active=form.active.data,
                password=form.password.data or None, actor=current_user._get_current_object(),
            )
        except accounts.AccountError as error:
            form.roles.errors.append(str(error))
            status = 400
        else:
            flash(_("Account %(name)s updated.", name=user.username), "info")
            return redirect(url_for("admin.users"))
    elif form.is_submitted():
        status = 400
    return render_template("admin/edit_user.html", form=form, user=user), status


class _UserFormData:
    def __init__(self, user: User) -> None:
        self.roles = sorted(user.role_set)
        self.active = user.active
        self.password = ""

