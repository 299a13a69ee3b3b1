"""Removing one instance of a repeat the child sizes: "Remove" on the "add another" page.

A child who added a friend by mistake, or changed their mind, removes that instance: its
answers (and the instances of a repeat inside it) are deleted in one write transaction, the
later instances move down one so that the numbering stays 1..n without gaps, and the number of
instances stored under the repeat's own name goes down by one (to 0 at the least: the child then
sees only "add one / that's all").  Numbers stay without gaps because everything downstream
reads them as 1..n: the stored count sizes the analysis frames and exports
(:func:`analysis.frames.repeat_frames` gives a row for every number up to it), ``position(..)``
and ``indexed-repeat()`` read instance numbers, and so do the answers to ``select_one ${name}``
questions, which are renumbered here as well.

A repeat with ``repeat_count`` is sized by the form, not the child: nothing of it can be removed.

A removal is bound to what the child saw: the confirmation page carries a :class:`Seen` (the
number of instances and a keyed digest of that instance's answers) and the write transaction
refuses (:class:`ListChanged`) when either is no longer so, as when another tab removed or
added one and a different instance now has that number.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import cast

import sqlalchemy as sa
from flask import current_app

from consent.states import State, may_store_answers
from instruments.model import RESERVED_CODES, Instrument, Item, ItemType, Repeat, Sensitivity, instance_key
from instruments.runtime import instance_count
from survey.database import write_transaction
from survey.extensions import db
from survey.models import Answer, PageSave, Participant, new_uuid
from survey.services.page_plan import answer_columns, today
from survey.services.participants import ParticipantRow

_PARTICIPANT = cast(sa.Table, Participant.__table__)

#: How much of an answer the list of instances shows.
SUMMARY_LENGTH = 40


class NotRemovable(Exception):
    """No such instance, or a repeat the form sizes (``repeat_count``)."""


class RemovalRefused(Exception):
    """The participant's state does not take answers (stopped, finished, not assented)."""


class RemovalConflict(Exception):
    """The same page token came back asking for another removal (a replayed, altered request)."""


class ListChanged(Exception):
    """The instances are no longer as the child saw them: another number of them, or other
    answers in the one of that number (another tab removed or added one meanwhile)."""


@dataclasses.dataclass(frozen=True)
class Seen:
    """What the confirmation page showed: how many instances there were, a keyed digest of the
    answers of the one to remove, and whether it held written (open text) answers."""

    count: int
    digest: str
    written: bool = False


@dataclasses.dataclass(frozen=True)
class Listed:
    """One instance on the "add another" page: its number and the answer that recalls it."""

    number: int
    summary: str | None


def removable(instrument: Instrument, repeat_name: str, outer: tuple[int, ...]) -> Repeat:
    """The repeat whose instances inside ``outer`` a child may remove; :class:`NotRemovable` otherwise."""
    try:
        repeat = instrument.repeat(repeat_name)
    except KeyError:
        raise NotRemovable(repeat_name) from None
    if not repeat.child_controlled or len(instrument.repeat_chain(repeat.name)) != len(outer) + 1:
        raise NotRemovable(repeat_name)
    return repeat


def listed(
    instrument: Instrument, repeat: Repeat, outer: tuple[int, ...], count: int, stored: Mapping[str, str], lang: str
) -> list[Listed]:
    """Each instance so far with a short summary: the answer to its first answered choice question.

    The list may be on a shared screen, so only choice questions that are not sensitive (below
    S2) recall an instance; never written (free text) or number answers, nor a choice of another
    repeat's instance.  An instance without one has no summary (its heading alone).
    """
    items = [item for item in instrument.repeat_items(repeat.name) if _may_recall(item)]
    out = []
    for number in range(1, count + 1):
        path = (*outer, number)
        summary = None
        for item in items:
            value = stored.get(instance_key(item.name, path))
            if value not in (None, "") and value not in RESERVED_CODES:
                summary = _shown(instrument, item, str(value), lang)
                if summary:
                    break
        out.append(Listed(number, summary))
    return out


_SHOWN = frozenset({ItemType.SELECT_ONE, ItemType.SELECT_MULTIPLE, ItemType.RANK, ItemType.LIKERT})


def _may_recall(item: Item) -> bool:
    return item.type in _SHOWN and item.answers_as_choices is None and item.sensitivity < Sensitivity.S2


def _shown(instrument: Instrument, item: Item, value: str, lang: str) -> str:
    codes: list[str] = [value]
    if value.startswith("["):
        try:
            decoded = json.loads(value)
        except ValueError:
            decoded = None
        if isinstance(decoded, list):
            codes = [str(code) for code in decoded if str(code) not in RESERVED_CODES]
    labels = {choice.name: choice for choice in instrument.choices_for(item)}
    fallback = (instrument.settings.default_language,)
    codes = [labels[c].label.get_for(lang, fallback) or c if c in labels else c for c in codes]
    text = ", ".join(codes)
    return text if len(text) <= SUMMARY_LENGTH else text[: SUMMARY_LENGTH - 1].rstrip() + "…"


