"""Removing an instance of a repeat the child sizes: the list on the "add another" page and the
one confirmation ("Remove A friend (2)? Its answers will be deleted." Yes / No).

No JavaScript: "Remove" is a link to the confirmation page, whose one form (with the CSRF and
page tokens, and what the page showed: the number of instances and a digest of that one's
answers) does it.  When the list changed meanwhile (another tab), nothing is removed and the
child sees the list again.  :mod:`survey.views.participate` routes here, behind the consent gate.
"""

from __future__ import annotations

import secrets

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from survey.child_cache import form_token_accepted, posted_page_token
from survey.services import journey, page_plan, participants, repeat_removal
from survey.views import question_pages


def instances_on_more_page(plan: page_plan.PagePlan, step, stored, lang: str) -> list[dict]:  # a more Step
    """The instances so far, each with its heading, a short summary and its "Remove" address."""
    index, path, _more = step
    if plan.view is None:
        return []
    instrument = plan.view.instrument
    repeat = page_plan.more_step_repeat(plan, step)
    page = plan.all_pages[index]
    out = []
    for one in repeat_removal.listed(instrument, repeat, path[:-1], path[-1], stored, lang):
        out.append(
            {
                "heading": question_pages.repeat_heading(instrument, page, (*path[:-1], one.number), lang),
                "summary": one.summary,
                "remove_url": url_for(
                    "participate.remove_instance", index=index, path=question_pages.path_text(path), number=one.number
                ),
            }
        )
    return out


def removal_view(index: int, path_text: str, number: int):
    """GET: the question "Remove ...?"; POST Yes: remove it, back to "add another"; POST No: back."""
    path = question_pages.parse_path(path_text)
    if path is None:
        abort(404)
    participant = participants.current_participant()
    if participant is None:  # the consent gate lets no one without a session through
        return redirect(url_for("participate.welcome"))
    plan = page_plan.plan_for(participant)
    if plan.view is None:
        abort(404)
    chains = plan.view.repeat_chains
    if not 0 <= index < len(chains) or len(chains[index]) < len(path):
        abort(404)
    instrument = plan.view.instrument
    try:
        repeat_removal.removable(instrument, chains[index][len(path) - 1], path[:-1])
    except repeat_removal.NotRemovable:
        abort(403)  # the form sizes this repeat (repeat_count): nothing of it can be removed
    step = (index, path, True)
    if step not in plan.steps:
        # Not where this child is now (a second press of Yes, or another tab added or removed
        # one meanwhile): to this repeat's "add another" page as it is now.
        pressed = request.method == "POST" and request.form.get("nav") == "yes"
        if pressed and not repeat_removal.applied(participant, posted_page_token(request.form)):
            flash(_("This list changed. Please check it again."), "error")
        return _list_as_it_is(plan, index, path)
    if not 1 <= number <= path[-1]:
        abort(404)
    repeat_name = chains[index][len(path) - 1]
    back = question_pages.step_url(step)
    lang = journey.content_language(participant, str(get_locale()))
    heading = question_pages.repeat_heading(instrument, plan.all_pages[index], (*path[:-1], number), lang)
    status, note = 200, None
    if request.method == "POST":
        csrf_ok = form_token_accepted(request.form)
        nav = request.form.get("nav")
        if not csrf_ok:
            note = _("Sorry, that did not go through. Please press the button again.")
            status = 400
        elif nav == "no":
            return redirect(back)
        elif nav == "yes":
            token = posted_page_token(request.form)
            seen = _seen_in(request.form)
            try:
                if seen is None:
                    raise repeat_removal.ListChanged("the page did not say what it showed")
                repeat_removal.remove_instance(participant, instrument, repeat_name, path[:-1], number, token, seen)
            except repeat_removal.ListChanged:
                flash(_("This list changed. Please check it again."), "error")
                return _list_as_it_is(page_plan.plan_for(participant), index, path)
            except repeat_removal.RemovalConflict:
                abort(409)
            except repeat_removal.NotRemovable:
                return redirect(back)
            except repeat_removal.RemovalRefused:
                return redirect(url_for("participate.welcome"))
            fewer = (index, (*path[:-1], path[-1] - 1), True)
            return redirect(question_pages.step_url(fewer))
        else:
            status = 400
    seen = repeat_removal.seen_now(participant, instrument, repeat_name, path[:-1], number)
    return render_template(
        "participate/remove.html",
        heading=heading,
        back=back,
        note=note,
        page_token=secrets.token_hex(16),
        seen=seen,
    ), status


def _seen_in(form) -> repeat_removal.Seen | None:
    """What the confirmation page showed, as its form gives it back; None when it does not."""
    count, digest = form.get("seen_count", ""), form.get("seen", "")
    if not count.isdigit() or len(count) > 4 or not digest or len(digest) > 64:
        return None
    return repeat_removal.Seen(int(count), digest)


def _list_as_it_is(plan: page_plan.PagePlan, index: int, path: tuple[int, ...]):
    """To this repeat's "add another" page as it is now (or on, when there is none)."""
    following = next((s for s in plan.steps if s[2] and s[0] == index and s[1][:-1] == path[:-1]), None)
    following = following or next((s for s in plan.steps if s[0] >= index), None)
    return redirect(question_pages.step_url(following) if following is not None else url_for("participate.end"))
