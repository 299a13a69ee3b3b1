"""The child's side: code, age, information and assent, questions, the end.  Neutral words only.

Views stay thin: they read the form, call :mod:`survey.services.journey`, and render or redirect.
Who may reach each route is declared with the decorators of :mod:`survey.access`, where the
consent gate lives (``@child_assented``).
"""

from __future__ import annotations

import os
import re
import secrets

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_babel import gettext as _
from markupsafe import escape

import instruments.bundled
from consent.states import State
from consent.texts import TextVersionMismatch, check_answer
from survey.access import checks_own_form_token, child, child_assented, public_child_facing
from survey.child_cache import form_token_accepted, kept_screen, posted_page_token
from survey.extensions import _client_key, csrf
from survey.forms import AgeForm, CodeForm, WithdrawForm
from survey.i18n import locale_code, text_direction
from survey.services import facilitation, journey, page_plan, participants
from survey.services.consent_rules import may_proceed
from survey.views import question_pages, repeat_removal

bp = Blueprint("participate", __name__)

#: Where the bundled consultations keep their pictograms (media paths in the YAML are relative to it).
BUNDLED_MEDIA = os.path.dirname(instruments.bundled.__file__)


def UNAVAILABLE_MESSAGE() -> str:  # a message, translated when shown
    return _("Codes cannot be checked just now. Please try again in a minute.")


def _locale() -> str:
    return locale_code()


@bp.route("/", methods=["GET", "POST"])
@public_child_facing
def start():
    # A QR code on the card carries ?code=..., so scanning it fills the box in.
    form = CodeForm(data={"code": request.args.get("code", "")} if request.method == "GET" else None)
    status = 200
    if form.validate_on_submit():
        try:
            participants.enter_code(form.code.data, _client_key(), seat_label=form.seat.data or "")
        except participants.CodeAttemptsThrottled:
            return _code_refused(form, _("Too many tries. Please wait a minute, or ask the adult with you."), 429)
        except participants.CodeCheckUnavailable:
            return _code_refused(form, UNAVAILABLE_MESSAGE(), 503)
        except participants.SessionNotStarted:
            message = _("The session has not started yet. Please wait for the adult running it.")
            return _code_refused(form, message, 409)
        except participants.CodeRefused:
            message = _("We could not find that code. Check the letters on your card and try again.")
            return _code_refused(form, message, 400)
        else:
            return redirect(_next_screen(participants.current_participant()))
    elif form.is_submitted():
        status = 400
    elif not form.code.data:
        # The same empty code box for everyone (a code from a card's QR code is drawn every time).
        return kept_screen("participate/start.html", "start", form=form)
    return render_template("participate/start.html", form=form), status


#: Stand-ins for what the child typed, in the code box kept with a refusal (:func:`_code_refused`).
#: Escaped as every value in a form is, neither can appear in the page otherwise.
_TYPED = {"code": "<typed-code>", "seat": "<typed-seat>"}
_TYPED_SLOT = re.compile("|".join(re.escape(str(escape(slot))) for slot in _TYPED.values()))


def _code_refused(form: CodeForm, message: str, status: int) -> tuple[str, int]:
    """The code box again, with ``message`` under the code and what the child typed in the boxes.

    The page is drawn once per message and frame (:func:`~survey.child_cache.kept_screen`) with
    stand-ins in the boxes, and each refusal puts back the code and seat it was sent, escaped as
    the form escapes them: the very page a fresh drawing gives.  Refusing a guess costs a
    string replacement, not a page: after its tenth wrong code a minute, a device guessing cards
    gets only refusals, thousands of them a minute if it keeps trying.
    """
    shown = CodeForm(formdata=None, data=_TYPED)
    shown.code.errors = [message]
    html = kept_screen("participate/start.html", ("refused", message), form=shown)
    typed = {str(escape(slot)): str(escape(form[name]._value())) for name, slot in _TYPED.items()}
    return _TYPED_SLOT.sub(lambda found: typed[found.group(0)], html), status


@bp.route("/p/")
@child
def welcome():
    """Send the child to where they are in their journey (also how a closed tab resumes)."""
    participant = participants.current_participant()
    journey.set_language(participant, _locale())
    return redirect(_next_screen(participant))


