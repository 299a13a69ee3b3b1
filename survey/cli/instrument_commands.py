"""``sauti instruments``: validate, import, export and preview questionnaires (``audio`` comes from
:mod:`survey.cli_audio`, the language commands from :mod:`survey.cli_translations`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from survey.cli.base import with_appcontext
from survey.cli_audio import audio_group  # `sauti instruments audio`

if TYPE_CHECKING:
    pass


# --------------------------------------------------------------------------- instruments
@click.group("instruments")
def instruments_group() -> None:
    """Instruments: validate, import, export and preview (XLSForm or Sauti's YAML)."""


def _load_file(path: str):
    from instruments import InstrumentError, load_instrument

    try:
        return load_instrument(path)
    except InstrumentError as error:
        for issue in error.issues:
            click.echo(str(issue), err=True)
        raise click.ClickException(f"{path} cannot be read ({len(error.issues)} problem(s) above).") from error
    except OSError as error:
        raise click.ClickException(f"{path}: {error.strerror or error}") from error


@instruments_group.command("validate")
@click.argument("path", type=click.Path(dir_okay=False))
def instruments_validate(path: str) -> None:
    """Check a file: exit 0 when valid, else print the coded issues and exit 1."""
    result = _load_file(path)
    for issue in result.issues:
        click.echo(str(issue))
    from survey.services.audio import coverage  # read-aloud: texts without a shipped audio file

    for row in coverage(result.instrument):
        if row.missing:
            click.echo(
                f"AUDIO {row.language}: {len(row.missing)} of {row.texts} texts have no shipped audio "
                + (
                    "(`sauti instruments audio status ID` counts recordings and files made here)."
                    if row.voice
                    else "and there is no voice for this language (the browser reads them)."
                )
            )
    errors = [i for i in result.issues if i.severity.value == "error"]
    click.echo(
        f"{result.instrument.id} {result.instrument.version}: {len(errors)} error(s), "
        f"{len(result.issues) - len(errors)} warning(s)."
    )
    if errors:
        raise SystemExit(1)


@instruments_group.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--approve", is_flag=True, help="Mark the version approved (only if it has no errors).")
@click.option(
    "--approve-language",
    "approve_languages",
    multiple=True,
    metavar="LANG",
    help="Also approve this language (repeat for more); needs --reviewer.",
)
@click.option("--reviewer", default="", help="Who reviewed the languages approved with --approve-language.")
@with_appcontext
def instruments_import(path: str, approve: bool, approve_languages: tuple[str, ...], reviewer: str) -> None:
    """Store a new instrument version in the database."""
    from survey.services import instrument_store, translations

    result = _load_file(path)
    errors = [i for i in result.issues if i.severity.value == "error"]
    for issue in result.issues:
        click.echo(str(issue), err=True)
    if approve and errors:
        raise click.ClickException("A version with errors cannot be approved; fix them and import again.")
    if approve_languages and not reviewer.strip():
        raise click.ClickException("--approve-language needs --reviewer NAME (who reviewed the translation).")
    try:
        record = instrument_store.store(result.instrument, approved=approve)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Stored {record.instrument_id} version {record.version} ({record.content_hash[:12]}).")
    for language in approve_languages:
        try:
            translations.set_language_state(record, language, "approved", by=reviewer)
        except translations.TranslationRefused as error:
            raise click.ClickException(f"{language}: {error}") from error
        click.echo(f"Approved {translations.language_name(language)}, reviewed by {reviewer.strip()}.")
    instrument = translations.effective_instrument(instrument_store.instrument_for_version(record))
    ready = [translations.language_name(lang.code, instrument) for lang in instrument.approved_languages]
    if not record.approved:
        click.echo(
            "Before consultations can use it, approve this version (--approve, or Questionnaires in the console)."
        )
    if ready:
        click.echo(f"Consultations can open in: {', '.join(ready)}.")
    else:
        click.echo(
            "No language of this version is approved yet, so no consultation can open in it. "
            "After a reviewer has read a language, approve it with:\n"
            f"  sauti instruments approve-language {record.instrument_id} LANGUAGE --version "
            f"{record.version} --reviewer NAME"
        )


@instruments_group.command("export")
@click.argument("instrument_id")
@click.option("--version", "version", default=None, help="Default: the newest stored version.")
@click.option("--format", "fmt", type=click.Choice(["xlsform", "yaml"]), default="yaml", show_default=True)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    help="File to write (default: standard output for yaml, ID-VERSION.xlsx for xlsform).",
)
@with_appcontext
def instruments_export(instrument_id: str, version: str | None, fmt: str, output: str | None) -> None:
    """Write a stored instrument as Sauti YAML or as an XLSForm for KoboToolbox and ODK."""
    from instruments import dump_native, export_xlsform
    from survey.services import instrument_store

    try:
        record = instrument_store.find(instrument_id, version)
    except LookupError as error:
        raise click.ClickException(str(error)) from error
    instrument = instrument_store.instrument_for_version(record)
    if fmt == "yaml":
        text = dump_native(instrument)
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
        else:
            click.echo(text, nl=False)
        return
    target = output or f"{instrument.id}-{instrument.version}.xlsx"
    export_xlsform(instrument, target)
    click.echo(f"Wrote {target}")


@instruments_group.command("preview")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--band", default="B", show_default=True)
@click.option("--lang", default=None, help="Default: the instrument's default language.")
@click.option("--research", is_flag=True, help="Include research-only items.")
def instruments_preview(path: str, band: str, lang: str | None, research: bool) -> None:
    """Show the pages a child in BAND sees, as text."""
    from instruments import preview_text

    instrument = _load_file(path).instrument
    if band not in instrument.settings.band_codes:
        bands = ", ".join(instrument.settings.band_codes)
        raise click.ClickException(f"No band {band!r}; this instrument has {bands}.")
    click.echo(preview_text(instrument, band, lang, research))


instruments_group.add_command(audio_group)
