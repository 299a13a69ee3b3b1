"""The child's question pages: drawing and saving one page, and the addresses of the journey's screens.

:mod:`survey.views.participate` routes to :func:`page_view`; this module holds what a question
page does between the consent gate and the response.  Untouched pages come from the kept pages
of :mod:`survey.child_cache`; a submitted page goes to :func:`survey.services.journey.submit_page`.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from flask import abort, current_app, g, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response

from survey.child_cache import (
    PAGE_TOKEN_SLOT,
    addresses,
    answered_pages,
    built_forms,
    fixed_choices,
    form_token_accepted,
    form_tokens,
    posted_page_token,
    rendered_pages,
    shown_choices,
)
from survey.database import is_storage_full
from survey.i18n import locale_code, offered_locales
from survey.pages.builder import SHOWN_FIELD, build_page_form, form_data_for, stored_value_for, was_sent
from survey.services import audio, journey, page_plan, participants
from survey.services.placeholders import instrument_for_children
from survey.services.safeguarding import help_context_source


def _locale() -> str:
    return locale_code()


def step_url(step) -> str:  # a journey Step
    """The address of one screen: a page, a page in a repeat's instance, or "add another"."""
    index, path, more = step
    if more:
        return addresses.url_for("participate.more", index=index, path=path_text(path))
    if path:
        return addresses.url_for("participate.page_in_repeat", index=index, path=path_text(path))
    return addresses.url_for("participate.page", index=index)


def path_text(path: tuple[int, ...]) -> str:
    return ".".join(str(n) for n in path)


def parse_path(text: str) -> tuple[int, ...] | None:
    parts = text.split(".")
    if not 1 <= len(parts) <= 2 or not all(p.isdigit() and 0 < len(p) < 4 for p in parts):
        return None
    return tuple(int(p) for p in parts)


def then_text(step) -> str:  # a journey Step, or "end"
    if step == "end":
        return "end"
    index, path, more = step
    return f"{index}" + (f":{path_text(path)}" if path else "") + (":more" if more else "")


def step_from_text(text: str):  # a journey Step or None
    """The inverse of :func:`then_text` (``None`` for anything else)."""
    index, _sep, rest = str(text).partition(":")
    is_more = rest.endswith("more")
    path = parse_path(rest.removesuffix(":more").removesuffix("more")) if rest else ()
    if not index.isdigit() or len(index) > 3 or path is None or (is_more and not path):
        return None
    return int(index), path, is_more


#: The repeat instance this device's child was last shown, so that a closed tab resumes there
#: (the participant keeps only the page's number). Forgotten when the child's session ends.
REPEAT_STEP_KEY = "repeat_step"


def remember_step(participant, step) -> None:
    if step[1]:
        session[REPEAT_STEP_KEY] = [participant.id, then_text(step)]


def go_to(location: str) -> Response:
    """``flask.redirect(location)``: the app's redirect, found without Flask's two look-ups
    through the ``current_app`` proxy (a redirect answers every saved page)."""
    return current_app._get_current_object().redirect(location)


