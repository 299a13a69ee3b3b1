"""The ``sauti`` command (its commands also join ``app.cli``, so ``flask --app survey ...`` works too).

The command line answers at once: this module imports only click at load time. Each
command imports what it uses, and only commands marked :func:`with_appcontext` build
the Flask application (``sauti --help`` or ``sauti instruments validate`` never do).
Flask's own commands (``db`` from Flask-Migrate, ``run``, ``shell``, ``routes``) are
looked up in the application only when one of them is asked for.
"""

from __future__ import annotations

import functools
import os
import secrets
import socket
import sys
import threading
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from survey.catalogues import babel as _babel
from survey.catalogues import extract as _extract
from survey.catalogues import paths as _paths

if TYPE_CHECKING:
    from flask import Flask


def _make_app() -> Flask:
    from survey import create_app
    from survey.instance import default_instance_path, ensure_secret_key

    written = ensure_secret_key(default_instance_path())
    if written is not None:
        click.echo(f"Wrote a new secret key to {written}", err=True)
    return create_app()


def with_appcontext(f):  # a click callback decorator
    """Run the command inside the application, building it only now (Flask's own
    ``with_appcontext``, but Flask is imported when the command runs, not when it loads)."""

    @click.pass_context
    def decorator(ctx: click.Context, /, *args, **kwargs):
        from flask import current_app
        from flask.cli import ScriptInfo

        if not current_app:
            info = ctx.find_object(ScriptInfo) or ScriptInfo(create_app=_make_app, set_debug_flag=False)
            ctx.with_resource(info.load_app().app_context())
        return ctx.invoke(f, *args, **kwargs)

    return functools.update_wrapper(decorator, f)


#: Commands that Flask and Flask-Migrate add to the application, with their help line.
_FLASK_COMMANDS = {
    "db": "Database migrations (Flask-Migrate): upgrade, downgrade, current, history.",
    "routes": "Show the routes for the app.",
    "run": "Run a development server.",
    "shell": "Run a shell in the app context.",
}


class _SautiGroup(click.Group):
    """Sauti's commands without the application; Flask's commands through it, on demand."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_FLASK_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in _FLASK_COMMANDS:
            return command
        from flask.cli import FlaskGroup, ScriptInfo

        if not isinstance(ctx.obj, ScriptInfo):
            ctx.obj = ScriptInfo(create_app=_make_app, set_debug_flag=False)
        return FlaskGroup(create_app=_make_app, load_dotenv=False, set_debug_flag=False).get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(formatter.width - 6 - len(name))))
            elif command is None:
                rows.append((name, _FLASK_COMMANDS[name]))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=_SautiGroup)
def main() -> None:
    """Sauti: consult children safely.  Run `sauti demo` to try it on this computer."""


def register(app: Flask) -> None:
    """Attach Sauti's commands to ``app.cli`` (``flask db`` comes from Flask-Migrate)."""
    for command in _COMMANDS:
        app.cli.add_command(command)


# --------------------------------------------------------------------------- users
@click.group()
def users() -> None:
    """Manage staff accounts."""


@users.command("create")
@click.argument("username")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice(["admin", "facilitator", "analyst"]),
    help="Repeat for several roles.",
)
@click.option("--display-name", default="")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--generate-password", is_flag=True, help="Make a random password and print it once.")
@with_appcontext
def users_create(
    username: str, roles: tuple[str, ...], display_name: str, password_stdin: bool, generate_password: bool
) -> None:
    """Create a staff account with one or more roles."""
    from survey.services import accounts

    if generate_password:
        password = secrets.token_urlsafe(12)
    elif password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        accounts.create_user(username, password, list(roles), display_name=display_name)
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Created {accounts.normalise_username(username)} ({' '.join(roles)}).")
    if generate_password:
        click.echo(f"Password (shown once): {password}")


@users.command("list")
@with_appcontext
def users_list() -> None:
    """List staff accounts and their roles."""
    from survey.services import accounts

    for user in accounts.list_users():
        click.echo(f"{user.username}\t{user.roles}\t{'active' if user.active else 'inactive'}")


@users.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True)
@with_appcontext
def users_set_password(username: str, password_stdin: bool) -> None:
    """Set a new password (and end the account's open sessions)."""
    import sqlalchemy as sa

    from survey.extensions import db
    from survey.models import User
    from survey.services import accounts

    user = db.session.scalar(sa.select(User).where(User.username == accounts.normalise_username(username)))
    if user is None:
        raise click.ClickException(f"No account named {username!r}.")
    password = (
        sys.stdin.readline().rstrip("\n")
        if password_stdin
        else click.prompt("New password", hide_input=True, confirmation_prompt=True)
    )
    try:
        accounts.update_user(user, password=password)
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Password changed for {user.username}.")


