"""Data factories shared by the tests."""

from __future__ import annotations

from instruments.model import Choice, Instrument, Item, Language, Media, Page, Section, Text


def _choices(*pairs: tuple[str, str]) -> tuple[Choice, ...]:
    return tuple(Choice(name, Text(en=label, fr=f"{label} (fr)")) for name, label in pairs)


def make_test_instrument(version: str = "1", languages: tuple[str, ...] = ("en", "fr")) -> Instrument:
    """A small instrument with every kind of item the pages draw, relevance and a sensitive block.

    Every text is given in each of ``languages`` (the English with the language code after it
    where no wording is written here), so that a consultation can open in them (issue 17).
    """
    return _in_languages(_test_instrument(version), languages)


def _in_languages(instrument: Instrument, languages: tuple[str, ...]) -> Instrument:
    from instruments.native import instrument_from_dict, instrument_to_dict
    from instruments.translation_files import text_nodes

    data = instrument_to_dict(instrument)
    codes = frozenset(instrument.language_codes)
    names = {"en": "English", "fr": "Français", "es": "Español", "ar": "العربية", "sw": "Kiswahili"}
    for _, text in list(text_nodes(data, codes)):
        for code in languages:
            if code != "en" and "en" in text and not text.get(code):
                text[code] = f"{text['en']} ({code})"
    data["languages"] = [
        {
            "code": code,
            "name": names.get(code, code),
            "status": "approved",
            "direction": "rtl" if code == "ar" else "ltr",
        }
        for code in languages
    ]
    return instrument_from_dict(data)


def consultation_wording(languages, details: dict) -> dict[str, dict[str, str]]:
    """The consultation's own words in its other languages (test wording: the first
    language's words with the language code after them)."""
    from survey.services.translations import CHILD_WORDING

    return {
        code: {name: f"{details.get(name) or ''} ({code})" for name in CHILD_WORDING} for code in list(languages)[1:]
    }


def new_consultation(
    title: str,
    instrument_id: str,
    version: str,
    content_hash: str,
    *,
    bands: tuple[str, ...] = ("B",),
    open_now: bool = True,
) -> int:
    """An unfacilitated English consultation on a stored questionnaire version (call inside an
    app context), opened as a demo unless ``open_now`` is false; returns its id."""
    import datetime as dt

    from survey.services import consultations

    today = dt.date.today()
    consultation = consultations.create_consultation(
        title=title,
        instrument_id=instrument_id,
        instrument_version=version,
        instrument_hash=content_hash,
        languages=["en"],
        age_bands=list(bands),
        facilitated=False,
        country_profile="example-uk",
        details={
            "organisation": "Test organisation",
            "contact": "the test team",
            "independent_contact": "the ethics board",
            "audience": "the county council",
            "influence_scope": "how help works",
            "setting": "community",
            "ethics_reference": "REC-TEST-1",
            "feedback_due": today + dt.timedelta(days=60),
            "analysis_cutoff": today + dt.timedelta(days=30),
        },
    )
    if open_now:
        consultations.open_consultation(consultation, today=today, demo=True)
    return consultation.id


def _test_instrument(version: str) -> Instrument:
    return Instrument(
        id="test-instrument",
        version=version,
        title=Text(en="Test", fr="Test (fr)"),
        languages=(Language("en", "English", status="approved"), Language("fr", "Français", status="approved")),
        choice_lists={
            "who": (
                *_choices(("friend", "A friend"), ("parent", "A parent")),
                Choice(
                    "helpline",
                    Text(en="A helpline", fr="A helpline (fr)"),
                    media=Media(image=Text(en="pictograms/helpline.svg")),
                    alt=Text(en="A telephone"),
                ),
            ),
            "faces": _choices(("sad", "Not good"), ("meh", "Okay"), ("happy", "Good")),
            "agree": _choices(
                ("1", "Strongly disagree"),
                ("2", "Disagree"),
                ("3", "Not sure"),
                ("4", "Agree"),
                ("5", "Strongly agree"),
            ),
            "ways": _choices(("phone", "Phone"), ("chat", "Chat"), ("person", "In person")),
            "rows": _choices(("safe", "Feels safe"), ("easy", "Is easy")),
        },
        sections=(
            Section(
                "first",
                (
                    Page(
                        "p1",
                        (
                            Item(
                                name="who",
                                type="select_one",
                                label=Text(en="Who would you tell?", fr="Qui (fr)?"),
                                choices="who",
                                allow_dont_know=True,
                            ),
                            Item(
                                name="feel",
                                type="likert",
                                label=Text(en="Telling someone is a good idea."),
                                choices="agree",
                                band_choices={"A": "faces"},
                            ),
                            Item(
                                name="feel_help",
                                type="note",
                                relevance="${feel} = '1' or ${feel} = 'sad'",
                                label=Text(en="Thank you for telling us. You can talk to someone at any time."),
                            ),
                        ),
                    ),
                    Page(
                        "p2",
                        (
                            Item(
                                name="ways",
                                type="select_multiple",
                                label=Text(en="Which ways?"),
                                choices="ways",
                                max_choices=2,
                            ),
                            Item(
                                name="why_helpline",
                                type="text",
                                label=Text(en="Why a helpline?"),
                                relevance="${who} = 'helpline'",
                            ),
                            Item(name="ideas", type="text", label=Text(en="Any ideas?")),
                            Item(
                                name="times",
                                type="integer",
                                label=Text(en="How many people could you tell?"),
                                constraint=". <= 20",
                                constraint_message=Text(en="Please write a number up to 20."),
                            ),
                        ),
                    ),
                ),
            ),
            Section(
                "second",
                (
                    Page(
                        "p3",
                        (
                            Item(
                                name="grid",
                                type="matrix",
                                label=Text(en="How is each way?"),
                                choices="agree",
                                rows="rows",
                                sensitivity="S2",
                            ),
                            Item(
                                name="order",
                                type="rank",
                                label=Text(en="Put in order"),
                                choices="ways",
                                sensitivity="S2",
                            ),
                        ),
                    ),
                    Page("p4", (Item(name="older", type="integer", label=Text(en="How many times?"), min_band="C"),)),
                ),
                notice=Text(en="The next questions are about harder things. You can skip this part."),
                skippable=True,
            ),
        ),
    )
