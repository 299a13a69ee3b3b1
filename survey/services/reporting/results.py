"""The results page and the downloads, read from the latest stored release (never the live
answers): :func:`results_overview`, the programme report (:func:`release_report`) and
:func:`render_download`."""

from __future__ import annotations

import dataclasses
import io
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from analysis.disclosure import ReleasedTable
from analysis.frames import (
    ItemMeta,
)
from survey.extensions import db
from survey.models import Consultation
from survey.services import released as released_cells
from survey.services.progress import funnel
from survey.services.released import cell_label as _cell_label
from survey.services.released import funnel_counts
from survey.services.released import local_codebook as _local_codebook
from survey.services.released import meta_for as _meta_for
from survey.services.reporting.frame import (
    FORMATS,
    NotEnoughResponses,
    ReportFailed,
    _long_frame,
    codebook_for,
    export_frame,
    export_items,
    export_repeats,
    log,
    safeguarding_counts,
)

# ----------------------------------------------------------------------------- the results page
# Everything below reads a stored release (survey.services.releases), never the live answers:
# asking again shows the same numbers until an analyst (or closing) makes a new release.

DOMAIN_TITLES = {
    "CX": _l("Devices and private access"),
    "TR": _l("Trusted people"),
    "AW": _l("Knowing where to get help"),
    "CH": _l("Ways to ask for help"),
    "BA": _l("What stops children telling"),
    "TC": _l("Trust and control"),
    "AF": _l("What should happen next"),
    "ID": _l("Ideas and information"),
    "EV": _l("What children thought of the consultation"),
}


@dataclasses.dataclass(frozen=True)
class CellView:
    label: str
    count: str
    percent: str
    value: int | None  # the published percentage, for the bar (None: no bar)


@dataclasses.dataclass(frozen=True)
class TableView:
    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class ItemView:
    item: str
    question: str
    headline: str | None
    total: int
    cells: tuple[CellView, ...]
    breakdowns: tuple[TableView, ...]
    withheld: bool = False
    carried: bool = False  # the numbers of an earlier release (too few new answers to update)


@dataclasses.dataclass(frozen=True)
class ReleaseInfo:
    number: int
    made_on: str
    made_by: str
    reason: str
    n_children: int


@dataclasses.dataclass(frozen=True)
class ResultsOverview:
    """What the results page shows: the live funnel, and one part of the latest release."""

    k: int
    funnel: ReleasedTable
    completed: int
    release: ReleaseInfo | None
    parts: tuple[tuple[str, str], ...]
    part: str
    headlines: tuple[tuple[str, str, str, str | None], ...] = ()  # (part, item, question, headline)
    items: tuple[ItemView, ...] = ()
    tables: tuple[TableView, ...] = ()
    new_children: int = 0  # finished since the latest release

    @property
    def enough(self) -> bool:
        return self.release is not None

    @property
    def can_release(self) -> bool:
        return self.completed >= self.k and (self.release is None or self.new_children >= self.k)


def share_phrase(tenths: int) -> str:
    if tenths <= 0:
        return _("Fewer than 1 in 10")
    if tenths >= 10:
        return _("Almost all")
    return _("About %(n)s in 10", n=tenths)


def headline_sentence(headline: Mapping[str, Any] | None, answer: str) -> str | None:
    """The plain-language headline in the page's language ("About 7 in 10 children said ...")."""
    if not headline:
        return None
    share = share_phrase(int(headline["tenths"]))
    pct = headline.get("coded") or f"{headline['percent']} %"
    if headline["kind"] == "chose":
        return _("%(share)s children chose “%(answer)s” (%(percent)s).", share=share, answer=answer, percent=pct)
    if headline["kind"] == "first":
        return _("%(share)s children put “%(answer)s” first (%(percent)s).", share=share, answer=answer, percent=pct)
    return _("%(share)s children said “%(answer)s” (%(percent)s).", share=share, answer=answer, percent=pct)


def _item_view(it: Mapping[str, Any], local: Mapping[str, ItemMeta], note: str) -> ItemView:
    meta = _meta_for(local, it["item"])
    question = meta.label if meta is not None and meta.label else it["question"]
    if "[" in it["item"]:
        question += " " + _("(age group %(band)s)", band=it["item"].split("[")[1].rstrip("]"))
    cells = []
    for c in it["cells"]:
        pct = c.get("coded") or ("" if c.get("percent") is None else f"{c['percent']} %")
        cells.append(
            CellView(
                _cell_label(c, meta),
                "s" if c["count"] is None else f"{c['count']:,}",
                "" if c["count"] is None else pct,
                None if c["count"] is None or c.get("percent") is None else int(c["percent"]),
            )
        )
    head = None
    if it.get("headline"):
        best = next((c for c in it["cells"] if c["label"] == it["headline"]["answer"]), None)
        head = headline_sentence(it["headline"], _cell_label(best, meta) if best else it["headline"]["answer"])
    tables = []
    for bd in it["breakdowns"]:
        header = (str(_("Group")), *(_cell_label(c, meta) for c in bd["rows"][0]["cells"]), str(_("Children asked")))
        rows = tuple(
            (
                row["label"],
                *(
                    f"{c['count']:,}" + (f" ({c['percent']} %)" if c["percent"] is not None else "")
                    for c in row["cells"]
                ),
                f"{row['total']:,}",
            )
            for row in bd["rows"]
        )
        tables.append(TableView(str(_("By %(dim)s", dim=_dim_label(bd["dim"]))), header, rows))
    return ItemView(
        it["item"],
        question,
        head,
        int(it["total"]),
        tuple(cells),
        tuple(tables),
        bool(it.get("withheld")),
        bool(it.get("carried")),
    )


