"""What a facilitator may see of a consultation's children: counts, never one child's decisions.

Cards are matched to named guardian slips, so anything shown per card, or any small count of a
decision, would tell a teacher which child said no or withdrew.  So:

* per card, only what handing cards out needs: its number and its guardian permission
  (:func:`survey.services.facilitation.card_states`);
* live, only whether children are still going: not started (a No before assent included),
  in progress, ended (:func:`live_counts`), with no decision in it;
* decisions (finished, said no, withdrew, expired) only as counts through the one disclosure
  gate, :func:`analysis.disclosure.disclose`, at the threshold reports use
  (:func:`survey.services.reporting.policy`), with their total published and protected, so that
  no small count can be worked out from the others (:func:`decision_counts`).
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from survey.extensions import db
from survey.models import Participant
from survey.states import State

PARTICIPANT_STATES: tuple[str, ...] = tuple(State)

#: Where children are, as the live view shows it: no stage here tells a decision apart.  A
#: child who said No before assent stays "not started", like a card not yet used: only assent
#: moves a card to "in progress", and only a child who had begun moves to "ended".  Otherwise
#: the exact live counts, refreshed every 15 seconds, would show each No as it happens.
LIVE_STAGES: Mapping[str, tuple[str, ...]] = {
    "not_started": ("issued", "declined"),
    "in_progress": ("assented", "answering"),
    "ended": ("completed", "withdrawn", "expired"),
}

#: The endings of children who had begun: released with their total, which is the live "ended".
BEGUN_ENDINGS = LIVE_STAGES["ended"]
#: The endings a child chose (or let happen): shown to facilitators only through the gate.
DECISIONS: tuple[str, ...] = ("completed", "declined", "withdrawn", "expired")


def participation_counts(consultation_id: int) -> dict[str, int]:
    """True counts by participant state (for services; never shown to a facilitator as is)."""
    rows = db.session.execute(
        sa.select(Participant.state, sa.func.count())
        .where(Participant.consultation_id == consultation_id)
        .group_by(Participant.state)
    ).all()
    counts = dict.fromkeys(PARTICIPANT_STATES, 0)
    counts.update(dict(rows))
    return counts


def live_counts(consultation_id: int) -> dict[str, int]:
    """Children not started, in progress and ended: how the room is doing, exact."""
    counts = participation_counts(consultation_id)
    return {stage: sum(counts.get(state, 0) for state in states) for stage, states in LIVE_STAGES.items()}


def release_counts(counts: Mapping[str, int], title: str) -> dict[str, str]:
    """``counts`` (parts of one whole) as a facilitator may see them, with their total.

    Through :func:`analysis.disclosure.disclose` at the reports' threshold: a count from 1 to
    k - 1 shows as "s", and so does whatever else would give it back from the total.
    """
    import pandas as pd  # here, not at start-up: pandas takes 0.6 s to import

    from analysis.disclosure import disclose
    from survey.services.reporting import policy

    released = disclose(pd.Series(dict(counts), name="children", dtype="int64"), policy(), title=title)
    return {str(name): str(value) for name, value in released.display.iloc[0].items()}


def release_count(count: int, title: str) -> str:
    """One count as a facilitator may see it: "s" from 1 to k - 1 (see :func:`release_counts`)."""
    return release_counts({"count": count}, title)["count"]


def decision_counts(consultation_id: int) -> dict[str, str]:
    """Finished, withdrew, expired and their total, then said no, released (see :func:`release_counts`).

    Said no goes through the gate on its own: the total of the others is the live "ended"
    count, so a total that held the Noes too would give their number back, however small.
    """
    counts = participation_counts(consultation_id)
    return {
        **release_counts({state: counts[state] for state in BEGUN_ENDINGS}, "How children's cards ended"),
        "declined": release_count(counts["declined"], "Children who said no"),
    }


def session_summary(summary_json: str) -> dict[str, dict[str, str] | str]:
    """A closed session's log counts as a facilitator may see them.

    The log keeps true counts (``services.sessions``); shown, its endings and its age bands
    go through :func:`release_counts` like every other count of children.
    """
    import json

    summary = json.loads(summary_json or "{}")
    endings = {name: int(summary.get(name, 0)) for name in ("completed", "stopped_early")}
    bands = {str(band): int(n) for band, n in sorted((summary.get("bands") or {}).items())}
    return {
        # Said no on its own, as in decision_counts: the others' total is no way to it.
        "endings": {
            **release_counts(endings, "How children's sessions ended"),
            "declined": release_count(int(summary.get("declined", 0)), "Children who said no"),
        },
        "bands": release_counts(bands, "Children by age band") if bands else {},
        "signals": str(int(summary.get("signals", 0))),
    }
