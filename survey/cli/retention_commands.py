"""``sauti retention run``: delete what the retention rules say is due (``sauti serve`` runs it daily)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from survey.cli.base import with_appcontext

if TYPE_CHECKING:
    pass


# --------------------------------------------------------------------------- retention
@click.group()
def retention() -> None:
    """Delete what may no longer be kept (run daily, e.g. from cron)."""


@retention.command("run")
@with_appcontext
def retention_run() -> None:
    """Delete incomplete responses after the profile's window and everything after the retention date.

    A daily cron line:  15 2 * * *  cd /srv/sauti && .venv/bin/sauti retention run
    """
    import datetime as dt

    from survey.services.retention import run_retention

    counts = run_retention(dt.date.today())
    click.echo("Deleted: " + (", ".join(f"{n} ({reason})" for reason, n in counts.items()) or "nothing"))
