"""The child's journey after the code: age band, assent, pages of answers, the end, stopping.

Every step goes through the participant state machine of :mod:`consent.states`; answers are
stored only in the states it allows (:func:`consent.states.may_store_answers`), whatever route
asked.  Nothing here records a time of day, an address or anything typed outside answers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
from collections.abc import Mapping
from typing import NamedTuple

import sqlalchemy as sa

from analysis.textscreen import parse_name_list, screen_text  # imported with the app, not on a child's first answer
from consent.codes import InvalidCode
from consent.states import Event, State, TransitionRefused, may_store_answers, transition
from consent.texts import RenderedText, TextKind, render_text
from consent.withdrawal import WithdrawalOutcome, withdraw_by_code
from instruments.model import RESERVED_CODES, Instrument, Item, ItemType, Page, instance_key, split_instance_key
from instruments.runtime import check_answer, context, instance_count, instance_values, is_relevant
from survey.database import write_transaction
from survey.extensions import db
from survey.models import Answer, AssentEvent, ConcernFlag, PageSave, Participant, new_uuid, utcnow
from survey.services.consent_rules import bound_text, confidentiality_mode, research_allowed, text_values
from survey.services.instrument_store import BandView, band_view, instrument_for
from survey.services.participants import ParticipantRow, record_of
from survey.services.retention import concern_context, delete_childs_records, holder_tag


class PageConflict(Exception):
    """The same page token came back with different answers (a replayed, altered request)."""


class NotAllowed(Exception):
    """The participant's state does not allow this step."""


def today() -> dt.date:
    return utcnow().date()


def _apply(participant: Participant, event: Event) -> None:
    try:
        participant.state = transition(State(participant.state), event).value
    except TransitionRefused as error:
        raise NotAllowed(str(error)) from error


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
    """Yes stores an assent event (text version, date, outcome); No stores only the state.

    ``language``, when the consultation offers it, is stored in the same write as the one the
    child read the information in.
    """
    offered = participant.consultation.language_list
    with write_transaction() as session:
        participant = record_of(session, participant)
        _apply(participant, Event.ASSENT_YES if yes else Event.ASSENT_NO)
        if language in offered:
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


# ----------------------------------------------------------------------------- pages
#: One screen of the journey: the page's index among the band's pages, the repeat instance it is
#: asked in (``()`` outside repeats, ``(2,)`` for the second instance, ``(2, 1)`` nested), and
#: whether it is the "add another / that's all" question after a repeat's last instance.
Step = tuple[int, tuple[int, ...], bool]


@dataclasses.dataclass(frozen=True)
class PagePlan:
    """The pages this child is shown, given the band and the answers so far."""

    all_pages: tuple[Page, ...]
    shown: tuple[int, ...]  # indexes into all_pages whose items are relevant
    view: BandView | None = dataclasses.field(default=None, compare=False)
    #: Every screen in order; outside repeats one per shown page.
    steps: tuple[Step, ...] = ()

    def __post_init__(self) -> None:
        if not self.steps:
            object.__setattr__(self, "steps", tuple((i, (), False) for i in self.shown))

    def next_after(self, index: int) -> int | None:
        return next((i for i in self.shown if i > index), None)

    def previous_before(self, index: int) -> int | None:
        return next((i for i in reversed(self.shown) if i < index), None)

    def position(self, index: int) -> int:
        """How many shown pages come before this one (for the progress bar)."""
        return sum(1 for i in self.shown if i < index)

    def step_after(self, step: Step) -> Step | None:
        """The screen after ``step`` (``None`` at the end)."""
        if step in self.steps:
            at = self.steps.index(step)
            return self.steps[at + 1] if at + 1 < len(self.steps) else None
        return next((s for s in self.steps if s[0] > step[0]), None)

    def step_before(self, step: Step) -> Step | None:
        """The screen before ``step`` (``None`` at the start)."""
        if step in self.steps:
            at = self.steps.index(step)
            return self.steps[at - 1] if at else None
        return next((s for s in reversed(self.steps) if s[0] < step[0]), None)

    def step_position(self, step: Step) -> int:
        """How many screens come before this one (for the progress bar)."""
        return self.steps.index(step) if step in self.steps else sum(1 for s in self.steps if s[0] < step[0])

    def section_of(self, index: int):  # an instruments Section
        return self.view.sections[index]

    def end_of_section(self, index: int) -> int:
        """The last page (shown or not) of the section holding page ``index``."""
        names = self.view.section_pages[index]
        return max([index, *(i for i, page in enumerate(self.all_pages) if page.name in names)])

    def first_shown_of_section(self, index: int) -> bool:
        names = self.view.section_pages[index]
        return not any(i < index and self.all_pages[i].name in names for i in self.shown)


@functools.cache
def _answers_query() -> sa.Select:
    table = Answer.__table__
    return sa.select(table.c.item, table.c.value, table.c.parent_instance, table.c.instance).where(
        table.c.participant_id == sa.bindparam("participant_id")
    )


def _path(parent_instance: int, instance: int) -> tuple[int, ...]:
    if not instance:
        return ()
    return (parent_instance, instance) if parent_instance else (instance,)


