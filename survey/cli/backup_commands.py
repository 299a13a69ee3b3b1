"""``sauti backup`` and ``sauti restore``: a consistent copy of the database, and putting one back."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from survey.cli.base import with_appcontext

if TYPE_CHECKING:
    pass


# --------------------------------------------------------------------------- backup
@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False))
@with_appcontext
def backup_command(target: str) -> None:
    """Write a consistent copy of the database (safe while children are answering)."""
    from survey.extensions import db
    from survey.services.backup import BackupError, backup

    try:
        size = backup(db.engine.url, target)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backup written to {target} ({size:,} bytes). Keep it encrypted and off the laptop.")


@click.command("restore")
@click.argument("source", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(source: str, yes: bool) -> None:
    """Replace the database with a backup.  Stop `sauti serve` first."""
    from survey.extensions import db
    from survey.services.backup import BackupError, restore

    if not yes:
        click.confirm("This replaces everything in the database with the backup. Continue?", abort=True)
    db.session.remove()
    db.engine.dispose()
    try:
        restore(db.engine.url, source)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Restored from {source}.")
