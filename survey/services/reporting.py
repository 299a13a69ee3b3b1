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
import io
import json
import logging
import secrets
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from analysis import repeat_items
from analysis.disclosure import DisclosureError, ReleasedTable
from analysis.frames import (
    RESERVED,
    ItemMeta,
    codebook_from_instrument,
    make_long,
    read_database,
    repeat_frames,
    repeat_item_names,
)
from survey.extensions import db
from survey.models import Answer, ConcernFlag, Consultation, Participant, Signal
from survey.services import released as released_cells
from survey.services.instrument_store import instrument_for
from survey.services.placeholders import instrument_for_children
from survey.services.released import ASSENTED_STATES as ASSENTED_STATES
from survey.services.released import cell_label as _cell_label
from survey.services.released import funnel as funnel
from survey.services.released import funnel_counts as funnel_counts
from survey.services.released import local_codebook as _local_codebook
from survey.services.released import meta_for as _meta_for
from survey.services.released import policy as policy

log = logging.getLogger("sauti.reporting")

#: Only children who reached the end count as responses.
RESPONSE_STATE = "completed"
#: Items of the bundled instruments that describe the child, copied to the respondent columns.
RESPONDENT_ITEMS = {"gender": "DM2", "disability": "DM3b"}
#: The temporary view that gives :func:`read_database` one consultation's completed answers.
_VIEW = "sauti_report_answers"
_COLUMNS = {"response_id": "participant_id", "answer": "value", "site": "site_code", "consultation": "consultation_id"}

FORMATS = {
    "report": {
        "html": "text/html; charset=utf-8",
        "pdf": "application/pdf",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    },
    "export": {
        "csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "sav": "application/x-spss-sav",
        "parquet": "application/vnd.apache.parquet",
        # one CSV file per table (the answers, each repeat, the codebook), as ODK Central exports
        "zip": "application/zip",
    },
    "codebook": {"csv": "text/csv; charset=utf-8"},
}


class NotEnoughResponses(LookupError):
    """Fewer completed responses than the disclosure threshold: nothing is released."""


class ReportFailed(RuntimeError):
    """The report could not be built; nothing is released (the error is logged)."""


def _report_funnel(consultation_id: int) -> dict[str, int]:
    """The funnel stages a release publishes (counts from 1 to k-1 hidden by the release)."""
    counts = funnel_counts(consultation_id)
    return {
        "invited": counts["issued"],
        "declined assent": counts["declined"],
        "assented": counts["assented"],
        "completed": counts["completed"],
        "withdrew after submitting": counts["withdrawn"],
    }


def safeguarding_counts(consultation_id: int) -> dict[str, int]:
    signals = (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Signal).where(Signal.consultation_id == consultation_id)
        )
        or 0
    )
    flags = (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(ConcernFlag).where(ConcernFlag.consultation_id == consultation_id)
        )
        or 0
    )
    return {"talk-to-someone signals": int(signals), "flagged free text": int(flags)}


# ----------------------------------------------------------------------------- the frame
def codebook_for(consultation: Consultation, *, repeats: bool = False) -> dict[str, ItemMeta]:
    """The instrument's items as analysis metadata, free text left out (never released unread),
    and so are selects whose choices are the child's own answers in a repeat (``select_one
    ${name}``: their codes are instance numbers; the words are the child's).

    Items asked in a repeat's instances describe an instance, not a child: they are left out
    (the export's repeat tables carry them) unless ``repeats`` is true.
    """
    instrument = instrument_for_children(consultation)  # {helpline} filled
    cb = codebook_from_instrument(instrument)
    left_out = set() if repeats else repeat_item_names(instrument)
    # choices made of a child's own answers (select_one ${name}): instance numbers, no codes
    left_out |= {item.name for item in instrument.items if item.answers_as_choices is not None}
    return {name: meta for name, meta in cb.items() if meta.type != "text" and name not in left_out}


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
        # A field card's site (issue 22) before the consultation's own site code: synced answers
        # are disaggregated by site, and small sites suppressed, like any other group.
        "p.band AS band, p.language AS language, c.setting AS setting, "
        "COALESCE(NULLIF(p.site, ''), c.site_code) AS site_code, "
        "p.consultation_id AS consultation_id "
        "FROM answer a JOIN participant p ON p.id = a.participant_id "
        "JOIN consultation c ON c.id = p.consultation_id "
        f"WHERE p.consultation_id = {cid} AND p.state = '{RESPONSE_STATE}' AND a.instance = 0"
    )
    with db.engine.connect() as connection:
        connection.exec_driver_sql(f"DROP VIEW IF EXISTS {_VIEW}")
        connection.exec_driver_sql(view_sql)
        try:
            return read_database(connection, answers_table=_VIEW, columns=_COLUMNS, consultation=cid)
        finally:
            connection.exec_driver_sql(f"DROP VIEW IF EXISTS {_VIEW}")
            connection.rollback()


