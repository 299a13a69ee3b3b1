"""The analyst's programme view of one consultation, built on :mod:`analysis`.

Data flow (BRIEF): answers in the database -> :func:`analysis.frames.read_database` (the tidy
long frame, read in chunks with pandas, no Python loop over rows) -> JSON answers of
select-multiple, rank and matrix items turned into analysis rows (vectorised over the distinct
stored values) -> :func:`analysis.report.build_report`, whose every table and chart passed
:func:`analysis.disclosure.disclose`.

Nothing here is cached between requests: each report is built from this consultation's rows
and thrown away.  Participant ids never reach the analysis: they are replaced by integers in a
random order as soon as the frame is read, so neither the page nor a download can carry one.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from flask import current_app

from analysis.disclosure import DisclosureError, DisclosurePolicy, ReleasedTable, disclose
from analysis.frames import RESERVED, ItemMeta, codebook_from_instrument, make_long, read_database
from analysis.report import ProgrammeReport, ReportInputs, build_report
from survey.extensions import db
from survey.models import ConcernFlag, Consultation, Participant, Signal
from survey.services.instrument_store import instrument_for

log = logging.getLogger("sauti.reporting")

#: Only children who reached the end count as responses.
RESPONSE_STATE = "completed"
#: States a child reaches only after saying Yes (withdrawal comes after assent).
ASSENTED_STATES = ("assented", "answering", "completed", "withdrawn")
DEFAULT_K = 10
#: Items of the bundled instruments that describe the child, copied to the respondent columns.
RESPONDENT_ITEMS = {"gender": "DM2", "disability": "DM3b"}
#: The temporary view that gives :func:`read_database` one consultation's completed answers.
_VIEW = "sauti_report_answers"
_COLUMNS = {"response_id": "participant_id", "answer": "value", "site": "site_code",
            "consultation": "consultation_id"}

FORMATS = {
    "report": {"html": "text/html; charset=utf-8", "pdf": "application/pdf",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    "export": {"csv": "text/csv; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "sav": "application/x-spss-sav", "parquet": "application/vnd.apache.parquet"},
    "codebook": {"csv": "text/csv; charset=utf-8"},
}


class NotEnoughResponses(LookupError):
    """Fewer completed responses than the disclosure threshold: nothing is released."""


class ReportFailed(RuntimeError):
    """The report could not be built; nothing is released (the error is logged)."""


def policy() -> DisclosurePolicy:
    """The disclosure policy: config ``DISCLOSURE_K`` (``SAUTI_DISCLOSURE_K``; default 10), never below 5."""
    k = int(current_app.config.get("DISCLOSURE_K", DEFAULT_K) or DEFAULT_K)
    return DisclosurePolicy(k=max(k, 5), min_denominator=max(25, k), flag_denominator=max(50, k))


# ----------------------------------------------------------------------------- counts
def funnel_counts(consultation_id: int) -> dict[str, int]:
    """Cards issued, assented, completed, withdrawn, declined (true counts: release via :func:`funnel`)."""
    rows = dict(db.session.execute(
        sa.select(Participant.state, sa.func.count())
        .where(Participant.consultation_id == consultation_id)
        .group_by(Participant.state)).all())
    return {
        "issued": sum(rows.values()),
        "assented": sum(rows.get(s, 0) for s in ASSENTED_STATES),
        "completed": rows.get("completed", 0),
        "withdrawn": rows.get("withdrawn", 0),
        "declined": rows.get("declined", 0),
    }


def funnel(consultation_id: int, pol: DisclosurePolicy | None = None) -> ReleasedTable:
    """The participation funnel through the disclosure gate (stages, not parts of a whole)."""
    counts = funnel_counts(consultation_id)
    return disclose(pd.Series(counts, name="children"), pol or policy(), margins=False,
                    title="Participation funnel")


def safeguarding_counts(consultation_id: int) -> dict[str, int]:
    signals = db.session.scalar(sa.select(sa.func.count()).select_from(Signal)
                                .where(Signal.consultation_id == consultation_id)) or 0
    flags = db.session.scalar(sa.select(sa.func.count()).select_from(ConcernFlag)
                              .where(ConcernFlag.consultation_id == consultation_id)) or 0
    return {"talk-to-someone signals": int(signals), "flagged free text": int(flags)}


# ----------------------------------------------------------------------------- the frame
def codebook_for(consultation: Consultation) -> dict[str, ItemMeta]:
    """The instrument's items as analysis metadata, free text left out (never released unread)."""
    cb = codebook_from_instrument(instrument_for(consultation))
    return {name: meta for name, meta in cb.items() if meta.type != "text"}


