"""``sauti sync``: field laptops and the central server (issue 22).

On the central server: ``package`` (a field package and its code cards), ``import`` (a bundle
brought on a USB stick; writes the signed receipt beside it), ``devices``, ``revoke``.
On a laptop: ``pull`` (a package from a URL or a file; later, what the central server says
about the site's cards), ``push`` (concern records first, then everything, in resumable
pieces), ``export`` (a bundle to a file) and ``receipt`` (the central server's receipt from a file).

Only click is imported when the ``sauti`` command loads; each command imports what it uses.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from survey.cli import with_appcontext


def _write_private(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _refused(error: Exception) -> click.ClickException:
    return click.ClickException(str(error))


@click.group("sync")
def sync_group() -> None:
    """Field laptops: provision them, and bring their data to the central server."""


# --------------------------------------------------------------------------- central server
@sync_group.command("package")
@click.argument("consultation_id", type=int)
@click.option("--site", required=True, help="The school or centre (a code, never a child's name).")
@click.option(
    "--cards",
    default=0,
    show_default=True,
    type=click.IntRange(0, 2000),
    help="New code cards for the site (0: a second laptop for a site that has cards).",
)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="The package file to write.")
@click.option("--cards-pdf", type=click.Path(dir_okay=False), help="Write the new code cards (PDF) here.")
@click.option(
    "--start-url",
    default="http://192.168.1.10:5000",
    help="The address children's devices open on the laptop (`sauti serve --lan` prints it).",
)
@click.option("--url", "central_url", default="", help="This server's public https:// address.")
@click.option("--days", default=60, show_default=True, type=click.IntRange(1, 365))
@with_appcontext
def package(
    consultation_id: int,
    site: str,
    cards: int,
    out: str,
    cards_pdf: str | None,
    start_url: str,
    central_url: str,
    days: int,
) -> None:
    """Make a signed field package for one laptop at SITE (and print its enrolment code)."""
    from survey.extensions import db
    from survey.models import Consultation
    from survey.services import sync
    from survey.services.code_cards import code_cards_pdf
    from survey.services.safeguarding import country_profile

    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None:
        raise click.ClickException(f"No consultation {consultation_id}.")
    try:
        made = sync.make_package(consultation, site, cards=cards, days=days, central_url=central_url)
    except (sync.SyncRefused, ValueError) as error:
        raise _refused(error) from error
    _write_private(out, made.data)
    click.echo(f"Wrote the field package to {out}.")
    if made.cards and cards_pdf:
        _write_private(
            cards_pdf,
            code_cards_pdf(
                made.cards,
                start_url=start_url.rstrip("/"),
                withdraw_url=f"{start_url.rstrip('/')}/change",
                profile=country_profile(consultation.country_profile),
                title=consultation.title,
                languages=consultation.language_list,
            ),
        )
        click.echo(f"Wrote {len(made.cards)} code cards to {cards_pdf} (the codes are nowhere else).")
    click.echo(f"Enrolment code (give it to the laptop's facilitator, apart from the file): {made.enrol_token}")
    click.echo(f"Central key fingerprint: {made.fingerprint}")
    if central_url:
        click.echo(f"Pull address: {central_url.rstrip('/')}/sync/api/packages/{made.package_id}")


@sync_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_command(path: str) -> None:
    """Import a bundle from a file; writes the signed receipt to PATH.receipt."""
    from survey.services import sync

    data = Path(path).read_bytes()
    try:
        imported = sync.import_bundle(data)
    except sync.SyncRefused as error:
        raise _refused(error) from error
    _write_private(path + ".receipt", imported.receipt)
    counts = ", ".join(f"{k} {v}" for k, v in imported.counts.items()) or "nothing new"
    click.echo(("Already imported: " if imported.already else "Imported: ") + counts)
    click.echo(f"Receipt for the laptop: {path}.receipt (`sauti sync receipt` there).")


@sync_group.command("devices")
@with_appcontext
def devices_command() -> None:
    """List registered field laptops."""
    from survey.services import sync

    for device, package_row in sync.devices():
        click.echo(
            f"{device.id}\t{package_row.site}\tconsultation {package_row.consultation_id}\t{device.state}\t"
            f"bundle {device.last_sequence}"
        )


@sync_group.command("revoke")
@click.argument("device_id")
@with_appcontext
def revoke_command(device_id: str) -> None:
    """Revoke a laptop's key (lost or stolen): its bundles are refused from now on."""
    from survey.services import sync

    try:
        sync.revoke_device(device_id)
    except sync.SyncRefused as error:
        raise _refused(error) from error
    click.echo(f"Revoked {device_id}.")


