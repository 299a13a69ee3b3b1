"""What a facilitator may see of a consultation's children: counts, never one child's decisions.

Cards are matched to named guardian slips and the facilitator watches the room, so any figure
that moves when one child decides, any small count of a decision, and any two figures whose
difference is such a count would tell a teacher which child said no or withdrew.  The rule,
for every facilitator page, PDF and download (and the analysts' live funnel, so that someone
holding both roles learns nothing more):

* per card, only what handing cards out needs: its number and its guardian permission
  (:func:`survey.services.facilitation.card_states`);
* live, one figure: children who **started today** (:func:`live_view`), the cards whose code
  was entered today.  A card moves in when its code is typed
  (:func:`survey.services.participants.enter_code`), before the child reads anything, and
  nothing takes it out that day: not the Yes or No, not finishing (keep or delete), not
  "stop for now" or "stop and delete", not a withdrawal code or a guardian's withholding (an
  independent review saw "in progress" drop only for the ones that deleted).  It is shown from
  k up, "s" below (0 included).  "Not started" and "ended" are not shown: with the number of
  cards printed and an analyst's "completed" they would give back the children who withdrew;
* decisions (finished, said no, stopped or withdrew) never live: only in a closed session's log
  (:func:`session_summary`), where each count is a part of the session's whole and is shown
  only when it and the rest of the whole are both at least k (:func:`release_parts`): zero
  is hidden like 1 to k - 1, no total is shown, and a second table of the same children (the
  band mix) is hidden where its total would give a hidden part back;
* the analysts' live funnel (:func:`funnel`), the one page a facilitator who is also an
  analyst could set beside these: a decision stage at 0 is hidden, and "assented" whenever
  "withdrawn" is hidden (:func:`funnel_hidden`).

k is the consultation's disclosure threshold, the one reports use
(:func:`survey.services.released.policy`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

import sqlalchemy as sa

from survey.extensions import db
from survey.models import Participant, utcnow
from survey.states import State

if TYPE_CHECKING:
    from analysis.disclosure import DisclosurePolicy, ReleasedTable

PARTICIPANT_STATES: tuple[str, ...] = tuple(State)

#: The one live stage, and the states of a card counted in it once its code was entered today:
#: every state, so that no decision, deletion or withdrawal moves it (see the module's docstring).
LIVE_STAGES: Mapping[str, tuple[str, ...]] = {
    "started_today": PARTICIPANT_STATES,
}
#: The marker "s": hidden, as a count from 1 to k - 1 and a zero are.
HIDDEN = "s"


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


def live_counts(consultation_id: int, today: dt.date | None = None) -> dict[str, int]:
    """Children who started today: cards whose code was entered ``today``, whatever came after, exact.

    A card's ``last_active_on`` is set when its code is entered, and again by each later step.
    """
    day = today or utcnow().date()
    return {
        stage: int(
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Participant)
                .where(
                    Participant.consultation_id == consultation_id,
                    Participant.last_active_on == day,
                    Participant.state.in_(states),
                )
            )
            or 0
        )
        for stage, states in LIVE_STAGES.items()
    }


def live_view(consultation_id: int, k: int | None = None) -> dict[str, str]:
    """:func:`live_counts` as a facilitator sees them: each shown from k up, "s" below (0 too).

    A small number would be the few children of a small room, and a 0 that nobody has come yet.
    """
    k = threshold() if k is None else int(k)
    return {stage: str(n) if n >= k else HIDDEN for stage, n in live_counts(consultation_id).items()}


def threshold() -> int:
    """k: the consultation's disclosure threshold, the one reports use."""
    from survey.services.released import policy

    return int(policy().k)


