"""Which pages a child is shown, and what a page reads: the page plan of :mod:`survey.services.journey`.

The plan (progress bar, Back and Next) depends on the band's view of the instrument and on the
answers that relevance reads; it is worked out once per combination of those and kept with the
band's view (:mod:`survey.services.instrument_store`).  Answers are read here as the
expressions of the instrument expect them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
from collections.abc import Mapping

import sqlalchemy as sa

from instruments.model import RESERVED_CODES, Instrument, Item, Page, instance_key, split_instance_key
from instruments.runtime import context, instance_count, instance_values, is_relevant
from survey import child_connection
from survey.models import Answer, Participant, utcnow
from survey.services.consent_rules import research_allowed
from survey.services.instrument_store import BandView, band_view
from survey.services.participants import ParticipantRow


def today() -> dt.date:
    return utcnow().date()


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
    #: :meth:`first_shown_of_section` by page index, worked out once per plan (plans are kept).
    _first_of_section: dict[int, bool] = dataclasses.field(default_factory=dict, compare=False, repr=False)

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
        """Whether no shown page before page ``index`` is in its section (its notice shows)."""
        first = self._first_of_section.get(index)
        if first is None:
            names = self.view.section_pages[index]
            first = not any(i < index and self.all_pages[i].name in names for i in self.shown)
            self._first_of_section[index] = first
        return first


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


def answer_columns(key: str) -> tuple[str, int, int]:
    """An answer key (``name``, ``name#2``, ``name#2.1``) as (item, parent_instance, instance)."""
    name, path = split_instance_key(key)
    if not path:
        return name, 0, 0
    return (name, 0, path[0]) if len(path) == 1 else (name, path[0], path[1])


def answers_of(participant: Participant | ParticipantRow) -> dict[str, str]:
    """Every stored answer by key: the item's name, or ``name#2`` in a repeat's instance."""
    # On the request's connection, through the driver's cursor: every child request runs this,
    # and the ORM's execution path cost three times the query itself (0.19 against 0.06 ms).
    rows = child_connection.rows(_answers_query(), {"participant_id": participant.id})
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


def plan(
    participant: Participant | ParticipantRow,
    instrument: Instrument,
    stored: Mapping[str, str],
    values: Mapping[str, object] | None = None,
) -> PagePlan:
    """Which of the band's pages this child is shown, given the answers stored so far
    (``values``: :func:`expression_values` of ``stored``, when the caller has worked them out).

    Every page request needs the plan (progress bar, Back and Next), and working it out means
    evaluating every relevance of every page.  It depends only on the values relevance reads
    (``view.relevance_inputs``) and, if an expression calls ``today()``, the date, so a plan is
    worked out once per combination of those and kept with the band's view.
    """
    view = view_for(participant, instrument)
    answers = _with_context(participant, expression_values(stored) if values is None else values, None)
    if view.repeat_chains:
        return _repeat_plan(view, answers)
    key = tuple(map(repr, map(answers.get, view.relevance_inputs)))  # no Python frame per input
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
    the last instance of a repeat the child sizes, the "add another / that's all" step (with no
    "add another" once the maximum is reached).  Worked out afresh on each request (it depends on every answer)."""
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
            if not count and repeat.child_controlled:
                _emptied_repeat_step(walk, steps, block, path)
            for number in range(1, count + 1):
                before = len(steps)
                walk(block, (*path, number))
                # at the maximum too: no "add another" there, but the list with "Remove" (repeat_removal.py)
                if number == count and repeat.child_controlled and len(steps) > before:
                    steps.append((block[-1], (*path, number), True))

    walk(list(range(len(view.pages))), ())
    shown = tuple(dict.fromkeys(index for index, _path, more in steps if not more))
    return PagePlan(view.pages, shown, view, tuple(steps))


def _emptied_repeat_step(walk, steps: list[Step], block: list[int], path: tuple[int, ...]) -> None:
    """A repeat the child sized and then removed every instance of (repeat_removal.py): only its
    "add one / that's all" step, numbered 0, if a first instance would show a page."""
    before = len(steps)
    walk(block, (*path, 1))
    if len(steps) > before:
        del steps[before:]
        steps.append((block[-1], (*path, 0), True))


def more_step_repeat(plan: PagePlan, step: Step):  # an instruments Repeat
    """The repeat whose "add another / that's all" question ``step`` is."""
    index, path, _more = step
    return plan.view.instrument.repeat(plan.view.repeat_chains[index][len(path) - 1])


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
