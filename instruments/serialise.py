"""Instrument -> plain dict (what the native YAML holds), and the content hash computed from it.

The hash sits next to the serialiser it is computed from; :mod:`instruments.model` reads it for
:attr:`~instruments.model.Instrument.content_hash`, and this module needs the model's classes
only for its type annotations, so the two never import each other at run time.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from instruments.model import Choice, Instrument, Item, Section

__all__ = ["FORMAT_VERSION", "content_hash", "instrument_to_dict"]

FORMAT_VERSION = 1


# ---------------------------------------------------------------------------
# model -> dict
# ---------------------------------------------------------------------------
def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if value is None or value == {} or value == () or value == []:
        return
    if isinstance(value, Mapping):
        value = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in value.items()}
    out[key] = value


def _choice_to_dict(choice: Choice) -> dict[str, Any]:
    out: dict[str, Any] = {"name": choice.name}
    _put(out, "label", choice.label)
    _put(out, "image", choice.media.image)
    _put(out, "audio", choice.media.audio)
    _put(out, "alt", choice.alt)
    _put(out, "extra", choice.extra)
    return out


def _item_to_dict(item: Item) -> dict[str, Any]:
    out: dict[str, Any] = {"name": item.name, "type": item.type.value}
    _put(out, "label", item.label)
    _put(out, "hint", item.hint)
    _put(out, "label_bands", item.label_bands)
    _put(out, "hint_bands", item.hint_bands)
    if not item.shared:
        out["shared"] = False
    for key in ("choices", "rows"):
        _put(out, key, getattr(item, key))
    _put(out, "band_choices", item.band_choices)
    for key in ("relevance", "constraint"):
        _put(out, key, getattr(item, key))
    _put(out, "constraint_message", item.constraint_message)
    for key in ("choice_filter", "appearance", "default", "calculation"):
        _put(out, key, getattr(item, key))
    _put(out, "parameters", item.parameters)
    _put(out, "min_band", item.min_band)
    _put(out, "max_band", item.max_band)
    if item.sensitivity:
        out["sensitivity"] = item.sensitivity.name
    if item.research_only:
        out["research_only"] = True
    _put(out, "audio", item.media.audio)
    _put(out, "image", item.media.image)
    _put(out, "max_choices", item.max_choices)
    if item.allow_dont_know:
        out["allow_dont_know"] = True
    _put(out, "minutes", item.minutes)
    return out


def _section_to_dict(section: Section) -> dict[str, Any]:
    out: dict[str, Any] = {"name": section.name}
    _put(out, "title", section.title)
    _put(out, "notice", section.notice)
    if section.skippable:
        out["skippable"] = True
    _put(out, "relevance", section.relevance)
    if not section.grouped:
        out["grouped"] = False
    simple = all(
        len(p.items) == 1 and p.items[0].name == p.name and not p.title and not p.relevance and not p.repeat
        for p in section.pages
    )
    if simple:
        out["items"] = [_item_to_dict(p.items[0]) for p in section.pages]
    else:
        pages = []
        for page in section.pages:
            page_out: dict[str, Any] = {"name": page.name}
            _put(page_out, "title", page.title)
            _put(page_out, "relevance", page.relevance)
            _put(page_out, "repeat", page.repeat)
            page_out["items"] = [_item_to_dict(i) for i in page.items]
            pages.append(page_out)
        out["pages"] = pages
    return out


def instrument_to_dict(instrument: Instrument) -> dict[str, Any]:
    """The plain-dict form of an instrument (what :func:`dump_native` writes)."""
    settings = instrument.settings
    out: dict[str, Any] = {"sauti": FORMAT_VERSION, "id": instrument.id, "version": instrument.version}
    _put(out, "title", instrument.title)
    _put(out, "description", instrument.description)
    out["languages"] = [
        {"code": lang.code, "name": lang.name, "direction": lang.direction.value, "status": lang.status.value}
        for lang in instrument.languages
    ]
    out["settings"] = {
        "default_language": settings.default_language,
        "mode": settings.mode,
        "ethics_reference": settings.ethics_reference,
        "audio_fallback": settings.audio_fallback,
        "bands": [{"code": b.code, "min_age": b.min_age, "max_age": b.max_age} for b in settings.bands],
        "time_budget": dict(settings.time_budget),
    }
    if settings.attachments:
        out["settings"]["attachments"] = dict(settings.attachments)
    out["choice_lists"] = {
        name: [_choice_to_dict(c) for c in choices] for name, choices in instrument.choice_lists.items()
    }
    out["sections"] = [_section_to_dict(s) for s in instrument.sections]
    if instrument.repeats:
        repeats = []
        for repeat in instrument.repeats:
            r_out: dict[str, Any] = {"name": repeat.name}
            _put(r_out, "title", repeat.title)
            _put(r_out, "count", repeat.count)
            r_out["maximum"] = repeat.maximum
            _put(r_out, "parent", repeat.parent)
            repeats.append(r_out)
        out["repeats"] = repeats
    return out


@functools.lru_cache(maxsize=64)
def content_hash(instrument: Instrument) -> str:
    """SHA-256 over everything a child sees or hears (see :attr:`Instrument.content_hash`)."""
    data = instrument_to_dict(instrument)
    data.pop("version", None)
    data.pop("description", None)
    for lang in data.get("languages", []):
        lang.pop("status", None)
        lang.pop("name", None)
    settings = data.get("settings", {})
    for key in ("ethics_reference", "mode", "time_budget"):
        settings.pop(key, None)
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