def read_repeat_answers(consultation_id: int, names: set[str]) -> pd.DataFrame:
    """The completed responses' answers given in repeat instances, and the numbers of instances
    children added (rows under a repeat's name), as :func:`analysis.frames.repeat_frames` reads them."""
    answer, participant = Answer.__table__, Participant.__table__
    query = (
        sa.select(
            answer.c.participant_id.label("response_id"),
            answer.c.item,
            answer.c.parent_instance,
            answer.c.instance,
            answer.c.value.label("answer"),
        )
        .join(participant, participant.c.id == answer.c.participant_id)
        .where(
            participant.c.consultation_id == int(consultation_id),
            participant.c.state == RESPONSE_STATE,
            sa.or_(answer.c.instance > 0, answer.c.item.in_(sorted(names))),
        )
    )
    rows = db.session.execute(query).all()
    return pd.DataFrame(rows, columns=["response_id", "item", "parent_instance", "instance", "answer"])


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
    long, cb, _ids = _long_frame(consultation)
    return long, cb


def _with_repeat_items(
    consultation: Consultation, raw: pd.DataFrame, expanded: pd.DataFrame, cb: dict[str, ItemMeta]
) -> tuple[pd.DataFrame, dict[str, ItemMeta]]:
    """Add the choice questions asked in repeat instances, counted per child
    (:func:`analysis.repeat_items.by_child`), to the expanded answers and the codebook."""
    in_repeats = {n: m for n, m in codebook_for(consultation, repeats=True).items() if n not in cb}
    if not in_repeats or raw.empty:
        return expanded, cb
    answers = read_repeat_answers(consultation.id, set())
    answers = answers[answers["instance"] > 0]
    rows, metas = repeat_items.by_child(answers, in_repeats)
    if rows.empty:
        return expanded, cb
    # each child's own columns (band, language, setting, site) from the answers outside repeats
    people = raw.drop(columns=[c for c in ("item", "answer", "rank") if c in raw.columns])
    people = people.drop_duplicates("response_id").assign(_key=lambda d: d["response_id"].astype(str))
    rows = rows.assign(_key=rows["response_id"].astype(str)).drop(columns=["response_id"])
    rows = rows.merge(people, on="_key", how="inner").drop(columns=["_key"]).assign(rank=np.nan)
    return pd.concat([expanded, rows[list(expanded.columns)]], ignore_index=True), {**cb, **metas}


def _long_frame(
    consultation: Consultation, *, repeat_items_by_child: bool = True
) -> tuple[pd.DataFrame, dict[str, ItemMeta], dict[str, int]]:
    """:func:`long_frame`, and the random integer that replaced each participant id.

    Choice questions asked in repeats are counted per child (the results page and the report);
    ``repeat_items_by_child=False`` leaves them out (the record-level export has a table per
    repeat instead)."""
    instrument = instrument_for(consultation)
    cb = codebook_for(consultation)
    types = {item.name: str(getattr(item.type, "value", item.type)) for item in instrument.items}
    raw = read_answers(consultation.id)
    expanded = _expand(raw, cb, types)
    if repeat_items_by_child and instrument.repeats:
        expanded, cb = _with_repeat_items(consultation, raw, expanded, cb)
    # Participant ids stop here: integers in a random order take their place.
    ids = pd.unique(expanded["response_id"].astype(str))
    order = np.random.default_rng(secrets.randbits(64)).permutation(len(ids)) + 1
    id_map = dict(zip(ids, order, strict=True))
    expanded["response_id"] = expanded["response_id"].astype(str).map(id_map)
    expanded["response_id"] = expanded["response_id"].astype(np.int64)
    expanded["consultation"] = str(consultation.id)
    for column in ("site", "setting"):  # an unset site code is missing, not a category of its own
        if column in expanded:
            expanded[column] = expanded[column].astype("string").replace("", pd.NA)
    expanded = _respondent_items(expanded)
    bands = tuple(instrument.settings.band_codes)
    long = make_long(expanded, codebook=cb, categories={"band": bands})
    return long, cb, id_map


def export_repeats(
    consultation: Consultation, id_map: Mapping[str, int]
) -> tuple[dict[str, pd.DataFrame], dict[str, str | None]]:
    """The repeat frames of the completed responses (one row per instance, free text left out),
    keyed by the long frame's response ids, and each repeat's outer repeat."""
    instrument = instrument_for_children(consultation)
    if not instrument.repeats:
        return {}, {}
    raw = read_repeat_answers(consultation.id, {r.name for r in instrument.repeats})
    raw["response_id"] = raw["response_id"].astype(str).map(id_map)
    raw = raw[raw["response_id"].notna()]
    frames = repeat_frames(instrument, raw)
    return frames, {r.name: r.parent for r in instrument.repeats}


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
    from analysis.exports import export_codebook, export_deidentified, neutralise, write_report_xlsx
    from analysis.report import render_html, write_report_pdf
    from survey.services import export_approvals

    if fmt not in FORMATS.get(kind, {}):
        raise KeyError(f"{kind}.{fmt}")
    if kind == "codebook":  # the instrument's variables, no answer: nothing to protect
        frame = export_codebook(export_items(codebook_for(consultation))).astype(object).map(neutralise)
        return frame.to_csv(index=False).encode("utf-8")
    pol = released_cells.rules()
    if kind == "report":
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


__all__ = [
    "FORMATS",
    "DisclosureError",
    "NotEnoughResponses",
    "ReportFailed",
    "ResultsOverview",
    "download",
    "funnel",
    "funnel_counts",
    "long_frame",
    "read_answers",
    "release_report",
    "render_download",
    "results_overview",
]
