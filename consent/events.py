"""Consent events: what the consent store keeps, and nothing more (C-02, C-06, C-10, §3.6).

A consent event records the text version shown (id and hash), the event type, the method, the
outcome and the **date only**, plus at most the site code.  No name, no time of day, no link to
the answers: the response row carries only the assent text id, so no join path leads from an
answer to a consent record.

Per issue 4, a child's "No" stores nothing but a count: :func:`assent_event` returns ``None``
for it, and the participant's ``declined`` state is the count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from consent.texts import RenderedText, TextRef

__all__ = ["ConsentEvent", "ConsentEventType", "ConsentMethod", "assent_event", "withdrawal_event"]


class ConsentEventType(StrEnum):
    """Kinds of consent event (§3.6)."""

    ASSENT = "assent"
    """The child's own affirmative agreement, below the own-consent age."""
    CONSENT = "consent"
    """The young person's own consent, at or above the profile's own-consent age."""
    WITHDRAWAL = "withdrawal"
    """Stop-and-delete, end re-affirmation "No", or a withdrawal code."""


class ConsentMethod(StrEnum):
    """How the decision was given."""

    ELECTRONIC_TAP = "electronic_tap"
    VERBAL_WITNESSED = "verbal_witnessed"
    PAPER = "paper"


@dataclass(frozen=True, slots=True)
class ConsentEvent:
    """One row of the consent store.

    Attributes
    ----------
    event_type : ConsentEventType
    outcome : str
        ``"yes"`` for assent/consent; ``"withdrawn"`` for withdrawals.
    text_id, content_hash : str
        The exact text version shown (C-06).
    method : ConsentMethod
    event_date : date
        Day granularity only; a ``datetime`` is refused (DP-02).
    site_code : str or None
        The consultation's non-identifying site code, if any.

    Examples
    --------
    >>> from datetime import date, datetime
    >>> ConsentEvent("assent", "yes", "child_information/en/B/v1", "ab" * 32, "electronic_tap",
    ...              datetime(2026, 11, 29, 9, 15))
    Traceback (most recent call last):
    ...
    TypeError: consent events are dated to the day: pass a date, not a datetime
    """

    event_type: ConsentEventType
    outcome: str
    text_id: str
    content_hash: str
    method: ConsentMethod
    event_date: date
    site_code: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "event_type", ConsentEventType(self.event_type))
        object.__setattr__(self, "method", ConsentMethod(self.method))
        if isinstance(self.event_date, datetime) or not isinstance(self.event_date, date):
            raise TypeError("consent events are dated to the day: pass a date, not a datetime")
        if self.outcome not in ("yes", "withdrawn"):
            raise ValueError("outcome is 'yes' (assent/consent) or 'withdrawn'")
        if (self.event_type is ConsentEventType.WITHDRAWAL) != (self.outcome == "withdrawn"):
            raise ValueError("withdrawal events have outcome 'withdrawn', others 'yes'")
        if not self.text_id or len(self.content_hash) != 64:
            raise ValueError("a consent event needs the text id and its 64-hex content hash")


def _ref(shown: RenderedText | TextRef) -> TextRef:
    return shown.ref if isinstance(shown, RenderedText) else shown


def assent_event(
    shown: RenderedText | TextRef,
    *,
    said_yes: bool,
    on: date,
    own_consent: bool = False,
    method: ConsentMethod | str = ConsentMethod.ELECTRONIC_TAP,
    site_code: str | None = None,
) -> ConsentEvent | None:
    """The event to store for the child's decision, or ``None`` for "No" (count only).

    Parameters
    ----------
    shown : RenderedText or TextRef
        The child information version the child saw.
    said_yes : bool
        Only an explicit "Yes" is assent; closing, timing out or "No" is not (C-02).
    on : date
        The day of the decision (pass the consultation-local date).
    own_consent : bool
        The child is at or above the profile's own-consent age: recorded as ``consent``.

    Examples
    --------
    >>> from datetime import date
    >>> from consent.texts import TextRef
    >>> ref = TextRef("child_information/en/B/v1", "ab" * 32)
    >>> assent_event(ref, said_yes=False, on=date(2026, 11, 29)) is None
    True
    >>> assent_event(ref, said_yes=True, on=date(2026, 11, 29)).event_type.value
    'assent'
    """
    if not said_yes:
        return None
    ref = _ref(shown)
    kind = ConsentEventType.CONSENT if own_consent else ConsentEventType.ASSENT
    return ConsentEvent(kind, "yes", ref.text_id, ref.content_hash, ConsentMethod(method), on, site_code)


def withdrawal_event(
    assent_ref: TextRef,
    *,
    on: date,
    method: ConsentMethod | str = ConsentMethod.ELECTRONIC_TAP,
    site_code: str | None = None,
) -> ConsentEvent:
    """The event to store when a participant's answers are deleted by withdrawal.

    Examples
    --------
    >>> from datetime import date
    >>> from consent.texts import TextRef
    >>> withdrawal_event(TextRef("child_information/en/B/v1", "ab" * 32),
    ...                  on=date(2026, 12, 2)).outcome
    'withdrawn'
    """
    return ConsentEvent(
        ConsentEventType.WITHDRAWAL,
        "withdrawn",
        assent_ref.text_id,
        assent_ref.content_hash,
        ConsentMethod(method),
        on,
        site_code,
    )
