"""Translations in the console: where each questionnaire language and consent text stands, a
side-by-side review (the text exactly as a child sees it, beside the source language), the
review steps with who and when, and the consultation's own words in its other languages.

The rules and the records are :mod:`survey.services.translations`; this module only draws them.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from survey.access import member, staff
from survey.extensions import db
from survey.i18n import text_direction
from survey.models import Consultation, InstrumentVersion
from survey.services import translations

bp = Blueprint("translations", __name__, url_prefix="/admin/translations")


def _actor():  # the signed-in staff User
    return current_user._get_current_object()


def _reviewer_default() -> str:
    return current_user.display_name or current_user.username


def _step_from_form(record_step) -> tuple[bool, int]:  # a callable(state, by, note)
    """Record the posted review step; True when it was recorded, and the status to answer."""
    state = request.form.get("state", "approved")
    try:
        now = record_step(state, request.form.get("by", ""), request.form.get("note", "")[:500])
    except translations.TranslationRefused as refused:
        flash(str(refused), "error")
        return False, 400
    flash(_("Recorded: %(state)s, by %(name)s.", state=now.label, name=now.by), "info")
    return True, 303


# ----------------------------------------------------------------------------- overview
@bp.route("/")
@staff("admin")
def index():
    """Every questionnaire language and consent text, with where its review stands."""
    from survey.services import instrument_store
    from survey.services.consent_rules import text_registry

    questionnaires = []
    for record in instrument_store.stored_versions():
        instrument = instrument_store.instrument_for_version(record)
        questionnaires.append(
            (
                record,
                instrument,
                [
                    (language, translations.language_state(instrument, language.code))
                    for language in instrument.languages
                ],
            )
        )
    texts = sorted(text_registry(), key=lambda t: (t.language, t.kind.value, t.band or "", t.version))
    return render_template(
        "translations/index.html",
        questionnaires=questionnaires,
        texts=[(text, translations.text_state(text)) for text in texts],
        language_name=translations.language_name,
    )


# ----------------------------------------------------------------------------- consent texts
def _child_text_html(text, language: str) -> Markup:  # a ConsentText
    """The text as a child reads it on the information page (example values filled in)."""
    from consent.texts import ConfidentialityMode, render_text
    from survey.services.demo import example_text_values

    with force_locale(language):
        shown = render_text(text, example_text_values(language), mode=ConfidentialityMode.FACILITATED, locale=language)
        html = render_template("translations/_child_text.html", shown=shown, prefix=f"{language}-{text.band or 'all'}")
        return Markup(html)  # noqa: S704 # nosec B704 - drawn by an autoescaping template


def review_text(text_id: str):  # a response
    """A consent text beside its source-language text, and its review steps (admin.text)."""
    from survey.services.consent_rules import text_registry

    registry = text_registry()
    if text_id not in registry:
        abort(404)
    text = registry.get(text_id)
    status = 200
    if request.method == "POST":
        done, status = _step_from_form(
            lambda state, by, note: translations.set_text_state(text_id, state, by=by, note=note, actor=_actor())
        )
        if done:
            return redirect(url_for("admin.text", text_id=text_id), code=303)
    source = None
    if text.language != "en":
        try:
            source = registry.latest(text.kind, "en", text.band)
        except LookupError:
            source = None
    columns = [(text.language, _child_text_html(text, text.language))]
    if source is not None:
        columns.insert(0, ("en", _child_text_html(source, "en")))
    state = translations.text_state(text)
    return render_template(
        "translations/text.html",
        text=text,
        state=state,
        columns=columns,
        direction=text_direction,
        language_name=translations.language_name,
        states=translations.STATES,
        labels=translations.STATE_LABELS,
        history=translations.history(translations.consent_subject(text), text.language),
        reviewer=_reviewer_default(),
    ), status


# ----------------------------------------------------------------------------- questionnaires
def _child_pages_html(instrument, language: str, band: str) -> list[Markup]:  # an Instrument
    """Each page of the questionnaire as a child of ``band`` sees it in ``language``."""
    from survey.pages.builder import build_page_form
    from survey.services.placeholders import filled_for
    from survey.services.safeguarding import help_context_source

    filled = filled_for(instrument, help_context_source(None))
    pages = []
    with force_locale(language):
        for number, page in enumerate(filled.pages_for_band(band)):
            items = tuple(page.items)
            form_class, specs = build_page_form(items, filled, language, band)
            form = form_class(formdata=None, prefix=f"{language}{number}-", meta={"csrf": False})
            html = render_template("translations/_child_page.html", form=form, specs=specs)
            pages.append(Markup(html))  # noqa: S704 # nosec B704 - drawn by an autoescaping template
    return pages


@bp.route("/questionnaire/<int:record_id>/<language>", methods=["GET", "POST"])
@staff("admin")
def questionnaire(record_id: int, language: str):
    """One questionnaire language beside its source language, page by page, for one age group."""
    from survey.services import instrument_store

    record = db.get_or_404(InstrumentVersion, record_id)
    instrument = instrument_store.instrument_for_version(record)
    if language not in instrument.language_codes:
        abort(404)
    status = 200
    if request.method == "POST":
        done, status = _step_from_form(
            lambda state, by, note: translations.set_language_state(
                record, language, state, by=by, note=note, actor=_actor()
            )
        )
        if done:
            return redirect(url_for("translations.questionnaire", record_id=record_id, language=language), code=303)
    bands = instrument.settings.band_codes
    band = request.args.get("band", bands[1] if len(bands) > 1 else bands[0])
    if band not in bands:
        band = bands[0]
    source = instrument.settings.default_language
    shown = _child_pages_html(instrument, language, band)
    pages = (
        list(zip(_child_pages_html(instrument, source, band), shown, strict=True))
        if language != source
        else [(None, html) for html in shown]
    )
    return render_template(
        "translations/questionnaire.html",
        record=record,
        instrument=instrument,
        language=language,
        source=source,
        band=band,
        bands=bands,
        pages=pages,
        direction=text_direction,
        language_name=translations.language_name,
        state=translations.language_state(instrument, language),
        missing=translations.missing_texts(instrument, language),
        history=translations.history(translations.questionnaire_subject(instrument), language),
        states=translations.STATES,
        labels=translations.STATE_LABELS,
        reviewer=_reviewer_default(),
    ), status


@bp.route("/questionnaire/<int:record_id>/<language>/po")
@staff("admin")
def questionnaire_po(record_id: int, language: str):
    """The questionnaire's texts as a PO file for translators' tools."""
    from instruments.translation_files import export_po
    from survey.services import instrument_store

    record = db.get_or_404(InstrumentVersion, record_id)
    instrument = instrument_store.instrument_for_version(record)
    if language not in instrument.language_codes:
        abort(404)
    name = f"{instrument.id}-{instrument.version}-{language}.po"
    return Response(
        export_po(instrument, language),
        mimetype="text/x-gettext-translation",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# ----------------------------------------------------------------------------- a consultation's words
@bp.route("/consultation/<int:consultation_id>", methods=["GET", "POST"])
@member("facilitator", admins=True)
def wording(consultation_id: int):
    """The consultation's own words (who asks, who hears the results...) in its other languages."""
    consultation = db.get_or_404(Consultation, consultation_id)
    others = consultation.language_list[1:]
    status = 200
    if request.method == "POST":
        language = request.form.get("language", "")
        values = {name: request.form.get(f"{language}-{name}", "") for name in translations.CHILD_WORDING}
        try:
            translations.set_wording(consultation, language, values, actor=_actor())
        except translations.TranslationRefused as refused:
            flash(str(refused), "error")
            status = 400
        else:
            flash(_("Saved the %(language)s wording.", language=translations.language_name(language)), "info")
            return redirect(url_for("translations.wording", consultation_id=consultation_id), code=303)
    return render_template(
        "translations/wording.html",
        consultation=consultation,
        others=others,
        fields=translations.CHILD_WORDING,
        labels=translations.WORDING_LABELS,
        given={code: translations.given_wording(consultation, code) for code in others},
        missing={code: translations.missing_wording(consultation, code) for code in others},
        direction=text_direction,
        language_name=translations.language_name,
    ), status
