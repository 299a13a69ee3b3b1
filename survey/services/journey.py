"""The child's journey after the code: age band, assent, pages of answers, the end, stopping.

Every step goes through the participant state machine of :mod:`consent.states`; answers are
stored only in the states it allows (:func:`consent.states.may_store_answers`), whatever route
asked.  Nothing here records a time of day, an address or anything typed outside answers.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Mapping
from typing import NamedTuple

import sqlalchemy as sa
import sqlalchemy.orm as so

from analysis.textscreen import parse_name_list, screen_text  # imported with the app, not on a child's first answer
from consent.codes import InvalidCode
from consent.states import Event, State, TransitionRefused, may_store_answers, transition
from consent.texts import RenderedText, TextKind, render_text
from consent.withdrawal import COUNT_ONLY_STATES, WithdrawalDecision, WithdrawalOutcome, withdraw_by_code
from instruments.model import RESERVED_CODES, Instrument, ItemType, instance_key, split_instance_key
from instruments.runtime import check_answer
from survey import child_connection
from survey.database import write_transaction
from survey.extensions import db
from survey.models import Answer, AssentEvent, ConcernFlag, PageSave, Participant, new_uuid
from survey.services.consent_rules import bound_text, confidentiality_mode, text_values
from survey.services.instrument_store import instrument_for
from survey.services.page_plan import (
    PagePlan,
    Step,
    answer_columns,
    expression_values,
    first_step_of,
    more_step_repeat,
    plan,
    plan_for,
    relevant_items,
    step_values,
    today,
    view_for,
)
from survey.services.participants import ParticipantRow, record_of
from survey.services.retention import (
    clear_deleted_from_log,
    concern_context,
    delete_childs_records,
    forget_card_details,
    holder_tag,
)


class PageConflict(Exception):
    """The same page token came back with different answers (a replayed, altered request)."""


class NotAllowed(Exception):
    """The participant's state does not allow this step."""


def _apply(participant: Participant, event: Event) -> None:
    try:
        new_state = transition(State(participant.state), event)
    except TransitionRefused as error:
        raise NotAllowed(str(error)) from error
    participant.state = new_state.value
    if new_state in COUNT_ONLY_STATES:
        forget_card_details(participant)


# ----------------------------------------------------------------------------- band and language
def set_band(participant: Participant | ParticipantRow, band: str, *, language: str | None = None) -> None:
    """Store the child's age band (and, in the same write, the language they read in)."""
    if band not in participant.consultation.band_list:
        raise NotAllowed("That age group is not part of this consultation.")
    with write_transaction() as session:
        record = record_of(session, participant)
        record.band = band
        if language in participant.consultation.language_list:
            record.language = language


def set_language(participant: Participant | ParticipantRow, language: str) -> None:
    if language in participant.consultation.language_list and language != participant.language:
        with write_transaction() as session:
            record_of(session, participant).language = language


def content_language(participant: Participant | ParticipantRow, interface_locale: str) -> str:
    """The instrument language for this child: their choice when the consultation offers it."""
    offered = participant.consultation.language_list
    if interface_locale in offered:
        return interface_locale
    if participant.language in offered:
        return participant.language
    return offered[0]


# ----------------------------------------------------------------------------- assent
def information_text(participant: Participant | ParticipantRow, lang: str) -> RenderedText:
    """The child information screen for this child's band, in the version the consultation bound."""
    consultation = participant.consultation
    text = bound_text(consultation, TextKind.CHILD_INFORMATION, lang, participant.band)
    instrument = instrument_for(consultation)
    return render_text(
        text,
        text_values(consultation, instrument, participant.band, text.language),
        mode=confidentiality_mode(consultation),
        locale=lang,
    )