# --------------------------------------------------------------------------- laptop
@sync_group.command("pull")
@click.argument("source", required=False)
@click.option("--enrol", "enrol_token", default="", help="The package's enrolment code.")
@click.option("--fingerprint", default="", help="The central server's key fingerprint, to check the package.")
@click.option(
    "--central", "central_url", default="", help="The central server's https:// address (for a package from a file)."
)
@click.option("--site", default=None, help="Refuse a package meant for another site.")
@click.option("--facilitator", "facilitators", multiple=True, help="A staff account here to run the sessions.")
@click.option("--package", "package_id", default=None, help="Which package, when this laptop has several.")
@with_appcontext
def pull(
    source: str | None,
    enrol_token: str,
    fingerprint: str,
    central_url: str,
    site: str | None,
    facilitators: tuple[str, ...],
    package_id: str | None,
) -> None:
    """Import a field package (SOURCE: its URL, or a file), or, without SOURCE, learn from the
    central server which of the site's cards were used elsewhere or withdrawn."""
    from survey.services import sync
    from survey.sync import client

    try:
        if source:
            if source.startswith(("https://", "http://")):
                data = client.get_package(source, enrol_token)
                central_url = central_url or source.split("/sync/api/")[0]
            else:
                data = Path(source).read_bytes()
            package_row = sync.import_package(
                data,
                enrol_token=enrol_token,
                fingerprint=fingerprint,
                central_url=central_url,
                facilitators=facilitators,
                site=site,
            )
            click.echo(f"Imported the field package for site {package_row.site}: the consultation is open here.")
        else:
            package_row = sync.package_named(package_id)
        if not package_row.central_url:
            click.echo("No central server address: bring bundles on a USB stick (`sauti sync export`).")
            return
        if not package_row.registered:
            answer = client.post_signed(package_row.central_url, "devices", sync.registration_request(package_row))
            sync.accept_registration(package_row, answer)
            click.echo("This laptop is registered with the central server.")
        status = client.post_signed(package_row.central_url, "status", sync.device_request(package_row, {}))
        counts = sync.apply_status(sync.package_named(package_row.id), status)
        click.echo("Cards: " + (", ".join(f"{k} {v}" for k, v in counts.items()) or "no change") + ".")
    except (sync.SyncRefused, client.SyncClientError, OSError) as error:
        raise _refused(error) from error


@sync_group.command("push")
@click.option("--package", "package_id", default=None)
@click.option("--chunk-size", default=512 * 1024, show_default=True, type=click.IntRange(1024, 4 * 1024 * 1024))
@click.option(
    "--max-rate",
    default=0,
    show_default=True,
    type=click.IntRange(0),
    help="Bytes a second at most (0: no limit), to leave a shared link usable.",
)
@with_appcontext
def push(package_id: str | None, chunk_size: int, max_rate: int) -> None:
    """Send concern records first, then everything, to the central server (resumes a stopped push)."""
    import sqlalchemy as sa

    from survey.extensions import db
    from survey.models import ConcernFlag, FieldBundle
    from survey.services import sync
    from survey.sync import autopush, client

    try:
        package_row = sync.package_named(package_id)
        if not package_row.central_url:
            raise click.ClickException("No central server address: use `sauti sync export FILE`.")
        newest = db.session.scalar(
            sa.select(FieldBundle).where(
                FieldBundle.package_id == package_row.id, FieldBundle.sequence == package_row.sequence
            )
        )
        pending = []
        kept = sync.outbox_file(package_row, newest.sequence) if newest is not None else None
        if newest is not None and newest.confirmed_on is None and kept.exists():
            pending.append((newest.sequence, kept.read_bytes()))
            click.echo(f"Resuming bundle {newest.sequence}.")
        elif db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ConcernFlag)
            .where(ConcernFlag.consultation_id == package_row.consultation_id)
        ):
            made = sync.export_bundle(package_row, concerns_only=True)  # concern records go first
            pending.append((made.sequence, made.data))
        made = sync.export_bundle(sync.package_named(package_row.id))
        pending.append((made.sequence, made.data))
        for sequence, data in pending:
            pushed = autopush.send(package_row.id, data, chunk=chunk_size, max_rate=max_rate)
            counts = ", ".join(f"{k} {v}" for k, v in pushed.counts.items()) or "nothing new"
            click.echo(f"Bundle {sequence} confirmed by the central server: {counts}.")
        status = client.post_signed(package_row.central_url, "status", sync.device_request(package_row, {}))
        sync.apply_status(sync.package_named(package_row.id), status)
    except (sync.SyncRefused, client.SyncClientError, OSError) as error:
        raise _refused(error) from error


