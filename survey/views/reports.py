"""Programme views for analysts: one consultation's funnel, results and downloads."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from survey.access import member
from survey.database import write_transaction
from survey.extensions import db
from survey.models import Consultation
from survey.services import audit, offload, reporting

bp = Blueprint("reports", __name__, url_prefix="/reports")

FUNNEL_LABELS = {
    "issued": _l("Cards issued"),
    "assented": _l("Said yes (assented)"),
    "completed": _l("Completed"),
    "withdrawn": _l("Withdrew"),
    "declined": _l("Said no (declined)"),
}


def _funnel_rows(released) -> list[tuple[str, str]]:
    row = released.display.iloc[0]
    return [(str(FUNNEL_LABELS.get(stage, stage)), str(row[stage])) for stage in released.display.columns]


@bp.route("/<int:consultation_id>/")
@member("analyst")
def overview(consultation_id: int):
    consultation = db.get_or_404(Consultation, consultation_id)
    # Seconds of CPU: done by the helper process, so children's pages on this worker never wait.
    view = offload.run(reporting.results_overview, consultation_id)
    return render_template(
        "staff/reports.html", consultation=consultation, view=view, sections=view.sections,
        funnel_rows=_funnel_rows(view.funnel), k=view.policy.k,
        suppressed=bool(view.funnel.n_primary),
        feedback_overdue=bool(consultation.feedback_due and consultation.feedback_due < dt.date.today()),
    )


def _download(consultation_id: int, kind: str, fmt: str) -> Response:
    if fmt not in reporting.FORMATS[kind]:
        abort(404)
    consultation = db.get_or_404(Consultation, consultation_id)
    try:
        body = offload.run(reporting.download, consultation_id, kind, fmt)
    except reporting.NotEnoughResponses:
        message = _l("Fewer than %(k)s children have completed this consultation, so there is nothing "
                     "that can be downloaded yet without risking that someone is recognised.",
                     k=reporting.policy().k)
        return Response(render_template("staff/report_unavailable.html", consultation=consultation,
                                        message=message), status=409)
    except reporting.ReportFailed:
        message = _l("The results could not be prepared this time, so nothing was released. The participation "
                     "numbers are still correct. Please tell your Sauti administrator.")
        return Response(render_template("staff/report_unavailable.html", consultation=consultation,
                                        message=message), status=503)
    except reporting.DisclosureError:
        message = _l("The de-identified export was refused: some children would still be too easy to "
                     "recognise from their age band and other details. The report and its tables are "
                     "still available.")
        return Response(render_template("staff/report_unavailable.html", consultation=consultation,
                                        message=message), status=409)
    with write_transaction():
        audit.record(current_user, "report.download", f"consultation:{consultation_id} {kind}.{fmt}")
    response = Response(body, mimetype=reporting.FORMATS[kind][fmt].split(";")[0])
    response.headers["Content-Type"] = reporting.FORMATS[kind][fmt]
    response.headers["Content-Disposition"] = (
        f'attachment; filename="sauti-consultation-{consultation_id}-{kind}.{fmt}"')
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:consultation_id>/report.<fmt>")
@member("analyst")
def report(consultation_id: int, fmt: str):
    return _download(consultation_id, "report", fmt)


@bp.route("/<int:consultation_id>/export.<fmt>")
@member("analyst")
def export(consultation_id: int, fmt: str):
    return _download(consultation_id, "export", fmt)


@bp.route("/<int:consultation_id>/codebook.<fmt>")
@member("analyst")
def codebook(consultation_id: int, fmt: str):
    return _download(consultation_id, "codebook", fmt)