def record_assent(
    participant: Participant | ParticipantRow, yes: bool, shown: RenderedText, *, language: str | None = None
) -> None:
    """Yes stores an assent event (text version, date, outcome); No stores only the state, and
    the band, language and seat label the child gave go (a declined card is only a count).

    On a Yes, ``language``, when the consultation offers it, is stored in the same write as the
    one the child read the information in.
    """
    offered = participant.consultation.language_list
    with write_transaction() as session:
        participant = record_of(session, participant)
        _apply(participant, Event.ASSENT_YES if yes else Event.ASSENT_NO)
        if yes and language in offered:
            participant.language = language
        if yes:
            session.add(
                AssentEvent(
                    consultation_id=participant.consultation_id,
                    text_id=shown.text_id,
                    text_hash=shown.content_hash,
                    outcome="yes",
                    holder_tag=holder_tag(participant.id),
                )
            )
        participant.last_active_on = today()


def add_instance(participant: Participant | ParticipantRow, plan: PagePlan, step: Step, token: str) -> Step | None:
    """ "Add another": one more instance of the repeat (within its maximum); its first screen."""
    repeat = more_step_repeat(plan, step)
    index, path, _more = step
    number = path[-1] + 1
    if number > repeat.maximum:
        return plan.step_after(step)
    first_page = next(i for i, chain in enumerate(plan.view.repeat_chains) if repeat.name in chain)
    save_page(participant, token, index, {instance_key(repeat.name, path[:-1]): str(number)}, first_page)
    return first_step_of(plan_for(participant), (*path[:-1], number))


def constraint_errors(
    instrument: Instrument, participant: Participant | ParticipantRow, specs, form, stored: Mapping[str, str], lang: str
) -> bool:  # page specs and form
    """Check the instrument's own constraints; put each message on its field.  True if any failed.

    Type, choice and maximum checks are the form's own (with translated messages); here only
    the instrument's ``constraint`` expressions, whose messages the instrument translates.
    """
    from survey.pages.builder import stored_value_for

    if not any(spec.item.constraint and spec.fields for spec in specs):
        return False
    posted = {spec.item.name: stored_value_for(spec, form) for spec in specs if spec.kind != "note"}
    answers = expression_values({**stored, **{k: v for k, v in posted.items() if v is not None}})
    failed = False
    for spec in specs:
        if not spec.item.constraint or not spec.fields:
            continue
        value = answers.get(spec.item.name)
        message = check_answer(instrument, spec.item, value, answers, participant.band, lang)
        if message:
            form[spec.fields[0]].errors = [*form[spec.fields[0]].errors, message]
            failed = True
    return failed