def read_answers(consultation_id: int) -> pd.DataFrame:
    """This consultation's completed answers as read by :func:`analysis.frames.read_database`.

    A temporary view (private to this connection, dropped before it goes back to the pool)
    joins the answers to their participant and consultation and keeps only completed responses,
    so the reader sees exactly one consultation's rows under the names it expects.
    """
    cid = int(consultation_id)  # an integer literal: the view cannot take bound parameters
    view_sql = (
        f"CREATE TEMPORARY VIEW {_VIEW} AS "  # noqa: S608 # nosec B608 - fixed names and an int
        "SELECT a.participant_id AS participant_id, a.item AS item, a.value AS value, "
        "p.band AS band, p.language AS language, c.setting AS setting, c.site_code AS site_code, "
        "p.consultation_id AS consultation_id "
        "FROM answer a JOIN participant p ON p.id = a.participant_id "
        "JOIN consultation c ON c.id = p.consultation_id "
        f"WHERE p.consultation_id = {cid} AND p.state = '{RESPONSE_STATE}'"
    )
    with db.engine.connect() as connection:
        connection.exec_driver_sql(f"DROP VIEW IF EXISTS {_VIEW}")
        connection.exec_driver_sql(view_sql)
        try:
            return read_database(connection, answers_table=_VIEW, columns=_COLUMNS, consultation=cid)
        finally:
            connection.exec_driver_sql(f"DROP VIEW IF EXISTS {_VIEW}")
            connection.rollback()


def _decode(value: str) -> Any:
    """One stored value: JSON for lists and matrix rows, a bare code otherwise."""
    if value.startswith(("[", "{")):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _expand(raw: pd.DataFrame, cb: Mapping[str, ItemMeta], instrument_types: Mapping[str, str]) -> pd.DataFrame:
    """Stored answers -> analysis rows: one per chosen code (multi), per position (rank), per
    matrix row (``<item>_<row>``).  JSON is decoded once per distinct stored value."""
    keep = [c for c in raw.columns if c != "rank"]
    df = raw[keep].copy()
    df["item"] = df["item"].astype(str)
    df["answer"] = df["answer"].astype("string")
    kind = df["item"].map(instrument_types)
    parts = []
    plain = df[kind.isin(["select_one", "likert", "range"]) & df["item"].isin(list(cb))]
    parts.append(plain.assign(rank=np.nan))
    listed = df[kind.isin(["select_multiple", "rank"])].copy()
    if len(listed):
        uniq = pd.unique(listed["answer"].dropna())
        decoded = {v: (_decode(v) if isinstance(_decode(v), list) else [v]) for v in uniq}
        listed["answer"] = listed["answer"].map(decoded)
        listed = listed.explode("answer")
        position = listed.groupby(level=0).cumcount() + 1
        is_rank = listed["item"].map(instrument_types).eq("rank") & ~listed["answer"].isin(RESERVED)
        listed["rank"] = np.where(is_rank, position, np.nan)
        parts.append(listed.reset_index(drop=True))
    matrix = df[kind.eq("matrix")].copy()
    if len(matrix):
        uniq = pd.unique(matrix["answer"].dropna())
        pairs = {}
        for v in uniq:
            d = _decode(v)
            pairs[v] = sorted(d.items()) if isinstance(d, dict) else []
        matrix["pair"] = matrix["answer"].map(pairs)
        matrix = matrix.explode("pair").dropna(subset=["pair"])
        if len(matrix):
            rows = pd.DataFrame(matrix["pair"].tolist(), index=matrix.index, columns=["row", "code"])
            matrix["item"] = matrix["item"] + "_" + rows["row"].astype(str)
            matrix["answer"] = rows["code"].astype("string")
            parts.append(matrix.drop(columns=["pair"]).assign(rank=np.nan))
    out = pd.concat(parts, ignore_index=True)
    return out[out["item"].isin(list(cb))].reset_index(drop=True)


