"""The native YAML format: readable, diff-friendly, validated by a JSON Schema.

The schema is ``instruments/schema/instrument.schema.json``; the format is
described in ``docs/instruments.md``. ``load_native`` then ``dump_native``
then ``load_native`` gives an equal :class:`~instruments.model.Instrument`.

Examples
--------
>>> text = '''
... sauti: 1
... id: demo
... version: "1"
... languages: [{code: en, name: English, status: approved}]
... choice_lists:
...   yn: [{name: yes, label: Yes}, {name: no, label: No}]
... sections:
...   - name: main
...     items:
...       - {name: q1, type: select_one, label: "Do you like school?", choices: yn}
... '''
>>> result = load_native(text)
>>> result.instrument.item("q1").label["en"]
'Do you like school?'
>>> load_native(dump_native(result.instrument)).instrument == result.instrument
True
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    import jsonschema

from instruments.errors import InstrumentError, Issue, IssueCode, Severity
from instruments.loading import LoadResult, finish_load
from instruments.model import (
    DEFAULT_BANDS,
    DEFAULT_MAX_REPEATS,
    DEFAULT_TIME_BUDGET,
    AgeBand,
    Choice,
    Instrument,
    Item,
    Language,
    Media,
    Page,
    Repeat,
    Section,
    Settings,
    Text,
)
from instruments.serialise import instrument_to_dict

__all__ = ["MAX_NATIVE_BYTES", "dump_native", "instrument_from_dict", "instrument_to_dict", "load_native", "schema"]

#: Largest native file accepted (bytes).
MAX_NATIVE_BYTES = 5 * 1024 * 1024
#: Deepest nesting of [ ] and { } accepted (an instrument needs a handful; a hostile file
#: nests tens of thousands deep to make the parser recurse for seconds).
MAX_FLOW_DEPTH = 64


# ---------------------------------------------------------------------------
# YAML loading without surprises: no aliases (billion laughs), and only
# true/false are booleans, so choice names such as ``yes``/``no`` and the
# language code ``no`` stay strings.
# ---------------------------------------------------------------------------
class _Loader(yaml.SafeLoader):
    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:  # PyYAML hook
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in types-PyYAML
            raise yaml.composer.ComposerError(
                None,
                None,
                "YAML aliases (*name) are not allowed in instruments",
                event.start_mark,
            )
        return super().compose_node(parent, index)


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    __import__("re").compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


class _Dumper(yaml.SafeDumper):
    pass


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_presenter)


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The JSON Schema of the native format, as a dict.

    >>> schema()["title"]
    'Sauti instrument (native YAML format, version 1)'
    """
    text = resources.files("instruments").joinpath("schema/instrument.schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    import jsonschema

    return jsonschema.Draft202012Validator(schema())


# ---------------------------------------------------------------------------
# dict -> model
# ---------------------------------------------------------------------------
def _text(value: Any, default_language: str) -> Text:
    if value is None:
        return Text()
    if isinstance(value, str | int):
        return Text({default_language: str(value)})
    return Text({str(k): str(v) for k, v in value.items()})


def _bandtext(value: Mapping[str, Any] | None, default_language: str) -> dict[str, Text]:
    return {str(k): _text(v, default_language) for k, v in (value or {}).items()}


def _choice(data: Mapping[str, Any], lang: str) -> Choice:
    return Choice(
        name=str(data["name"]),
        label=_text(data.get("label"), lang),
        media=Media(audio=_text(data.get("audio"), lang), image=_text(data.get("image"), lang)),
        alt=_text(data.get("alt"), lang),
        extra={str(k): str(v) for k, v in (data.get("extra") or {}).items()},
    )


def _item(data: Mapping[str, Any], lang: str) -> Item:
    def opt(key: str) -> str | None:
        value = data.get(key)
        return None if value is None else str(value)

    return Item(
        name=str(data["name"]),
        type=data["type"],
        label=_text(data.get("label"), lang),
        hint=_text(data.get("hint"), lang),
        label_bands=_bandtext(data.get("label_bands"), lang),
        hint_bands=_bandtext(data.get("hint_bands"), lang),
        shared=bool(data.get("shared", True)),
        choices=opt("choices"),
        band_choices={str(k): str(v) for k, v in (data.get("band_choices") or {}).items()},
        rows=opt("rows"),
        relevance=opt("relevance"),
        constraint=opt("constraint"),
        constraint_message=_text(data.get("constraint_message"), lang),
        choice_filter=opt("choice_filter"),
        appearance=opt("appearance"),
        default=opt("default"),
        calculation=opt("calculation"),
        parameters={str(k): str(v) for k, v in (data.get("parameters") or {}).items()},
        min_band=opt("min_band"),
        max_band=opt("max_band"),
        sensitivity=data.get("sensitivity", "S0"),
        research_only=bool(data.get("research_only", False)),
        media=Media(audio=_text(data.get("audio"), lang), image=_text(data.get("image"), lang)),
        max_choices=data.get("max_choices"),
        allow_dont_know=bool(data.get("allow_dont_know", False)),
        minutes=None if data.get("minutes") is None else float(data["minutes"]),
    )


def _section(data: Mapping[str, Any], lang: str) -> Section:
    if "pages" in data:
        pages = tuple(
            Page(
                name=str(p["name"]),
                items=tuple(_item(i, lang) for i in p["items"]),
                title=_text(p.get("title"), lang),
                relevance=p.get("relevance"),
                repeat=p.get("repeat"),
            )
            for p in data["pages"]
        )
    else:
        pages = tuple(Page(str(i["name"]), (_item(i, lang),)) for i in data.get("items", ()))
    return Section(
        name=str(data["name"]),
        pages=pages,
        title=_text(data.get("title"), lang),
        notice=_text(data.get("notice"), lang),
        skippable=bool(data.get("skippable", False)),
        relevance=data.get("relevance"),
        grouped=bool(data.get("grouped", True)),
    )


def instrument_from_dict(data: Mapping[str, Any]) -> Instrument:
    """Build an :class:`Instrument` from a dict already valid against :func:`schema`."""
    settings_data = data.get("settings") or {}
    languages = tuple(
        Language(
            code=str(lang["code"]),
            name=str(lang.get("name", "")),
            direction=lang.get("direction", "ltr"),
            status=lang.get("status", "draft"),
        )
        for lang in data["languages"]
    )
    default_language = str(settings_data.get("default_language", languages[0].code))
    bands = (
        tuple(AgeBand(str(b["code"]), int(b["min_age"]), int(b["max_age"])) for b in settings_data.get("bands", ()))
        or DEFAULT_BANDS
    )
    settings = Settings(
        default_language=default_language,
        mode=settings_data.get("mode", "consultation"),
        ethics_reference=settings_data.get("ethics_reference"),
        bands=bands,
        time_budget=settings_data.get("time_budget", DEFAULT_TIME_BUDGET),
        audio_fallback=settings_data.get("audio_fallback", "none"),
        attachments=settings_data.get("attachments") or {},
    )
    choice_lists = {
        str(name): tuple(_choice(c, default_language) for c in choices)
        for name, choices in (data.get("choice_lists") or {}).items()
    }
    return Instrument(
        id=str(data["id"]),
        version=str(data["version"]),
        title=_text(data.get("title"), default_language),
        description=_text(data.get("description"), default_language),
        languages=languages,
        settings=settings,
        sections=tuple(_section(s, default_language) for s in data["sections"]),
        choice_lists=choice_lists,
        repeats=tuple(
            Repeat(
                name=str(r["name"]),
                title=_text(r.get("title"), default_language),
                count=None if r.get("count") is None else str(r["count"]),
                maximum=int(r.get("maximum", DEFAULT_MAX_REPEATS)),
                parent=r.get("parent"),
            )
            for r in data.get("repeats") or ()
        ),
    )


def dump_native(instrument: Instrument) -> str:
    """Write an instrument as native YAML text.

    Examples
    --------
    >>> from instruments import load_bundled
    >>> dump_native(load_bundled()).startswith("sauti: 1")
    True

    Notes
    -----
    The YAML text of the last few documents is kept, keyed by the ``repr`` of the whole document
    (every value, its type and its order): the same document is serialised once per process
    (about 60 ms for the bundled instrument), and any change to it is serialised afresh.
    """
    data = instrument_to_dict(instrument)
    key = repr(data)
    with _DUMPS_LOCK:
        text = _DUMPS.get(key)
        if text is not None:
            _DUMPS.move_to_end(key)
            return text
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    with _DUMPS_LOCK:
        _DUMPS[key] = text
        while len(_DUMPS) > _DUMPS_KEPT:
            _DUMPS.popitem(last=False)
    return text


#: The YAML text of recently dumped documents, by the ``repr`` of the document (see dump_native).
_DUMPS: OrderedDict[str, str] = OrderedDict()
_DUMPS_KEPT = 8
_DUMPS_LOCK = threading.Lock()


# ---------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------
def _read_text(source: str | os.PathLike[str] | bytes) -> tuple[str, str]:
    """Return (text, origin). A str containing a newline is YAML text, else a path."""
    if isinstance(source, bytes):
        data = source
        origin = "<bytes>"
    elif isinstance(source, str) and ("\n" in source or not source.strip()):
        origin = "<text>"
        try:
            data = source.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InstrumentError.single(
                IssueCode.FILE_UNREADABLE,
                origin,
                f"The text holds an invalid character at position {exc.start}.",
                "Save the file as UTF-8.",
            ) from None
    else:
        path = Path(source)
        origin = path.name
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise InstrumentError.single(
                IssueCode.FILE_UNREADABLE,
                origin,
                f"The file cannot be read: {exc.strerror}.",
                "Check the path.",
            ) from None
        if size > MAX_NATIVE_BYTES:
            raise _too_large(origin, size)
        data = path.read_bytes()
    if len(data) > MAX_NATIVE_BYTES:
        raise _too_large(origin, len(data))
    try:
        return data.decode("utf-8-sig"), origin
    except UnicodeDecodeError as exc:
        raise InstrumentError.single(
            IssueCode.FILE_UNREADABLE,
            origin,
            f"The file is not UTF-8 text (byte {exc.start}).",
            "Save the file as UTF-8.",
        ) from None


def _too_large(origin: str, size: int) -> InstrumentError:
    return InstrumentError.single(
        IssueCode.FILE_TOO_LARGE,
        origin,
        f"The file is {size:,} bytes; the limit is {MAX_NATIVE_BYTES:,}.",
        "Split the instrument or remove embedded content.",
    )


def _json_path(parts: Iterable[str | int]) -> str:
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def _flow_depth(text: str) -> int:
    """The deepest [ ]/{ } nesting outside quotes and comments, in one pass before parsing."""
    depth = deepest = 0
    quote = ""
    comment = False
    for char in text:
        if comment:
            comment = char != "\n"
        elif quote:
            quote = "" if char in (quote, "\n") else quote  # an apostrophe in plain text ends with its line
        elif char in "'\"":
            quote = char
        elif char == "#":
            comment = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest


def load_native(source: str | os.PathLike[str] | bytes, *, check: bool = True) -> LoadResult:
    """Load a native YAML instrument from a path, bytes or YAML text.

    Parameters
    ----------
    source : str, path-like or bytes
        A path, or YAML text (a ``str`` containing a newline), or bytes.
    check : bool
        Run :func:`instruments.validate` and raise on structural errors
        (duplicate names, missing choice lists, broken expressions ...).

    Returns
    -------
    LoadResult
        ``instrument``, ``warnings`` and the full validation ``report``.

    Raises
    ------
    InstrumentError
        ``YAML_INVALID``, ``SCHEMA_INVALID``, ``FILE_TOO_LARGE``,
        ``FILE_UNREADABLE`` or structural validation codes.
    """
    text, origin = _read_text(source)
    if _flow_depth(text) > MAX_FLOW_DEPTH:
        raise InstrumentError.single(
            IssueCode.YAML_INVALID,
            origin,
            f"The YAML nests brackets more than {MAX_FLOW_DEPTH} deep.",
            "Flatten the file.",
        )
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 # nosec B506 - _Loader is a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"{origin}, line {mark.line + 1}, column {mark.column + 1}" if mark else origin
        problem = getattr(exc, "problem", None) or str(exc)
        raise InstrumentError.single(
            IssueCode.YAML_INVALID,
            where,
            f"The YAML cannot be read: {problem}.",
            "Fix the indentation or quoting at that line.",
        ) from None
    except RecursionError:
        raise InstrumentError.single(
            IssueCode.YAML_INVALID, origin, "The YAML nests too deeply.", "Flatten the file."
        ) from None
    if not isinstance(data, dict):
        raise InstrumentError.single(
            IssueCode.SCHEMA_INVALID,
            origin,
            "The file does not hold a Sauti instrument (expected a mapping at the top).",
            "Start from the documented template (sauti: 1, id, version, languages, sections).",
        )
    errors = sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        issues = []
        for error in errors[:50]:
            path = _json_path(error.absolute_path)
            message = error.message
            fix = "See the native format in docs/instruments.md."
            if path.endswith(".required") or "'required'" in message:
                message = "Items may not be required: nothing a child answers is mandatory."
                fix = "Remove 'required'."
            issues.append(Issue(IssueCode.SCHEMA_INVALID, Severity.ERROR, f"{origin}: {path}", message, fix))
        raise InstrumentError(issues)
    instrument = instrument_from_dict(data)
    return finish_load(instrument, (), check=check)