def _dim_label(dim: str) -> str:
    return {"band": _("age group"), "gender": _("gender"), "site": _("site")}.get(dim, dim)


def results_overview(consultation_id: int, part: str = "summary", language: str = "en") -> ResultsOverview:
    """The results page's content: the live funnel, and the requested part of the latest release."""
    from analysis.release import test_rows

    consultation = _consultation(consultation_id)
    pol = released_cells.rules()
    released_funnel = funnel(consultation_id, pol.policy())
    completed = funnel_counts(consultation_id)["completed"]
    latest = released_cells.latest(consultation_id)
    if latest is None:
        return ResultsOverview(pol.k, released_funnel, completed, None, (), "summary")
    content = released_cells.content_of(latest)
    info = ReleaseInfo(latest.number, latest.made_on.isoformat(), latest.made_by, latest.reason, latest.n_children)
    domains = list(dict.fromkeys(it["domain"] or "items" for it in content["items"]))
    parts = [("summary", str(_("Headlines"))), ("participation", str(_("Who took part")))]
    parts += [(d.lower(), str(DOMAIN_TITLES.get(d, d))) for d in domains]
    tests = test_rows(content)
    if tests:
        parts.append(("groups", str(_("Differences between groups"))))
    parts.append(("programme", str(_("Programme records"))))
    if part not in dict(parts):
        part = "summary"
    local = _local_codebook(consultation, language)
    note = str(_("s: a small number, hidden so that nobody can be recognised."))
    new = max(completed - latest.n_children, 0)
    common: dict[str, Any] = {
        "k": pol.k,
        "funnel": released_funnel,
        "completed": completed,
        "release": info,
        "parts": tuple(parts),
        "part": part,
        "new_children": new,
    }
    if part == "summary":
        heads = []
        for it in content["items"]:
            view = _item_view(it, local, note)
            heads.append(((it["domain"] or "items").lower(), it["item"], view.question, view.headline))
        return ResultsOverview(**common, headlines=tuple(heads))
    if part == "participation":
        tables = []
        for tab in content["participation"]:
            dim = tab["dim"]
            caption = _("Children who took part") if dim == "all" else _("Children by %(dim)s", dim=_dim_label(dim))
            rows = tuple(
                (row["label"] if dim != "all" else str(_("All children")), f"{row['count']:,}") for row in tab["rows"]
            )
            tables.append(TableView(str(caption), (str(_("Group")), str(_("Children"))), rows))
        return ResultsOverview(**common, tables=tuple(tables))
    if part == "programme":
        from analysis.report import ProgrammeRecord

        tables = []
        for section in programme_records(consultation):
            for block in section.blocks:
                if isinstance(block, ProgrammeRecord):
                    tables.append(
                        TableView(
                            block.title,
                            tuple(block.columns),
                            tuple(tuple(str(v) for v in row) for row in block.rows),
                            (block.note,) if block.note else (),
                        )
                    )
                elif isinstance(block, ReleasedTable):
                    disp = block.display
                    tables.append(
                        TableView(
                            block.title,
                            (str(_("Signal")), *map(str, disp.columns)),
                            tuple((str(i), *map(str, r)) for i, r in zip(disp.index, disp.to_numpy(), strict=True)),
                        )
                    )
        return ResultsOverview(**common, tables=tuple(tables))
    if part == "groups":
        rows = tuple(
            (
                _meta_for(local, t["item"]).label if _meta_for(local, t["item"]) else t["question"],
                _dim_label({"age group": "band"}.get(t["by"], t["by"])),
                f"{t['n']:,}",
                f"{t['statistic']:.2f}",
                "<0.001" if t["p_adjusted"] < 0.001 else f"{t['p_adjusted']:.3f}",
                f"{t['cramers_v']:.2f}",
            )
            for t in tests
        )
        header = (str(_("Question")), str(_("By")), str(_("Children")), "χ²", str(_("p (adjusted)")), "Cramér's V")
        return ResultsOverview(
            **common,
            tables=(
                TableView(
                    str(_("Tests of the published breakdowns")),
                    header,
                    rows,
                    (str(_("Computed from the published numbers only.")),),
                ),
            ),
        )
    items = tuple(_item_view(it, local, note) for it in content["items"] if (it["domain"] or "items").lower() == part)
    return ResultsOverview(**common, items=items)