def remove_instance(
    participant: Participant | ParticipantRow,
    instrument: Instrument,
    repeat_name: str,
    outer: tuple[int, ...],
    number: int,
    token: str,
    seen: Seen,
) -> bool:
    """Delete instance ``number`` of ``repeat_name`` (inside ``outer``) and renumber the later ones.

    One write transaction: the instance's answers and those of the instances nested in it are
    deleted, later instances move down one, answers that name instances (``select_one
    ${name}``) follow them, and the stored number of instances goes down by one.  Returns False
    when ``token`` was already applied (a double click): nothing is removed twice.  Raises
    :class:`NotRemovable` for a repeat_count repeat or an instance that does not exist,
    :class:`RemovalRefused` when the participant's state takes no answers, :class:`ListChanged`
    when the instances are not as ``seen`` (from :func:`seen_now` when the page was shown).
    """
    repeat = removable(instrument, repeat_name, outer)
    bound = ["remove", repeat.name, list(outer), number, seen.count, seen.digest]
    digest = hashlib.sha256(json.dumps(bound).encode()).hexdigest()
    try:
        with write_transaction() as session:
            connection = session.connection()
            connection.execute(
                sa.insert(cast(sa.Table, PageSave.__table__)).values(
                    token=token, participant_id=participant.id, digest=digest
                )
            )
            _remove(connection, participant.id, instrument, repeat, outer, number, seen)
    except sa.exc.IntegrityError:
        saved = db.session.get(PageSave, token)
        if saved is None or saved.digest != digest or saved.participant_id != participant.id:
            raise RemovalConflict from None
        return False
    return True


def _remove(
    connection: sa.Connection,
    participant_id: str,
    instrument: Instrument,
    repeat: Repeat,
    outer: tuple[int, ...],
    number: int,
    seen: Seen,
) -> None:
    table = cast(sa.Table, Answer.__table__)
    state = connection.execute(
        sa.select(_PARTICIPANT.c.state).where(_PARTICIPANT.c.id == participant_id)
    ).scalar_one_or_none()
    if state is None or not may_store_answers(State(state)):
        raise RemovalRefused("answers can only be changed after an affirmative assent")
    mine = table.c.participant_id == participant_id
    count_item, count_parent, count_instance = answer_columns(instance_key(repeat.name, outer))
    count_row = (table.c.item == count_item) & (table.c.parent_instance == count_parent)
    count_row &= table.c.instance == count_instance
    stored = connection.execute(sa.select(table.c.value).where(mine & count_row)).scalar_one_or_none()
    count = instance_count(repeat, {} if stored is None else {repeat.name: stored})
    if not 1 <= number <= count:
        raise NotRemovable(f"{repeat.name} has no instance {number}")
    now = _seen(connection, participant_id, instrument, repeat, outer, number)
    if (now.count, now.digest) != (seen.count, seen.digest):
        raise ListChanged(f"{repeat.name} is not as the child saw it")
    own, nested = _names(instrument, repeat)
    parent = outer[0] if outer else 0
    level = (table.c.item.in_(own)) & (table.c.parent_instance == parent)

    _follow_references(connection, participant_id, instrument, repeat, (*outer, number))
    connection.execute(sa.delete(table).where(mine & level & (table.c.instance == number)))
    if nested:
        connection.execute(
            sa.delete(table).where(mine & table.c.item.in_(nested) & (table.c.parent_instance == number))
        )
    highest = connection.execute(sa.select(sa.func.max(table.c.instance)).where(mine & level)).scalar() or 0
    if nested:
        deepest = connection.execute(
            sa.select(sa.func.max(table.c.parent_instance)).where(mine & table.c.item.in_(nested))
        ).scalar()
        highest = max(highest, deepest or 0)
    # One instance at a time, upwards: each moves into the number just freed, so the unique key
    # (participant, item, parent_instance, instance) never holds two rows at once.
    for moved in range(number + 1, highest + 1):
        connection.execute(
            sa.update(table).where(mine & level & (table.c.instance == moved)).values(instance=moved - 1)
        )
        if nested:
            connection.execute(
                sa.update(table)
                .where(mine & table.c.item.in_(nested) & (table.c.parent_instance == moved))
                .values(parent_instance=moved - 1)
            )
    left = str(count - 1)
    if stored is None:
        connection.execute(
            sa.insert(table).values(
                id=new_uuid(),
                participant_id=participant_id,
                item=count_item,
                parent_instance=count_parent,
                instance=count_instance,
                value=left,
                saved_on=today(),
            )
        )
    else:
        connection.execute(sa.update(table).where(mine & count_row).values(value=left, saved_on=today()))


