"""The child's side: enter a code, then the consultation.  Neutral words in titles and paths."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _

from survey.access import child, public_child_facing
from survey.extensions import _client_key
from survey.forms import CodeForm
from survey.services import participants
from survey.services.safeguarding import help_context

bp = Blueprint("participate", __name__)


@bp.route("/", methods=["GET", "POST"])
@public_child_facing
def start():
    # A QR code on the card carries ?code=..., so scanning it fills the box in.
    form = CodeForm(data={"code": request.args.get("code", "")} if request.method == "GET" else None)
    status = 200
    if form.validate_on_submit():
        try:
            participants.enter_code(form.code.data, _client_key())
        except participants.CodeAttemptsThrottled:
            form.code.errors.append(_("Too many tries. Please wait a minute, or ask the adult with you."))
            status = 429
        except participants.CodeRefused:
            form.code.errors.append(
                _("We could not find that code. Check the letters on your card and try again.")
            )
            status = 400
        else:
            return redirect(url_for("participate.welcome"))
    elif form.is_submitted():
        status = 400
    return render_template("participate/start.html", form=form), status


@bp.route("/p/")
@child
def welcome():
    return render_template("participate/welcome.html", participant=participants.current_participant())


@bp.route("/leave", methods=["POST"])
@public_child_facing
def leave():
    """Quick exit and "stop for now": forget this device's session, go somewhere neutral."""
    participant = participants.current_participant()
    target = help_context(participant.consultation if participant else None)["quick_exit_url"]
    participants.leave()
    return redirect(target or url_for("participate.neutral"), code=303)


@bp.route("/notes")
@public_child_facing
def neutral():
    """The neutral page a quick exit lands on when no outside address is configured."""
    return render_template("participate/neutral.html")


@bp.route("/help")
@public_child_facing
def help_page():
    return render_template("participate/help.html")