def _respondent_items(long: pd.DataFrame) -> pd.DataFrame:
    """Copy gender and disability from their items to the respondent columns (when asked)."""
    for column, item in RESPONDENT_ITEMS.items():
        rows = long[long["item"] == item]
        if rows.empty:
            continue
        by_response = rows.drop_duplicates("response_id").set_index("response_id")["answer"].astype("string")
        long[column] = long["response_id"].map(by_response)
        if column == "disability":
            long["disability_method"] = np.where(long[column].notna(), "self_id", None)
    return long


def long_frame(consultation: Consultation) -> tuple[pd.DataFrame, dict[str, ItemMeta]]:
    """The tidy long frame of this consultation's completed responses, and its codebook."""
    instrument = instrument_for(consultation)
    cb = codebook_for(consultation)
    types = {item.name: str(getattr(item.type, "value", item.type)) for item in instrument.items}
    raw = read_answers(consultation.id)
    expanded = _expand(raw, cb, types)
    # Participant ids stop here: integers in a random order take their place.
    ids = pd.unique(expanded["response_id"].astype(str))
    order = np.random.default_rng(secrets.randbits(64)).permutation(len(ids)) + 1
    expanded["response_id"] = expanded["response_id"].astype(str).map(dict(zip(ids, order, strict=True)))
    expanded["response_id"] = expanded["response_id"].astype(np.int64)
    expanded["consultation"] = str(consultation.id)
    for column in ("site", "setting"):  # an unset site code is missing, not a category of its own
        if column in expanded:
            expanded[column] = expanded[column].astype("string").replace("", pd.NA)
    expanded = _respondent_items(expanded)
    bands = tuple(instrument.settings.band_codes)
    long = make_long(expanded, codebook=cb, categories={"band": bands})
    return long, cb


def export_items(cb: Mapping[str, ItemMeta]) -> dict[str, ItemMeta]:
    """The items a record-level export carries: all but the demographic (``DM``) ones."""
    dropped = {name for name, meta in cb.items() if meta.domain == "DM"} | set(RESPONDENT_ITEMS.values())
    return {name: meta for name, meta in cb.items() if name not in dropped}


def export_frame(long: pd.DataFrame, cb: Mapping[str, ItemMeta]) -> tuple[pd.DataFrame, dict[str, ItemMeta]]:
    """The long frame for a record-level export: demographic (``DM``) items left out.

    Gender and disability leave only as the respondent columns the microdata gate risk-checks
    (merged, locally suppressed); as items they would carry the suppressed values back out, and
    the other demographic items (an exact age, say) are quasi-identifiers no one checked.
    """
    kept = export_items(cb)
    out = long[long["item"].isin(list(kept))].copy()
    out["item"] = out["item"].cat.remove_unused_categories()
    out.attrs["codebook"] = kept
    return out, kept


# ----------------------------------------------------------------------------- the report
@dataclasses.dataclass
class ProgrammeView:
    """What the overview page shows: the released funnel and, with enough responses, the report."""

    policy: DisclosurePolicy
    funnel: ReleasedTable
    completed: int
    report: ProgrammeReport | None
    codebook: dict[str, ItemMeta] | None = None
    long: pd.DataFrame | None = None
    failed: bool = False  # enough responses, but the report could not be built

    @property
    def enough(self) -> bool:
        return self.report is not None


