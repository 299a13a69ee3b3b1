"""Consent and assent texts: immutable, versioned, content-hashed documents (C-04, C-06, P-02).

Four kinds of document, per language (and per age band for the child's documents):

* ``child_information``: the information screen the child reads (and hears) before choosing;
* ``assent_script``: what the facilitator reads aloud (facilitator mode, F-02);
* ``guardian_information``: the letter to parents and guardians, printed for the school;
* ``guardian_consent_form``: the reply slip (opt-in form or opt-out notice, by mode).

A :class:`ConsentText` never changes: :meth:`TextRegistry.revise` creates a new version, and
the ``content_hash`` (SHA-256 of kind, language, band, title and body) lets a consultation bind
to exact versions and refuse a mismatch (:func:`check_binding`).

Body markup
-----------
A body is plain text divided into sections by a tag alone on a line, ``[element]`` or
``[element variant]``.  Inside a section:

* paragraphs are separated by blank lines; ``* item`` lines make a bulleted list;
* ``{name}`` is a placeholder filled from the consultation (:data:`PLACEHOLDERS`);
* comprehension questions: ``? question``, then ``+ right answer`` / ``- other answer`` lines,
  then ``= explanation`` (shown again after a wrong answer; it never blocks, C-05);
* choice buttons: ``> yes: label`` and ``> no: label``.

Sections with a variant are kept only where it applies: ``[privacy anonymous]``,
``[privacy in_person]`` and ``[privacy identified]`` by :class:`ConfidentialityMode`, and the
guardian form's ``[reply active_opt_in]`` etc. by :class:`~consent.profiles.PermissionMode`.

The twelve assent elements of §3.4 are the tags of :data:`ASSENT_ELEMENTS`;
:func:`lint_assent` checks them, the mode's confidentiality wording and the P-02 placeholders.
"""

from __future__ import annotations

from consent.texts.kinds import (
    _KNOWN_TAGS as _KNOWN_TAGS,
)
from consent.texts.kinds import (
    _OTHER_TAGS as _OTHER_TAGS,
)
from consent.texts.kinds import (
    _PERMISSION_VARIANTS as _PERMISSION_VARIANTS,
)
from consent.texts.kinds import (
    ASSENT_ELEMENTS as ASSENT_ELEMENTS,
)
from consent.texts.kinds import (
    FIRST_SHOWN as FIRST_SHOWN,
)
from consent.texts.kinds import (
    GUARDIAN_ELEMENTS as GUARDIAN_ELEMENTS,
)
from consent.texts.kinds import (
    P02_PLACEHOLDERS as P02_PLACEHOLDERS,
)
from consent.texts.kinds import (
    PLACEHOLDERS as PLACEHOLDERS,
)
from consent.texts.kinds import (
    PRIVACY_VARIANTS as PRIVACY_VARIANTS,
)
from consent.texts.kinds import (
    AssentElement as AssentElement,
)
from consent.texts.kinds import (
    ConfidentialityMode as ConfidentialityMode,
)
from consent.texts.kinds import (
    TextKind as TextKind,
)
from consent.texts.kinds import (
    TextStatus as TextStatus,
)
from consent.texts.lint import (
    _PRIVACY_HINT as _PRIVACY_HINT,
)
from consent.texts.lint import (
    CONTENT_HINTS as CONTENT_HINTS,
)
from consent.texts.lint import (
    Issue as Issue,
)
from consent.texts.lint import (
    _body_and_kind as _body_and_kind,
)
from consent.texts.lint import (
    _common_issues as _common_issues,
)
from consent.texts.lint import (
    _content_warnings as _content_warnings,
)
from consent.texts.lint import (
    _ordered as _ordered,
)
from consent.texts.lint import (
    lint_assent as lint_assent,
)
from consent.texts.lint import (
    lint_guardian as lint_guardian,
)
from consent.texts.markup import (
    _CHOICE as _CHOICE,
)
from consent.texts.markup import (
    _PLACEHOLDER as _PLACEHOLDER,
)
from consent.texts.markup import (
    _TAG as _TAG,
)
from consent.texts.markup import (
    Block as Block,
)
from consent.texts.markup import (
    BulletList as BulletList,
)
from consent.texts.markup import (
    Choice as Choice,
)
from consent.texts.markup import (
    ComprehensionItem as ComprehensionItem,
)
from consent.texts.markup import (
    Option as Option,
)
from consent.texts.markup import (
    Paragraph as Paragraph,
)
from consent.texts.markup import (
    Section as Section,
)
from consent.texts.markup import (
    _block_strings as _block_strings,
)
from consent.texts.markup import (
    _keep as _keep,
)
from consent.texts.markup import (
    _section_placeholders as _section_placeholders,
)
from consent.texts.markup import (
    _SectionBuilder as _SectionBuilder,
)
from consent.texts.markup import (
    parse_body as parse_body,
)
from consent.texts.model import (
    ConsentText as ConsentText,
)
from consent.texts.model import (
    ImmutableTextError as ImmutableTextError,
)
from consent.texts.model import (
    TextRef as TextRef,
)
from consent.texts.model import (
    TextVersionMismatch as TextVersionMismatch,
)
from consent.texts.model import (
    _normalise as _normalise,
)
from consent.texts.model import (
    content_hash as content_hash,
)
from consent.texts.rendering import (
    CheckOutcome as CheckOutcome,
)
from consent.texts.rendering import (
    MissingValues as MissingValues,
)
from consent.texts.rendering import (
    RenderedText as RenderedText,
)
from consent.texts.rendering import (
    _fill as _fill,
)
from consent.texts.rendering import (
    _fill_block as _fill_block,
)
from consent.texts.rendering import (
    _format_value as _format_value,
)
from consent.texts.rendering import (
    check_answer as check_answer,
)
from consent.texts.rendering import (
    render_text as render_text,
)
from consent.texts.store import (
    TextRegistry as TextRegistry,
)
from consent.texts.store import (
    TextStore as TextStore,
)
from consent.texts.store import (
    _bundled_files as _bundled_files,
)
from consent.texts.store import (
    _key as _key,
)
from consent.texts.store import (
    _walk as _walk,
)
from consent.texts.store import (
    bundled_texts as bundled_texts,
)
from consent.texts.store import (
    check_binding as check_binding,
)
from consent.texts.store import (
    parse_text_file as parse_text_file,
)

__all__ = [
    "ASSENT_ELEMENTS",
    "AssentElement",
    "FIRST_SHOWN",
    "CONTENT_HINTS",
    "BulletList",
    "CheckOutcome",
    "Choice",
    "ComprehensionItem",
    "ConfidentialityMode",
    "ConsentText",
    "GUARDIAN_ELEMENTS",
    "ImmutableTextError",
    "Issue",
    "MissingValues",
    "Option",
    "PLACEHOLDERS",
    "P02_PLACEHOLDERS",
    "Paragraph",
    "RenderedText",
    "Section",
    "TextKind",
    "TextRef",
    "TextRegistry",
    "TextStatus",
    "TextStore",
    "TextVersionMismatch",
    "bundled_texts",
    "check_answer",
    "check_binding",
    "content_hash",
    "lint_assent",
    "lint_guardian",
    "parse_body",
    "parse_text_file",
    "render_text",
]
