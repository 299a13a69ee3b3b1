"""What a consent or assent text is made of: its kinds and statuses, the confidentiality modes,
the twelve assent elements (:data:`ASSENT_ELEMENTS`), the guardian letter's elements and the
placeholders a body may use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from consent.profiles import PermissionMode


class TextKind(StrEnum):
    """What a document is for."""

    CHILD_INFORMATION = "child_information"
    ASSENT_SCRIPT = "assent_script"
    GUARDIAN_INFORMATION = "guardian_information"
    GUARDIAN_CONSENT_FORM = "guardian_consent_form"

    @property
    def is_child_facing(self) -> bool:
        """Child documents have an age band; guardian documents do not."""
        return self in (TextKind.CHILD_INFORMATION, TextKind.ASSENT_SCRIPT)


class TextStatus(StrEnum):
    """Translation and review status (D-07).  Only ``approved`` texts should reach children
    in a real consultation; the app decides whether a demo may use drafts."""

    DRAFT = "draft"
    TRANSLATED = "translated"
    BACK_TRANSLATED = "back_translated"
    COGNITIVELY_TESTED = "cognitively_tested"
    APPROVED = "approved"


class ConfidentialityMode(StrEnum):
    """The consultation's confidentiality mode (§4.1 design resolution)."""

    ANONYMOUS = "anonymous"
    """Anonymous self-completion (default): nobody can tell whose answers are whose."""
    FACILITATED = "facilitated"
    """In person: answers stay anonymous, but what a child tells the facilitator may be acted on."""
    IDENTIFIED = "identified"
    """Identified research mode: needs ethics approval and the mandatory-reporting wording."""


#: Privacy-section variants each mode requires (and allows).
PRIVACY_VARIANTS: Mapping[ConfidentialityMode, frozenset[str]] = {
    ConfidentialityMode.ANONYMOUS: frozenset({"anonymous"}),
    ConfidentialityMode.FACILITATED: frozenset({"anonymous", "in_person"}),
    ConfidentialityMode.IDENTIFIED: frozenset({"identified"}),
}

#: Every placeholder a text may use, with what the consultation must supply.
PLACEHOLDERS: Mapping[str, str] = {
    "organisation": "the organisation running the consultation",
    "independent_contact": "someone independent to contact with a concern (e.g. the ethics "
    "committee or a named safeguarding lead)",
    "contact": "how to ask questions later (a phone number or address of the organisation)",
    "minutes": "about how many minutes the questions take",
    "pages": "about how many screens of questions there are",
    "audience": "who will hear the results (named decision-makers, P-01)",
    "influence_scope": "what the answers can change and what they cannot (P-01)",
    "feedback_date": "when children will hear back (P-01)",
    "cutoff_date": "the analysis cut-off date: the last day a withdrawal code works (C-09)",
    "helpline": "the helpline name and number from the country profile",
    "reporting_role": "who a facilitator must tell about a child in danger (e.g. 'our safeguarding lead')",
    "session_date": "when the consultation takes place (guardian documents)",
    "return_by_date": "the date the reply slip must reach the school (guardian documents)",
    "ethics_reference": "the ethics approval reference (guardian documents)",
}

#: The placeholders P-02 requires on the child information page and the assent script.
P02_PLACEHOLDERS: tuple[str, ...] = ("audience", "influence_scope", "feedback_date", "cutoff_date")


@dataclass(frozen=True, slots=True)
class AssentElement:
    """One of the twelve things a child must be told (§3.4)."""

    number: int
    tags: tuple[str, ...]
    title: str
    placeholders: tuple[str, ...] = ()


#: The twelve elements of §3.4, as section tags.  Element 8's wording depends on the mode.
ASSENT_ELEMENTS: tuple[AssentElement, ...] = (
    AssentElement(
        1, ("who_we_are",), "who we are, and an independent contact", ("organisation", "independent_contact")
    ),
    AssentElement(2, ("what_about",), "what it is about, in plain words"),
    AssentElement(3, ("what_you_do",), "what you will do and how long it takes", ("minutes", "pages")),
    AssentElement(
        4,
        ("your_choice",),
        "it is your choice: say no, stop, skip; nobody will be cross; you can say no even if your parent said yes",
    ),
    AssentElement(5, ("no_right_answers",), "there are no right or wrong answers"),
    AssentElement(6, ("who_sees",), "who will (and will not) see your answers"),
    AssentElement(
        7,
        ("what_happens",),
        "what we do with the answers, who hears them, what can change and when you hear back",
        ("audience", "influence_scope", "feedback_date"),
    ),
    AssentElement(8, ("privacy",), "privacy and its limits, in the wording of the mode"),
    AssentElement(9, ("might_worry",), "it might make you think about worrying things; how to get help", ("helpline",)),
    AssentElement(
        10,
        ("questions_and_withdrawal",),
        "how to ask questions and how to withdraw afterwards, with its limits",
        ("contact", "cutoff_date"),
    ),
    AssentElement(11, ("understanding_check", "choice"), "a check that you understood, then an explicit Yes or No"),
    AssentElement(12, ("reaffirmation",), "the end question: are you happy for us to use your answers?"),
)

#: The parts of the child information a child sees before the understanding check and the Yes
#: or No: what it is about, that it is their choice, who sees the answers and the limits of
#: privacy.  The other elements stay one tap away ("Tell me more") on the same page, so the
#: choice is within about two phone screens (issue 16).
FIRST_SHOWN: tuple[str, ...] = ("what_about", "your_choice", "who_sees", "privacy")

#: Sections of the guardian documents (checked by :func:`lint_guardian`).
GUARDIAN_ELEMENTS: Mapping[TextKind, tuple[str, ...]] = {
    TextKind.GUARDIAN_INFORMATION: (
        "who_we_are",
        "what_about",
        "what_children_do",
        "voluntary",
        "privacy",
        "safeguarding",
        "what_happens",
        "your_choice",
        "contact",
    ),
    TextKind.GUARDIAN_CONSENT_FORM: ("reply",),
}

_OTHER_TAGS = frozenset({"title_note", "facilitator_note", "intro", "help"})
_KNOWN_TAGS = (
    frozenset(t for e in ASSENT_ELEMENTS for t in e.tags)
    | frozenset(t for tags in GUARDIAN_ELEMENTS.values() for t in tags)
    | _OTHER_TAGS
)
_PERMISSION_VARIANTS = frozenset(m.value for m in PermissionMode)