def programme_view(consultation: Consultation, charts: bool = True) -> ProgrammeView:
    """The funnel, and the report when at least k children completed (else no tables)."""
    pol = policy()
    released_funnel = funnel(consultation.id, pol)
    completed = funnel_counts(consultation.id)["completed"]
    if completed < pol.k:
        return ProgrammeView(pol, released_funnel, completed, None)
    long, cb = long_frame(consultation)
    if int(long["response_id"].nunique()) < pol.k:  # completed, but too few with any answer
        return ProgrammeView(pol, released_funnel, completed, None)
    from survey.services.programme import report_inputs

    inputs = ReportInputs(
        title=consultation.title, consultation=str(consultation.id),
        funnel=_report_funnel(consultation.id),
        safeguarding=safeguarding_counts(consultation.id),
        # The Lundy checklist, GC12 self-assessment, influence log and feedback tracker.
        **report_inputs(consultation),
    )
    # Everything is read: end the read transaction before the seconds of analysis.  On SQLite an
    # open snapshot keeps the write-ahead log from being checkpointed, so it grows with every
    # child's save and the checkpoint that finally copies it back holds up their saves (measured:
    # 5 -> 87 MB during one PDF report with 500 children answering).
    db.session.commit()
    try:
        report = build_report(long, inputs, codebook=cb, policy=pol, charts_on=charts)
    except (TypeError, ValueError, ArithmeticError):
        # Fail closed: a table the gate could not finish is never shown half-protected.
        log.exception("the programme report could not be built", extra={"consultation": consultation.id})
        return ProgrammeView(pol, released_funnel, completed, None, failed=True)
    return ProgrammeView(pol, released_funnel, completed, report, cb, long)


def _report_funnel(consultation_id: int) -> dict[str, int]:
    counts = funnel_counts(consultation_id)
    return {"invited": counts["issued"], "declined assent": counts["declined"],
            "assented": counts["assented"], "completed": counts["completed"],
            "withdrew after submitting": counts["withdrawn"]}


@dataclasses.dataclass(frozen=True)
class PageTable:
    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]  # the first cell of each row is its header
    notes: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class PageChart:
    src: str  # a data: URI made on this server (the CSP allows img-src 'self' data:)
    alt: str
    caption: str = ""


@dataclasses.dataclass(frozen=True)
class PageSection:
    title: str
    intro: str
    blocks: tuple[PageTable | PageChart, ...]


def _cell(value: Any) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _table(frame: pd.DataFrame, caption: str, notes: tuple[str, ...], index: bool) -> PageTable:
    if index:
        frame = frame.reset_index().rename(columns={"index": ""})
    header = tuple(str(c) for c in frame.columns)
    rows = tuple(tuple(_cell(v) for v in row) for row in frame.itertuples(index=False))
    return PageTable(caption, header, rows, notes)


def page_sections(report: ProgrammeReport) -> list[PageSection]:
    """The report's released blocks, ready for the page template (tables as text, charts as PNG)."""
    import base64

    from analysis.charts import ChartResult
    from analysis.report import ProgrammeRecord

    out = []
    for section in report.sections:
        blocks: list[PageTable | PageChart] = []
        for block in section.blocks:
            if isinstance(block, ReleasedTable):
                display = block.display
                if block.kind == "frequencies" and "item" in display and display["item"].nunique() == 1:
                    display = display.drop(columns="item")
                cells = {str(v) for v in display.to_numpy().ravel()}
                notes = tuple(n for n in block.notes if n[:1] not in "s*(" or n[:1] in cells
                              or (n.startswith("(") and any(c.startswith("(") for c in cells)))
                blocks.append(_table(display, block.title, notes, index=block.kind == "counts"))
            elif isinstance(block, ChartResult):
                png = base64.b64encode(block.to_png(dpi=90)).decode("ascii")
                blocks.append(PageChart(f"data:image/png;base64,{png}", block.alt_text, block.caption))
            elif isinstance(block, ProgrammeRecord):
                frame = pd.DataFrame(list(block.rows), columns=list(block.columns))
                blocks.append(_table(frame, block.title, (block.note,) if block.note else (), index=False))
            # Quotes are not shown here: free text is released only after review.
        out.append(PageSection(section.title, section.intro, tuple(blocks)))
    return out


