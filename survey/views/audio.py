"""Read-aloud: the play control beside each child-facing text, and the audio it plays.

``listen(text, ...)`` (a template global) draws a plain link to the audio, its text "Listen" in
the page's language: without JavaScript the browser plays the file, and nothing is fetched until
it is pressed.  ``static/js/read-aloud.js`` makes each a button of that name that plays in place,
at the end of the question or heading it reads (one tap plays, a second stops; where no file can
be had or played it reads the words with the browser's speech synthesis, where it has a voice).
Both are kept small: they are in the first load of every child page (a test holds the largest
question page under 34,000 bytes).  ``said(text)`` is the text followed by its control.

Audio is served from this host only (:mod:`survey.services.audio` says where each file comes
from), as immutable: a synthetic file's name is a hash of its words and voice, and a
recording's address carries its size and time.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from consent.texts import BulletList, Paragraph
from instruments.audio import item_key, question_text, spoken, voice_for
from instruments.model import Item
from instruments.references import has_answer_references
from survey.access import public_child_facing, staff
from survey.i18n import locale_code
from survey.services import audio, audio_console
from survey.uploads import accepts_files

bp = Blueprint("audio", __name__)

#: A year: the address changes whenever the sound does.
IMMUTABLE_SECONDS = 365 * 24 * 3600


def _plain(text: object) -> str:
    if isinstance(text, Markup):
        return spoken(text.striptags())
    return spoken(str(text or ""))


def source_of(
    text: object, lang: str, *, key: str | None = None, instrument: str | None = None, personal: bool = False
) -> tuple[str | None, bool]:
    """The address of the audio for ``text`` in ``lang`` and whether it is a human recording;
    ``(None, False)`` where only the browser's speech synthesis can read it."""
    library = audio.library()
    recorded = library.recording(instrument, lang, key) if not personal else None
    if recorded is not None:
        stat = recorded.stat()
        return url_for(
            "audio.recorded",
            instrument_id=instrument,
            language=lang,
            file_name=recorded.name,
            v=f"{stat.st_size:x}{int(stat.st_mtime):x}",
        ), True
    if personal:
        return None, False  # the child's own earlier answer: never written to disk
    name = library.url_name(_plain(text), lang)
    return (url_for("audio.synthetic", name=name) if name else None), False


def _shows_answers(item: Item) -> bool:
    texts = [*item.label.values(), *item.hint.values()]
    for variants in (*item.label_bands.values(), *item.hint_bands.values()):
        texts.extend(variants.values())
    return any(has_answer_references(text) for text in texts)


@bp.app_template_global()
def listen(
    text: object, lang: str | None = None, item: Item | None = None, key: str | None = None, personal: bool = False
) -> Markup:
    """The play control for ``text`` (see the module's notes).

    With ``item``, the text is the instrument's (its question, or with ``key`` one of its
    options, rows or its notice): spoken in the page's content language and replaced by a
    human recording of ``ITEM`` or ``ITEM.KEY`` where there is one.  Without, it is an
    interface text in the page's language.
    """
    words = _plain(text)
    if not words:
        return Markup("")
    instrument = None
    if item is not None:
        lang = lang or g.get("audio_lang")
        instrument = g.get("audio_instrument")
        # the child's own earlier answers: in the question's words (${name}), or as its choices
        # (select_one ${name}: each option is what the child typed) — never written to disk
        personal = personal or (key is None and _shows_answers(item)) or item.answers_as_choices is not None
        key = item_key(item, g.get("audio_band")) if key is None else f"{item.name}.{key}"
    lang = lang or locale_code()
    src, recorded = source_of(words, lang, key=key, instrument=instrument, personal=personal)
    name = _("Listen")
    if src is None:
        # Read by the browser's own voice only (read-aloud.js); without scripts the words are on the screen.
        return Markup('<span class="listen" lang="{}" data-text="{}" data-label="{}"></span>').format(lang, words, name)
    # A link the browser plays without scripts; read-aloud.js makes it a button that plays in
    # place.  Its text is its name.  Written tersely: it is repeated for every text of a page.
    marks = Markup(" data-recorded") if recorded else Markup("")
    return Markup('<a class=listen href="{}"{}>{}</a>').format(src, marks, name)


