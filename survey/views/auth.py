"""Staff sign-in and sign-out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from survey.access import public, staff
from survey.extensions import _client_key
from survey.forms import SignInForm
from survey.services import accounts
from survey.throttle import ThrottleUnavailable

bp = Blueprint("auth", __name__, url_prefix="/staff")


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect would let a phishing link borrow our sign-in page.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("staff.home")


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("staff.home"))
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        try:
            result = accounts.sign_in(form.username.data, form.password.data, _client_key())
        except accounts.SigninThrottled:
            flash(_("Too many failed sign-ins. Wait 15 minutes and try again."), "error")
            status = 429
        except ThrottleUnavailable:
            flash(_("Sign-in is unavailable just now. Please try again in a few minutes."), "error")
            status = 503
        else:
            if result.user is not None:
                session.clear()  # a fresh session: no fixation, no child state carried over
                login_user(result.user)
                return redirect(_safe_next(request.args.get("next")))
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