def seen_now(
    participant: Participant | ParticipantRow,
    instrument: Instrument,
    repeat_name: str,
    outer: tuple[int, ...],
    number: int,
) -> Seen:
    """What the confirmation page shows the child now (put in its form, given back to
    :func:`remove_instance`); :class:`NotRemovable` for a repeat the form sizes."""
    repeat = removable(instrument, repeat_name, outer)
    return _seen(db.session.connection(), participant.id, instrument, repeat, outer, number)


def applied(participant: Participant | ParticipantRow, token: str) -> bool:
    """True when this page token already removed an instance for this child (a second press)."""
    saved = db.session.get(PageSave, token[:64]) if token else None
    return saved is not None and saved.participant_id == participant.id


def _names(instrument: Instrument, repeat: Repeat) -> tuple[list[str], list[str]]:
    """The items (and inner repeat counts) of an instance, and those of the instances inside it."""
    inner = [r for r in instrument.repeats if r.parent == repeat.name]
    own = [item.name for item in instrument.repeat_items(repeat.name)] + [r.name for r in inner]
    nested = [item.name for r in inner for item in instrument.repeat_items(r.name)]
    return own, nested


def _seen(
    connection: sa.Connection,
    participant_id: str,
    instrument: Instrument,
    repeat: Repeat,
    outer: tuple[int, ...],
    number: int,
) -> Seen:
    """The number of instances and the answers of instance ``number`` (the rows a removal deletes)."""
    table = cast(sa.Table, Answer.__table__)
    mine = table.c.participant_id == participant_id
    count_item, count_parent, count_instance = answer_columns(instance_key(repeat.name, outer))
    stored = connection.execute(
        sa.select(table.c.value).where(
            mine,
            table.c.item == count_item,
            table.c.parent_instance == count_parent,
            table.c.instance == count_instance,
        )
    ).scalar_one_or_none()
    count = instance_count(repeat, {} if stored is None else {repeat.name: stored})
    own, nested = _names(instrument, repeat)
    parent = outer[0] if outer else 0
    where = table.c.item.in_(own) & (table.c.parent_instance == parent) & (table.c.instance == number)
    if nested:
        where |= table.c.item.in_(nested) & (table.c.parent_instance == number)
    rows = sorted(
        (str(item), int(parent_instance), int(instance), str(value))
        for item, parent_instance, instance, value in connection.execute(
            sa.select(table.c.item, table.c.parent_instance, table.c.instance, table.c.value).where(mine & where)
        )
    )
    # Keyed: short choice answers could otherwise be guessed back from a plain hash in the page.
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, json.dumps([participant_id, count, rows]).encode(), hashlib.sha256).hexdigest()
    text = {item.name for item in instrument.items if item.type is ItemType.TEXT}
    written = any(item in text and value not in ("", *RESERVED_CODES) for item, _p, _i, value in rows)
    return Seen(count, digest, written)


def _follow_references(
    connection: sa.Connection, participant_id: str, instrument: Instrument, repeat: Repeat, removed: tuple[int, ...]
) -> None:
    """Answers to ``select_one ${name}`` questions name instances by number: a choice of the
    removed instance (or one inside it) is dropped, a later one takes its new number."""
    inside = {repeat.name, *(r.name for r in instrument.repeats if r.parent == repeat.name)}
    sources = {item.name: len(instrument.repeat_chain(r)) for r in inside for item in instrument.repeat_items(r)}
    referring = {
        item.name: sources[item.answers_as_choices] for item in instrument.items if item.answers_as_choices in sources
    }
    if not referring:
        return
    table = cast(sa.Table, Answer.__table__)
    rows = connection.execute(
        sa.select(table.c.id, table.c.item, table.c.parent_instance, table.c.instance, table.c.value).where(
            table.c.participant_id == participant_id, table.c.item.in_(referring)
        )
    ).all()
    for row_id, item, parent, instance, value in rows:
        here = (parent, instance) if parent else ((instance,) if instance else ())
        shared = min(len(here), referring[item] - 1)  # the part of the path the choice name leaves out
        moved = _moved(value, here[:shared], removed)
        if moved is None:
            connection.execute(sa.delete(table).where(table.c.id == row_id))
        elif moved != value:
            connection.execute(sa.update(table).where(table.c.id == row_id).values(value=moved))


def _moved(name: str, prefix: tuple[int, ...], removed: tuple[int, ...]) -> str | None:
    """A choice name (an instance number, ``2.1`` below what the answer shares) after removing
    instance ``removed``: the same, one lower, or ``None`` (it named the removed instance)."""
    if name in RESERVED_CODES or not all(part.isdigit() for part in name.split(".")):
        return name
    full = [*prefix, *(int(part) for part in name.split("."))]
    depth = len(removed)
    if len(full) < depth or tuple(full[: depth - 1]) != removed[:-1] or len(prefix) >= depth:
        return name
    if full[depth - 1] == removed[-1]:
        return None
    if full[depth - 1] > removed[-1]:
        full[depth - 1] -= 1
    return ".".join(str(n) for n in full[len(prefix) :])
