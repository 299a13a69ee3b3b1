"""The read-aloud console: per questionnaire and language, each text with its audio (a recording,
the shipped file, one made here, or none), and recordings uploaded or removed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from instruments.audio import (
    audio_name,
    instrument_texts,
    voice_for,
)
from instruments.model import Instrument, ItemType
from survey.services.audio import Library, shipped

#: The shipped audio of the bundled consultation (one folder per language).


@dataclasses.dataclass(frozen=True)
class AudioRow:
    """One text of an instrument in a language, and where its audio comes from."""

    key: str
    text: str
    source: str  # "recording" | "synthetic" | "made here when first played" | "none"
    recording: str | None = None
    part: Part | None = None  # which part of the questionnaire, for the console's plain words


@dataclasses.dataclass(frozen=True)
class Part:
    """Which part of a questionnaire a text is, for people: ``kind`` is "section" (the notice
    before a set of questions), "message" (a note on a page), "question", "answer", "row" (of a
    matrix) or "notice" (under an answer box); ``number`` counts questions (or messages) in order;
    ``ages`` is set where a question is worded for one age group."""

    kind: str
    number: int = 0
    ages: str = ""


def text_parts(instrument: Instrument) -> dict[str, Part]:
    """The part of ``instrument`` each recording key (:func:`instruments.audio.instrument_texts`) names."""
    parts: dict[str, Part] = {}
    questions = messages = 0
    ages = {band.code: f"{band.min_age}\u2013{band.max_age}" for band in instrument.settings.bands}
    for section in instrument.sections:
        parts[f"section.{section.name}"] = Part("section")
        for item in (item for page in section.pages for item in page.items):
            if item.type is ItemType.NOTE:
                messages += 1
                number, kind = messages, "message"
            elif item.type.answerable:
                questions += 1
                number, kind = questions, "question"
            else:
                continue
            parts[item.name] = Part(kind, number)
            for band in {*item.label_bands, *item.hint_bands}:
                parts[f"{item.name}@{band}"] = Part(kind, number, ages.get(band, band))
            parts[f"{item.name}.notice"] = Part("notice", number)
            for band in instrument.settings.band_codes:
                for choice in instrument.choices_for(item, band):
                    parts[f"{item.name}.{choice.name}"] = Part("answer", number)
            if item.type is ItemType.MATRIX:
                for row in instrument.rows_for(item):
                    parts[f"{item.name}.{row.name}"] = Part("row", number)
    return parts


def instrument_for_console(instrument_id: str) -> Instrument:
    """The newest stored version of ``instrument_id``, else the bundled one (``LookupError``)."""
    from instruments.bundled import bundled_names, load_bundled
    from survey.services import instrument_store

    try:
        return instrument_store.instrument_for_version(instrument_store.find(instrument_id, None))
    except LookupError:
        if instrument_id in bundled_names():
            return load_bundled(instrument_id)
        raise


def audio_rows(instrument: Instrument, lang: str, library: Library) -> list[AudioRow]:
    """Every text of ``instrument`` in ``lang`` a child can hear, with its audio's source."""
    voice = voice_for(lang)
    recordings = library.recordings_of(instrument.id, lang)
    parts = text_parts(instrument)
    rows = []
    for one in instrument_texts(instrument, lang, with_placeholders=True):
        recorded = recordings.get(one.key)
        if recorded is not None:
            rows.append(AudioRow(one.key, one.text, "recording", recorded.name, parts.get(one.key)))
            continue
        name = audio_name(one.text, voice) if voice else None
        if name and (name in shipped().paths or (library.made / name).is_file()):
            source = "synthetic"
        elif voice and "{" in one.text:
            source = "made here when first played"
        else:
            source = "none"
        rows.append(AudioRow(one.key, one.text, source, part=parts.get(one.key)))
    return rows


def upload_recording(
    instrument: Instrument, lang: str, key: str, file_name: str, data: bytes, library: Library, actor=None
) -> Path:
    """Keep a human recording of one text (``ValueError`` with a plain message when refused)."""
    from survey.database import write_transaction
    from survey.services import audit

    if lang not in instrument.language_codes:
        raise ValueError("Choose one of the questionnaire's languages.")
    if key not in {one.key for one in instrument_texts(instrument, lang, with_placeholders=True)}:
        raise ValueError("Choose a question or option of this questionnaire.")
    path = library.save_recording(instrument.id, lang, key, file_name, data)
    with write_transaction():
        audit.record(actor, "audio.recording", f"instrument:{instrument.id} {lang} {key}")
    return path


def remove_recording(instrument: Instrument, lang: str, key: str, library: Library, actor=None) -> bool:
    from survey.database import write_transaction
    from survey.services import audit

    removed = library.delete_recording(instrument.id, lang, key)
    if removed:
        with write_transaction():
            audit.record(actor, "audio.recording.delete", f"instrument:{instrument.id} {lang} {key}")
    return removed
