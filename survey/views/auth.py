"""Staff sign-in and sign-out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from survey.access import public, staff
from survey.extensions import _client_key
from survey.forms import SignInForm
from survey.services import accounts

bp = Blueprint("auth", __name__, url_prefix="/staff")


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect would let a phishing link borrow our sign-in page.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("staff.home")


def _device_cookie_name() -> str:
    """``__Host-`` over HTTPS, like the session cookie (survey.serving.init_app)."""
    prefix = "__Host-" if current_app.config["SESSION_COOKIE_NAME"].startswith("__Host-") else ""
    return prefix + "sauti_device"


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("staff.home"))
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        try:
            result = accounts.sign_in(
                form.username.data, form.password.data, _client_key(), device=request.cookies.get(_device_cookie_name())
            )
        except accounts.SigninThrottled:
            flash(_("Too many failed sign-ins. Wait 15 minutes and try again."), "error")
            status = 429
        else:
            if result.user is not None:
                session.clear()  # a fresh session: no fixation, no child state carried over
                login_user(result.user)
                response = redirect(_safe_next(request.args.get("next")))
                # This device is now known to the account: failures from elsewhere never make
                # it wait (survey/services/accounts.py, "failed sign-ins").
                response.set_cookie(
                    _device_cookie_name(),
                    accounts.device_token(result.user.username),
                    max_age=int(accounts.DEVICE_COOKIE_MAX_AGE.total_seconds()),
                    path="/",
                    secure=current_app.config["SESSION_COOKIE_SECURE"],
                    httponly=True,
                    samesite="Strict",
                )
                return response
            flash(_("That username and password do not match an active account."), "error")
            status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/sign_in.html", form=form), status


@bp.route("/sign-out", methods=["POST"])
@staff()
def sign_out():
    accounts.sign_out(current_user._get_current_object())
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.sign_in"))


@bp.route("/sign-out-everywhere", methods=["POST"])
@staff()
def sign_out_everywhere():
    """End this account's sessions on every device, this one included."""
    accounts.sign_out_everywhere(current_user._get_current_object())
    logout_user()
    session.clear()
    flash(_("You are signed out on every device."), "info")
    return redirect(url_for("auth.sign_in"))