def _digest(values: Mapping[str, str | None]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()


def screen_open_answers(
    participant: Participant | ParticipantRow, instrument: Instrument, values: Mapping[str, str | None]
) -> tuple[dict[str, str | None], list[ConcernFlag]]:
    """Screen open-text answers before they are stored (S-06).

    Personal information (names on the consultation's deny-list, phone numbers, e-mail and
    street addresses, handles) is replaced by ``<KIND>`` tokens, so it is never stored; answers
    that match a concern rule also go, redacted and with no link to the child, to the
    safeguarding queue.
    """
    names = parse_name_list(participant.consultation.screening_deny_list)
    items = view_for(participant, instrument).items
    screened: dict[str, str | None] = dict(values)
    flags = []
    for name, value in values.items():
        item = items.get(split_instance_key(name)[0])
        if value is None or value in RESERVED_CODES or item is None or item.type is not ItemType.TEXT:
            continue
        result = screen_text(value, names=names)
        screened[name] = result.redacted
        if result.safeguarding:
            flags.append(
                ConcernFlag(
                    consultation_id=participant.consultation_id,
                    item=item.name,
                    excerpt=result.redacted,
                    concerns=" ".join(result.concerns)[:400],
                )
            )
    return screened, flags


def save_page(
    participant: Participant | ParticipantRow,
    token: str,
    page_index: int,
    values: Mapping[str, str | None],
    next_index: int | None,
    flags: list | None = None,
) -> bool:
    """Store one page's answers once, whatever number of times it is posted.

    ``values`` maps item names to the stored value, or None for an item left empty (its old
    answer, if any, is removed: the child has cleared it).  ``flags`` are concern flags from
    :func:`screen_open_answers`, stored in the same transaction.  Returns False when the token was
    already applied (a double click or a reload), True when this call stored the page.
    Raises :class:`PageConflict` when the token comes back with different answers.
    """
    digest = _digest(values)
    try:
        return _save_page_once(participant, token, digest, page_index, values, next_index, flags or [])
    except sa.exc.IntegrityError:
        # Another request with the same token committed first (a double click reaching two
        # workers at once): it stored the page; this one stores nothing.
        # Read on the request's own connection, now outside any transaction: the ORM session
        # may hold a snapshot from before the other request committed (SQLite).
        seen = child_connection.rows(_page_save_query(), {"token": token})
        if not seen or seen[0] != (digest, participant.id):
            raise PageConflict from None
        return False


def _save_page_once(
    participant: Participant | ParticipantRow,
    token: str,
    digest: str,
    page_index: int,
    values: Mapping[str, str | None],
    next_index: int | None,
    flags: list,
) -> bool:
    # Core statements on the request's Core connection (survey.child_connection), one commit:
    # this runs for every page of every child, and the ORM's flush and reloads were a quarter
    # of a busy server's time, its session bookkeeping as much as the statements again.
    participant_id, seen_state = participant.id, State(participant.state)  # read before the write
    saved_on = today()
    with child_connection.write() as connection:
        # The page token's primary key makes a second save of the same page fail here, before
        # anything else is written (save_page then tells a replay from a conflict).
        child_connection.execute(
            _page_save_insert(), {"token": token, "participant_id": participant_id, "digest": digest}
        )
        _advance(connection, participant_id, seen_state, page_index if next_index is None else next_index, saved_on)
        cleared = [answer_columns(key) for key, value in values.items() if value is None]
        if cleared:
            child_connection.execute(
                _answers_delete(),
                [
                    {"participant_id": participant_id, "item": item, "parent_instance": parent, "instance": instance}
                    for item, parent, instance in cleared
                ],
            )
        rows = []
        for key, value in values.items():
            if value is not None:
                item, parent, instance = answer_columns(key)
                rows.append(
                    {
                        "id": new_uuid(),
                        "participant_id": participant_id,
                        "item": item,
                        "value": value,
                        "saved_on": saved_on,
                        "parent_instance": parent,
                        "instance": instance,
                    }
                )
        if rows:
            # One upsert for the whole page (executemany), not one statement per item.
            child_connection.execute(_upsert_statement(connection.dialect.name), rows)
        if flags:
            # Rare (an answer for the safeguarding lead): the concern records are ORM objects,
            # written by a session joined to this same transaction.
            with so.Session(bind=connection) as session:
                concern_context(session, participant, flags)
                session.add_all(flags)
                session.flush()
    return True


def _advance(
    connection: sa.Connection, participant_id: str, seen_state: State, page_index: int, saved_on: dt.date
) -> None:
    """Move the participant through SAVE_PAGE (after START_ANSWERING the first time).

    Optimistic: the update applies only if the stored state is still the one this request saw.
    If another request moved it meanwhile (a page saved in a second tab), the stored state is
    read and the transition tried once more from there; a state that no longer takes answers
    (stopped, withdrawn, finished) raises :class:`NotAllowed` and nothing of the page is kept.
    """
    state = seen_state
    for _attempt in (1, 2):
        if not may_store_answers(state):
            raise NotAllowed("answers can only be stored after an affirmative assent")
        new_state = _next_state(state, Event.START_ANSWERING) if state == State.ASSENTED else state
        new_state = _next_state(new_state, Event.SAVE_PAGE)
        moved = child_connection.execute(
            _participant_update(),
            {
                "participant_id": participant_id,
                "seen_state": state.value,
                "state": new_state.value,
                "page_index": page_index,
                "last_active_on": saved_on,
            },
        )
        if moved == 1:
            return
        stored = connection.execute(
            sa.select(Participant.__table__.c.state).where(Participant.__table__.c.id == participant_id)
        ).scalar_one_or_none()
        if stored is None:
            break
        state = State(stored)
    raise NotAllowed("the participant's state changed while the page was being saved")


def _next_state(state: State, event: Event) -> State:
    try:
        return transition(state, event)
    except TransitionRefused as error:
        raise NotAllowed(str(error)) from error


@functools.cache
def _page_save_query() -> sa.Select:
    table = PageSave.__table__
    return sa.select(table.c.digest, table.c.participant_id).where(table.c.token == sa.bindparam("token"))


@functools.cache
def _page_save_insert() -> sa.Insert:
    return sa.insert(PageSave.__table__).values(
        token=sa.bindparam("token"), participant_id=sa.bindparam("participant_id"), digest=sa.bindparam("digest")
    )


@functools.cache
def _answers_delete() -> sa.Delete:
    table = Answer.__table__
    return sa.delete(table).where(
        table.c.participant_id == sa.bindparam("participant_id"),
        table.c.item == sa.bindparam("item"),
        table.c.parent_instance == sa.bindparam("parent_instance"),
        table.c.instance == sa.bindparam("instance"),
    )


@functools.cache
def _participant_update() -> sa.Update:
    table = Participant.__table__
    return (
        sa.update(table)
        .where(table.c.id == sa.bindparam("participant_id"), table.c.state == sa.bindparam("seen_state"))
        .values(
            state=sa.bindparam("state"),
            page_index=sa.bindparam("page_index"),
            last_active_on=sa.bindparam("last_active_on"),
        )
    )


@functools.cache
def _upsert_statement(dialect: str):  # a dialect-specific insert
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(Answer.__table__)
    return statement.on_conflict_do_update(
        index_elements=[Answer.participant_id, Answer.item, Answer.parent_instance, Answer.instance],
        set_={"value": statement.excluded.value, "saved_on": statement.excluded.saved_on},
    )


class Submitted(NamedTuple):
    """Where a submitted page leads, and whether one of its answers was sent to the safeguarding lead."""

    target: Step | None
    concern: bool


def submit_page(
    participant: Participant | ParticipantRow,
    instrument: Instrument,
    index: int,
    shown_items: tuple,
    stored: Mapping[str, str],
    values: Mapping[str, str | None],
    *,
    token: str,
    going_back: bool,
    lang: str,
    path: tuple[int, ...] = (),
) -> Submitted:
    """Screen, store and route one submitted page; the screen to show next.

    A ``None`` target means there is no page that way (the end, or the first page when going
    back).  When the answers bring something new onto this same page (a follow-up question, or
    a help note after "not good"), the same page comes back before the child moves on.
    ``concern`` is true when an answer of this page went to the safeguarding queue (the child
    then sees what happens next before going on).  ``values`` are keyed by item name; in a
    repeat's instance (``path``) they are stored under :func:`instruments.model.instance_key`.
    """
    if path:
        values = {instance_key(name, path): value for name, value in values.items()}
    # Open answers are screened before storing: no personal information reaches the database.
    values, flags = screen_open_answers(participant, instrument, values)
    merged = {**stored, **{name: value for name, value in values.items() if value is not None}}
    merged_values = expression_values(merged)
    new_plan = plan(participant, instrument, merged, merged_values)  # relevance may change with these answers
    here: Step = (index, path, False)
    target = new_plan.step_before(here) if going_back else new_plan.step_after(here)
    stay = False
    if not going_back:
        shown_now = {item.name for item in shown_items}
        after = relevant_items(instrument, participant, index, step_values(merged_values, path), lang)
        stay = any(item.name not in shown_now for item in after)
    save_page(participant, token, index, values, None if target is None else target[0], flags)
    # A replayed page (a double click) stores nothing again, but its answer did go to the lead:
    # the browser shows the last response, so that one says so too.
    return Submitted(here if stay else target, bool(flags))


def move_to(participant: Participant | ParticipantRow, page_index: int) -> None:
    with write_transaction() as session:
        record_of(session, participant).page_index = page_index


# ----------------------------------------------------------------------------- ending
def finish(participant: Participant | ParticipantRow, keep: bool) -> None:
    """The end question: Yes completes the response; No deletes it (C-08)."""
    with write_transaction() as session:
        participant = record_of(session, participant)
        if participant.state == State.ASSENTED:
            _apply(participant, Event.START_ANSWERING)
        _apply(participant, Event.COMPLETE if keep else Event.REAFFIRM_NO)
        if not keep:
            _delete_everything(session, participant)
    if not keep:
        clear_deleted_from_log()


def stop_and_delete(participant: Participant | ParticipantRow) -> None:
    """ "Stop and delete my answers": every row of this participant, in one transaction (C-07)."""
    with write_transaction() as session:
        participant = record_of(session, participant)
        _apply(participant, Event.WITHDRAW)
        _delete_everything(session, participant)
    clear_deleted_from_log()


def _delete_everything(session, participant: Participant) -> None:
    delete_childs_records(session, participant)


def withdraw_with_code(code: str) -> WithdrawalOutcome:
    """The withdrawal code from the card's tear-off (C-09): deletes until the analysis cut-off.

    An unknown code and a card with nothing to delete get the same outcome, so the page does
    not reveal which codes exist; the page shows it as it shows a deletion, so that whoever holds
    the printed card sheet cannot tell a used card from an unused one.  After the analysis
    cut-off every card gets the cut-off's outcome, whatever its state (a card still being
    answered is deleted all the same), for the same reason.
    """
    from consent.codes import CodeKind
    from survey.services.participants import code_hashes
    from survey.services.sync import withdraw_field_card

    try:
        hashed = code_hashes(code, CodeKind.WITHDRAWAL)
    except InvalidCode:
        return WithdrawalOutcome.NOTHING_TO_DELETE
    participant = db.session.scalar(sa.select(Participant).where(Participant.withdrawal_hash.in_(hashed)))
    if participant is None:
        return WithdrawalOutcome.NOTHING_TO_DELETE
    cutoff = participant.consultation.analysis_cutoff or dt.date.max
    decision = withdraw_by_code(participant.state, cutoff=cutoff, today=today())
    if not decision.deletes and today() <= cutoff and withdraw_field_card(participant):
        # A card out on a field laptop: its answers may still be on their way (withdrawal wins).
        return WithdrawalOutcome.DELETED
    if decision.deletes:
        with write_transaction() as session:
            _carry_out(session, session.merge(participant), decision)
        clear_deleted_from_log()
    if today() > cutoff:
        return WithdrawalOutcome.ALREADY_COMBINED
    return decision.outcome


def guardian_withheld(session: so.Session, participant: Participant) -> None:
    """A guardian withheld permission for this card: it takes effect whatever the child has done.

    Called inside the caller's write transaction (the facilitator's card action).  The answers
    go exactly as the child's own withdrawal code would delete them (:func:`withdraw_by_code`:
    everything before completion; after it, until the analysis cut-off), and the card can no
    longer be used: a child in the middle of the survey is stopped at their next request
    (:func:`survey.access.stopped_card`).  Nothing of this is shown to the facilitator.
    """
    cutoff = participant.consultation.analysis_cutoff or dt.date.max
    decision = withdraw_by_code(participant.state, cutoff=cutoff, today=today())
    if decision.deletes:
        _carry_out(session, participant, decision)


def _carry_out(session: so.Session, participant: Participant, decision: WithdrawalDecision) -> None:
    """Delete what ``decision`` says in the caller's transaction and record the new state."""
    _delete_everything(session, participant)
    participant.state = decision.new_state.value  # set whenever it deletes
    participant.withdrawal_hash = None  # nothing is left for the code to reach