def _next_screen(participant) -> str:  # a ParticipantRow
    """The address of the screen the child is at: age, information and assent, or their page.

    The one place that orders the journey's first steps.  Every step's POST redirects here
    directly (never through ``/p/``, which is only how a closed tab resumes).  A consultation
    with one age band sets it without asking, so the child goes straight to the information.
    """
    if participant.band is None:
        bands = participant.consultation.band_list
        if len(bands) != 1:
            return url_for("participate.age")
        journey.set_band(participant, bands[0], language=_locale())
        return url_for("participate.about")
    if participant.state == State.ISSUED:
        return url_for("participate.about")
    last = session.get(question_pages.REPEAT_STEP_KEY)
    if isinstance(last, list) and len(last) == 2 and last[0] == participant.id:
        step = question_pages.step_from_text(last[1])
        if step is not None and step[0] == participant.page_index:
            return question_pages.step_url(step)  # back in the repeat instance the child was answering
    return url_for("participate.page", index=participant.page_index)


@bp.route("/p/age", methods=["GET", "POST"])
@child
def age():
    participant = participants.current_participant()
    bands = participant.consultation.band_list
    if len(bands) == 1:
        return redirect(_next_screen(participant))
    form = AgeForm.for_bands(bands)
    if form.validate_on_submit():
        journey.set_band(participant, form.band_for_answer(), language=_locale())
        if participant.state == State.ISSUED:
            return redirect(url_for("participate.about"))
        return redirect(_next_screen(participant))
    if not form.is_submitted():
        limits = current_app.config["AGE_BANDS"]
        return kept_screen("participate/age.html", tuple((band, *limits[band]) for band in bands), form=form)
    return render_template("participate/age.html", form=form), 400


@bp.route("/p/about", methods=["GET", "POST"])
@child
def about():
    participant = participants.current_participant()
    if participant.band is None:
        return redirect(url_for("participate.age"))
    if participant.state != State.ISSUED:
        return redirect(url_for("participate.welcome"))
    if not may_proceed(participant):
        # No guardian permission recorded for this card (or it was withheld): the same calm
        # message either way, and nothing is stored.
        return render_template("participate/wait.html")
    try:
        shown = journey.information_text(participant, _locale())
    except (TextVersionMismatch, LookupError):
        # The text the consultation was opened with has changed or gone (C-06): enrol nobody.
        current_app.logger.error("bound consent text unavailable", extra={"consultation": participant.consultation_id})
        return render_template("participate/wait.html"), 409
    questions = shown.comprehension_items
    chosen: dict[int, int] = {}
    explanations: dict[int, str] = {}
    if request.method == "POST":
        for number, item in enumerate(questions):
            raw = request.form.get(f"check_{number}", "")
            # the option's number as the page sends it ("²" and 5,000 digits pass isdigit(), not int())
            options = {str(index): index for index in range(len(item.options))}
            if raw in options:
                chosen[number] = options[raw]
                outcome = check_answer(item, options[raw])
                if not outcome.correct:
                    explanations[number] = outcome.explain_again or ""
        decision = request.form.get("decision")
        already_explained = request.form.get("explained") == "1"
        # A wrong answer explains again, once; it never stops the child from choosing.
        if decision in ("yes", "no") and (not explanations or already_explained):
            journey.record_assent(participant, decision == "yes", shown, language=_locale())
            if decision == "yes":
                first = page_plan.first_step(participant)
                return redirect(question_pages.step_url(first) if first is not None else url_for("participate.end"))
            participants.leave()
            return redirect(url_for("participate.declined"))
    if not chosen and not explanations:
        # As every child of this band and language first sees it.
        return kept_screen(
            "participate/about.html", shown, shown=shown, questions=questions, chosen=chosen, explanations=explanations
        )
    return render_template(
        "participate/about.html", shown=shown, questions=questions, chosen=chosen, explanations=explanations
    )


@bp.route("/p/ended")
@public_child_facing
def card_stopped():
    """Where a child's session ends when their card can no longer be used (its permission was
    withheld while they were answering): their answers are deleted, and it is nothing they did."""
    return render_template("participate/wait.html", ended=True)


@bp.route("/p/declined")
@public_child_facing
def declined():
    return render_template("participate/declined.html")


@bp.route("/p/q/<int:index>", methods=["GET", "POST"])
@child_assented
@checks_own_form_token
def page(index: int):
    return question_pages.page_view(index)