def download(consultation_id: int, kind: str, fmt: str) -> bytes:
    """:func:`render_download` by the consultation's id (run through :mod:`survey.services.offload`)."""
    return render_download(_consultation(consultation_id), kind, fmt)


def _consultation(consultation_id: int) -> Consultation:
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None:  # the views look it up first; consultations are archived, not deleted
        raise LookupError(f"consultation {consultation_id}")
    return consultation


def release_report(consultation: Consultation, charts: bool = False):
    """The programme report of the latest release (:class:`analysis.report.ProgrammeReport`),
    with a chart of each question's published shares where ``charts``."""
    from analysis.release import release_to_report

    latest = released_cells.latest(consultation.id)
    if latest is None:
        raise NotEnoughResponses(consultation.id)
    return release_to_report(
        released_cells.content_of(latest),
        title=consultation.title,
        number=latest.number,
        records=programme_records(consultation),
        charts=charts,
    )


def programme_records(consultation: Consultation) -> list:
    """The report sections that hold no answers (checklists, influence log, feedback, safeguarding
    counts): current records, not part of a release."""
    from analysis.report import ReportInputs, programme_sections
    from survey.services.programme import report_inputs
    from survey.services.released import rules

    inputs = ReportInputs(
        title=consultation.title, safeguarding=safeguarding_counts(consultation.id), **report_inputs(consultation)
    )
    return programme_sections(inputs, rules().policy())


def render_download(consultation: Consultation, kind: str, fmt: str) -> bytes:
    """The bytes of one download (report html/pdf/xlsx of the latest release, de-identified export,
    its codebook).

    The codebook holds no data and is never refused. A record-level export passes the
    microdata risk check, and when it holds sensitive (S2/S3) items it also needs a current
    approval (:mod:`survey.services.export_approvals`, DP-07).

    Raises :class:`NotEnoughResponses` when there is no release (or too few children for an
    export), :class:`~survey.services.export_approvals.ApprovalRequired` for a sensitive export
    without an approval and :class:`analysis.disclosure.DisclosureError` when the microdata gate
    refuses the export.
    """
    if fmt not in FORMATS.get(kind, {}):
        raise KeyError(f"{kind}.{fmt}")
    if kind == "codebook":  # the instrument's variables, no answer: nothing to protect
        return _codebook_csv(consultation)
    pol = released_cells.rules()
    if kind == "report":
        return _report_bytes(consultation, fmt)
    return _export_bytes(consultation, fmt, pol)


def _codebook_csv(consultation: Consultation) -> bytes:
    from analysis.exports import export_codebook, neutralise

    frame = export_codebook(export_items(codebook_for(consultation))).astype(object).map(neutralise)
    return frame.to_csv(index=False).encode("utf-8")


def _report_bytes(consultation: Consultation, fmt: str) -> bytes:
    """The programme report of the latest release, as html, pdf or xlsx."""
    from analysis.exports import write_report_xlsx
    from analysis.report import render_html, write_report_pdf

    try:
        report = release_report(consultation, charts=fmt != "xlsx")
    except (TypeError, ValueError, KeyError) as error:
        log.exception("the release report could not be rendered", extra={"consultation": consultation.id})
        raise ReportFailed(consultation.id) from error
    with tempfile.TemporaryDirectory(prefix="sauti-report-") as folder:
        out = Path(folder)
        if fmt == "html":
            return render_html(report).encode("utf-8")
        if fmt == "pdf":
            return write_report_pdf(report, out / "report.pdf").read_bytes()
        return write_report_xlsx(report, out / "report.xlsx").read_bytes()


def _export_bytes(consultation: Consultation, fmt: str, pol) -> bytes:
    """The de-identified answers (one file, or a zip with the repeat tables), through the
    microdata gate and, with sensitive items, a current approval."""
    from analysis.exports import export_deidentified
    from survey.services import export_approvals

    if funnel_counts(consultation.id)["completed"] < pol.k:
        raise NotEnoughResponses(consultation.id)
    # Items asked in repeats leave in the repeat tables: their sensitivity counts too.
    export_approvals.require(consultation.id, export_items(codebook_for(consultation, repeats=True)))
    with tempfile.TemporaryDirectory(prefix="sauti-report-") as folder:
        out = Path(folder)
        long, cb, id_map = _long_frame(consultation, repeat_items_by_child=False)
        long, cb = export_frame(long, cb)
        if int(long["response_id"].nunique()) < pol.k:
            raise NotEnoughResponses(consultation.id)
        repeats, parents = export_repeats(consultation, id_map)
        files, _released = export_deidentified(
            long,
            out,
            fmt="csv" if fmt == "zip" else fmt,
            codebook=cb,
            policy=pol.microdata_policy(),
            repeats=repeats or None,
            repeat_parents=parents,
        )
        if fmt != "zip":
            return files[0].read_bytes()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                archive.write(path, path.name)
        return buffer.getvalue()
