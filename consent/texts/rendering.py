"""Rendering a text for one consultation: placeholders filled, sections of other modes left out
(:func:`render_text`), and the comprehension answers checked (:func:`check_answer`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from consent.profiles import PermissionMode
from consent.texts.kinds import FIRST_SHOWN, PLACEHOLDERS, ConfidentialityMode, TextKind
from consent.texts.markup import (
    _PLACEHOLDER,
    Block,
    BulletList,
    Choice,
    ComprehensionItem,
    Option,
    Paragraph,
    Section,
    _keep,
    _section_placeholders,
)
from consent.texts.model import ConsentText, TextRef

# --------------------------------------------------------------------------- rendering


class MissingValues(KeyError):
    """Placeholders that the consultation did not supply."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = tuple(sorted(set(names)))
        details = "; ".join(f"{n}: {PLACEHOLDERS.get(n, 'unknown placeholder')}" for n in self.names)
        super().__init__(f"fill in these consultation values before showing the text: {details}")

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


@dataclass(frozen=True, slots=True)
class RenderedText:
    """A text with the consultation's values filled in.  Plain text: the app escapes HTML.

    Attributes
    ----------
    text_id, content_hash : str
        The version shown (store them with the consent event).
    kind : TextKind
    language : str
    band : str or None
    title : str
    sections : tuple of Section
        Only the sections that apply to the mode, with values filled in.
    """

    text_id: str
    content_hash: str
    kind: TextKind
    language: str
    band: str | None
    title: str
    sections: tuple[Section, ...]

    @property
    def ref(self) -> TextRef:
        """The version shown, for the consent event."""
        return TextRef(self.text_id, self.content_hash)

    def section(self, element: str) -> tuple[Section, ...]:
        """The sections with tag ``element``, in order."""
        return tuple(s for s in self.sections if s.element == element)

    @property
    def comprehension_items(self) -> tuple[ComprehensionItem, ...]:
        """The comprehension questions (C-05)."""
        return tuple(b for s in self.sections for b in s.blocks if isinstance(b, ComprehensionItem))

    def prompt(self, element: str) -> tuple[str, ...]:
        """The paragraphs of one section, e.g. the question above the ``[choice]`` buttons.

        Examples
        --------
        >>> t = ConsentText("assent_script", "en", "A", 1, "T",
        ...                 "[choice]\\nDo you want to take part?\\n> yes: Yes\\n> no: No\\n")
        >>> render_text(t, {}).prompt("choice")
        ('Do you want to take part?',)
        """
        return tuple(b.text for s in self.section(element) for b in s.blocks if isinstance(b, Paragraph))

    def choices(self, element: str = "choice") -> tuple[Choice, ...]:
        """The buttons of ``[choice]`` (assent) or ``[reaffirmation]`` (the end question)."""
        return tuple(b for s in self.section(element) for b in s.blocks if isinstance(b, Choice))

    def paragraphs(
        self,
        *,
        exclude: Iterable[str] = ("understanding_check", "choice", "reaffirmation", "facilitator_note"),
    ) -> tuple[str, ...]:
        """Paragraphs and list items to show as information, in order (bullets prefixed)."""
        skip = set(exclude)
        out: list[str] = []
        for s in self.sections:
            if s.element in skip:
                continue
            for b in s.blocks:
                if isinstance(b, Paragraph):
                    out.append(b.text)
                elif isinstance(b, BulletList):
                    out.extend(f"• {item}" for item in b.items)
        return tuple(out)

    def first_and_more(
        self,
        *,
        exclude: Iterable[str] = ("understanding_check", "choice", "reaffirmation", "facilitator_note"),
        first: Iterable[str] = FIRST_SHOWN,
    ) -> tuple[tuple[Section, ...], tuple[Section, ...]]:
        """The information sections split into those shown first and the rest, each in text order.

        Examples
        --------
        >>> t = ConsentText("child_information", "en", "A", 1, "T",
        ...                 "[who_we_are]\\nWe are us.\\n[your_choice]\\nYou choose.\\n")
        >>> shown, more = render_text(t, {}).first_and_more()
        >>> [s.element for s in shown], [s.element for s in more]
        (['your_choice'], ['who_we_are'])
        """
        skip, wanted = set(exclude), set(first)
        kept = [s for s in self.sections if s.element not in skip]
        return (tuple(s for s in kept if s.element in wanted), tuple(s for s in kept if s.element not in wanted))

    @property
    def plain_text(self) -> str:
        """Everything as plain text (for print or read-aloud)."""
        lines = [self.title, ""]
        for s in self.sections:
            for b in s.blocks:
                if isinstance(b, Paragraph):
                    lines += [b.text, ""]
                elif isinstance(b, BulletList):
                    lines += [f"• {i}" for i in b.items] + [""]
                elif isinstance(b, ComprehensionItem):
                    lines += [b.question] + [f"  ( ) {o.text}" for o in b.options] + [""]
                elif isinstance(b, Choice):
                    lines += [f"[ {b.label} ]"]
            if lines[-1] != "":
                lines.append("")
        return "\n".join(lines).rstrip() + "\n"


