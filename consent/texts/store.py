"""Where texts are kept: the binding check (:func:`check_binding`), the :class:`TextStore` protocol,
the in-memory :class:`TextRegistry`, and the bundled files under ``consent/texts/bundled/``."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import replace
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Protocol

import yaml

from consent.texts.kinds import TextKind, TextStatus
from consent.texts.model import ConsentText, ImmutableTextError, TextRef, TextVersionMismatch


def check_binding(ref: TextRef, live: ConsentText) -> None:
    """Refuse enrolment when the live text is not the exact approved version (C-06).

    Raises
    ------
    TextVersionMismatch

    Examples
    --------
    >>> t = ConsentText("guardian_information", "en", None, 1, "Letter", "[contact]\\nHi\\n")
    >>> check_binding(t.ref, t)
    >>> check_binding(TextRef(t.text_id, "0" * 64), t)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    consent.texts.model.TextVersionMismatch: guardian_information/en/-/v1 has changed since the \
consultation was approved (hash 000000000000… expected, ...); re-approve the new version or \
restore the approved one
    """
    if ref.text_id != live.text_id or ref.content_hash != live.content_hash:
        raise TextVersionMismatch(
            f"{ref.text_id} has changed since the consultation was approved "
            f"(hash {ref.content_hash[:12]}… expected, {live.text_id} "
            f"{live.content_hash[:12]}… live); re-approve the new version or restore the "
            "approved one"
        )


class TextStore(Protocol):
    """What the app's database-backed store must offer (mirrors :class:`TextRegistry`)."""

    def add(self, text: ConsentText) -> ConsentText: ...

    def get(self, text_id: str) -> ConsentText: ...

    def latest(self, kind: TextKind | str, language: str, band: str | None) -> ConsentText: ...

    def versions(self, kind: TextKind | str, language: str, band: str | None) -> tuple[ConsentText, ...]: ...

    def revise(
        self,
        kind: TextKind | str,
        language: str,
        band: str | None,
        *,
        body: str,
        title: str | None = None,
        status: TextStatus | str = TextStatus.DRAFT,
        note: str = "",
    ) -> ConsentText: ...


def _key(kind: TextKind | str, language: str, band: str | None) -> tuple[TextKind, str, str | None]:
    return (TextKind(kind), language, band)


class TextRegistry:
    """An in-memory, append-only store of text versions (the reference :class:`TextStore`).

    Examples
    --------
    >>> reg = TextRegistry()
    >>> v1 = reg.add(ConsentText("guardian_information", "en", None, 1, "Letter",
    ...                          "[contact]\\nCall us.\\n"))
    >>> v2 = reg.revise("guardian_information", "en", None, body="[contact]\\nWrite to us.\\n")
    >>> v2.version, v2.content_hash != v1.content_hash, reg.get(v1.text_id) == v1
    (2, True, True)
    """

    def __init__(self, texts: Iterable[ConsentText] = ()) -> None:
        self._by_id: dict[str, ConsentText] = {}
        self._by_key: dict[tuple[TextKind, str, str | None], list[ConsentText]] = {}
        for t in texts:
            self.add(t)

    def add(self, text: ConsentText) -> ConsentText:
        """Add a version.  Re-adding identical content is a no-op; changed content under an
        existing version id raises :class:`ImmutableTextError`."""
        existing = self._by_id.get(text.text_id)
        if existing is not None:
            if existing.content_hash != text.content_hash:
                raise ImmutableTextError(
                    f"{text.text_id} already exists with different content; texts are "
                    "immutable: use revise() to create the next version"
                )
            return existing
        self._by_id[text.text_id] = text
        versions = self._by_key.setdefault(text.key, [])
        versions.append(text)
        versions.sort(key=lambda t: t.version)
        return text

    def get(self, text_id: str) -> ConsentText:
        """The version with this id (``kind/language/band/vN``)."""
        try:
            return self._by_id[text_id]
        except KeyError:
            raise LookupError(f"no text {text_id!r}") from None

    def versions(self, kind: TextKind | str, language: str, band: str | None) -> tuple[ConsentText, ...]:
        """All versions of one document, oldest first."""
        return tuple(self._by_key.get(_key(kind, language, band), ()))

    def latest(self, kind: TextKind | str, language: str, band: str | None) -> ConsentText:
        """The newest version of one document."""
        versions = self.versions(kind, language, band)
        if not versions:
            raise LookupError(f"no {TextKind(kind).value} text in {language!r}" + (f" for band {band}" if band else ""))
        return versions[-1]

    def by_hash(self, digest: str) -> tuple[ConsentText, ...]:
        """Versions with this content hash."""
        return tuple(t for t in self._by_id.values() if t.content_hash == digest)

    def revise(
        self,
        kind: TextKind | str,
        language: str,
        band: str | None,
        *,
        body: str,
        title: str | None = None,
        status: TextStatus | str = TextStatus.DRAFT,
        note: str = "",
    ) -> ConsentText:
        """Create the next version of a document from edited content.

        If the content is unchanged (same hash as the latest version), the latest version is
        returned and nothing is added.  A new version always starts as ``draft`` unless told
        otherwise: an edit needs review again.
        """
        versions = self.versions(kind, language, band)
        latest = versions[-1] if versions else None
        new = ConsentText(
            TextKind(kind),
            language,
            band,
            (latest.version + 1) if latest else 1,
            title if title is not None else (latest.title if latest else ""),
            body,
            TextStatus(status),
            note,
        )
        if latest is not None and latest.content_hash == new.content_hash:
            return latest
        return self.add(new)

    def with_status(self, text_id: str, status: TextStatus | str) -> ConsentText:
        """Record a new review status for a version; its content and hash do not change."""
        old = self.get(text_id)
        new = replace(old, status=TextStatus(status))
        self._by_id[text_id] = new
        versions = self._by_key[old.key]
        versions[versions.index(old)] = new
        return new

    def resolve(self, ref: TextRef) -> ConsentText:
        """The version a consultation bound to, checked against its hash (C-06)."""
        live = self.get(ref.text_id)
        check_binding(ref, live)
        return live

    def __iter__(self) -> Iterator[ConsentText]:
        return iter(sorted(self._by_id.values(), key=lambda t: t.text_id))

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, text_id: object) -> bool:
        return text_id in self._by_id