def _columns(key: str) -> tuple[str, int, int]:
    """An answer key (``name``, ``name#2``, ``name#2.1``) as (item, parent_instance, instance)."""
    name, path = split_instance_key(key)
    if not path:
        return name, 0, 0
    return (name, 0, path[0]) if len(path) == 1 else (name, path[0], path[1])


def answers_of(participant: Participant | ParticipantRow) -> dict[str, str]:
    """Every stored answer by key: the item's name, or ``name#2`` in a repeat's instance."""
    # On the session's connection, with table columns: every child request runs this, and the
    # ORM's execution path cost three times the query itself (0.19 against 0.06 ms).
    rows = db.session.connection().execute(_answers_query(), {"participant_id": participant.id}).all()
    return {
        (item if not instance else instance_key(item, _path(parent, instance))): value
        for item, value, parent, instance in rows
    }


def expression_values(stored: Mapping[str, str]) -> dict[str, object]:
    """Stored answers as the expression language expects them (lists for multi-selects)."""
    values: dict[str, object] = {}
    for name, value in stored.items():
        if not isinstance(value, str) or value in RESERVED_CODES or not value.startswith(("[", "{")):
            values[name] = value
        else:
            try:
                decoded = json.loads(value)
            except ValueError:  # an open answer that merely starts with "[" or "{"
                values[name] = value
                continue
            values[name] = " ".join(map(str, decoded)) if isinstance(decoded, list) else decoded
    return values


def view_for(participant: Participant | ParticipantRow, instrument: Instrument) -> BandView:
    """The instrument as this child's band sees it (computed once per process and band)."""
    return band_view(instrument, participant.band, research_allowed(participant.consultation))


def _with_context(
    participant: Participant | ParticipantRow, values: Mapping[str, object], lang: str | None
) -> dict[str, object]:
    """Answers plus the session context (band, language, setting) that expressions may read."""
    consultation = participant.consultation
    return {
        **values,
        **context(
            band=participant.band,
            lang=lang or participant.language,
            setting=consultation.setting,
            mode="research" if research_allowed(consultation) else "consultation",
        ),
    }


def _shown_items(view: BandView, index: int, answers: Mapping[str, object]) -> tuple[Item, ...]:
    items = view.shown_items[index]
    if not view.has_relevance[index]:
        return items  # nothing on this page depends on answers
    if not is_relevant(view.sections[index], answers) or not is_relevant(view.pages[index], answers):
        return ()
    return tuple(item for item in items if is_relevant(item, answers))


def step_values(values: Mapping[str, object], path: tuple[int, ...]) -> dict[str, object]:
    """Answers (stored or decoded) as a page of repeat instance ``path`` reads them: its own
    answers under their bare names (:func:`instruments.runtime.instance_values`)."""
    return instance_values(values, path) if path else dict(values)


def relevant_items(
    instrument: Instrument,
    participant: Participant | ParticipantRow,
    index: int,
    values: Mapping[str, object],
    lang: str | None = None,
) -> tuple[Item, ...]:
    """The items of page ``index`` (of the band's pages) shown now: section, page and item
    relevance, with the session context (band, language, setting) that expressions may read.

    The band's pages come from ``pages_for_band``, so band rules (S-08) and research-only items
    are already applied; this is :func:`instruments.runtime.visible_items` without re-deriving
    the band's item set on every request.
    """
    return _shown_items(view_for(participant, instrument), index, _with_context(participant, values, lang))


#: Page plans kept per band view; past this many (children's answer combinations that relevance
#: reads) the view's plans start afresh.
PLANS_KEPT = 4096


def plan(participant: Participant | ParticipantRow, instrument: Instrument, stored: Mapping[str, str]) -> PagePlan:
    """Which of the band's pages this child is shown, given the answers stored so far.

    Every page request needs the plan (progress bar, Back and Next), and working it out means
    evaluating every relevance of every page.  It depends only on the values relevance reads
    (``view.relevance_inputs``) and, if an expression calls ``today()``, the date, so a plan is
    worked out once per combination of those and kept with the band's view.
    """
    view = view_for(participant, instrument)
    answers = _with_context(participant, expression_values(stored), None)
    if view.repeat_chains:
        return _repeat_plan(view, answers)
    key = tuple(repr(answers.get(name)) for name in view.relevance_inputs)
    if view.relevance_uses_today:
        key += (today(),)
    found = view.plans.get(key)
    if found is not None:
        return found
    shown = tuple(i for i in range(len(view.pages)) if _shown_items(view, i, answers))
    worked_out = PagePlan(view.pages, shown, view)
    if len(view.plans) >= PLANS_KEPT:
        view.plans.clear()
    view.plans[key] = worked_out
    return worked_out