def release_parts(counts: Mapping[str, int], k: int | None = None) -> dict[str, str]:
    """``counts`` (parts of one whole) as a facilitator may see them: no total.

    A part is shown only when it and the rest of the whole are both at least k; otherwise it
    is "s", zero included (an exact 0 beside a hidden part tells as much as the part).  The
    whole is not published, but a facilitator may know it (the children present, the cards
    handed out), so a part is never hidden alone: the smallest shown part goes with it.  So
    no shown part is small, and no hidden part is the whole minus the shown ones.

    >>> release_parts({"finished": 12, "said no": 1, "stopped": 0}, k=5)
    {'finished': 's', 'said no': 's', 'stopped': 's'}
    >>> release_parts({"finished": 12, "said no": 6, "stopped": 0}, k=5)
    {'finished': '12', 'said no': 's', 'stopped': 's'}
    """
    k = threshold() if k is None else int(k)
    whole = sum(int(n) for n in counts.values())
    shown = {str(name): int(n) for name, n in counts.items() if int(n) >= k and whole - int(n) >= k}
    if len(counts) - len(shown) == 1 and shown:
        del shown[min(shown, key=lambda name: (shown[name], name))]
    return {str(name): str(shown[str(name)]) if str(name) in shown else HIDDEN for name in counts}


def session_summary(summary_json: str, k: int | None = None) -> dict[str, dict[str, str] | str]:
    """A closed session's log counts as a facilitator may see them (F-03).

    The log keeps true counts (``services.sessions``), fixed when the session closed: shown,
    its endings (finished, stopped early, said no) and its band mix go through
    :func:`release_parts`.  The bands are of the children who began (finished or stopped
    early), so where they are all shown their sum is that number, and one of those two
    endings shown without the other would be given back: then the bands are hidden too.
    """
    import json

    k = threshold() if k is None else int(k)
    summary = json.loads(summary_json or "{}")
    ending_names = ("completed", "stopped_early", "declined")
    endings = release_parts({name: int(summary.get(name, 0)) for name in ending_names}, k)
    bands = {str(band): int(n) for band, n in sorted((summary.get("bands") or {}).items())}
    shown_bands = release_parts(bands, k) if bands else {}
    began_shown = [endings[name] != HIDDEN for name in ("completed", "stopped_early")]
    if shown_bands and HIDDEN not in shown_bands.values() and began_shown[0] != began_shown[1]:
        shown_bands = dict.fromkeys(shown_bands, HIDDEN)
    return {
        "endings": endings,
        "bands": shown_bands,
        "signals": str(int(summary.get("signals", 0))),
    }


#: The analysts' live funnel: its stages of decisions, hidden at zero like a small count.
FUNNEL_DECISIONS = ("completed", "withdrawn", "declined")


def funnel_hidden(counts: Mapping[str, int], k: int) -> set[str]:
    """The live funnel's stages hidden beyond what the gate hides (counts 1 to k - 1).

    A decision stage at 0 (an exact 0 that turns into "s" tells when the first child made
    that choice); a decision never hidden alone, since the cards handed out are known (as
    :func:`release_parts`: the smaller other one of "withdrawn" and "declined" goes with it,
    "completed" only when both are hidden already); and "assented" whenever "withdrawn" is
    hidden: a child who said yes either finished, withdrew or is still answering, so once
    nobody answers "assented" minus "completed" would give the hidden withdrawals back (the
    release's funnel does the same, :func:`analysis.release.build_release`).
    """
    hidden = {stage for stage in FUNNEL_DECISIONS if int(counts.get(stage, 0)) < k}
    if len(hidden) == 1:
        others = [stage for stage in ("withdrawn", "declined") if stage not in hidden]
        hidden.add(others[0] if len(others) == 1 else min(others, key=lambda stage: int(counts.get(stage, 0))))
    if "withdrawn" in hidden:
        hidden.add("assented")
    return hidden


def funnel(consultation_id: int, pol: DisclosurePolicy | None = None) -> ReleasedTable:
    """The participation funnel (stages, not parts of a whole) through the disclosure gate.

    What :func:`funnel_hidden` hides goes to the gate as 1, a count it always hides, so the
    true number never reaches the table (the gate hides 1 to k - 1 by itself as well).
    """
    import pandas as pd  # here, not at start-up: pandas takes 0.6 s to import

    from analysis.disclosure import disclose
    from survey.services.released import funnel_counts, policy

    pol = pol or policy()
    counts = funnel_counts(consultation_id)
    hidden = funnel_hidden(counts, int(pol.k))
    stages = {stage: 1 if stage in hidden else n for stage, n in counts.items()}
    return disclose(pd.Series(stages, name="children"), pol, margins=False, title="Participation funnel")