@bp.app_template_global("question_text")
def _question_text(label: object, hint: object = None) -> str:
    return question_text(_plain(label), _plain(hint))


@bp.app_template_global()
def spoken_sections(sections: object, title: str = "") -> str:
    """The words of a rendered consent text's sections, as shown: the title, then each paragraph,
    and each list's entries (for one play control that reads them all)."""
    parts = [title] if title else []
    for section in sections:
        for block in section.blocks:
            if isinstance(block, BulletList):
                parts.append(". ".join(block.items))
            elif isinstance(block, Paragraph):
                parts.append(block.text)
    return spoken(" ".join(p.strip() for p in parts if p and p.strip()))


@bp.app_template_global()
def spoken_questions(questions: object) -> str:
    """The comprehension questions of a consent text with their answers, as shown."""
    return spoken(" ".join(f"{q.question} " + " ".join(f"{o.text}." for o in q.options) for q in questions))


@bp.app_template_global()
def said(text: object, lang: str | None = None) -> Markup:
    """``text`` (escaped) followed by its play control."""
    return Markup("{} {}").format(text if isinstance(text, Markup) else escape(str(text)), listen(text, lang))


@bp.app_template_global()
def has_voice(lang: str) -> bool:
    return voice_for(lang) is not None


@bp.route("/audio/<name>")
@public_child_facing
def synthetic(name: str):
    """A synthetic file, made now from its noted words if this is its first press."""
    path = audio.library().path_of(name, current_app.logger)
    if path is None:
        abort(404)
    return send_file(path, mimetype="audio/ogg", max_age=IMMUTABLE_SECONDS, conditional=True, etag=True)


@bp.route("/audio/recorded/<instrument_id>/<language>/<file_name>")
@public_child_facing
def recorded(instrument_id: str, language: str, file_name: str):
    """A human recording (its address changes with the file, so it is cached as immutable)."""
    path = audio.library().recording_file(instrument_id, language, file_name)
    if path is None:
        abort(404)
    return send_file(
        path,
        mimetype=audio.RECORDING_TYPES[path.suffix.lower()],
        max_age=IMMUTABLE_SECONDS,
        conditional=True,
        etag=True,
    )


@bp.after_request  # this blueprint's responses only: no other request pays for the check
def _immutable(response):
    if request.endpoint in ("audio.synthetic", "audio.recorded") and response.status_code in (200, 206, 304):
        response.headers["Cache-Control"] = f"public, max-age={IMMUTABLE_SECONDS}, immutable"
    return response


@bp.route("/admin/instruments/<instrument_id>/audio", methods=["GET", "POST"])
@staff("admin")
@accepts_files("file")
def console(instrument_id: str):
    """Each text of a questionnaire in one language and where its audio comes from; upload or
    remove a human recording, which children then hear instead of the synthetic voice."""
    try:
        instrument = audio_console.instrument_for_console(instrument_id)
    except LookupError:
        abort(404)
    lang = request.values.get("language", "")
    if lang not in instrument.language_codes:
        lang = instrument.settings.default_language
    library = audio.library()
    actor = current_user._get_current_object()
    status = 200
    if request.method == "POST":
        key = request.form.get("key", "")[:130]
        if request.form.get("action") == "delete":
            if audio_console.remove_recording(instrument, lang, key, library, actor=actor):
                flash(_("Recording removed: children hear the synthetic voice again."), "info")
            return redirect(url_for("audio.console", instrument_id=instrument.id, language=lang), code=303)
        upload = request.files.get("file")
        try:
            audio_console.upload_recording(
                instrument,
                lang,
                key,
                upload.filename if upload else "",
                upload.read(audio.MAX_RECORDING_BYTES + 1) if upload else b"",
                library,
                actor=actor,
            )
        except ValueError as refused:
            flash(str(refused), "error")
            status = 400
        else:
            flash(_("Recording kept: children now hear it instead of the synthetic voice."), "info")
            return redirect(url_for("audio.console", instrument_id=instrument.id, language=lang), code=303)
    rows = audio_console.audio_rows(instrument, lang, library)
    return render_template(
        "admin/audio.html",
        instrument=instrument,
        language=lang,
        rows=rows,
        problem=audio.synthesizer_problem(),
        voice=voice_for(lang) is not None,
    ), status