def _format_value(value: object, locale: str) -> str:
    if isinstance(value, date):
        from babel.dates import format_date

        return format_date(value, format="long", locale=locale)
    return str(value)


def _fill(s: str, values: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], s)


def _fill_block(block: Block, values: Mapping[str, str]) -> Block:
    if isinstance(block, Paragraph):
        return Paragraph(_fill(block.text, values))
    if isinstance(block, BulletList):
        return BulletList(tuple(_fill(i, values) for i in block.items))
    if isinstance(block, ComprehensionItem):
        return ComprehensionItem(
            _fill(block.question, values),
            tuple(Option(_fill(o.text, values), o.correct) for o in block.options),
            _fill(block.explanation, values),
        )
    return Choice(block.value, _fill(block.label, values))


def render_text(
    text: ConsentText,
    values: Mapping[str, object],
    *,
    mode: ConfidentialityMode | str = ConfidentialityMode.ANONYMOUS,
    permission_mode: PermissionMode | str | None = None,
    locale: str | None = None,
) -> RenderedText:
    """Fill a text with the consultation's values, keeping the sections for the mode.

    Parameters
    ----------
    text : ConsentText
    values : mapping
        Placeholder values; :class:`datetime.date` values are formatted for the text's
        language (or ``locale``) with Babel.  Values are inserted as-is: escape when rendering
        HTML.
    mode : ConfidentialityMode
        Chooses the ``[privacy ...]`` sections.
    permission_mode : PermissionMode, optional
        Chooses the guardian form's ``[reply ...]`` section.
    locale : str, optional
        Babel locale for dates (default: the text's language).

    Raises
    ------
    MissingValues
        Naming every placeholder without a value.

    Examples
    --------
    >>> from datetime import date
    >>> t = ConsentText("guardian_information", "en", None, 1, "Letter",
    ...                 "[what_happens]\\nResults go to {audience} by {feedback_date}.\\n")
    >>> render_text(t, {"audience": "the county council",
    ...                 "feedback_date": date(2027, 3, 1)}).paragraphs()
    ('Results go to the county council by March 1, 2027.',)
    """
    mode = ConfidentialityMode(mode)
    pm = PermissionMode(permission_mode).value if permission_mode is not None else None
    sections = [s for s in text.sections if _keep(s, mode, pm)]
    needed: set[str] = set()
    for s in sections:
        needed |= _section_placeholders(s)
    missing = [n for n in needed if values.get(n) is None or str(values.get(n)).strip() == ""]
    if missing:
        raise MissingValues(missing)
    loc = locale or text.language
    formatted = {n: _format_value(values[n], loc) for n in needed}
    filled = tuple(Section(s.element, s.variant, tuple(_fill_block(b, formatted) for b in s.blocks)) for s in sections)
    return RenderedText(
        text.text_id,
        text.content_hash,
        text.kind,
        text.language,
        text.band,
        _fill(text.title, formatted) if _PLACEHOLDER.search(text.title) else text.title,
        filled,
    )


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """The result of one comprehension answer: never blocks, may explain again."""

    correct: bool
    explain_again: str | None


def check_answer(item: ComprehensionItem, chosen: int) -> CheckOutcome:
    """Check the child's answer to a comprehension question (C-05).

    A wrong answer returns the explanation to show again; the child then goes on either way.

    Examples
    --------
    >>> item = ComprehensionItem("Must you answer everything?",
    ...                          (Option("No", True), Option("Yes", False)), "You can skip.")
    >>> check_answer(item, 1)
    CheckOutcome(correct=False, explain_again='You can skip.')
    """
    if not 0 <= chosen < len(item.options):
        raise IndexError(f"option {chosen} does not exist (0-{len(item.options) - 1})")
    if item.options[chosen].correct:
        return CheckOutcome(True, None)
    return CheckOutcome(False, item.explanation)