def page_view(index: int, path: tuple[int, ...] = ()):
    asked = request._get_current_object()  # one proxy look-up, not eight
    participant = participants.current_participant()
    instrument = instrument_for_children(participant.consultation)  # helplines from the country profile
    all_stored = page_plan.answers_of(participant)
    all_values = page_plan.expression_values(all_stored)  # decoded once, for the plan and the page
    plan = page_plan.plan(participant, instrument, all_stored, all_values)
    step = (index, path, False)
    if index >= len(plan.all_pages) and participant.page_index < len(plan.all_pages):
        # No such page (a mistyped or made-up address, /p/q/99): back to the page the child is
        # at, not on to the end question, whose "No, delete them" deletes every answer.
        return go_to(url_for("participate.page", index=participant.page_index))
    if step not in plan.steps:
        # Out of range, or not relevant any more: go to the nearest page that is shown.
        following = plan.step_after((index - 1, path, False)) if index >= 0 else None
        if path and following is not None and following[0] < index:
            following = None
        if following is None and path:
            following = next((s for s in plan.steps if s[0] >= index), None)
        if following is None:
            return go_to(url_for("participate.end"))
        return go_to(step_url(following))
    stored = page_plan.step_values(all_stored, path)
    remember_step(participant, step)
    locale = _locale()
    lang = journey.content_language(participant, locale)
    here = g._get_current_object()  # for the play controls:
    here.audio_lang, here.audio_instrument, here.audio_band = lang, instrument.id, participant.band
    page = plan.all_pages[index]
    values_so_far = page_plan.expression_values(stored) if path else all_values
    items = page_plan.relevant_items(instrument, participant, index, values_so_far, lang)
    section = plan.section_of(index)
    first_of_section = plan.first_shown_of_section(index) and not path
    layout = {
        "index": index,
        "page": page,
        "position": plan.step_position(step),
        "total": len(plan.steps),
        "lang": lang,
        "section_notice": (
            section.notice.get_for(lang, (instrument.settings.default_language,))
            if first_of_section and section.notice
            else None
        ),
        "skippable": bool(first_of_section and section.skippable),
        "has_previous": plan.step_before(step) is not None,
        "repeat_heading": repeat_heading(instrument, page, path, lang),
        "path": path,
        "shown_field": SHOWN_FIELD,
    }
    kept = None
    shown = shown_choices(instrument, items, stored) if asked.method == "GET" and fixed_choices(items) else None
    if shown is not None and "_flashes" not in session._get_current_object():
        # A page nobody has answered yet looks the same for every child at this point; one
        # showing only picks among its own choices, the same for every child who picked them.
        pages = answered_pages if shown else rendered_pages
        key, sources = kept_page(participant, plan, items, layout, locale, shown)
        kept = (pages, key, sources)
        html = pages.get(key, sources=sources, csrf=form_tokens.token(), page_token=secrets.token_hex(16))
        if html is not None:
            return html
    if fixed_choices(items):
        form_class, specs = built_forms.get_or_build(
            (id(plan.view), index, lang, asked.script_root, tuple(item.name for item in items)),
            sources=(plan.view,),
            build=lambda: build_page_form(items, instrument, lang, participant.band, values_so_far),
        )
    else:
        form_class, specs = build_page_form(items, instrument, lang, participant.band, values_so_far)
    status = 200
    note = None
    if asked.method == "POST":
        # The posted fields as they are (a page has no file field, and a child's browser posts a
        # form, never JSON): Flask-WTF would look the request up three times to find them.
        form = form_class(formdata=asked.form, meta={"locale_code": locale})
        csrf_ok = form_token_accepted(asked.form)
        if asked.form.get("nav") == "language":
            # The language menu sent the page (to this address with ?lang=): the page comes back
            # in the new language with what the child ticked or typed in place.  Nothing is saved
            # or checked, and it is not Next: the page token stays unused for the real send.
            pass
        elif not csrf_ok:
            # The page comes back with the child's answers in place; nothing is lost.
            note = _("Sorry, that did not go through. Please press the button again.")
            status = 400
        elif asked.form.get("nav") == "skip_section":
            nxt = plan.step_after((plan.end_of_section(index), (), True))
            while nxt is not None and nxt[0] <= plan.end_of_section(index):
                nxt = plan.step_after(nxt)
            journey.move_to(participant, nxt[0] if nxt is not None else index)
            return go_to(step_url(nxt) if nxt is not None else url_for("participate.end"))
        elif form.validate() and not journey.constraint_errors(instrument, participant, specs, form, stored, lang):
            values = {
                spec.item.name: stored_value_for(spec, form)
                for spec in specs
                if spec.kind != "note" and was_sent(spec, asked.form)
            }
            going_back = asked.form.get("nav") == "back"
            token = posted_page_token(asked.form)
            try:
                submitted = journey.submit_page(
                    participant,
                    instrument,
                    index,
                    items,
                    all_stored,
                    values,
                    token=token,
                    going_back=going_back,
                    lang=lang,
                    path=path,
                )
            except journey.PageConflict:
                abort(409)
            except sa.exc.DBAPIError as error:
                if not is_storage_full(error):
                    raise
                # Nothing of this page was stored (full disk): the page comes back with the
                # child's answers in place, to send again in a moment.
                current_app.logger.error("storage full: a page could not be saved")
                note = _(
                    "Sorry, your answers could not be saved just now. Please wait a moment and press the button again."
                )
                status = 503
            except journey.NotAllowed:
                # Stopped or finished in another tab meanwhile: nothing of this page was kept;
                # the journey's start sends the child wherever their state now allows.
                return go_to(url_for("participate.welcome"))
            else:
                target = submitted.target
                if target is None:
                    target = step if going_back else "end"
                if submitted.concern:
                    # What the child wrote went to the safeguarding lead: say so, calmly, before going on.
                    return go_to(url_for("participate.concern_noted", then=then_text(target)))
                return go_to(url_for("participate.end") if target == "end" else step_url(target))
        else:
            status = 400
    else:
        data = {}
        for spec in specs:
            data.update(form_data_for(spec, stored.get(spec.item.name)))
        form = form_class(formdata=None, data=data, meta={"locale_code": locale})
    if kept is not None:
        html = render_template(
            "participate/page.html", form=form, specs=specs, note=None, page_token=PAGE_TOKEN_SLOT, **layout
        )
        kept[0].keep(kept[1], html, sources=kept[2], csrf=generate_csrf())
        return html.replace(PAGE_TOKEN_SLOT, secrets.token_hex(16)), status
    return render_template(
        "participate/page.html", form=form, specs=specs, note=note, page_token=secrets.token_hex(16), **layout
    ), status


def kept_page(
    participant, plan: page_plan.PagePlan, items: tuple, layout: dict, locale: str, shown: tuple = ()
) -> tuple[tuple, tuple]:
    """The key of a question page among the kept pages, and the objects it is drawn from.

    The key holds everything the page's templates read besides the tokens: the band's view of
    the instrument and the page's items, the earlier answers it shows (``shown``, picks among
    its choices: :func:`survey.child_cache.shown_choices`), the interface language, the layout
    values, and what the child-facing frame shows (help panel, quick exit, "talk to someone",
    languages).
    """
    config = current_app._get_current_object().config
    key = (
        id(plan.view),
        locale,
        participant.consultation.facilitated,
        request._get_current_object().script_root,
        audio.library().generation(participant.consultation.instrument_id, layout["lang"]),
        config.get("QUICK_EXIT_URL"),
        tuple(offered_locales()),
        tuple(item.name for item in items),
        shown,
        *[value for name, value in layout.items() if name != "page"],
    )
    return key, (plan.view, help_context_source(participant.consultation))


def repeat_heading(instrument, page, path: tuple[int, ...], lang: str) -> str | None:
    """ "A friend (2)": which instance of which repeat the child is answering about."""
    if not path or page.repeat is None:
        return None
    chain = instrument.repeat_chain(page.repeat)
    parts = []
    for repeat, number in zip(chain, path, strict=False):
        title = repeat.title.get_for(lang, (instrument.settings.default_language, *sorted(repeat.title)))
        parts.append(_("%(title)s (%(number)s)", title=title, number=number) if title else _("Number %(n)s", n=number))
    return " · ".join(parts)