@dataclasses.dataclass(frozen=True)
class ResultsOverview:
    """What the results page shows, small enough to come back from the helper process."""

    policy: DisclosurePolicy
    funnel: ReleasedTable
    completed: int
    failed: bool
    n_respondents: int | None  # None: fewer than k completed, no results shown
    sections: tuple[PageSection, ...]

    @property
    def enough(self) -> bool:
        return self.n_respondents is not None


def results_overview(consultation_id: int) -> ResultsOverview:
    """The results page's content for one consultation (run through :mod:`survey.services.offload`)."""
    view = programme_view(_consultation(consultation_id))
    report = view.report
    return ResultsOverview(view.policy, view.funnel, view.completed, view.failed,
                           None if report is None else report.n_respondents,
                           tuple(page_sections(report)) if report is not None else ())


def download(consultation_id: int, kind: str, fmt: str) -> bytes:
    """:func:`render_download` by the consultation's id (run through :mod:`survey.services.offload`)."""
    return render_download(_consultation(consultation_id), kind, fmt)


def _consultation(consultation_id: int) -> Consultation:
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None:  # the views look it up first; consultations are archived, not deleted
        raise LookupError(f"consultation {consultation_id}")
    return consultation


def render_download(consultation: Consultation, kind: str, fmt: str) -> bytes:
    """The bytes of one download (report html/pdf/xlsx, de-identified export, its codebook).

    The codebook holds no data and is never refused. A record-level export passes the
    microdata risk check, and when it holds sensitive (S2/S3) items it also needs a current
    approval (:mod:`survey.services.export_approvals`, DP-07).

    Raises :class:`NotEnoughResponses` under the threshold,
    :class:`~survey.services.export_approvals.ApprovalRequired` for a sensitive export without
    an approval and :class:`analysis.disclosure.DisclosureError` when the microdata gate
    refuses the export.
    """
    from analysis.exports import export_codebook, export_deidentified, neutralise, write_report_xlsx
    from analysis.report import render_html, write_report_pdf
    from analysis.sdc import MicrodataPolicy
    from survey.services import export_approvals

    if fmt not in FORMATS.get(kind, {}):
        raise KeyError(f"{kind}.{fmt}")
    if kind == "codebook":  # the instrument's variables, no answer: nothing to protect
        frame = export_codebook(export_items(codebook_for(consultation))).astype(object).map(neutralise)
        return frame.to_csv(index=False).encode("utf-8")
    pol = policy()
    if funnel_counts(consultation.id)["completed"] < pol.k:
        raise NotEnoughResponses(consultation.id)
    with tempfile.TemporaryDirectory(prefix="sauti-report-") as folder:
        out = Path(folder)
        if kind == "report":
            view = programme_view(consultation, charts=fmt != "xlsx")
            if view.failed:
                raise ReportFailed(consultation.id)
            if view.report is None:
                raise NotEnoughResponses(consultation.id)
            if fmt == "html":
                return render_html(view.report).encode("utf-8")
            if fmt == "pdf":
                return write_report_pdf(view.report, out / "report.pdf").read_bytes()
            return write_report_xlsx(view.report, out / "report.xlsx").read_bytes()
        export_approvals.require(consultation.id, export_items(codebook_for(consultation)))
        long, cb = export_frame(*long_frame(consultation))
        if int(long["response_id"].nunique()) < pol.k:
            raise NotEnoughResponses(consultation.id)
        files, _released = export_deidentified(long, out, fmt=fmt, codebook=cb,
                                               policy=MicrodataPolicy(k=pol.k))
        return files[0].read_bytes()


__all__ = ["FORMATS", "DisclosureError", "NotEnoughResponses", "ProgrammeView", "ReportFailed", "ResultsOverview",
           "download", "funnel", "funnel_counts", "long_frame", "page_sections", "programme_view", "read_answers",
           "render_download", "results_overview"]