def _repeat_plan(view: BandView, answers: Mapping[str, object]) -> PagePlan:
    """The plan of an instrument with repeats: each repeat's pages once per instance, and after
    the last instance of a repeat the child sizes, the "add another / that's all" step (unless the
    maximum is reached).  Worked out afresh on each request (it depends on every answer)."""
    instrument, chains = view.instrument, view.repeat_chains
    steps: list[Step] = []

    def walk(indexes: list[int], path: tuple[int, ...]) -> None:
        values = step_values(answers, path)
        depth, j = len(path), 0
        while j < len(indexes):
            chain = chains[indexes[j]]
            if len(chain) <= depth:
                if _shown_items(view, indexes[j], values):
                    steps.append((indexes[j], path, False))
                j += 1
                continue
            name, block = chain[depth], []
            while j < len(indexes) and len(chains[indexes[j]]) > depth and chains[indexes[j]][depth] == name:
                block.append(indexes[j])
                j += 1
            repeat = instrument.repeat(name)
            count = instance_count(repeat, values)
            for number in range(1, count + 1):
                before = len(steps)
                walk(block, (*path, number))
                if number == count and repeat.child_controlled and count < repeat.maximum and len(steps) > before:
                    steps.append((block[-1], (*path, number), True))

    walk(list(range(len(view.pages))), ())
    shown = tuple(dict.fromkeys(index for index, _path, more in steps if not more))
    return PagePlan(view.pages, shown, view, tuple(steps))


def more_step_repeat(plan: PagePlan, step: Step):  # an instruments Repeat
    """The repeat whose "add another / that's all" question ``step`` is."""
    index, path, _more = step
    return plan.view.instrument.repeat(plan.view.repeat_chains[index][len(path) - 1])


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


def first_step_of(plan: PagePlan, path: tuple[int, ...]) -> Step | None:
    """The first screen asked in repeat instance ``path`` (or in an instance inside it)."""
    return next((s for s in plan.steps if s[1][: len(path)] == path and not s[2]), None)


def first_step(participant: Participant | ParticipantRow) -> Step | None:
    """The first screen of a child who has just said Yes (nothing answered yet); None if the
    band is shown no page at all."""
    from survey.services.placeholders import instrument_for_children

    steps = plan(participant, instrument_for_children(participant.consultation), {}).steps
    return steps[0] if steps else None


def plan_for(participant: Participant | ParticipantRow) -> PagePlan:
    """The plan worked out from what is stored now."""
    from survey.services.placeholders import instrument_for_children

    return plan(participant, instrument_for_children(participant.consultation), answers_of(participant))


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
        seen = db.session.get(PageSave, token)
        if seen is None or seen.digest != digest or seen.participant_id != participant.id:
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
    # Core statements on the write transaction's connection: this runs for every page of every
    # child, and the ORM's flush and reloads were a quarter of a busy server's time.
    participant_id, seen_state = participant.id, State(participant.state)  # read before the write
    saved_on = today()
    with write_transaction() as session:
        connection = session.connection()
        # The page token's primary key makes a second save of the same page fail here, before
        # anything else is written (save_page then tells a replay from a conflict).
        connection.execute(_page_save_insert(), {"token": token, "participant_id": participant_id, "digest": digest})
        _advance(connection, participant_id, seen_state, page_index if next_index is None else next_index, saved_on)
        cleared = [_columns(key) for key, value in values.items() if value is None]
        if cleared:
            connection.execute(
                _answers_delete(),
                [
                    {"participant_id": participant_id, "item": item, "parent_instance": parent, "instance": instance}
                    for item, parent, instance in cleared
                ],
            )
        rows = []
        for key, value in values.items():
            if value is not None:
                item, parent, instance = _columns(key)
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
            connection.execute(_upsert_statement(connection.dialect.name), rows)
        if flags:
            concern_context(session, participant, flags)
        session.add_all(flags)
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
        moved = connection.execute(
            _participant_update(),
            {
                "participant_id": participant_id,
                "seen_state": state.value,
                "state": new_state.value,
                "page_index": page_index,
                "last_active_on": saved_on,
            },
        )
        if moved.rowcount == 1:
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
    new_plan = plan(participant, instrument, merged)  # relevance may change with these answers
    here: Step = (index, path, False)
    target = new_plan.step_before(here) if going_back else new_plan.step_after(here)
    stay = False
    if not going_back:
        shown_now = {item.name for item in shown_items}
        after = relevant_items(instrument, participant, index, step_values(expression_values(merged), path), lang)
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


def stop_and_delete(participant: Participant | ParticipantRow) -> None:
    """ "Stop and delete my answers": every row of this participant, in one transaction (C-07)."""
    with write_transaction() as session:
        participant = record_of(session, participant)
        _apply(participant, Event.WITHDRAW)
        _delete_everything(session, participant)


def _delete_everything(session, participant: Participant) -> None:
    delete_childs_records(session, participant)


def withdraw_with_code(code: str) -> WithdrawalOutcome:
    """The withdrawal code from the card's tear-off (C-09): deletes until the analysis cut-off.

    An unknown code and a card with nothing to delete get the same outcome, so the page does
    not reveal which codes exist.
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
            participant = session.merge(participant)
            _delete_everything(session, participant)
            participant.state = decision.new_state.value
            participant.withdrawal_hash = None  # nothing is left for the code to reach
    return decision.outcome
