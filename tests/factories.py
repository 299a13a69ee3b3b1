"""Data factories shared by the tests."""

from __future__ import annotations

from instruments.model import Choice, Instrument, Item, Language, Media, Page, Section, Text


def _choices(*pairs: tuple[str, str]) -> tuple[Choice, ...]:
    return tuple(Choice(name, Text(en=label, fr=f"{label} (fr)")) for name, label in pairs)


def make_test_instrument(version: str = "1") -> Instrument:
    """A small instrument with every kind of item the pages draw, relevance and a sensitive block."""
    return Instrument(
        id="test-instrument", version=version, title=Text(en="Test", fr="Test (fr)"),
        languages=(Language("en", "English", status="approved"), Language("fr", "Français", status="approved")),
        choice_lists={
            "who": (*_choices(("friend", "A friend"), ("parent", "A parent")),
                    Choice("helpline", Text(en="A helpline", fr="A helpline (fr)"),
                           media=Media(image=Text(en="pictograms/helpline.svg")), alt=Text(en="A telephone"))),
            "faces": _choices(("sad", "Not good"), ("meh", "Okay"), ("happy", "Good")),
            "agree": _choices(("1", "Strongly disagree"), ("2", "Disagree"), ("3", "Not sure"),
                              ("4", "Agree"), ("5", "Strongly agree")),
            "ways": _choices(("phone", "Phone"), ("chat", "Chat"), ("person", "In person")),
            "rows": _choices(("safe", "Feels safe"), ("easy", "Is easy")),
        },
        sections=(
            Section("first", (
                Page("p1", (
                    Item(name="who", type="select_one", label=Text(en="Who would you tell?", fr="Qui (fr)?"),
                         choices="who", allow_dont_know=True),
                    Item(name="feel", type="likert", label=Text(en="Telling someone is a good idea."),
                         choices="agree", band_choices={"A": "faces"}),
                    Item(name="feel_help", type="note", relevance="${feel} = '1' or ${feel} = 'sad'",
                         label=Text(en="Thank you for telling us. You can talk to someone at any time.")),
                )),
                Page("p2", (
                    Item(name="ways", type="select_multiple", label=Text(en="Which ways?"), choices="ways",
                         max_choices=2),
                    Item(name="why_helpline", type="text", label=Text(en="Why a helpline?"),
                         relevance="${who} = 'helpline'"),
                    Item(name="ideas", type="text", label=Text(en="Any ideas?")),
                    Item(name="times", type="integer", label=Text(en="How many people could you tell?"),
                         constraint=". <= 20", constraint_message=Text(en="Please write a number up to 20.")),
                )),
            )),
            Section("second", (
                Page("p3", (
                    Item(name="grid", type="matrix", label=Text(en="How is each way?"), choices="agree",
                         rows="rows", sensitivity="S2"),
                    Item(name="order", type="rank", label=Text(en="Put in order"), choices="ways", sensitivity="S2"),
                )),
                Page("p4", (
                    Item(name="older", type="integer", label=Text(en="How many times?"), min_band="C"),
                )),
            ), notice=Text(en="The next questions are about harder things. You can skip this part."),
                skippable=True),
        ),
    )
