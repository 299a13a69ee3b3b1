"""The console's "API tokens" page: make, see and revoke personal access tokens (issue 23)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectChoice

from survey.access import staff
from survey.forms import ApiTokenForm
from survey.services import api_tokens

bp = Blueprint("tokens", __name__, url_prefix="/staff/api-tokens")


def _form() -> ApiTokenForm:
    form = ApiTokenForm()
    form.scopes.choices = [
        SelectChoice(scope, api_tokens.SCOPES[scope]) for scope in api_tokens.allowed_scopes(current_user)
    ]
    return form


def _page(form: ApiTokenForm, *, new_token: str | None = None, status: int = 200):
    return render_template(
        "staff/api_tokens.html",
        form=form,
        revoke_form=FlaskForm(),
        new_token=new_token,
        tokens=api_tokens.tokens_of(current_user),
        is_live=api_tokens.is_live,
        scope_labels=api_tokens.SCOPES,
    ), status


@bp.route("/", methods=["GET", "POST"])
@staff("analyst", "admin")
def index():
    form = _form()
    if form.validate_on_submit():
        try:
            _record, token = api_tokens.create(
                current_user, name=form.name.data, scopes=form.scopes.data, days=form.days.data
            )
        except api_tokens.TokenError as error:
            form.name.errors.append(str(error))
            return _page(form, status=400)
        # Shown once, in this response only: never flashed (the session would carry it) nor stored.
        return _page(_form(), new_token=token, status=201)
    return _page(form, status=400 if form.is_submitted() else 200)


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@staff("analyst", "admin")
def revoke(token_id: int):
    if not FlaskForm().validate_on_submit():
        return redirect(url_for("tokens.index"), code=303)
    if api_tokens.revoke(current_user, token_id):
        flash(_l("The token was revoked: it no longer works."), "success")
    return redirect(url_for("tokens.index"), code=303)