@bp.route("/p/q/<int:index>/<path>", methods=["GET", "POST"])
@child_assented
@checks_own_form_token
def page_in_repeat(index: int, path: str):
    """A page asked once per instance of a repeat: ``path`` is the instance (``2``, or ``2.1``)."""
    parsed = question_pages.parse_path(path)
    if parsed is None:
        abort(404)
    return question_pages.page_view(index, parsed)


@bp.route("/p/more/<int:index>/<path>", methods=["GET", "POST"])
@child_assented
@checks_own_form_token
def more(index: int, path: str):
    """After the last instance of a repeat the child sizes: "Add another" or "That's all"."""
    parsed = question_pages.parse_path(path)
    if parsed is None:
        abort(404)
    participant = participants.current_participant()
    plan = page_plan.plan_for(participant)
    step = (index, parsed, True)
    if step not in plan.steps:
        # Already answered (another was added, or the maximum reached): back to the journey.
        following = next((s for s in plan.steps if s[0] >= index), None)
        return redirect(question_pages.step_url(following) if following is not None else url_for("participate.end"))
    question_pages.remember_step(participant, step)
    instrument = plan.view.instrument
    repeat = page_plan.more_step_repeat(plan, step)
    lang = journey.content_language(participant, _locale())
    title = repeat.title.get_for(lang, (instrument.settings.default_language, *sorted(repeat.title)))
    status, note = 200, None
    if request.method == "POST":
        csrf_ok = form_token_accepted(request.form)
        nav = request.form.get("nav")
        if not csrf_ok:
            note = _("Sorry, that did not go through. Please press the button again.")
            status = 400
        elif nav == "back":
            before = plan.step_before(step)
            return redirect(question_pages.step_url(before) if before is not None else question_pages.step_url(step))
        elif nav == "done":
            after = plan.step_after(step)
            journey.move_to(participant, after[0] if after is not None else index)
            return redirect(question_pages.step_url(after) if after is not None else url_for("participate.end"))
        elif nav == "add":
            token = posted_page_token(request.form)
            try:
                target = journey.add_instance(participant, plan, step, token)
            except journey.PageConflict:
                abort(409)
            except journey.NotAllowed:
                return redirect(url_for("participate.welcome"))
            return redirect(question_pages.step_url(target) if target is not None else url_for("participate.end"))
        else:
            status = 400
    stored = page_plan.answers_of(participant)
    return render_template(
        "participate/more.html",
        title=title,
        instances=repeat_removal.instances_on_more_page(plan, step, stored, lang),
        count=parsed[-1],
        maximum=repeat.maximum,
        position=plan.step_position(step),
        total=len(plan.steps),
        has_previous=plan.step_before(step) is not None,
        note=note,
        page_token=secrets.token_hex(16),
    ), status


@bp.route("/p/more/<int:index>/<path>/remove/<int:number>", methods=["GET", "POST"])
@child_assented
@checks_own_form_token
def remove_instance(index: int, path: str, number: int):
    """ "Remove" on the "add another" page: one confirmation, then that instance is gone."""
    return repeat_removal.removal_view(index, path, number)


@bp.route("/p/noted")
@child_assented
def concern_noted():
    """After an answer that went to the safeguarding lead: thanks, what happens next, who can help."""
    participant = participants.current_participant()
    then = request.args.get("then", "")
    step = question_pages.step_from_text(then)
    onward = (
        url_for("participate.end")
        if then == "end"
        else question_pages.step_url(step)
        if step is not None
        else url_for("participate.welcome")
    )
    shown = journey.information_text(participant, _locale())
    return render_template(
        "participate/noted.html",
        onward=onward,
        privacy=shown.section("privacy"),
        privacy_lang=shown.language,
        privacy_dir=text_direction(shown.language),
        facilitated=participant.consultation.facilitated,
    )


@bp.route("/p/end", methods=["GET", "POST"])
@child_assented
def end():
    participant = participants.current_participant()
    if request.method == "POST" and request.form.get("decision") in ("yes", "no"):
        keep = request.form["decision"] == "yes"
        journey.finish(participant, keep)
        participants.leave()
        shared = {"shared": "1"} if participant.consultation.shared_device else {}
        return redirect(url_for("participate.done", kept="1" if keep else "0", **shared))
    shown = journey.information_text(participant, _locale())
    choices = shown.choices("reaffirmation")
    return kept_screen("participate/end.html", choices, choices=choices)


