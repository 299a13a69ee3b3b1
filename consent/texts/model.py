"""The document: :class:`ConsentText` (immutable, versioned, content-hashed), the :class:`TextRef`
a consultation binds to, and the errors a changed text raises."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from consent.texts.kinds import TextKind, TextStatus
from consent.texts.markup import Section, parse_body

# --------------------------------------------------------------------------- the document


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n") + "\n"


def content_hash(kind: str, language: str, band: str | None, title: str, body: str) -> str:
    """SHA-256 (hex) of a document's content: kind, language, band, title and body.

    Version, status and notes are not content: the same words hash the same.  Line endings,
    trailing spaces and Unicode composition are normalised first.

    Examples
    --------
    >>> a = content_hash("assent_script", "en", "A", "Hello", "Hi.\\r\\n")
    >>> a == content_hash("assent_script", "en", "A", "Hello", "Hi.  \\n")
    True
    """
    payload = json.dumps(
        [str(kind), language, band, unicodedata.normalize("NFC", title.strip()), _normalise(body)],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class TextRef:
    """What a consultation (and each consent event) stores: the version id and its hash."""

    text_id: str
    content_hash: str


@dataclass(frozen=True, slots=True)
class ConsentText:
    """One immutable version of a consent or assent document.

    Attributes
    ----------
    kind : TextKind
    language : str
        Language code (``en``, ``fr``, ``es``, ``ar``, ``sw``...).
    band : str or None
        Age band code for child documents (``A``, ``B``, ``C``); ``None`` for guardian ones.
    version : int
        1, 2, 3... per (kind, language, band).
    title : str
    body : str
        The marked-up text (see the module docstring); normalised on creation.
    status : TextStatus
    note : str
        Honest notes on origin and review (not part of the hash).
    content_hash : str
        Computed; see :func:`content_hash`.

    Examples
    --------
    >>> t = ConsentText("guardian_information", "en", None, 1, "Letter", "[contact]\\nHi\\n")
    >>> t.text_id, len(t.content_hash)
    ('guardian_information/en/-/v1', 64)
    """

    kind: TextKind
    language: str
    band: str | None
    version: int
    title: str
    body: str
    status: TextStatus = TextStatus.DRAFT
    note: str = ""
    content_hash: str = field(init=False)

    def __post_init__(self) -> None:
        kind = TextKind(self.kind)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "status", TextStatus(self.status))
        if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*", self.language or ""):
            raise ValueError(f"language {self.language!r} must be a code such as 'en' or 'sw'")
        if kind.is_child_facing and not self.band:
            raise ValueError(f"a {kind.value} text needs an age band such as 'A'")
        if not kind.is_child_facing and self.band is not None:
            raise ValueError(f"a {kind.value} text has no age band; use band=None")
        if self.band is not None and not re.fullmatch(r"[A-Za-z0-9]{1,8}", self.band):
            raise ValueError(f"band {self.band!r} must be a short code such as 'A'")
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise ValueError(f"version must be a whole number from 1, got {self.version!r}")
        if not self.title.strip():
            raise ValueError("a text needs a title")
        if not self.body.strip():
            raise ValueError("a text needs a body")
        object.__setattr__(self, "title", unicodedata.normalize("NFC", self.title.strip()))
        object.__setattr__(self, "body", _normalise(self.body))
        object.__setattr__(
            self,
            "content_hash",
            content_hash(kind.value, self.language, self.band, self.title, self.body),
        )

    @property
    def key(self) -> tuple[TextKind, str, str | None]:
        """(kind, language, band): the versions of one document share a key."""
        return (self.kind, self.language, self.band)

    @property
    def text_id(self) -> str:
        """Stable id of this version: ``kind/language/band/vN`` (``-`` for no band)."""
        return f"{self.kind.value}/{self.language}/{self.band or '-'}/v{self.version}"

    @property
    def ref(self) -> TextRef:
        """The :class:`TextRef` a consultation binds to."""
        return TextRef(self.text_id, self.content_hash)

    @property
    def sections(self) -> tuple[Section, ...]:
        """The parsed body."""
        return parse_body(self.body)

    def to_record(self) -> dict[str, object]:
        """A plain dict for a database row or JSON (``content_hash`` included).

        Examples
        --------
        >>> t = ConsentText("guardian_information", "en", None, 1, "Letter", "[contact]\\nHi\\n")
        >>> ConsentText.from_record(t.to_record()) == t
        True
        """
        return {
            "kind": self.kind.value,
            "language": self.language,
            "band": self.band,
            "version": self.version,
            "title": self.title,
            "body": self.body,
            "status": self.status.value,
            "note": self.note,
            "content_hash": self.content_hash,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, object]) -> ConsentText:
        """Rebuild a text from :meth:`to_record` output, refusing a body changed behind our back.

        Raises
        ------
        TextVersionMismatch
            If the stored ``content_hash`` does not match the stored content (someone edited
            the row instead of creating a new version).
        """
        # A stored row: its values are checked by the dataclass itself (__post_init__).
        fields_: dict[str, Any] = {k: record[k] for k in ("kind", "language", "band", "version", "title", "body")}
        fields_["status"] = record.get("status", "draft")
        fields_["note"] = record.get("note") or ""
        text = cls(**fields_)
        stored = record.get("content_hash")
        if stored is not None and stored != text.content_hash:
            raise TextVersionMismatch(
                f"{text.text_id}: stored hash {str(stored)[:12]}… does not match its content "
                f"({text.content_hash[:12]}…); the row was edited in place: restore it and "
                "create a new version instead"
            )
        return text


# --------------------------------------------------------------------------- store


class ImmutableTextError(ValueError):
    """An attempt to change an existing version; create a new version instead."""


class TextVersionMismatch(ValueError):
    """The live text differs from the version the consultation was approved with (C-06)."""
