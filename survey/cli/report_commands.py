"""``sauti report``, ``sauti release`` and ``sauti export``: the programme report and downloads, read
from the latest release (or, with ``--from-export``, from an export file through the same gate)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from survey.cli.base import with_appcontext

if TYPE_CHECKING:
    pass


# --------------------------------------------------------------------------- reports
def _write_download(consultation_id: int, kind: str, fmt: str, out: str) -> None:

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
