"""The report's model: the blocks, sections and programme records a report is made of, and its fixed words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..disclosure import DisclosurePolicy, ReleasedTable
from ..textscreen import ReleasedQuote

NOT_RECORDED = "not recorded"
#: The convenience-sample caveat printed in every report (A-03).
CAVEAT = (
    "These results describe the children who took part in this consultation. They were not "
    "chosen at random, so the numbers do not tell us how many children in the whole "
    "population think or experience something, and they must not be used as prevalence "
    "estimates. Percentages leave out 'I'd rather not say', 'I don't know' and skipped "
    "questions, which are reported separately."
)
_RESERVED_LABELS = {"_rns": "rather not say", "_dk": "don't know"}
#: The bundled instrument's evaluation items (child-participation.md §8): feeling safe, getting to
#: say what they wanted, knowing who will hear, expecting it to help.
LUNDY_DEFAULT = {"Space": "EV1", "Voice": "EV2b", "Audience": "EV3", "Influence": "EV3b"}
#: Headings for the default question bank's domains (child-participation.md §6.2); another
#: instrument's domain codes are shown as they are.
DOMAIN_TITLES = {
    "CX": "Context: devices and private access",
    "TR": "Trusted people and who children would tell",
    "AW": "Awareness of help and reporting routes",
    "CH": "Channel preferences and features",
    "BA": "Barriers to telling or reporting",
    "TC": "Trust, confidentiality and control",
    "AF": "What should happen after reporting",
    "ID": "Design ideas and information",
    "EV": "Children's evaluation of the consultation",
    "DM": "About the children who took part",
}
FUNNEL_ORDER = (
    "invited",
    "parent opt-outs",
    "declined assent",
    "assented",
    "started",
    "completed",
    "stopped early",
    "quick exits",
    "withdrew after submitting",
)


@dataclass(frozen=True)
class ProgrammeRecord:
    """Programme information that is not about children's answers (checklists, logs).

    ``rows`` is a list of (label, value...) tuples; ``None`` or "" values show as
    "not recorded".
    """

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    note: str = ""


@dataclass(frozen=True)
class ReportInputs:
    """What the web app passes in besides the answers.

    Attributes
    ----------
    title, consultation : str
    funnel : mapping of stage -> count
        Stages of :data:`FUNNEL_ORDER` (others allowed); missing stages are "not recorded".
    lundy_items : mapping of Lundy element -> item name
        Evaluation items whose % positive is the indicator (default EV1, EV2b, EV3, EV3b).
    lundy_checklist : mapping of question -> answer/evidence
    gc12 : mapping of requirement -> (yes | partly | no, evidence)
    influence_log : list of mappings with recommendation, decision, reason, date, owner
    feedback : mapping with ``closed_on``, ``feedback_on`` (dates), ``formats``
    safeguarding : mapping of signal -> count (talk-to-someone, distress path, flagged free
        text, referrals); small counts are suppressed.
    quotes : list of ReleasedQuote
    breakdowns : respondent columns for participation tables and tests
    """

    title: str = "Consultation report"
    consultation: str = ""
    funnel: Mapping[str, int] | None = None
    lundy_items: Mapping[str, str] | None = None
    lundy_checklist: Mapping[str, str] | None = None
    gc12: Mapping[str, tuple[str, str]] | None = None
    influence_log: Sequence[Mapping[str, Any]] | None = None
    feedback: Mapping[str, Any] | None = None
    safeguarding: Mapping[str, int] | None = None
    quotes: Sequence[ReleasedQuote] = ()
    breakdowns: tuple[str, ...] = ("band", "gender", "disability", "setting", "language")


@dataclass
class Section:
    """A titled list of blocks (released tables, charts, quotes, records, paragraphs)."""

    title: str
    blocks: list = field(default_factory=list)
    intro: str = ""


@dataclass
class ProgrammeReport:
    """The report model (also what the XLSX export writes)."""

    title: str
    generated_on: str
    policy: DisclosurePolicy
    sections: list[Section]
    n_respondents: int

    def released_tables(self) -> list[ReleasedTable]:
        """Every released table in the report, in order (for the XLSX workbook)."""
        return [b for s in self.sections for b in s.blocks if isinstance(b, ReleasedTable)]