@sync_group.command("export")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--package", "package_id", default=None)
@with_appcontext
def export_command(path: str, package_id: str | None) -> None:
    """Write everything since the last confirmed bundle to PATH, sealed for the central server."""
    from survey.services import sync

    try:
        made = sync.export_bundle(sync.package_named(package_id))
    except sync.SyncRefused as error:
        raise _refused(error) from error
    _write_private(path, made.data)
    click.echo(
        f"Wrote bundle {made.sequence} to {path} ({len(made.data):,} bytes, readable only by the "
        "central server). Bring back the receipt it gives."
    )


@sync_group.command("receipt")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--package", "package_id", default=None)
@with_appcontext
def receipt_command(path: str, package_id: str | None) -> None:
    """Record the central server's signed receipt for a bundle brought on a USB stick."""
    from survey.services import sync

    try:
        content = sync.accept_receipt(sync.package_named(package_id), Path(path).read_bytes())
    except sync.SyncRefused as error:
        raise _refused(error) from error
    click.echo(
        f"Bundle {content['sequence']} is confirmed; this laptop deletes its copy on the country profile's schedule."
    )


# --------------------------------------------------------------------------- laptop: encryption
def _new_passphrase(from_stdin: bool) -> str:
    import sys

    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("New passphrase for this laptop's data", hide_input=True, confirmation_prompt=True)


@sync_group.command("protect")
@click.option("--passphrase-stdin", is_flag=True, help="Read the passphrase from standard input.")
@with_appcontext
def protect_command(passphrase_stdin: bool) -> None:
    """Encrypt this laptop's database: from now on Sauti starts only with its passphrase.

    Stop `sauti serve` first.  Keep the passphrase apart from the laptop (a facilitator's
    notebook, the programme team): without it nobody can open the data, not even you.
    """
    import nacl.utils
    from flask import current_app

    from survey.database import write_transaction
    from survey.extensions import db
    from survey.services import audit
    from survey.sync import protect

    database = db.engine.url.database
    if db.engine.dialect.name != "sqlite" or not database or database == ":memory:":
        raise click.ClickException("Only a laptop's own database (SQLite) is protected this way.")
    path = protect.key_file(current_app.instance_path)
    if path.exists():
        raise click.ClickException("This laptop's data is encrypted already (`sauti sync passphrase` changes it).")
    from survey.sync.autopush import serving_here

    if serving_here(current_app.instance_path):  # children mid-survey would get error pages
        raise click.ClickException("Sauti is serving children from this laptop: stop `sauti serve` first.")
    passphrase = _new_passphrase(passphrase_stdin)
    key = nacl.utils.random(32)
    sealed = protect.seal_key(key, passphrase)
    with write_transaction():
        audit.record(None, "sync.protect", "database:encrypted")
    db.session.remove()
    db.engine.dispose()
    protect.write_private(path, sealed)
    try:
        protect.encrypt_database(database, key)
    except BaseException:
        path.unlink(missing_ok=True)  # the plain file is untouched until the encrypted copy is checked
        raise
    click.echo(
        "This laptop's data is encrypted. Sauti now asks for the passphrase when it starts; "
        "keep the passphrase apart from the laptop."
    )


@sync_group.command("passphrase")
@click.option("--passphrase-stdin", is_flag=True, help="Read the new passphrase from standard input.")
@with_appcontext
def passphrase_command(passphrase_stdin: bool) -> None:
    """Change the passphrase of this laptop's encrypted data (the data itself is unchanged)."""
    from flask import current_app

    from survey.sync import protect

    path = protect.key_file(current_app.instance_path)
    raw = os.environ.get(protect.KEY_VARIABLE, "")
    if not path.exists() or not raw:
        raise click.ClickException("This laptop's data is not encrypted: `sauti sync protect` does that.")
    protect.write_private(path, protect.seal_key(bytes.fromhex(raw), _new_passphrase(passphrase_stdin)))
    click.echo("The passphrase is changed; the old one no longer opens this laptop's data.")
