"""`sauti instruments approve-language`, `export-language`, `import-language` and `sauti texts ...`: the
review of translations from the command line (the console's Translations pages do the same).

Like :mod:`survey.cli`, this module imports only click at load time.
"""

from __future__ import annotations

import click

from survey.cli import instruments_group, with_appcontext

STATES = ("draft", "translated", "back_translated", "reviewed", "approved")


def _record(instrument_id: str, version: str | None):  # an InstrumentVersion
    from survey.services import instrument_store

    try:
        return instrument_store.find(instrument_id, version)
    except LookupError as error:
        raise click.ClickException(str(error)) from error


def _language_step(instrument_id: str, language: str, state: str, by: str, version: str | None, note: str) -> None:
    from survey.services import translations

    record = _record(instrument_id, version)
    try:
        now = translations.set_language_state(record, language, state, by=by, note=note)
    except translations.TranslationRefused as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"{record.instrument_id} {record.version}, {translations.language_name(language)}: "
        f"{now.label} (by {now.by}, {now.at:%Y-%m-%d %H:%M} UTC)."
    )


@instruments_group.command("approve-language")
@click.argument("instrument_id")
@click.argument("language")
@click.option("--reviewer", required=True, help="The name of the person who reviewed the translation.")
@click.option("--version", default=None, help="Default: the newest stored version.")
@click.option("--note", default="", help="e.g. where the back-translation and the review are kept.")
@with_appcontext
def approve_language(instrument_id: str, language: str, reviewer: str, version: str | None, note: str) -> None:
    """Approve LANGUAGE of a stored questionnaire, recording who reviewed it and when."""
    _language_step(instrument_id, language, "approved", reviewer, version, note)


@instruments_group.command("language-state")
@click.argument("instrument_id")
@click.argument("language")
@click.argument("state", type=click.Choice(STATES))
@click.option("--by", "by", required=True, help="Who did this step (translator, back-translator, reviewer).")
@click.option("--version", default=None, help="Default: the newest stored version.")
@click.option("--note", default="")
@with_appcontext
def language_state(instrument_id: str, language: str, state: str, by: str, version: str | None, note: str) -> None:
    """Record a review step of LANGUAGE (translated, back_translated, reviewed... or back to draft)."""
    _language_step(instrument_id, language, state, by, version, note)


@instruments_group.command("languages")
@click.argument("instrument_id")
@click.option("--version", default=None, help="Default: the newest stored version.")
@with_appcontext
def languages(instrument_id: str, version: str | None) -> None:
    """Where each language of a stored questionnaire stands in its review."""
    from survey.services import instrument_store, translations

    record = _record(instrument_id, version)
    instrument = instrument_store.instrument_for_version(record)
    for language in instrument.languages:
        state = translations.language_state(instrument, language.code)
        said = f" (by {state.by}, {state.at:%Y-%m-%d})" if state.at else " (as in the file)"
        click.echo(f"{language.code}  {translations.language_name(language.code, instrument)}: {state.label}{said}")


# --------------------------------------------------------------------------- consent texts
@click.group("texts")
def texts_group() -> None:
    """Consent and assent texts: list them and record their review (approve with a reviewer)."""


@texts_group.command("list")
@click.option("--language", default=None)
@with_appcontext
def texts_list(language: str | None) -> None:
    """Every text version with where it stands."""
    from survey.services import translations
    from survey.services.consent_rules import text_registry

    for text in sorted(text_registry(), key=lambda t: (t.language, t.kind.value, t.band or "", t.version)):
        if language and text.language != language:
            continue
        click.echo(f"{text.text_id}  {translations.text_state(text).label}")


def _text_step(text_id: str, state: str, by: str, note: str) -> None:
    from survey.services import translations

    try:
        now = translations.set_text_state(text_id, state, by=by, note=note)
    except translations.TranslationRefused as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{text_id}: {now.label} (by {now.by}, {now.at:%Y-%m-%d %H:%M} UTC).")


@texts_group.command("approve")
@click.argument("text_id")
@click.option("--reviewer", required=True, help="The name of the person who reviewed the text.")
@click.option("--note", default="")
@with_appcontext
def texts_approve(text_id: str, reviewer: str, note: str) -> None:
    """Approve one exact text version (e.g. child_information/sw/B/v2)."""
    _text_step(text_id, "approved", reviewer, note)


@texts_group.command("state")
@click.argument("text_id")
@click.argument("state", type=click.Choice(STATES))
@click.option("--by", "by", required=True)
@click.option("--note", default="")
@with_appcontext
def texts_state(text_id: str, state: str, by: str, note: str) -> None:
    """Record a review step of one text version."""
    _text_step(text_id, state, by, note)


# --------------------------------------------------------------------------- files for translators
@instruments_group.command("export-language")
@click.argument("instrument_id")
@click.argument("language")
@click.option("--format", "fmt", type=click.Choice(["po", "xlsform"]), default="po", show_default=True)
@click.option("--version", default=None, help="Default: the newest stored version.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    default=None,
    help="Default: ID-VERSION-LANGUAGE.po, or ID-VERSION.xlsx",
)
@with_appcontext
def translations_export(instrument_id: str, language: str, fmt: str, version: str | None, output: str | None) -> None:
    """Write the texts for translating into LANGUAGE: PO (Poedit, Weblate, OmegaT...) or XLSForm."""
    from instruments import export_xlsform
    from instruments.translation_files import export_po
    from survey.services import instrument_store

    record = _record(instrument_id, version)
    instrument = instrument_store.instrument_for_version(record)
    if language not in instrument.language_codes:
        raise click.ClickException(
            f"The questionnaire has no language {language}; its languages are {', '.join(instrument.language_codes)}."
        )
    if fmt == "xlsform":
        target = output or f"{instrument.id}-{instrument.version}.xlsx"
        export_xlsform(instrument, target)
        click.echo(
            f"Wrote {target}: translate the label::…({language}) columns, give the settings sheet "
            "a new version, then: sauti instruments import FILE"
        )
        return
    target = output or f"{instrument.id}-{instrument.version}-{language}.po"
    with open(target, "wb") as handle:
        handle.write(export_po(instrument, language))
    click.echo(
        f"Wrote {target}: after translating it, sauti instruments import-language "
        f"{instrument.id} {language} {target} --version NEW-VERSION"
    )


@instruments_group.command("import-language")
@click.argument("instrument_id")
@click.argument("language")
@click.argument("path", type=click.Path(dir_okay=False, exists=True))
@click.option("--version", "new_version", required=True, help="The version number of the translated questionnaire.")
@click.option("--from-version", default=None, help="The version the file was exported from (default: newest).")
@click.option("--by", "by", default="", help="The translator: records the step 'translated'.")
@with_appcontext
def translations_import(
    instrument_id: str, language: str, path: str, new_version: str, from_version: str | None, by: str
) -> None:
    """Read a translated PO file into a new version of the questionnaire."""
    from instruments.translation_files import import_po
    from survey.services import instrument_store, translations

    record = _record(instrument_id, from_version)
    instrument = instrument_store.instrument_for_version(record)
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        updated, changed = import_po(instrument, language, data, version=new_version)
        stored = instrument_store.store(updated, approved=record.approved)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    if by:
        translations.set_language_state(stored, language, "translated", by=by)
    click.echo(
        f"Stored {stored.instrument_id} version {stored.version} with {changed} changed text(s). "
        f"A reviewer approves it with: sauti instruments approve-language {stored.instrument_id} "
        f"{language} --version {stored.version} --reviewer NAME"
    )
