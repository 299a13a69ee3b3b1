"""Code cards and the child's session.  A participant is a random id, a code hash and a state."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, g, has_request_context, session, url_for
from limits import parse as parse_limit

from consent.codes import CodeKind, InvalidCode, format_code, hash_code, new_codes
from consent.states import RESUMABLE_STATES, Event, transition
from survey.child_session import CHILD_SESSION_KEY as CHILD_SESSION_KEY
from survey.child_session import ConsultationRow as ConsultationRow
from survey.child_session import ParticipantRow as ParticipantRow
from survey.child_session import current_participant as current_participant
from survey.child_session import leave as leave
from survey.database import write_transaction
from survey.extensions import db
from survey.models import Consultation, FieldCard, Participant, User, new_uuid, utcnow
from survey.services import audit
from survey.throttle import ThrottleUnavailable, allowed, hit


class CodeRefused(Exception):
    """The code is unknown, used up, or belongs to a consultation that is not open."""


class SessionNotStarted(Exception):
    """A facilitated consultation takes codes only while its facilitator has a session open."""


class CodeAttemptsThrottled(Exception):
    """Too many code attempts from this client or overall; try again in a minute."""


def code_hash(code: str) -> str:
    """Keyed hash of the normalised code (app secret as pepper): indexable, not reversible."""
    return hash_code(code, current_app.config["SECRET_KEY"])


@dataclasses.dataclass(frozen=True)
class CodeCard:
    """What is printed on one card: the code, and the withdrawal code on its tear-off."""

    code: str
    withdrawal_code: str
    number: int = 0


def withdrawal_hash(code: str) -> str:
    return hash_code(code, current_app.config["SECRET_KEY"], kind=CodeKind.WITHDRAWAL)


def code_hashes(code: str, kind: CodeKind = CodeKind.PARTICIPATION) -> list[str]:
    """Every hash a typed code may be stored under here: the app's own, and on a field laptop
    those under each imported site's key (:func:`survey.services.sync.field_code_keys`).

    Raises :class:`consent.codes.InvalidCode` for a string that cannot be a code.
    """
    from survey.services.sync import field_code_keys

    return [hash_code(code, key, kind=kind) for key in (current_app.config["SECRET_KEY"], *field_code_keys())]


def issue_codes(
    consultation: Consultation,
    count: int,
    *,
    actor: User | None = None,
    permission_seen: bool = False,
    site: str = "",
    field_key: bytes | None = None,
) -> list[CodeCard]:
    """Create ``count`` code cards; their codes are returned once and stored only as hashes.

    ``permission_seen`` marks every new card as having guardian permission (the demo only;
    real consultations mark cards one by one on the cards screen).  ``site`` assigns the cards
    to a site; with ``field_key`` (the site's key, :mod:`survey.services.sync`) their hashes
    under that key are kept too, for the field laptops of the site.
    """
    if not 1 <= count <= 2000:
        raise ValueError("Codes are issued 1 to 2,000 at a time.")
    codes = new_codes(2 * count)
    with write_transaction() as db_session:
        first = (
            db_session.scalar(
                sa.select(sa.func.max(Participant.card_number)).where(Participant.consultation_id == consultation.id)
            )
            or 0
        ) + 1
        cards = [
            CodeCard(format_code(a), format_code(b), number)
            for number, a, b in zip(range(first, first + count), codes[::2], codes[1::2], strict=True)
        ]
        records = [
            Participant(
                id=new_uuid(),
                consultation_id=consultation.id,
                code_hash=code_hash(card.code),
                withdrawal_hash=withdrawal_hash(card.withdrawal_code),
                card_number=card.number,
                permission="permission_seen" if permission_seen else "issued",
                site=site,
            )
            for card in cards
        ]
        db_session.add_all(records)
        if field_key is not None:
            db_session.flush()
            db_session.add_all(
                FieldCard(
                    participant_id=record.id,
                    consultation_id=consultation.id,
                    site=site,
                    code_hash=hash_code(card.code, field_key),
                    withdrawal_hash=hash_code(card.withdrawal_code, field_key, kind=CodeKind.WITHDRAWAL),
                )
                for record, card in zip(records, cards, strict=True)
            )
        audit.record(
            actor, "codes.issue", f"consultation:{consultation.id} count:{count}" + (f" site:{site}" if site else "")
        )
    return cards


class CodeCheckUnavailable(Exception):
    """Wrong codes cannot be counted just now (the shared store is down): no code is checked."""


def _failure_limits(client_key: str) -> Iterator[tuple[str, str]]:
    """The failed-tries budgets a wrong code counts against, the client's own first.

    Only failures count: a class behind one school address (NAT, or the reverse proxy in
    front) enters thirty right codes in a minute, and right codes cost nobody anything.  The
    per-client budget stops one device; the server-wide budget, which grows with the number of
    open consultations (``CODE_FAILURES_PER_CONSULTATION`` each), bounds guessing from many
    addresses, so that the chance of hitting any card of a consultation stays below
    cards × budget × lifetime / code space (docs/SECURITY.md).

    The server-wide budget is worked out (a count of the open consultations) only when it is
    asked for: a device over its own budget, a guesser's every try after the tenth, is refused
    without it.
    """
    config = current_app.config
    yield config["CODE_FAILURES_PER_CLIENT"], f"code:client:{client_key}"
    per_consultation = parse_limit(config["CODE_FAILURES_PER_CONSULTATION"])
    open_count = (
        db.session.scalar(sa.select(sa.func.count()).select_from(Consultation).where(Consultation.state == "open")) or 0
    )
    overall = (
        f"{per_consultation.amount * max(1, open_count)} per {per_consultation.multiples} "
        f"{per_consultation.GRANULARITY.name}"
    )
    yield overall, "code:global"


def _check_budget(client_key: str) -> None:
    try:
        for limit_text, key in _failure_limits(client_key):
            if not allowed(limit_text, key):
                raise CodeAttemptsThrottled
    except ThrottleUnavailable as exc:
        # Fail closed: without the shared counter no code is checked at all.
        raise CodeCheckUnavailable from exc


def count_code_failure(client_key: str) -> None:
    """Count one wrong code (card or withdrawal) against the failed-tries budgets."""
    try:
        for limit_text, key in _failure_limits(client_key):
            hit(limit_text, key)
    except ThrottleUnavailable as exc:
        raise CodeCheckUnavailable from exc


def check_code_budget(client_key: str) -> None:
    """Raise :class:`CodeAttemptsThrottled` when this client or the server has used up its
    failed tries, and :class:`CodeCheckUnavailable` when they cannot be counted."""
    _check_budget(client_key)


def enter_code(code: str, client_key: str, *, seat_label: str = "") -> Participant:
    """Check a card's code and start the child's session on this device.

    A wrong code counts against the failed-tries budgets; a right one does not.
    """
    _check_budget(client_key)
    try:
        hashed = code_hashes(code)
    except InvalidCode as error:
        count_code_failure(client_key)
        raise CodeRefused from error
    participant = db.session.scalar(
        sa.select(Participant).join(Consultation).where(Participant.code_hash.in_(hashed), Consultation.state == "open")
    )
    if participant is None or participant.state not in RESUMABLE_STATES:
        count_code_failure(client_key)
        raise CodeRefused
    if participant.consultation.facilitated:
        from survey.services.sessions import open_session

        if open_session(participant.consultation_id) is None:
            raise SessionNotStarted
    seat_label = " ".join(seat_label.split())[:20]
    new_seat = bool(seat_label and participant.consultation.facilitated and seat_label != participant.seat_label)
    entered_on = utcnow().date()
    if new_seat or participant.last_active_on != entered_on:
        # The date the code was entered: the card counts as "started today" on the live view from now,
        # before the child reads anything, so that their Yes or No moves no figure there
        # (services.progress).  A date only, as every other date kept about a card.
        with write_transaction() as db_session:
            record = db_session.merge(participant)
            record.last_active_on = entered_on
            if new_seat:
                record.seat_label = seat_label
    language = session.get("lang")
    session.clear()
    # On a shared device the cookie ends with the browser; elsewhere it lasts up to 2 hours
    # so that a child who closes the tab can come back.
    session.permanent = not participant.consultation.shared_device
    session[CHILD_SESSION_KEY] = participant.id
    if language:
        session["lang"] = language
    return participant


def record_of(db_session: so.Session, participant: Participant | ParticipantRow) -> Participant:
    """The participant's ORM record in ``db_session`` (inside a write transaction), to change it.

    Raises LookupError when the participant is gone (deleted meanwhile by retention).
    """
    record = db_session.get(Participant, participant.id)
    if record is None:
        raise LookupError("the participant no longer exists")
    return record


def quick_exit(participant: Participant | ParticipantRow | None) -> None:
    """Quick exit: end the child's session on this device, and nothing else.

    Nothing is written: before assent a quick exit is not a No, so the card still works when
    the child comes back; after it, the answers so far stay as an incomplete response that
    the retention rules delete later (§4.4).  :mod:`consent.states` owns that rule.
    """
    if participant is not None:
        transition(participant.state, Event.QUICK_EXIT)  # the table: the state stays as it was
    leave()


def quick_exit_destination(participant: ParticipantRow | None) -> str:
    """Where the quick exit sends this device: a neutral site, or Sauti's own neutral page.

    In order: a shared tablet goes back to the start screen, ready for the next child; with no
    internet (``QUICK_EXIT_LOCAL``, set by ``sauti serve --lan`` when the outside cannot be
    reached) or where the country profile says so (``quick_exit_local``), the neutral page this
    server serves; else the deployment's pinned ``QUICK_EXIT_URL``, else the profile's site.
    """
    from survey.services.safeguarding import help_context_source

    consultation = participant.consultation if participant is not None else None
    if consultation is not None and consultation.shared_device:
        return url_for("participate.start")
    config = current_app.config
    profile = help_context_source(consultation)
    if config.get("QUICK_EXIT_LOCAL") or profile.quick_exit_local:
        return url_for("participate.neutral")
    return config.get("QUICK_EXIT_URL") or profile.quick_exit_url


def _open_consultations() -> tuple[tuple[str, str], ...]:
    """Each consultation open to children as (its languages, its country profile), oldest first;
    read once a request (the start page asks for both)."""
    here = g._get_current_object() if has_request_context() else None
    rows = here.get("_sauti_open_consultations") if here is not None else None
    if rows is None:
        rows = tuple(
            (languages, profile)
            for languages, profile in db.session.execute(
                sa.select(Consultation.languages, Consultation.country_profile)
                .where(Consultation.state == "open")
                .order_by(Consultation.id)
            )
        )
        if here is not None:
            here._sauti_open_consultations = rows
    return rows


def open_consultation_languages() -> list[str]:
    """The languages of the consultations open to children, in their order (for the language
    menu of the start page, before a code says which consultation a child is in)."""
    languages: dict[str, None] = {}
    for row, _profile in _open_consultations():
        languages.update(dict.fromkeys(row.split()))
    return list(languages)


def open_consultation_profiles() -> list[str]:
    """The country profiles of the consultations open to children, each once, oldest first (for
    the helplines of the pages before a code: ``safeguarding.pre_code_profiles``)."""
    return list(dict.fromkeys(profile for _languages, profile in _open_consultations()))