def _user_named(username: str):  # a User
    import sqlalchemy as sa

    from survey.extensions import db
    from survey.models import User
    from survey.services import accounts

    user = db.session.scalar(sa.select(User).where(User.username == accounts.normalise_username(username)))
    if user is None:
        raise click.ClickException(f"No account named {username!r}.")
    return user


@users.command("unlock")
@click.argument("username")
@with_appcontext
def users_unlock(username: str) -> None:
    """End the wait after failed sign-ins, for every device."""
    from survey.services import accounts

    user = _user_named(username)
    accounts.unlock(user)
    click.echo(f"{user.username} can sign in again at once.")


@users.command("sign-out")
@click.argument("username")
@with_appcontext
def users_sign_out(username: str) -> None:
    """End the account's sessions on every device."""
    from survey.services import accounts

    user = _user_named(username)
    ended = accounts.sign_out_everywhere(user)
    click.echo(f"Ended {ended} session(s) of {user.username}.")


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


from survey.cli_audio import audio_group  # noqa: E402 - `sauti instruments audio`

instruments_group.add_command(audio_group)


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


# --------------------------------------------------------------------------- reports
def _write_download(consultation_id: int, kind: str, fmt: str, out: str) -> None:
    import os

    from analysis.disclosure import DisclosureError
    from survey.database import write_transaction
    from survey.extensions import db
    from survey.models import Consultation
    from survey.services import audit, reporting

    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None:
        raise click.ClickException(f"There is no consultation {consultation_id}.")
    click.echo(f"Preparing the {kind} of consultation {consultation_id} ({fmt})...", err=True)
    try:
        data = reporting.render_download(consultation, kind, fmt)
    except reporting.NotEnoughResponses as error:
        raise click.ClickException(
            f"Fewer than {reporting.policy().k} children have completed this "
            "consultation, or no release has been made yet (sauti release make): "
            "nothing can be released yet."
        ) from error
    except DisclosureError as error:
        raise click.ClickException(f"The disclosure checks refused the {kind}: {error}") from error
    except reporting.ReportFailed as error:
        raise click.ClickException("The report could not be prepared; nothing was released.") from error
    except PermissionError as error:  # export_approvals.ApprovalRequired
        raise click.ClickException(
            "This export holds answers to sensitive questions: an administrator must "
            "first record who approves it and why (Results, export approval)."
        ) from error
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, f"consultation-{consultation_id}-{kind}.{fmt}")
    with open(path, "wb") as handle:
        handle.write(data)
    with write_transaction():
        audit.record(None, f"{kind}.cli", f"consultation:{consultation_id} {kind}.{fmt}")
    click.echo(f"Wrote {path} ({len(data):,} bytes).")


def _report_from_export(path: str, codebook: str | None, fmt: str, out: str, k: int | None = None) -> None:
    """The programme report from an export file, through the same disclosure gate.

    The file is read and k is set as ``python -m analysis.cli report`` does
    (:func:`analysis.exportfile.read_answers`, :func:`analysis.release_rules.rules_for_report`)."""
    import os
    import tempfile
    import time
    from pathlib import Path

    from flask import current_app

    from analysis.disclosure import DisclosureError
    from analysis.exportfile import read_answers
    from analysis.exports import write_report_xlsx
    from analysis.release import ReleaseRefused, build_release, release_to_report
    from analysis.release_rules import ReleaseRulesError, rules_for_report
    from analysis.report import render_html, write_report_pdf

    start = time.perf_counter()

    def progress(message: str) -> None:
        click.echo(f"[{time.perf_counter() - start:5.1f} s] {message}", err=True)

    source = Path(path)
    progress(f"Reading {source.name}...")
    try:
        rules = rules_for_report(current_app.config, k)  # the deployment's threshold, or --k
    except ReleaseRulesError as error:
        raise click.BadParameter(str(error), param_hint="--k") from error
    try:
        long, cb = read_answers(source, codebook)
    except ValueError as error:
        raise click.ClickException(f"This file cannot be used for a report: {error}") from error
    pol = rules.policy()
    children = int(long["response_id"].nunique())
    items = len(cb) if cb is not None else int(long["item"].nunique())
    progress(f"Read {len(long):,} answers of {children:,} children and {items} items.")
    if children < pol.k:
        raise click.ClickException(f"Fewer than {pol.k} children in this file: nothing can be released.")
    progress("Building a protected release of the tables...")
    try:
        release = build_release(long, cb, rules)
        report = release_to_report(release, title=f"Report from {source.name}")
    except ReleaseRefused as error:
        raise click.ClickException(f"No release can be made from this file: {error}") from error
    except DisclosureError as error:
        raise click.ClickException(f"The disclosure checks refused the report: {error}") from error
    except (TypeError, ValueError, ArithmeticError) as error:
        raise click.ClickException(f"The report could not be prepared from this file: {error}") from error
    os.makedirs(out, exist_ok=True)
    target = os.path.join(out, f"{source.stem}-report.{fmt}")
    progress(f"Writing the {fmt.upper()}...")
    if fmt == "html":
        data = render_html(report).encode("utf-8")
    else:
        with tempfile.TemporaryDirectory(prefix="sauti-report-") as folder:
            writer = write_report_pdf if fmt == "pdf" else write_report_xlsx
            data = writer(report, Path(folder) / f"report.{fmt}").read_bytes()
    with open(target, "wb") as handle:
        handle.write(data)
    progress("Done.")
    click.echo(f"Wrote {target} ({len(data):,} bytes).")