@bp.route("/p/done")
@public_child_facing
def done():
    kept, shared = request.args.get("kept") == "1", request.args.get("shared") == "1"
    return kept_screen("participate/done.html", (kept, shared), kept=kept, shared=shared)


@bp.route("/p/stop", methods=["GET", "POST"])
@child
def stop():
    participant = participants.current_participant()
    if request.method == "POST":
        choice = request.form.get("choice")
        if choice == "delete":
            if participant.state == State.ISSUED:
                participants.leave()
            else:
                journey.stop_and_delete(participant)
                participants.leave()
            return redirect(url_for("participate.stopped", deleted="1"))
        if choice == "later":
            participants.leave()
            return redirect(url_for("participate.stopped", deleted="0"))
        if choice == "continue":
            return redirect(url_for("participate.welcome"))
    return render_template("participate/stop.html", answering=participant.state != State.ISSUED)


@bp.route("/p/stopped")
@public_child_facing
def stopped():
    return render_template("participate/stopped.html", deleted=request.args.get("deleted") == "1")


@bp.route("/p/talk", methods=["POST"])
@child
def talk():
    """ "I'd like to talk to someone": the facilitator sees this child's seat label, nothing else."""
    participant = participants.current_participant()
    if not participant.consultation.facilitated:
        return redirect(url_for("participate.help_page"))
    facilitation.raise_signal(participant)
    return render_template("participate/talk.html", seat=participant.seat_label)


@bp.route("/p/upset")
@public_child_facing
def upset():
    """A calm screen with help; nothing is stored about why the child came here."""
    return render_template("participate/upset.html", in_session=participants.current_participant() is not None)


@bp.route("/change", methods=["GET", "POST"])
@public_child_facing
def withdraw():
    """The withdrawal code from the card's tear-off: delete a finished response."""
    form = WithdrawForm()
    outcome = None
    status = 200
    if form.validate_on_submit():
        try:
            # Every withdrawal code counts as a failed try: the page does not tell whether a
            # code exists, and a child sends one at most once.
            participants.check_code_budget(_client_key())
            participants.count_code_failure(_client_key())
            outcome = journey.withdraw_with_code(form.code.data).value
        except participants.CodeAttemptsThrottled:
            form.code.errors.append(_("Too many tries. Please wait a minute, or ask the adult with you."))
            status = 429
        except participants.CodeCheckUnavailable:
            form.code.errors.append(UNAVAILABLE_MESSAGE())
            status = 503
    elif form.is_submitted():
        status = 400
    return render_template("participate/withdraw.html", form=form, outcome=outcome), status


@bp.route("/leave", methods=["GET", "POST"])
@public_child_facing
@csrf.exempt  # it only ever ends this device's own child session: nothing for a forged request to gain
def leave():
    """Quick exit: a plain link.  Forget this device's child session, go somewhere neutral.

    A GET, so that it works without JavaScript and without a form token, and so that the
    page's ``form-action 'self'`` cannot stop the redirect to another host (that directive
    covers form submissions only).  It changes nothing but this browser's own session cookie,
    which a cross-site request does not even carry (``SameSite=Strict``).  POST is still
    answered the same way, for a page that was open before this changed.
    """
    participant = participants.current_participant()
    target = participants.quick_exit_destination(participant)
    participants.quick_exit(participant)
    session.pop("lang", None)
    return redirect(target, code=303)


@bp.route("/media/<path:filename>")
@public_child_facing
def media(filename: str):
    """Pictograms shipped with the bundled consultations (SVG, served from this server only)."""
    if not filename.endswith(".svg"):
        abort(404)
    return send_from_directory(BUNDLED_MEDIA, filename, mimetype="image/svg+xml", max_age=86400)


@bp.route("/notes")
@public_child_facing
def neutral():
    """The neutral page a quick exit lands on where there is no internet (``--lan`` offline) or
    the country profile asks for it: nothing on it names this site, a survey or a child."""
    return render_template("participate/neutral.html")


@bp.route("/help")
@public_child_facing
def help_page():
    return render_template("participate/help.html")
