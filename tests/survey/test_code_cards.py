"""The printed code cards in a consultation's languages: every script prints (no "?"), the
fonts travel inside the PDF, and the child's words come from each language's catalogue.

The PDFs are read back with pypdf, as a copy-and-paste or a screen reader would."""

from __future__ import annotations

import io

from flask_babel import force_locale
from flask_babel import gettext as _
from pypdf import PdfReader

from survey.i18n import LANGUAGE_NAMES
from tests.conftest import sign_in

LANGUAGES = ("en", "fr", "es", "ar", "sw")


def _squashed(text: str) -> str:
    """Without white space: a sentence reads the same wherever the card wraps it."""
    return "".join(text.split())


def _fonts(reader: PdfReader) -> list[tuple[str, bool]]:
    """(base font name, embedded?) for every font the pages use."""
    found = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            embedded = any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
            found.append((str(font["/BaseFont"]), embedded))
    return found


def test_cards_print_every_language_in_its_own_script(app, make_user, make_consultation) -> None:
    fiona = make_user("fiona", "facilitator")
    names = ", ".join(LANGUAGE_NAMES[code] for code in LANGUAGES)
    consultation = make_consultation(
        f"Sauti demo ({names})", members=[(fiona, "facilitator")], languages=LANGUAGES, country_profile="generic"
    )
    client = app.test_client()
    sign_in(client, "fiona")
    response = client.post(f"/facilitate/{consultation}/codes", data={"count": "2"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)

    # The title names each language in its own script (Arabic as Arabic, joined), none as "?".
    title = text.splitlines()[0]
    for code in LANGUAGES:
        assert LANGUAGE_NAMES[code] in title, (code, title)
    assert "??" not in text and "?," not in title

    # Every font is inside the file (a printer without DejaVu prints the same card); no
    # unembedded standard font such as Helvetica or Courier.
    fonts = _fonts(reader)
    assert fonts and all(embedded for _name, embedded in fonts), fonts
    assert not any(base in name for name, _e in fonts for base in ("Helvetica", "Courier", "Times"))

    # What the child reads is there in every one of the consultation's languages, from its catalogue.
    squashed = _squashed(text)
    with app.test_request_context():
        for language in LANGUAGES:
            with force_locale(language):
                keep = _("Keep this. Changed your mind after finishing? Type this code at:")
            assert _squashed(keep.rstrip(" :")) in squashed, (language, keep)  # a final colon reads to the left
            if language != "en":
                assert keep != "Keep this. Changed your mind after finishing? Type this code at:", language
    assert "احتفظبهذا.غيّرترأيكبعدأنأنهيت؟اكتبهذاالرمزفي" in squashed  # Arabic joined, in reading order


def test_a_card_for_one_language_keeps_ten_to_a_page(app, make_user, make_consultation) -> None:
    """One language: the cards stay 95 x 55 mm, ten a page, as the cutting guides expect."""
    fiona = make_user("fiona", "facilitator")
    consultation = make_consultation("English only", members=[(fiona, "facilitator")], languages=("en",))
    client = app.test_client()
    sign_in(client, "fiona")
    response = client.post(f"/facilitate/{consultation}/codes", data={"count": "10"})
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert text.count("Type this code at:") == 10