# --------------------------------------------------------------------------- bundled files


def parse_text_file(content: str, *, source: str = "text") -> ConsentText:
    """Parse a text file: YAML front matter between ``---`` lines, then the body.

    Front matter keys: ``kind``, ``language``, ``band`` (child documents), ``version``,
    ``title``, ``status``, ``note``.

    Examples
    --------
    >>> t = parse_text_file("---\\nkind: guardian_information\\nlanguage: en\\nversion: 1\\n"
    ...                     "title: Letter\\n---\\n[contact]\\nCall us.\\n")
    >>> t.text_id
    'guardian_information/en/-/v1'
    """
    content = content.replace("\r\n", "\n")
    if not content.startswith("---\n"):
        raise ValueError(f"{source}: a text file starts with '---' and YAML front matter")
    try:
        head, body = content[4:].split("\n---\n", 1)
    except ValueError:
        raise ValueError(f"{source}: the front matter needs a closing '---' line") from None
    try:
        meta = yaml.safe_load(head) or {}
    except (yaml.YAMLError, ValueError) as exc:
        raise ValueError(f"{source}: the front matter is not valid YAML: {exc}") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{source}: the front matter must be 'key: value' lines")
    unknown = set(meta) - {"kind", "language", "band", "version", "title", "status", "note"}
    if unknown:
        raise ValueError(f"{source}: unknown front matter keys {sorted(unknown)}")
    try:
        return ConsentText(
            kind=TextKind(meta["kind"]),
            language=meta["language"],
            band=meta.get("band"),
            version=meta["version"],
            title=meta["title"],
            body=body,
            status=TextStatus(meta.get("status", "draft")),
            note=(meta.get("note") or "").strip(),
        )
    except KeyError as exc:
        raise ValueError(f"{source}: front matter needs {exc.args[0]!r}") from None
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from None


def _walk(node: Traversable) -> Iterator[tuple[str, Traversable]]:
    """Each ``.txt`` file under ``node`` with the name of the folder it is in."""
    for entry in node.iterdir():
        if entry.is_dir():
            yield from _walk(entry)
        elif entry.name.endswith(".txt"):
            yield node.name, entry


def bundled_texts() -> TextRegistry:
    """A new registry holding every bundled text version (files under ``consent/texts/bundled/``).

    Examples
    --------
    >>> reg = bundled_texts()
    >>> reg.latest("child_information", "en", "A").language
    'en'
    """
    return TextRegistry(_bundled_files())


@functools.cache
def _bundled_files() -> tuple[ConsentText, ...]:
    # Texts are immutable, so the parsed files are shared; each registry is new.
    root = resources.files("consent.texts") / "bundled"
    return tuple(
        parse_text_file(entry.read_text("utf-8"), source=f"{folder}/{entry.name}")
        for folder, entry in sorted(_walk(root), key=lambda found: (found[0], found[1].name))
    )