@click.command("report")
@click.argument("consultation_id", type=int, required=False)
@click.option(
    "--from-export",
    "from_export",
    type=click.Path(dir_okay=False),
    help="Build the report from a Sauti export file (.csv, .xlsx, .sav or .parquet) instead of the database.",
)
@click.option(
    "--codebook",
    type=click.Path(dir_okay=False),
    help="The export's codebook CSV (default: the one next to the file, or the workbook's codebook sheet).",
)
@click.option(
    "--k",
    type=int,
    default=None,
    help="With --from-export: suppress counts below k (default: the deployment's DISCLOSURE_K; never below 5).",
)
@click.option("--format", "fmt", type=click.Choice(["html", "pdf", "xlsx"]), default="html", show_default=True)
@click.option("--out", default=".", show_default=True, type=click.Path(file_okay=False))
@with_appcontext
def report_command(
    consultation_id: int | None, from_export: str | None, codebook: str | None, k: int | None, fmt: str, out: str
) -> None:
    """The programme report of a consultation (or of an export file), with disclosure control applied."""
    if (consultation_id is None) == (from_export is None):
        raise click.UsageError("Give either a CONSULTATION_ID or --from-export FILE.")
    if from_export is not None:
        _report_from_export(from_export, codebook, fmt, out, k)
        return
    if codebook is not None:
        raise click.UsageError("--codebook goes with --from-export.")
    if k is not None:
        raise click.UsageError("--k goes with --from-export.")
    _write_download(consultation_id, "report", fmt, out)


@click.group("release")
def release_group() -> None:
    """Frozen releases of a consultation's results (what analysts, reports and feedback sheets show)."""


@release_group.command("make")
@click.argument("consultation_id", type=int)
@click.option("--for", "audience", default="programme team", show_default=True, help="Who the release is for.")
@with_appcontext
def release_make(consultation_id: int, audience: str) -> None:
    """Make a new release now, checked against every earlier release of the consultation."""
    from survey.extensions import db
    from survey.models import Consultation
    from survey.services import releases

    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None:
        raise click.ClickException(f"There is no consultation {consultation_id}.")
    try:
        release = releases.make_release(consultation, None, reason="cli", audience=audience)
    except releases.ReleaseRefused as refused:
        raise click.ClickException(f"No release was made: {refused}") from refused
    click.echo(
        f"Release {release.number} of consultation {consultation_id}: {release.n_children:,} children, "
        f"{len(release.tables)} tables."
    )


@release_group.command("list")
@click.argument("consultation_id", type=int)
@with_appcontext
def release_list(consultation_id: int) -> None:
    """The release ledger of a consultation: when, by whom, for whom, from how many children."""
    from survey.services import releases

    for r in releases.ledger(consultation_id):
        click.echo(f"{r.number}\t{r.made_on:%Y-%m-%d}\t{r.made_by or '-'}\t{r.audience}\t{r.reason}\t{r.n_children}")


