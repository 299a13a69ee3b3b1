"""The frame of one consultation: its answers read from the database (:func:`read_answers`, in
chunks, participant ids replaced at once), JSON answers of select-multiple, rank and matrix
items expanded, the codebook, and the export frames."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from analysis import repeat_items
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
from survey.services.instrument_store import instrument_for
from survey.services.placeholders import instrument_for_children
from survey.services.released import funnel_counts

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
