"""``sauti translate``: extract, update, compile, start and check the message catalogues."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from survey.catalogues import babel as _babel
from survey.catalogues import extract as _extract
from survey.catalogues import paths as _paths

if TYPE_CHECKING:
    pass


# --------------------------------------------------------------------------- translate
@click.group()
def translate() -> None:
    """Interface translations: extract, update, compile and check the catalogues."""


@translate.command("extract")
def translate_extract() -> None:
    """Write survey/translations/messages.pot from the code and templates."""
    _extract(_paths()[2])


@translate.command("update")
def translate_update() -> None:
    """Extract, then merge new strings into every language's catalogue."""
    _, folder, pot = _paths()
    _extract(pot)
    if _babel("update", "-i", pot, "-d", folder, "--no-fuzzy-matching", "--omit-header", "--ignore-pot-creation-date"):
        raise click.ClickException("Update failed.")


@translate.command("compile")
def translate_compile() -> None:
    """Compile the catalogues into the .mo files the app reads (fuzzy entries left out)."""
    from survey.translations_check import compile_catalogues

    click.echo(f"Compiled: {', '.join(compile_catalogues())}")


@translate.command("init")
@click.argument("language")
def translate_init(language: str) -> None:
    """Start a catalogue for a new language."""
    _, folder, pot = _paths()
    _extract(pot)
    if _babel("init", "-i", pot, "-d", folder, "-l", language):
        raise click.ClickException("Init failed.")


@translate.command("check")
def translate_check() -> None:
    """Fail when a catalogue or its compiled file is out of date with the code (used in CI)."""
    from survey.translations_check import stale_catalogues

    problems = stale_catalogues()
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise click.ClickException(
            "Catalogues are out of date: run `sauti translate update` "
            "and `sauti translate compile`, then translate the new strings."
        )
    click.echo("Catalogues are current.")
