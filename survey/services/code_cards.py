"""Printable code cards: an A4 PDF, ten cards a page, with cut lines.

Each card has the code, a QR code of the start address with the code filled in, the helpline,
and a tear-off strip with the withdrawal code.  The codes exist in full only in this PDF:
the database keeps their hashes.
"""

from __future__ import annotations

import io

from consent.profiles import CountryProfile

CARD_W, CARD_H = 95.0, 55.0  # mm: 2 columns x 5 rows on A4 with margins
MARGIN_X, MARGIN_Y = 10.0, 11.0


def _qr_png(text: str) -> io.BytesIO:
    import segno  # here, with fpdf: only a card sheet needs it

    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=4, border=1)
    buffer.seek(0)
    return buffer


def _ascii(text: str) -> str:
    # The core PDF fonts are Latin-1; keep the card readable rather than failing on other scripts.
    return text.encode("latin-1", "replace").decode("latin-1")


def code_cards_pdf(cards, start_url: str, withdraw_url: str, profile: CountryProfile, title: str) -> bytes:
    """The PDF bytes for ``cards`` (objects with ``code`` and ``withdrawal_code``)."""
    from fpdf import FPDF  # here, not at start-up: fpdf and its fonts take 0.3 s to import

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_title("Sauti code cards")
    helpline = profile.helplines[0]
    for index, card in enumerate(cards):
        slot = index % 10
        if slot == 0:
            pdf.add_page()
            pdf.set_font("Helvetica", size=7)
            pdf.set_text_color(90, 90, 90)
            pdf.set_xy(MARGIN_X, 4)
            pdf.cell(0, 4, _ascii(f"{title} - cut along the dashed lines; give each child one card."))
        x = MARGIN_X + (slot % 2) * CARD_W
        y = MARGIN_Y + (slot // 2) * CARD_H
        pdf.set_draw_color(150, 150, 150)
        pdf.set_dash_pattern(dash=1.5, gap=1.5)
        pdf.rect(x, y, CARD_W, CARD_H)
        tear_y = y + CARD_H - 14
        pdf.line(x, tear_y, x + CARD_W, tear_y)
        pdf.set_dash_pattern()
        pdf.set_text_color(0, 0, 0)
        pdf.set_font("Helvetica", size=9)
        pdf.set_xy(x + 4, y + 3)
        pdf.cell(60, 5, f"Card {card.number}   Your code:" if card.number else "Your code:")
        pdf.set_font("Courier", style="B", size=16)
        pdf.set_xy(x + 4, y + 9)
        pdf.cell(60, 8, card.code)
        pdf.set_font("Helvetica", size=7.5)
        pdf.set_xy(x + 4, y + 19)
        pdf.multi_cell(
            58, 3.6, _ascii(f"Go to {start_url} or scan the square. Help: {helpline.name} {helpline.number}")
        )
        pdf.image(_qr_png(f"{start_url}?code={card.code}"), x=x + CARD_W - 31, y=y + 3, w=27, h=27)
        pdf.set_font("Helvetica", size=7)
        pdf.set_xy(x + 4, tear_y + 1.5)
        pdf.cell(0, 3.5, _ascii("Tear off and keep. Changed your mind after finishing? Go to"))
        pdf.set_xy(x + 4, tear_y + 5)
        pdf.cell(0, 3.5, _ascii(f"{withdraw_url} and type:"))
        pdf.set_font("Courier", style="B", size=11)
        pdf.set_xy(x + 50, tear_y + 5)
        pdf.cell(0, 5, card.withdrawal_code)
    return bytes(pdf.output())