@click.command("export")
@click.argument("consultation_id", type=int)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx", "sav", "parquet"]), default="xlsx", show_default=True
)
@click.option("--out", default=".", show_default=True, type=click.Path(file_okay=False))
@with_appcontext
def export_command(consultation_id: int, fmt: str, out: str) -> None:
    """The de-identified answers (and codebook), refused when children would be too easy to recognise."""
    _write_download(consultation_id, "export", fmt, out)
    if fmt != "xlsx":  # the workbook carries its codebook on a sheet of its own
        _write_download(consultation_id, "codebook", "csv", out)


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


# --------------------------------------------------------------------------- serving
def lan_address() -> str:
    """This computer's address on the local network, without sending any packet."""
    candidates = []
    try:
        candidates = [info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
    except OSError:
        pass
    for address in candidates:
        if not address.startswith("127."):
            return address
    return "127.0.0.1"


#: Threads per worker process that run the app (survey.serving.BufferedFront's pool).  Python code
#: holds the GIL, so threads of one worker take turns on its core, and every turn costs the
#: waiting threads up to the switch interval.  Measured on 2 cores (bench/load_children.py):
#: two threads saved 213-252 pages a second against 188-212 with four, and kept 500 children's
#: p99 at 0.9 s instead of 2.0 s while an analyst downloaded the PDF report every 10 s.  One
#: thread is faster still, but a slow request (a report, an export) would then stall every
#: child on that worker until it finished; two leave a thread for the children.
DEFAULT_THREADS = 2

#: Connections one worker process holds open at once.  Granian does not even accept a
#: connection beyond its "backpressure" (by default 1024 / workers), and every phone keeps its
#: connection open between pages: a whole school's worth, on any one worker.
CONNECTIONS_PER_WORKER = 1000

#: Seconds a stopping worker process may take to finish its requests before it is killed.
WORKERS_KILL_TIMEOUT_S = 10


def default_workers() -> int:
    """Worker processes for `sauti serve`: one per core, two at most on a laptop.

    Two processes let a 2-core laptop use both cores for a classroom; more than the cores only
    adds context switches.  Granian runs one worker on Windows; without Granian, one waitress
    process serves.
    """
    if sys.platform == "win32" or not _has_granian():
        return 1
    return max(1, min(2, os.cpu_count() or 1))


def _has_granian() -> bool:
    try:
        import granian  # noqa: F401
    except ImportError:  # no wheel for this platform, or a broken install
        return False
    return True


#: Seconds ``--lan`` waits to learn whether the quick exit's neutral site can be reached.
REACH_TIMEOUT_S = 3.0


def outside_reachable(url: str, timeout: float = REACH_TIMEOUT_S) -> bool:
    """Whether this computer can open a connection to ``url``'s host within ``timeout`` seconds.

    Only a TCP connection is opened and closed again: no request, nothing about anyone is sent.
    The attempt runs in a thread, so that a name lookup with no network cannot hold start-up.
    """
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    reached: list[bool] = []

    def attempt() -> None:
        try:
            with socket.create_connection((parts.hostname, parts.port or 443), timeout=timeout):
                reached.append(True)
        except (OSError, ValueError):
            pass

    thread = threading.Thread(target=attempt, name="sauti-reach", daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(reached)


def _quick_exit_for_lan(app: Flask) -> None:
    """With ``--lan`` and no internet, send the quick exit to this server's own neutral page.

    A quick exit to a site nobody can reach would leave a child on the browser's "This site
    can't be reached" page, which shows where they were.  The setting goes into the environment
    too, for Granian's worker processes, which build their own app.
    """
    from survey.services.safeguarding import help_context_source

    if app.config.get("QUICK_EXIT_LOCAL"):
        return
    url = app.config.get("QUICK_EXIT_URL") or help_context_source(None).quick_exit_url
    if url.startswith("/") or outside_reachable(url):
        return
    app.config["QUICK_EXIT_LOCAL"] = True
    os.environ["SAUTI_QUICK_EXIT_LOCAL"] = "true"
    click.echo("No internet here: the quick exit goes to a neutral page on this computer.")


def _public_url(app: Flask, address: str) -> None:
    """Print ``address`` on code cards (unless set already); into the environment too, for
    Granian's worker processes, which build their own app."""
    if app.config.get("PUBLIC_URL"):
        return
    app.config["PUBLIC_URL"] = address
    os.environ["SAUTI_PUBLIC_URL"] = address


def _serve(app: Flask, host: str, port: int, lan: bool, threads: int, workers: int = 1) -> None:
    from survey.services import retention_schedule

    retention_schedule.enable(app, here=not _has_granian())  # daily, without cron (README, "Retention")
    if lan:
        host = "0.0.0.0"  # noqa: S104 # nosec B104 - --lan exists to let the classroom's devices join
        _quick_exit_for_lan(app)
        address = f"http://{lan_address()}:{port}/"
        _public_url(app, address.rstrip("/"))
        click.echo(f"Children's devices on this network can join at: {address}")
        import segno

        segno.make(address, error="m").terminal(compact=True)
    if host not in ("127.0.0.1", "localhost"):
        click.echo("Serving plain HTTP on the network: use a private Wi-Fi, or put HTTPS in front.")
    shown = "127.0.0.1" if host == "0.0.0.0" else host  # noqa: S104 # nosec B104 - a comparison, no bind
    if not _has_granian():
        if workers > 1:
            click.echo("Several workers need Granian (pip install granian); serving with one process.")
        click.echo(f"Sauti is running at http://{shown}:{port}/ (press Ctrl+C to stop)")
        _serve_waitress(app, host, port, threads)
        return
    if workers > 1 and sys.platform == "win32":
        click.echo("Granian runs one worker process on Windows; serving with one.")
        workers = 1
    several = f" with {workers} worker processes" if workers > 1 else ""
    click.echo(f"Sauti is running at http://{shown}:{port}/{several} (press Ctrl+C to stop)")
    _serve_granian(app, host, port, threads, workers)


def _serve_waitress(app: Flask, host: str, port: int, threads: int) -> None:
    """One process, where Granian cannot be imported."""
    import waitress

    # waitress speaks plain HTTP, and browsers drop Secure cookies on plain HTTP away from
    # localhost; deployments with HTTPS put a proxy in front and keep them Secure.
    app.config["SESSION_COOKIE_SECURE"] = False
    app.config["SESSION_COOKIE_NAME"] = app.config["SESSION_COOKIE_NAME"].removeprefix("__Host-")
    # Every phone keeps a connection open between pages: allow a whole school's worth (waitress's
    # default of 100 would make the 101st child wait; select() on Windows stops near 512).
    # waitress reads each body in its own event loop before a thread sees it (no slow-body
    # stall, unlike Granian's WSGI interface: survey/serving.py) and drops connections idle for
    # channel_timeout.  Forwarding headers reach the app only when TRUSTED_PROXIES says a proxy
    # is there (survey.serving.init_app applies them).
    waitress.serve(
        app,
        host=host,
        port=port,
        threads=threads,
        ident="Sauti",
        channel_timeout=30,
        clear_untrusted_proxy_headers=not app.config.get("TRUSTED_PROXIES"),
        connection_limit=500 if sys.platform == "win32" else 1000,
    )


def _serve_granian(app: Flask, host: str, port: int, threads: int, workers: int) -> None:
    """Granian: worker processes sharing one listening socket, each building its own app.

    Each worker runs :func:`survey.serving.create_served_front` (Granian's RSGI interface): the
    front reads every request whole before one of ``threads`` app threads sees it, so slow
    clients cannot hold those threads.  It builds the app with
    :func:`survey.wsgi.create_served_app` from the environment,
    so this process passes its instance folder and the serve-time settings there: the session
    cookie loses Secure (Granian here speaks plain HTTP, and browsers drop Secure cookies on
    plain HTTP away from localhost; deployments with HTTPS put a proxy in front and keep them
    Secure), and ``THROTTLE_WORKERS`` tells :mod:`survey.throttle` how many processes count
    code guesses each in its own memory when there is no shared store (Redis), so the limits
    are divided between them and never add up to more.  SQLite in WAL mode takes several
    processes; writes queue on ``BEGIN IMMEDIATE`` behind a lock file.

    Granian writes no access log (it would write client addresses), no forwarding header is
    trusted unless ``TRUSTED_PROXIES`` says so (:mod:`survey.serving`), and Granian's own log goes through
    :func:`survey.log_config.logging_config` at WARNING.
    """
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server import MPServer

    from survey.extensions import db
    from survey.log_config import logging_config
    from survey.serving import HEADER_READ_TIMEOUT_MS, create_served_front

    os.environ["SAUTI_INSTANCE_PATH"] = app.instance_path
    os.environ["SAUTI_SESSION_COOKIE_SECURE"] = "false"
    # On a free-threaded Python, Granian's workers are threads of one process sharing one memory.
    os.environ["SAUTI_THROTTLE_WORKERS"] = str(workers if Granian is MPServer else 1)
    os.environ["SAUTI_SERVE_THREADS"] = str(threads)
    # Workers are forked on Linux: no database connection of this process may cross the fork.
    with app.app_context():
        db.engine.dispose()
    _allow_open_files(CONNECTIONS_PER_WORKER + 256)  # per process: each worker has its own

    server = Granian(
        # RSGI, not WSGI: survey.serving.BufferedFront reads every body on the event loop within
        # a deadline before a thread runs the app (Granian's WSGI body read has no time limit).
        "survey.serving:create_served_front",
        address=host,
        port=port,
        interface=Interfaces.RSGI,
        workers=workers,
        backpressure=CONNECTIONS_PER_WORKER,
        # Browsers speak HTTP/2 only over TLS, which a proxy in front would terminate.
        http=HTTPModes.http1,
        websockets=False,
        http1_settings=HTTP1Settings(header_read_timeout=HEADER_READ_TIMEOUT_MS),
        # A worker that dies (killed, out of memory) is replaced, as gunicorn's arbiter did;
        # without this, Granian would shut the whole server down.
        respawn_failed_workers=True,
        # On stopping, a worker gets this long to finish its requests, then is killed: a worker
        # that was still building the app when the stop signal came never stops by itself
        # (Granian 2.8), and Ctrl+C would otherwise wait for ever.
        workers_kill_timeout=WORKERS_KILL_TIMEOUT_S,
        log_level=LogLevels.warning,
        log_access=False,
        log_dictconfig=logging_config(app.config["LOG_LEVEL"], app.config["LOG_JSON"]),
    )
    # The loader is called in each worker; passing the function itself (not a "module:name"
    # string) spares Granian putting the current folder first on the workers' import path.
    server.serve(target_loader=create_served_front, wrap_loader=False)


def _allow_open_files(wanted: int) -> None:
    """Raise the open-file limit of this process and the workers it starts towards ``wanted``.

    Every kept-alive connection is an open file; laptops often start at 1024 (Linux) or 256
    (macOS), below a school's worth of phones.  Only the soft limit moves, never past the hard one.
    """
    try:
        import resource
    except ImportError:  # Windows: no such limit on sockets
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):  # macOS refuses more than OPEN_MAX: keep what there is
        pass


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--lan", is_flag=True, help="Let devices on the local network join; prints the address.")
@click.option(
    "--threads",
    default=DEFAULT_THREADS,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Threads per worker process that run the app.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes (Granian).  Default: one per core, at most 2; 1 on Windows, or (waitress) without Granian.",
)
@with_appcontext
def serve(host: str, port: int, lan: bool, threads: int, workers: int | None) -> None:
    """Run the production server: Granian worker processes, or waitress without Granian."""
    from flask import current_app

    _serve(
        current_app._get_current_object(), host, port, lan, threads, default_workers() if workers is None else workers
    )


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--lan", is_flag=True, help="Let devices on the local network join.")
@click.option("--codes", "code_count", default=30, show_default=True, type=click.IntRange(1, 500))
@click.option("--no-serve", is_flag=True, help="Set everything up, print it, and exit.")
@click.option(
    "--languages",
    default="",
    metavar="CODES",
    help="Comma-separated, e.g. en,sw,ar: the shipped translations are approved for the demo only.",
)
@with_appcontext
def demo(host: str, port: int, lan: bool, code_count: int, no_serve: bool, languages: str) -> None:
    """Set up a demonstration (database, consultation, accounts, codes) and serve it."""
    from flask import current_app

    from survey.services.demo import DemoLanguageError, set_up_demo

    try:
        result = set_up_demo(code_count, [code.strip() for code in languages.split(",") if code.strip()])
    except DemoLanguageError as error:
        raise click.ClickException(str(error)) from error
    if lan:
        # The cards and this listing carry the address children's devices can reach.
        address = f"http://{lan_address()}:{port}"
        _public_url(current_app._get_current_object(), address)
        click.echo(result.describe(address, lan=True))
    else:
        click.echo(result.describe(f"http://{host}:{port}"))
    if not no_serve:
        _serve(current_app._get_current_object(), host, port, lan, threads=DEFAULT_THREADS, workers=default_workers())


from survey.cli_translations import texts_group  # noqa: E402 - adds to instruments_group
from survey.sync.cli import sync_group  # noqa: E402 - its commands use with_appcontext, defined above

_COMMANDS = (
    users,
    instruments_group,
    retention,
    backup_command,
    report_command,
    release_group,
    export_command,
    restore_command,
    translate,
    serve,
    demo,
    texts_group,
    sync_group,
)
for _command in _COMMANDS:
    main.add_command(_command)
