"""``sauti instruments audio``: make the read-aloud audio offline, and say what has none.

``build ID`` speaks every fixed text of an instrument (questions, options, notices) and the
children's interface texts in each language that has a voice, with espeak-ng and opusenc.  For
a bundled consultation the files go into the package (``survey/data/audio/<language>/``, shipped
with Sauti, with an index of their words; files no text names any more are removed); for a
stored instrument, into the instance folder.  ``status ID`` lists, per language, the texts
without audio and the human recordings.
"""

from __future__ import annotations

from pathlib import Path

import click

from survey.cli import with_appcontext


@click.group("audio")
def audio_group() -> None:
    """Read-aloud audio: build it (espeak-ng, opus-tools) and see what has none."""


def _instrument(instrument_id: str):  # (Instrument, bundled?)
    from instruments.bundled import bundled_names, load_bundled

    if instrument_id in bundled_names():
        return load_bundled(instrument_id), True
    from survey.services import instrument_store

    try:
        record = instrument_store.find(instrument_id, None)
    except LookupError as error:
        raise click.ClickException(str(error)) from error
    return instrument_store.instrument_for_version(record), False


def _languages(instrument, wanted: tuple[str, ...]) -> list[str]:
    from instruments.audio import voice_for

    codes = list(wanted) or list(instrument.language_codes)
    unknown = [code for code in codes if code not in instrument.language_codes]
    if unknown:
        raise click.ClickException(
            f"The instrument has no language {', '.join(unknown)}; it has {', '.join(instrument.language_codes)}."
        )
    for code in codes:
        if voice_for(code) is None:
            click.echo(f"{code}: no voice for this language; the browser reads it aloud where it can.", err=True)
    return [code for code in codes if voice_for(code) is not None]


def _translator(lang: str):
    from flask_babel import force_locale, gettext

    def translate(message: str) -> str:
        with force_locale(lang):
            return gettext(message)

    return translate


@audio_group.command("build")
@click.argument("instrument_id")
@click.option("--language", "-l", "languages", multiple=True, help="Only these languages (default: all with a voice).")
@with_appcontext
def audio_build(instrument_id: str, languages: tuple[str, ...]) -> None:
    """(Re)make the audio of INSTRUMENT_ID (a bundled name such as reporting-mechanisms, or a
    stored instrument's id); unchanged texts keep their files."""
    from flask import current_app

    from instruments.audio import voice_for
    from survey.services import audio

    problem = audio.synthesizer_problem()
    if problem:
        raise click.ClickException(problem)
    instrument, bundled = _instrument(instrument_id)
    total = 0
    for lang in _languages(instrument, languages):
        texts = audio.texts_to_build(instrument, lang, _translator(lang))
        folder = audio.SHIPPED / lang if bundled else Path(current_app.instance_path) / "audio"
        report = audio.build_language(texts, voice_for(lang), folder, prune=bundled, index=bundled)
        total += report.bytes
        click.echo(
            f"{lang}: {report.files} texts, {report.made} made, {report.kept} unchanged, "
            f"{report.removed} removed; {report.bytes / 1024:.0f} KiB"
        )
    if bundled:
        (audio.SHIPPED / audio.TOOLS).write_text(audio.synthesizer_versions() + "\n", encoding="utf-8")
    click.echo(f"Total {total / 1024:.0f} KiB in {audio.SHIPPED if bundled else current_app.instance_path}.")


@audio_group.command("status")
@click.argument("instrument_id")
@with_appcontext
def audio_status(instrument_id: str) -> None:
    """Per language: texts with no audio (shipped, made here or recorded) and the recordings."""
    from survey.services import audio

    instrument, _ = _instrument(instrument_id)
    missing_any = False
    for row in audio.coverage(instrument, audio.library(), _translator):
        click.echo(
            f"{row.language}: {row.texts} texts, {row.recorded} recorded, {len(row.missing)} without audio"
            + ("" if row.voice else " (no voice: the browser reads them)")
        )
        for one in row.missing[:20]:
            click.echo(f"  {one.key or '(interface)'}: {one.text[:70]}")
        missing_any = missing_any or bool(row.missing)
    if missing_any:
        click.echo(f"Make them with: sauti instruments audio build {instrument_id}")
